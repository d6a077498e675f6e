// Internal: the constant subgraphs of a normalized ONNX graph evaluated once, at loading.
// Exporters compute shapes and pads at run time (Shape → Gather → Unsqueeze → Concat → Reshape
// in a dynamic-axes PyTorch export or torchvision's channel_shuffle; a Pad whose pads are
// built by ConstantOfShape, Concat, Slice, Transpose and Cast). Once the input's shape is fixed
// (doc/DESIGN.md, normalization step 2) every such value is known before any input arrives: folding it into
// an initializer lets shape inference size what follows (so those tensors can be cuts), keeps
// the Shape nodes from reading the tensor they measure (which hid every cut between it and
// the Reshape), and gives the opset lowering the constant pads it needs.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>

namespace disc::model {

// The most values a folded tensor may hold. The step is for shape arithmetic, and each folded
// tensor that a remaining node reads is stored in the model; a larger one is left to compute.
inline constexpr size_t kMaxFoldedValues = 4096;

// Evaluates, in topological order, the nodes of `model` whose output is determined before any
// input arrives: every input an int64 or fp32 initializer, Constant value or folded output, or,
// for Shape, an input of statically known dims (from value_info: shapes must have been
// inferred, and the input's shape fixed, so that the inferred dims are the ones OpenCV runs
// with). Operators evaluated: Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Transpose,
// Reshape, Identity, Cast (between int64 and fp32), ConstantOfShape, Range (int64), and Add,
// Sub, Mul, Div on int64 (an inexact division of operands of opposite signs, a division by
// zero or an overflow is left to compute). A node that cannot be evaluated (another operator
// or element type, a value past kMaxFoldedValues, an input out of range) stays as it is:
// folding refuses nothing. Nor is a graph output folded.
// Then every folded output that a remaining node reads becomes an initializer of the same
// name (declared as a graph input below IR version 4), the folded nodes are removed, and so
// are the nodes that only fed them (a branch computed for its Shape alone) and the constants
// nothing reads any more. Node order stays topological; nothing else changes.
// Returns the number of nodes removed: 0 when the model is unchanged.
size_t fold_constant_subgraphs(onnx::ModelProto& model);

}  // namespace disc::model
