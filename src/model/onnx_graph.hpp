// Internal: parsing and normalization of an ONNX model into the form the splitter needs.
#pragma once

#include <onnx/onnx_pb.h>

#include <climits>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::model {

// Static shapes (every dim known and positive) of fp32 tensors, by name.
using ShapeMap = std::unordered_map<std::string, Shape>;

// The largest serialized model protobuf parses (its sizes are ints): 2 GiB - 1.
inline constexpr size_t kMaxOnnxBytes = INT_MAX;

// Parses a serialized ModelProto; never throws.
Result<onnx::ModelProto> parse_onnx(const uint8_t* data, size_t size);

// Parses the ModelProto in the file at `path` as it is read, so that input that cannot be one
// (/dev/zero: a zero tag) stops at its first bytes; at most kMaxOnnxBytes are read. Errors
// name the path.
Result<onnx::ModelProto> read_onnx(const std::string& path);

// Brings `model` into normal form, or explains (naming the node) why it cannot be handled:
// - Constant values given as value_float(s) or value_int(s) written as `value` tensors;
// - default-domain opset <= 17 only (opsets 12..17, and opset 11 with Clip bounds as inputs,
//   are lowered to opset 10, see opset_lowering.hpp), no other domains, no control flow (If/Loop/Scan or
//   any graph-valued attribute);
// - every node of an operator ONNX knows fitting its schema (inputs, outputs, attributes);
// - every initializer and Constant value holding as many values as its dims say;
// - exactly one non-initializer graph input, of static shape once a symbolic or unknown
//   batch dimension is fixed to 1;
// - every node named, uniquely (unnamed ones get "<op_type>_<index>"), Identity(initializer) nodes
//   removed with their consumers reading the initializer directly;
// - nodes in topological order, every node input produced, an initializer or the input;
// - no constant input of a Conv, ConvTranspose, Gemm or MatMul with a dim below 1;
// - every convolution with a kernel_shape (from its constant weights if it had none);
// - every Gemm with a constant B written for transB = 1, alpha and beta folded into B and C,
//   and no transA (OpenCV 4.6 reads it as a fully connected layer);
// - values computed from constants and static dims alone (a Reshape's shape from Shape, Gather,
//   Unsqueeze and Concat; a Pad's pads) folded into initializers, the nodes that computed them
//   removed (constant_folding.hpp; what cannot be evaluated stays);
// - shapes inferred (value_info refreshed), no tensor of known dims holding more than
//   kDefaultMaxElements values, and no Softmax/LogSoftmax/Hardmax over more than one dim of
//   size above 1 (OpenCV 4.6 computes along the axis alone).
// `input_shape`, when not empty, gives the dims the input declares dynamic (symbolic or
// unknown); its other dims must be the declared ones. Empty: only the batch may be dynamic.
Status normalize_onnx(onnx::ModelProto& model, const Shape& input_shape = {});

// Initializers and Constant node values, by name; the pointers live as long as the graph
// keeps those elements.
using ConstantMap = std::unordered_map<std::string, const onnx::TensorProto*>;
ConstantMap constants_by_name(const onnx::GraphProto& graph);

// The value of an initializer or a Constant node's output named `name`; null if neither.
const onnx::TensorProto* find_constant(const onnx::GraphProto& graph, const std::string& name);

// The values of a tensor (null: an Error naming `name`), which must be fp32, resp. int64.
Result<std::vector<float>> tensor_floats(const onnx::TensorProto* tensor, const std::string& name);
Result<std::vector<int64_t>> tensor_ints(const onnx::TensorProto* tensor, const std::string& name);

// The values of the constant `name` (find_constant), which must be fp32, resp. int64.
Result<std::vector<float>> constant_floats(const onnx::GraphProto& graph, const std::string& name);
Result<std::vector<int64_t>> constant_ints(const onnx::GraphProto& graph, const std::string& name);

// The node's attribute `name`; null if it has none.
const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name);
// The value of the node's int (float) attribute `name`, or `fallback` if it has none. Nodes of
// known operators have been checked against their schema, so the type is the one asked for.
int64_t int_attribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback);
float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback);

// The static fp32 shapes recorded in the graph's input, output and value_info.
ShapeMap static_shapes(const onnx::GraphProto& graph);

// The shape of an fp32 tensor type if static, else an empty Shape.
Shape static_shape(const onnx::TypeProto& type);

}  // namespace disc::model
