// Internal: models of a newer ONNX opset rewritten into opset 10, whose operator forms OpenCV
// DNN 4.6 reads throughout.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>

#include "disc/status.hpp"

namespace disc::model {

// The opset a lowered model declares.
inline constexpr int64_t kLoweredOpset = 10;
// The newest default-domain opset whose operators the ONNX library (1.12) knows: the newest
// that shape inference, and so the lowering, can handle.
inline constexpr int64_t kNewestKnownOpset = 17;

// Whether `model` (default-domain opset `opset`) must be lowered before OpenCV reads it: an
// opset above 11, or opset 11 with a Clip of more than one input, even empty ones (OpenCV 4.6
// takes the bounds from attributes only and refuses a Clip with more inputs).
bool needs_lowering(const onnx::GraphProto& graph, int64_t opset);

// Rewrites every node of `model` (its only opset import the default domain's `opset`,
// 11..kNewestKnownOpset; shapes inferred, so that the ranks and dims the rewrites need are
// known) into its opset-10 form with the same meaning for fp32 inference, drops the constants
// that only the old forms read, and sets the opset to 10. A node whose form is unchanged since
// opset 10 stays as it is. On error (naming the first node without an opset-10 form, and why)
// the model is unchanged.
Status lower_to_opset10(onnx::ModelProto& model, int64_t opset);

}  // namespace disc::model
