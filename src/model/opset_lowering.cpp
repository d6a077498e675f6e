#include "model/opset_lowering.hpp"

#include <onnx/defs/schema.h>

#include <algorithm>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/graph_edit.hpp"
#include "model/onnx_graph.hpp"

namespace disc::model {
namespace {

// Operators whose newest form (up to opset 17) differs from their opset-10 form only in the
// element types it accepts or in wording: the same node means the same for fp32 tensors.
const std::unordered_set<std::string> kSameForFloats{
    "Abs", "Add", "AveragePool", "Cast", "Ceil", "Conv", "Div", "Erf", "Exp", "Expand", "Floor",
    "Greater", "Identity", "IsNaN", "LeakyRelu", "Less", "Log", "LpPool", "LRN", "MatMul", "Max",
    "MaxPool", "Mean", "Min", "Mod", "Mul", "Neg", "NonZero", "PRelu", "Reciprocal", "Relu",
    "Sigmoid", "Sign", "Size", "SpaceToDepth", "Sqrt", "Sub", "Sum", "Tanh", "Tile", "Transpose",
    "Where"};

// Reductions whose axes stay an attribute, negative axes allowed since opset 11.
const std::unordered_set<std::string> kAttributeReductions{
    "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
    "ReduceProd", "ReduceSumSquare"};

// One lowering pass over a graph: what it held before (constants, ranks, dims, names) and what
// the rewritten nodes add.
class Lowering {
 public:
  Lowering(const onnx::GraphProto& graph, int64_t opset)
      : opset_(opset), constants_(constants_by_name(graph)), names_(graph) {
    const auto record = [this](const onnx::ValueInfoProto& info) {
      const auto& type = info.type();
      if (!type.has_tensor_type()) return;
      element_types_[info.name()] = type.tensor_type().elem_type();
      if (!type.tensor_type().has_shape()) return;
      ranks_[info.name()] = type.tensor_type().shape().dim_size();
      std::vector<int64_t> dims;
      for (const auto& d : type.tensor_type().shape().dim())
        if (d.has_dim_value()) dims.push_back(d.dim_value());
      if (static_cast<int>(dims.size()) == type.tensor_type().shape().dim_size()) dims_[info.name()] = dims;
    };
    for (const auto& v : graph.input()) record(v);
    for (const auto& v : graph.output()) record(v);
    for (const auto& v : graph.value_info()) record(v);
    for (const auto& t : graph.initializer()) {
      ranks_[t.name()] = t.dims_size();
      dims_[t.name()] = std::vector<int64_t>(t.dims().begin(), t.dims().end());
      element_types_[t.name()] = t.data_type();
    }
  }

  // The node's opset-10 form: one node, or more for an operator opset 10 lacks.
  Result<std::vector<onnx::NodeProto>> lower(const onnx::NodeProto& node);

  std::vector<onnx::TensorProto>& new_initializers() { return new_initializers_; }
  // Constants read by an old form and not by its rewrite: dropped if nothing else reads them.
  const std::unordered_set<std::string>& detached() const { return detached_; }

 private:
  using Rule = std::function<Status(Lowering&, onnx::NodeProto&, std::vector<onnx::NodeProto>&)>;
  static const std::unordered_map<std::string, Rule>& rules();

  // The constant (initializer or Constant node) `name`, or null.
  const onnx::TensorProto* constant(const std::string& name) const {
    auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : it->second;
  }
  Result<int> rank(const onnx::NodeProto& node, const std::string& tensor) const {
    auto it = ranks_.find(tensor);
    if (it == ranks_.end())
      return Error(describe(node) + ": the rank of '" + tensor + "' is unknown, and its axes must be renumbered");
    return it->second;
  }
  // `axis` in 0..rank-1 (0..rank with `inclusive`), negative values counted from the back.
  static Result<int64_t> normal_axis(const onnx::NodeProto& node, int64_t axis, int rank, bool inclusive = false) {
    const int64_t normal = axis < 0 ? axis + rank : axis;
    if (normal < 0 || normal > rank - (inclusive ? 0 : 1))
      return Error(describe(node) + ": axis " + std::to_string(axis) + " is outside a tensor of rank " +
                   std::to_string(rank));
    return normal;
  }
  Status normalize_axis_attribute(onnx::NodeProto& node, const std::string& tensor, int64_t default_axis,
                                  bool inclusive = false);
  Status normalize_axes_attribute(onnx::NodeProto& node, const std::string& tensor);
  // The constant input `index` as an attribute `name` (ints), the input dropped; no attribute
  // if the input is absent or empty.
  Status input_to_ints_attribute(onnx::NodeProto& node, int index, const std::string& name);
  // The constant scalar input `index` as a float attribute `name`.
  Status input_to_float_attribute(onnx::NodeProto& node, int index, const std::string& name);
  // Makes input `index` read a new initializer `tensor` (named after the input it replaces).
  void replace_input(onnx::NodeProto& node, int index, onnx::TensorProto tensor, const std::string& suffix) {
    tensor.set_name(unused_name(node.input(index) + suffix));
    detached_.insert(node.input(index));
    node.set_input(index, tensor.name());
    new_initializers_.push_back(std::move(tensor));
  }
  // Drops the node's inputs from `from` on, noting the constants among them.
  void drop_inputs(onnx::NodeProto& node, int from);
  std::string unused_name(const std::string& base) { return names_.unused(base); }

  static Status lower_clip(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_pad(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_squeeze(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_unsqueeze(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_split(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_reduce_sum(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_softmax(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_dropout(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_batch_normalization(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_reshape(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_constant(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_gemm(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_slice(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_gather(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_pow(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_shape(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_conv_transpose(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&);
  static Status lower_hard_swish(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>& out);

  const int64_t opset_;
  std::unordered_map<std::string, int> ranks_;
  std::unordered_map<std::string, std::vector<int64_t>> dims_;  // of tensors whose dims are all known
  std::unordered_map<std::string, int> element_types_;            // onnx::TensorProto::DataType
  const ConstantMap constants_;
  GraphNames names_;  // so that new tensors and nodes collide with none
  std::vector<onnx::TensorProto> new_initializers_;
  std::unordered_set<std::string> detached_;
};

bool has_input(const onnx::NodeProto& node, int index) {
  return node.input_size() > index && !node.input(index).empty();
}

Status Lowering::normalize_axis_attribute(onnx::NodeProto& node, const std::string& tensor, int64_t default_axis,
                                          bool inclusive) {
  const int64_t axis = int_attribute(node, "axis", default_axis);
  if (axis >= 0) return Status();  // the same axis in opset 10, given or by default
  DISC_ASSIGN_OR_RETURN(const int r, rank(node, tensor));
  DISC_ASSIGN_OR_RETURN(const int64_t normal, normal_axis(node, axis, r, inclusive));
  set_attribute(node, "axis", onnx::AttributeProto::INT)->set_i(normal);
  return Status();
}

Status Lowering::normalize_axes_attribute(onnx::NodeProto& node, const std::string& tensor) {
  const onnx::AttributeProto* axes = find_attribute(node, "axes");
  if (!axes) return Status();
  const std::vector<int64_t> given(axes->ints().begin(), axes->ints().end());
  bool negative = false;
  for (int64_t a : given) negative = negative || a < 0;
  if (!negative) return Status();
  DISC_ASSIGN_OR_RETURN(const int r, rank(node, tensor));
  auto* normal = set_attribute(node, "axes", onnx::AttributeProto::INTS);
  for (int64_t a : given) {
    DISC_ASSIGN_OR_RETURN(const int64_t n, normal_axis(node, a, r));
    normal->add_ints(n);
  }
  return Status();
}

void Lowering::drop_inputs(onnx::NodeProto& node, int from) {
  for (int i = from; i < node.input_size(); ++i)
    if (!node.input(i).empty()) detached_.insert(node.input(i));
  while (node.input_size() > from) node.mutable_input()->RemoveLast();
}

Status Lowering::input_to_ints_attribute(onnx::NodeProto& node, int index, const std::string& name) {
  if (has_input(node, index)) {
    auto values = tensor_ints(constant(node.input(index)), node.input(index));
    if (!values.ok()) return Error(describe(node) + ": its " + name + " must be constant: " + values.error().message());
    if (!values->empty()) {  // an empty list is as if none were given
      auto* attribute = set_attribute(node, name, onnx::AttributeProto::INTS);
      for (int64_t v : *values) attribute->add_ints(v);
    }
  }
  drop_inputs(node, index);
  return Status();
}

Status Lowering::input_to_float_attribute(onnx::NodeProto& node, int index, const std::string& name) {
  if (!has_input(node, index)) return Status();
  auto values = tensor_floats(constant(node.input(index)), node.input(index));
  if (!values.ok() || values->size() != 1)
    return Error(describe(node) + ": its " + name + " must be a constant fp32 scalar" +
                 (values.ok() ? "" : ": " + values.error().message()));
  set_attribute(node, name, onnx::AttributeProto::FLOAT)->set_f((*values)[0]);
  return Status();
}

// Clip-11..13: bounds as optional inputs -> Clip-6: attributes (absent = no bound).
Status Lowering::lower_clip(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  DISC_RETURN_IF_ERROR(l.input_to_float_attribute(node, 1, "min"));
  DISC_RETURN_IF_ERROR(l.input_to_float_attribute(node, 2, "max"));
  l.drop_inputs(node, 1);
  return Status();
}

// Pad-11..13: pads and constant_value as inputs -> Pad-2: attributes.
Status Lowering::lower_pad(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (has_input(node, 3)) return Error(describe(node) + ": padding chosen axes (an 'axes' input) has no opset-10 form");
  if (!has_input(node, 1)) return Error(describe(node) + " has no pads");
  DISC_RETURN_IF_ERROR(l.input_to_float_attribute(node, 2, "value"));
  return l.input_to_ints_attribute(node, 1, "pads");
}

// Squeeze-13: axes as an optional input; Squeeze-11: negative axes -> non-negative attribute.
// Without axes it drops every dim of 1, which OpenCV wants listed.
Status Lowering::lower_squeeze(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  DISC_RETURN_IF_ERROR(l.input_to_ints_attribute(node, 1, "axes"));
  if (!find_attribute(node, "axes"))
    if (auto dims = l.dims_.find(node.input(0)); dims != l.dims_.end()) {
      auto* axes = set_attribute(node, "axes", onnx::AttributeProto::INTS);
      for (size_t i = 0; i < dims->second.size(); ++i)
        if (dims->second[i] == 1) axes->add_ints(static_cast<int64_t>(i));
    }
  return l.normalize_axes_attribute(node, node.input(0));
}

// Unsqueeze-13: axes as an input; negative axes count in the output's rank. No axes: the input.
Status Lowering::lower_unsqueeze(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  DISC_RETURN_IF_ERROR(l.input_to_ints_attribute(node, 1, "axes"));
  if (!find_attribute(node, "axes")) {
    node.set_op_type("Identity");
    node.clear_attribute();
    return Status();
  }
  return l.normalize_axes_attribute(node, node.output(0));
}

// Split-13: sizes as an optional input; negative axis.
Status Lowering::lower_split(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  DISC_RETURN_IF_ERROR(l.input_to_ints_attribute(node, 1, "split"));
  return l.normalize_axis_attribute(node, node.input(0), 0);
}

// ReduceSum-13: axes as an optional input, and noop_with_empty_axes: without axes (or with an
// empty list) it then passes the input on, else it sums over every axis as ReduceSum-1 does.
Status Lowering::lower_reduce_sum(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  const bool noop = int_attribute(node, "noop_with_empty_axes", 0) != 0;
  remove_attribute(node, "noop_with_empty_axes");
  DISC_RETURN_IF_ERROR(l.input_to_ints_attribute(node, 1, "axes"));
  if (noop && !find_attribute(node, "axes")) {
    node.set_op_type("Identity");
    node.clear_attribute();
    return Status();
  }
  return l.normalize_axes_attribute(node, node.input(0));
}

// Softmax, LogSoftmax and Hardmax: up to opset 12 they work on the input flattened to 2-d at
// `axis` (default 1); from 13 on along `axis` alone (default -1). Both agree along the last
// axis, which opset 10 is then told explicitly; along another one the axis is moved last by a
// Transpose and back by another (the node itself becomes the second, writing its output).
Status Lowering::lower_softmax(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>& before) {
  if (l.opset_ < 13) return l.normalize_axis_attribute(node, node.input(0), 1);
  DISC_ASSIGN_OR_RETURN(const int r, l.rank(node, node.input(0)));
  DISC_ASSIGN_OR_RETURN(const int64_t axis, normal_axis(node, int_attribute(node, "axis", -1), r));
  if (axis == r - 1) {
    set_attribute(node, "axis", onnx::AttributeProto::INT)->set_i(axis);
    return Status();
  }
  std::vector<int64_t> to_last, back(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d)
    if (d != axis) to_last.push_back(d);
  to_last.push_back(axis);
  for (int64_t i = 0; i < r; ++i) back[static_cast<size_t>(to_last[static_cast<size_t>(i)])] = i;
  const auto transpose = [](const std::string& name, const std::string& input, const std::string& output,
                            const std::vector<int64_t>& perm) {
    onnx::NodeProto t;
    t.set_op_type("Transpose");
    t.set_name(name);
    t.add_input(input);
    t.add_output(output);
    auto* attribute = set_attribute(t, "perm", onnx::AttributeProto::INTS);
    for (int64_t p : perm) attribute->add_ints(p);
    return t;
  };
  const std::string moved = l.unused_name(node.output(0) + "_axis_last");
  const std::string done = l.unused_name(node.output(0) + "_along_last");
  before.push_back(transpose(l.unused_name(node.name() + "_axis_last"), node.input(0), moved, to_last));
  onnx::NodeProto along_last = node;
  along_last.set_name(l.unused_name(node.name() + "_along_last"));
  along_last.set_input(0, moved);
  along_last.set_output(0, done);
  set_attribute(along_last, "axis", onnx::AttributeProto::INT)->set_i(r - 1);
  before.push_back(std::move(along_last));
  node = transpose(node.name(), done, node.output(0), back);
  return Status();
}

// Dropout-12..13: ratio and training_mode as inputs, and a seed. At inference it passes its
// input on, which Dropout-10 does too.
Status Lowering::lower_dropout(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (has_input(node, 2)) {
    const onnx::TensorProto* mode = l.constant(node.input(2));
    const bool off = mode && mode->data_type() == onnx::TensorProto::BOOL &&
                     ((mode->has_raw_data() && mode->raw_data() == std::string(1, '\0')) ||
                      (!mode->has_raw_data() && mode->int32_data_size() == 1 && mode->int32_data(0) == 0));
    if (!off) return Error(describe(node) + ": a training_mode that is not a constant false has no opset-10 form");
  }
  remove_attribute(node, "seed");
  l.drop_inputs(node, 1);
  return Status();
}

// BatchNormalization-14..15: training_mode, whose running statistics outputs inference lacks.
Status Lowering::lower_batch_normalization(Lowering&, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (int_attribute(node, "training_mode", 0) != 0)
    return Error(describe(node) + ": training_mode=1 has no opset-10 (inference) form");
  remove_attribute(node, "training_mode");
  for (int i = 1; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      return Error(describe(node) + ": output '" + node.output(i) + "' exists in training mode only");
  while (node.output_size() > 1) node.mutable_output()->RemoveLast();
  return Status();
}

// Reshape-14: allowzero (a 0 in the shape is a 0, not the input's dim).
Status Lowering::lower_reshape(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (int_attribute(node, "allowzero", 0) != 0) {
    auto shape = tensor_ints(l.constant(node.input(1)), node.input(1));
    bool zero = !shape.ok();
    for (int64_t d : shape.ok() ? *shape : std::vector<int64_t>{}) zero = zero || d == 0;
    if (zero) return Error(describe(node) + ": allowzero=1 with a shape that may hold 0 has no opset-10 form");
  }
  remove_attribute(node, "allowzero");
  return Status();
}

// Constant-12..13: normalization has written value_float(s) and value_int(s) as a `value`
// tensor; sparse and string values have no opset-10 form.
Status Lowering::lower_constant(Lowering&, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (node.attribute_size() == 1 && node.attribute(0).name() == "value") return Status();
  return Error(describe(node) + ": a constant given as '" + (node.attribute_size() ? node.attribute(0).name() : "") +
               "' has no opset-10 form");
}

// Gemm-11..13: C optional; Gemm-9 needs one, here zeros of the output's width.
Status Lowering::lower_gemm(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (has_input(node, 2)) return Status();
  const auto found = l.dims_.find(node.output(0));
  const std::vector<int64_t> output = found == l.dims_.end() ? std::vector<int64_t>{} : found->second;
  if (output.size() != 2)
    return Error(describe(node) + ": without C it needs an output of known 2-d shape for its opset-10 form");
  onnx::TensorProto zeros;
  zeros.set_name(l.unused_name(node.name() + "_zero_c"));
  zeros.set_data_type(onnx::TensorProto::FLOAT);
  zeros.add_dims(output[1]);
  for (int64_t i = 0; i < output[1]; ++i) zeros.add_float_data(0.0f);
  while (node.input_size() < 3) node.add_input();
  node.set_input(2, zeros.name());
  l.new_initializers_.push_back(std::move(zeros));
  return Status();
}

// Slice-11..13: negative axes (in Slice-10 an axis counts from the front only).
Status Lowering::lower_slice(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (!has_input(node, 3)) return Status();
  auto axes = tensor_ints(l.constant(node.input(3)), node.input(3));
  if (!axes.ok()) return Error(describe(node) + ": its axes must be constant: " + axes.error().message());
  if (std::none_of(axes->begin(), axes->end(), [](int64_t a) { return a < 0; })) return Status();
  DISC_ASSIGN_OR_RETURN(const int r, l.rank(node, node.input(0)));
  onnx::TensorProto normal;
  normal.set_data_type(onnx::TensorProto::INT64);
  normal.add_dims(static_cast<int64_t>(axes->size()));
  for (int64_t a : *axes) {
    DISC_ASSIGN_OR_RETURN(const int64_t n, normal_axis(node, a, r));
    normal.add_int64_data(n);
  }
  l.replace_input(node, 3, std::move(normal), "_from_front");
  return Status();
}

// Gather-11..13: negative axis and negative indices (out of bounds in Gather-1); constant
// indices are renumbered with the data's dim along the axis.
Status Lowering::lower_gather(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  DISC_RETURN_IF_ERROR(l.normalize_axis_attribute(node, node.input(0), 0));
  const onnx::TensorProto* indices = l.constant(node.input(1));
  if (!indices || indices->data_type() != onnx::TensorProto::INT64) return Status();  // as they come
  auto values = tensor_ints(indices, node.input(1));
  if (!values.ok()) return Error(describe(node) + ": " + values.error().message());
  if (std::none_of(values->begin(), values->end(), [](int64_t i) { return i < 0; })) return Status();
  const auto dims = l.dims_.find(node.input(0));
  const int64_t axis = int_attribute(node, "axis", 0);
  if (dims == l.dims_.end() || axis >= static_cast<int64_t>(dims->second.size()))
    return Error(describe(node) + ": negative indices along a dim of unknown size have no opset-10 form");
  const int64_t size = dims->second[static_cast<size_t>(axis)];
  onnx::TensorProto normal = *indices;
  normal.clear_raw_data();
  normal.clear_int64_data();
  for (int64_t i : *values) {
    if (i < -size || i >= size)
      return Error(describe(node) + ": index " + std::to_string(i) + " is outside a dim of " + std::to_string(size));
    normal.add_int64_data(i < 0 ? i + size : i);
  }
  l.replace_input(node, 1, std::move(normal), "_from_front");
  return Status();
}

// Pow-12..15: an integer exponent, which Pow-7 does not take; a constant one becomes fp32.
Status Lowering::lower_pow(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  const auto type = l.element_types_.find(node.input(1));
  if (type == l.element_types_.end() || type->second == onnx::TensorProto::FLOAT) return Status();
  const Error no_form(describe(node) + ": an exponent that is not fp32 (or a constant int64) has no opset-10 form");
  const onnx::TensorProto* exponent = l.constant(node.input(1));
  if (!exponent) return no_form;
  auto values = tensor_ints(exponent, node.input(1));
  if (!values.ok()) return no_form;
  onnx::TensorProto exact = *exponent;
  exact.clear_raw_data();
  exact.clear_int64_data();
  exact.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t v : *values) exact.add_float_data(static_cast<float>(v));
  l.replace_input(node, 1, std::move(exact), "_as_float");
  return Status();
}

// Shape-15: start and end; without them it is Shape-1.
Status Lowering::lower_shape(Lowering&, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (find_attribute(node, "end") || int_attribute(node, "start", 0) != 0)
    return Error(describe(node) + ": a Shape of some dims only (start, end) has no opset-10 form");
  remove_attribute(node, "start");
  return Status();
}

// ConvTranspose-11 moved the odd unit of SAME_UPPER / SAME_LOWER padding to the other side.
Status Lowering::lower_conv_transpose(Lowering&, onnx::NodeProto& node, std::vector<onnx::NodeProto>&) {
  if (const auto* pad = find_attribute(node, "auto_pad"); pad && pad->s() != "NOTSET" && pad->s() != "VALID")
    return Error(describe(node) + ": auto_pad " + pad->s() + " pads differently before opset 11");
  return Status();
}

// HardSwish-14 (absent from opset 10): x · HardSigmoid(x) with alpha = 1/6 and beta = 1/2,
// its definition.
Status Lowering::lower_hard_swish(Lowering& l, onnx::NodeProto& node, std::vector<onnx::NodeProto>& out) {
  onnx::NodeProto gate;
  gate.set_op_type("HardSigmoid");
  gate.set_name(l.unused_name(node.name() + "_gate"));
  gate.add_input(node.input(0));
  gate.add_output(l.unused_name(node.output(0) + "_gate"));
  set_attribute(gate, "alpha", onnx::AttributeProto::FLOAT)->set_f(1.0f / 6.0f);
  set_attribute(gate, "beta", onnx::AttributeProto::FLOAT)->set_f(0.5f);
  const std::string gate_output = gate.output(0);
  out.push_back(std::move(gate));
  node.set_op_type("Mul");
  node.add_input(gate_output);
  return Status();
}

const std::unordered_map<std::string, Lowering::Rule>& Lowering::rules() {
  static const std::unordered_map<std::string, Rule> rules{
      {"Clip", lower_clip},
      {"Pad", lower_pad},
      {"Squeeze", lower_squeeze},
      {"Unsqueeze", lower_unsqueeze},
      {"Split", lower_split},
      {"ReduceSum", lower_reduce_sum},
      {"Softmax", lower_softmax},
      {"LogSoftmax", lower_softmax},
      {"Hardmax", lower_softmax},
      {"Dropout", lower_dropout},
      {"BatchNormalization", lower_batch_normalization},
      {"Reshape", lower_reshape},
      {"Constant", lower_constant},
      {"Gemm", lower_gemm},
      {"HardSwish", lower_hard_swish},
      {"Slice", lower_slice},
      {"Concat",
       [](Lowering& l, onnx::NodeProto& node, auto&) {
         if (!find_attribute(node, "axis")) return Status(Error(describe(node) + " has no axis"));
         return l.normalize_axis_attribute(node, node.input(0), 0);
       }},
      {"Flatten",
       [](Lowering& l, onnx::NodeProto& node, auto&) {
         return l.normalize_axis_attribute(node, node.input(0), 1, /*inclusive=*/true);
       }},
      {"Gather", lower_gather},
      {"Pow", lower_pow},
      {"Shape", lower_shape},
      {"ConvTranspose", lower_conv_transpose},
  };
  return rules;
}

Result<std::vector<onnx::NodeProto>> Lowering::lower(const onnx::NodeProto& node) {
  std::vector<onnx::NodeProto> nodes;
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset_), "");
  if (!schema) return Error(describe(node) + ": no such operator in opset " + std::to_string(opset_));
  onnx::NodeProto lowered = node;
  if (schema->since_version() > kLoweredOpset) {
    const std::string& op = node.op_type();
    if (auto rule = rules().find(op); rule != rules().end()) {
      DISC_RETURN_IF_ERROR(rule->second(*this, lowered, nodes));
    } else if (kAttributeReductions.count(op)) {
      DISC_RETURN_IF_ERROR(normalize_axes_attribute(lowered, node.input(0)));
    } else if (!kSameForFloats.count(op)) {
      return Error(describe(node) + ": " + op + " as of opset " + std::to_string(schema->since_version()) +
                   " has no opset-10 form that DISC writes");
    }
  }
  nodes.push_back(std::move(lowered));
  return nodes;
}

}  // namespace

bool needs_lowering(const onnx::GraphProto& graph, int64_t opset) {
  if (opset > 11) return true;
  if (opset < 11) return false;
  for (const auto& node : graph.node())
    if (node.op_type() == "Clip" && node.input_size() > 1) return true;  // even inputs "" (no bound)
  return false;
}

Status lower_to_opset10(onnx::ModelProto& model, int64_t opset) {
  onnx::GraphProto& graph = *model.mutable_graph();
  Lowering lowering(graph, opset);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (const auto& node : graph.node()) {
    auto lowered = lowering.lower(node);
    if (!lowered.ok())
      return lowered.error().with_context(
          "opset " + std::to_string(opset) + " model" +
          (opset == 11 ? " with Clip bounds as inputs (OpenCV 4.6 reads them from attributes only)" : "") +
          ", lowered to opset " + std::to_string(kLoweredOpset) + " for OpenCV");
    for (auto& n : *lowered) *nodes.Add() = std::move(n);
  }
  graph.mutable_node()->Swap(&nodes);
  for (auto& t : lowering.new_initializers()) add_initializer(model, std::move(t));
  drop_unread(graph, lowering.detached());
  model.clear_opset_import();
  model.add_opset_import()->set_version(kLoweredOpset);
  return Status();
}

}  // namespace disc::model
