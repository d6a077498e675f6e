// Internal: the convolution that reads a tensor, for disc's shape=1|2 encoder.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "disc/codec.hpp"

namespace disc::model {

// See OnnxModel::reading_convolution. `graph` is normalized (Identity(initializer) folded).
Result<ConvKernel> reading_convolution(const onnx::GraphProto& graph, const std::string& tensor);

}  // namespace disc::model
