#include "model/reading_convolution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "model/onnx_graph.hpp"

namespace disc::model {
namespace {

std::vector<const onnx::NodeProto*> readers(const onnx::GraphProto& graph, const std::string& tensor) {
  std::vector<const onnx::NodeProto*> nodes;
  for (const auto& node : graph.node())
    for (const auto& input : node.input())
      if (input == tensor) {
        nodes.push_back(&node);
        break;
      }
  return nodes;
}

std::string describe(const std::vector<const onnx::NodeProto*>& nodes) {
  std::string text;
  for (const auto* node : nodes) text += (text.empty() ? "" : ", ") + node->op_type() + " '" + node->name() + "'";
  return text.empty() ? "nothing" : text;
}

// Zero padding of the two spatial dims by a Pad node (opset <= 10: attributes; 11: inputs):
// {top, left, bottom, right}.
Result<std::vector<int64_t>> zero_padding(const onnx::GraphProto& graph, const onnx::NodeProto& pad) {
  const std::string where = "Pad '" + pad.name() + "'";
  if (const auto* mode = find_attribute(pad, "mode"); mode && mode->s() != "constant")
    return Error(where + " pads by '" + mode->s() + "', not with zeros");
  std::vector<int64_t> pads;
  float value = 0;
  if (const auto* a = find_attribute(pad, "pads")) {
    pads.assign(a->ints().begin(), a->ints().end());
    if (const auto* v = find_attribute(pad, "value")) value = v->f();
  } else {
    if (pad.input_size() < 2) return Error(where + " has no pads");
    DISC_ASSIGN_OR_RETURN(pads, constant_ints(graph, pad.input(1)));
    if (pad.input_size() > 2 && !pad.input(2).empty()) {
      DISC_ASSIGN_OR_RETURN(const std::vector<float> v, constant_floats(graph, pad.input(2)));
      if (v.size() != 1) return Error(where + " has a constant_value that is not a scalar");
      value = v[0];
    }
  }
  if (value != 0) return Error(where + " pads with " + std::to_string(value) + ", not zeros");
  if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5])
    return Error(where + " pads other dims than the two spatial ones of an N x C x H x W map");
  return std::vector<int64_t>{pads[2], pads[3], pads[6], pads[7]};
}

// The clamp of a Relu or Clip node ({lowest, highest}), or nothing for any other node. Loading
// has lowered every Clip to opset 10's attributes (their defaults: no bound).
std::optional<std::pair<float, float>> clamp_of(const onnx::NodeProto& node) {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  if (node.op_type() == "Relu") return std::pair{0.0f, kInfinity};
  if (node.op_type() != "Clip") return std::nullopt;
  std::pair<float, float> bounds{-kInfinity, kInfinity};
  if (const auto* a = find_attribute(node, "min")) bounds.first = a->f();
  if (const auto* a = find_attribute(node, "max")) bounds.second = a->f();
  return bounds;
}

bool is_graph_output(const onnx::GraphProto& graph, const std::string& tensor) {
  return std::any_of(graph.output().begin(), graph.output().end(),
                     [&](const onnx::ValueInfoProto& v) { return v.name() == tensor; });
}

// What follows the convolution (`output`: its output, or that of the batch normalization folded
// into it) when a Relu or Clip is its only reader; `bias` has that normalization folded in.
std::optional<ConvActivation> activation_after(const onnx::GraphProto& graph, const std::string& output,
                                               std::vector<float> bias) {
  const std::vector<const onnx::NodeProto*> next = readers(graph, output);
  if (next.size() != 1 || is_graph_output(graph, output) || next[0]->input(0) != output) return std::nullopt;
  const auto bounds = clamp_of(*next[0]);
  // A clamp that clamps nothing is no activation (the convolution's own error is the same).
  if (!bounds || (bounds->first == -std::numeric_limits<float>::infinity() &&
                  bounds->second == std::numeric_limits<float>::infinity()))
    return std::nullopt;
  return ConvActivation{std::move(bias), bounds->first, bounds->second};
}

}  // namespace

Result<ConvKernel> reading_convolution(const onnx::GraphProto& graph, const std::string& tensor) {
  std::vector<const onnx::NodeProto*> nodes = readers(graph, tensor);
  std::string conv_input = tensor;
  std::vector<int64_t> padding = {0, 0, 0, 0};
  if (nodes.size() == 1 && nodes[0]->op_type() == "Pad" && nodes[0]->output_size() == 1) {
    DISC_ASSIGN_OR_RETURN(padding, zero_padding(graph, *nodes[0]));
    conv_input = nodes[0]->output(0);
    nodes = readers(graph, conv_input);
  }
  if (nodes.size() != 1 || nodes[0]->op_type() != "Conv" || nodes[0]->input(0) != conv_input)
    return Error("'" + tensor + "' is read by " + describe(readers(graph, tensor)) +
                 (conv_input == tensor ? "" : " and that by " + describe(nodes)) +
                 ", not by one convolution (shape=1..3 needs one)");
  const onnx::NodeProto& conv = *nodes[0];
  const std::string where = "Conv '" + conv.name() + "'";
  if (conv.input_size() < 2) return Error(where + " has no weights");
  const onnx::TensorProto* w = find_constant(graph, conv.input(1));
  if (!w || w->dims_size() != 4) return Error(where + ": its weights are not a constant 4-d tensor");
  ConvKernel k;
  k.out_channels = static_cast<int>(w->dims(0));
  k.in_per_group = static_cast<int>(w->dims(1));
  k.kernel_h = static_cast<int>(w->dims(2));
  k.kernel_w = static_cast<int>(w->dims(3));
  DISC_ASSIGN_OR_RETURN(k.weights, constant_floats(graph, conv.input(1)));
  std::vector<int64_t> pads = {0, 0, 0, 0};
  for (const auto& a : conv.attribute()) {
    if (a.name() == "group") k.groups = static_cast<int>(a.i());
    if (a.name() == "auto_pad" && a.s() != "NOTSET" && a.s() != "VALID")
      return Error(where + " uses auto_pad " + a.s() + " (explicit pads only)");
    if (a.name() == "strides" && a.ints_size() == 2) {
      k.stride_h = static_cast<int>(a.ints(0));
      k.stride_w = static_cast<int>(a.ints(1));
    }
    if (a.name() == "pads" && a.ints_size() == 4) pads.assign(a.ints().begin(), a.ints().end());
    if (a.name() == "dilations")
      for (int64_t d : a.ints())
        if (d != 1) return Error(where + " is dilated");
  }
  // Conv pads are {top, left, bottom, right}, like `padding`.
  k.pad_top = static_cast<int>(pads[0] + padding[0]);
  k.pad_left = static_cast<int>(pads[1] + padding[1]);
  k.pad_bottom = static_cast<int>(pads[2] + padding[2]);
  k.pad_right = static_cast<int>(pads[3] + padding[3]);
  // The bias, if a constant of one value per output (else what follows stays unknown).
  std::optional<std::vector<float>> bias = std::vector<float>(static_cast<size_t>(k.out_channels), 0.0f);
  if (conv.input_size() > 2 && !conv.input(2).empty()) {
    Result<std::vector<float>> b = constant_floats(graph, conv.input(2));
    bias = b.ok() && b->size() == bias->size() ? std::optional(std::move(*b)) : std::nullopt;
  }
  std::string output = conv.output(0);
  const std::vector<const onnx::NodeProto*> next = readers(graph, conv.output(0));
  if (next.size() == 1 && next[0]->op_type() == "BatchNormalization" && next[0]->input(0) == conv.output(0) &&
      !is_graph_output(graph, conv.output(0))) {
    const onnx::NodeProto& bn = *next[0];
    if (bn.input_size() != 5)
      return Error("BatchNormalization '" + bn.name() + "' has " + std::to_string(bn.input_size()) +
                   " inputs (5 expected)");
    float epsilon = 1e-5f;
    if (const auto* e = find_attribute(bn, "epsilon")) epsilon = e->f();
    DISC_ASSIGN_OR_RETURN(const std::vector<float> scale, constant_floats(graph, bn.input(1)));
    DISC_ASSIGN_OR_RETURN(const std::vector<float> variance, constant_floats(graph, bn.input(4)));
    if (scale.size() != static_cast<size_t>(k.out_channels) || variance.size() != scale.size())
      return Error("BatchNormalization '" + bn.name() + "' does not match " + where);
    for (float v : variance)
      if (!(v + epsilon > 0.0f))
        return Error("BatchNormalization '" + bn.name() + "' has a variance plus epsilon that is not positive");
    const size_t per_output = k.weights.size() / static_cast<size_t>(std::max(1, k.out_channels));
    for (size_t o = 0; o < scale.size(); ++o)
      for (size_t i = 0; i < per_output; ++i) k.weights[o * per_output + i] *= scale[o] / std::sqrt(variance[o] + epsilon);
    const Result<std::vector<float>> shift = constant_floats(graph, bn.input(2));
    const Result<std::vector<float>> mean = constant_floats(graph, bn.input(3));
    if (bias && shift.ok() && mean.ok() && shift->size() == scale.size() && mean->size() == scale.size()) {
      for (size_t o = 0; o < scale.size(); ++o)
        (*bias)[o] = ((*bias)[o] - (*mean)[o]) * scale[o] / std::sqrt(variance[o] + epsilon) + (*shift)[o];
    } else {
      bias.reset();
    }
    output = bn.output_size() == 1 ? bn.output(0) : std::string();
  }
  if (bias && !output.empty()) {
    k.activation = activation_after(graph, output, std::move(*bias));
    if (k.activation && !k.activation->check(k.out_channels).ok()) k.activation.reset();
  }
  return k;
}

}  // namespace disc::model
