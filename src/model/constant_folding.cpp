#include "model/constant_folding.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "disc/status.hpp"
#include "model/graph_edit.hpp"
#include "model/onnx_graph.hpp"

namespace disc::model {
namespace {

using onnx::TensorProto;
using Dims = std::vector<int64_t>;

// A tensor whose values are known before any input arrives. Only int64 (shapes, indices,
// pads) and fp32 (fill values) are held.
// Invariant: type is INT64 or FLOAT; the vector of that type holds product(dims) values (1 for
// a scalar), at most kMaxFoldedValues, in row-major order; the other vector is empty.
struct Value {
  int32_t type = TensorProto::INT64;
  Dims dims;
  std::vector<int64_t> ints;
  std::vector<float> floats;

  size_t size() const { return type == TensorProto::INT64 ? ints.size() : floats.size(); }
  // A value of this type and `shape` holding no values yet.
  Value empty_like(Dims shape) const {
    Value v;
    v.type = type;
    v.dims = std::move(shape);
    return v;
  }
  // Appends element `i` of `from` (of this type).
  void push(const Value& from, size_t i) {
    if (type == TensorProto::INT64)
      ints.push_back(from.ints[i]);
    else
      floats.push_back(from.floats[i]);
  }
};

// The values' count for `dims`, or an Error for a negative dim or more than kMaxFoldedValues.
Result<size_t> count_of(const Dims& dims) {
  size_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) return Error("a dim of " + std::to_string(d));
    if (d > 0 && count > kMaxFoldedValues / static_cast<size_t>(d))
      return Error("more than " + std::to_string(kMaxFoldedValues) + " values");
    count *= static_cast<size_t>(d);
  }
  return count;
}

// Row-major strides of `dims`.
std::vector<size_t> strides_of(const Dims& dims) {
  std::vector<size_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * static_cast<size_t>(dims[i]);
  return strides;
}

// Calls `visit` with every multi-index of `dims` in row-major order (once for a scalar, never
// when a dim is 0).
void for_each_index(const Dims& dims, const std::function<void(const Dims&)>& visit) {
  for (int64_t d : dims)
    if (d == 0) return;
  Dims index(dims.size(), 0);
  while (true) {
    visit(index);
    size_t axis = dims.size();
    while (axis > 0 && ++index[axis - 1] == dims[axis - 1]) index[--axis] = 0;
    if (axis == 0) return;
  }
}

// `axis` counted from the back when negative, within 0..rank-1.
Result<size_t> normal_axis(int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  const int64_t normal = axis < 0 ? axis + r : axis;
  if (normal < 0 || normal >= r) return Error("axis " + std::to_string(axis) + " outside rank " + std::to_string(r));
  return static_cast<size_t>(normal);
}

int64_t product(const Dims& dims, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= dims[i];
  return p;
}

// What the folder knows while it walks the graph: the constants and the folded values, and
// the dims of every tensor whose shape inference fixed them.
class Folder {
 public:
  explicit Folder(const onnx::GraphProto& graph) : constants_(constants_by_name(graph)) {
    const auto record = [this](const onnx::ValueInfoProto& info) {
      if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return;
      Dims dims;
      for (const auto& d : info.type().tensor_type().shape().dim()) {
        if (!d.has_dim_value() || d.dim_value() < 0) return;
        dims.push_back(d.dim_value());
      }
      dims_[info.name()] = std::move(dims);
    };
    for (const auto& v : graph.input()) record(v);
    for (const auto& v : graph.output()) record(v);
    for (const auto& v : graph.value_info()) record(v);
    for (const auto& t : graph.initializer()) dims_[t.name()] = Dims(t.dims().begin(), t.dims().end());
  }

  // The known value of input `index` of `node` (a constant or a folded output).
  Result<const Value*> input(const onnx::NodeProto& node, int index);
  // The int64 values of input `index`, or of the ints attribute `attribute` where the node
  // has it (operators that took an attribute before taking an input); `absent` if neither.
  Result<std::vector<int64_t>> ints_operand(const onnx::NodeProto& node, int index, const std::string& attribute,
                                            std::vector<int64_t> absent = {});
  // The static dims of `tensor` (a folded value's, or as inferred), or null.
  const Dims* dims_of(const std::string& tensor) const {
    if (const auto f = folded_.find(tensor); f != folded_.end()) return &f->second.dims;
    const auto d = dims_.find(tensor);
    return d == dims_.end() ? nullptr : &d->second;
  }
  void set(const std::string& name, Value value) { folded_[name] = std::move(value); }
  const std::unordered_map<std::string, Value>& folded() const { return folded_; }

 private:
  const ConstantMap constants_;
  std::unordered_map<std::string, Dims> dims_;      // static dims of any element type
  std::unordered_map<std::string, Value> folded_;   // outputs of folded nodes
  std::unordered_map<std::string, Value> decoded_;  // constants read so far
};

Result<const Value*> Folder::input(const onnx::NodeProto& node, int index) {
  if (index >= node.input_size() || node.input(index).empty())
    return Error("input " + std::to_string(index) + " absent");
  const std::string& name = node.input(index);
  if (const auto f = folded_.find(name); f != folded_.end()) return &f->second;
  if (const auto d = decoded_.find(name); d != decoded_.end()) return &d->second;
  const auto c = constants_.find(name);
  if (c == constants_.end()) return Error("'" + name + "' is not known before the input arrives");
  const TensorProto& t = *c->second;
  Value value;
  value.type = t.data_type();
  value.dims.assign(t.dims().begin(), t.dims().end());
  DISC_RETURN_IF_ERROR(count_of(value.dims).status());
  if (value.type == TensorProto::INT64) {
    DISC_ASSIGN_OR_RETURN(value.ints, tensor_ints(&t, name));
  } else if (value.type == TensorProto::FLOAT) {
    DISC_ASSIGN_OR_RETURN(value.floats, tensor_floats(&t, name));
  } else {
    return Error("'" + name + "' is neither int64 nor fp32");
  }
  return &(decoded_[name] = std::move(value));
}

Result<std::vector<int64_t>> Folder::ints_operand(const onnx::NodeProto& node, int index, const std::string& attribute,
                                                  std::vector<int64_t> absent) {
  if (const onnx::AttributeProto* a = find_attribute(node, attribute))
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  if (index < 0 || index >= node.input_size() || node.input(index).empty()) return absent;
  DISC_ASSIGN_OR_RETURN(const Value* v, input(node, index));
  if (v->type != TensorProto::INT64) return Error("'" + node.input(index) + "' is not int64");
  return v->ints;
}

// Shape-1 and -15 (start, end): the dims of a tensor whose shape is known.
Result<Value> shape(Folder& f, const onnx::NodeProto& node) {
  const std::string& of = node.input(0);
  const Dims* dims = f.dims_of(of);
  if (!dims) return Error("the shape of '" + of + "' is not static");
  const int64_t rank = static_cast<int64_t>(dims->size());
  const auto clamped = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
  const int64_t start = clamped(int_attribute(node, "start", 0)), end = clamped(int_attribute(node, "end", rank));
  Value v;
  v.dims = {std::max<int64_t>(end - start, 0)};
  for (int64_t i = start; i < end; ++i) v.ints.push_back((*dims)[static_cast<size_t>(i)]);
  return v;
}

// Gather: out[outer, j..., inner] = data[outer, indices[j...], inner].
Result<Value> gather(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  DISC_ASSIGN_OR_RETURN(const Value* indices, f.input(node, 1));
  if (indices->type != TensorProto::INT64) return Error("indices are not int64");
  DISC_ASSIGN_OR_RETURN(const size_t axis, normal_axis(int_attribute(node, "axis", 0), data->dims.size()));
  Dims dims(data->dims.begin(), data->dims.begin() + static_cast<std::ptrdiff_t>(axis));
  dims.insert(dims.end(), indices->dims.begin(), indices->dims.end());
  dims.insert(dims.end(), data->dims.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data->dims.end());
  DISC_RETURN_IF_ERROR(count_of(dims).status());
  const int64_t size = data->dims[axis], outer = product(data->dims, 0, axis),
                inner = product(data->dims, axis + 1, data->dims.size());
  Value v = data->empty_like(std::move(dims));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t index : indices->ints) {
      if (index < -size || index >= size)
        return Error("index " + std::to_string(index) + " outside a dim of " + std::to_string(size));
      const int64_t from = (o * size + (index < 0 ? index + size : index)) * inner;
      for (int64_t i = 0; i < inner; ++i) v.push(*data, static_cast<size_t>(from + i));
    }
  return v;
}

// Unsqueeze-1/11 (axes attribute) and -13 (axes input): unit dims inserted at the axes, which
// count in the output's rank.
Result<Value> unsqueeze(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> axes, f.ints_operand(node, 1, "axes"));
  const size_t rank = data->dims.size() + axes.size();
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    DISC_ASSIGN_OR_RETURN(const size_t axis, normal_axis(a, rank));
    if (inserted[axis]) return Error("axis " + std::to_string(a) + " given twice");
    inserted[axis] = true;
  }
  Value v = *data;
  v.dims.clear();
  for (size_t i = 0, from = 0; i < rank; ++i) v.dims.push_back(inserted[i] ? 1 : data->dims[from++]);
  return v;
}

// Squeeze-1/11 (axes attribute) and -13 (axes input): the unit dims at the axes removed, or
// every unit dim without axes.
Result<Value> squeeze(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> axes, f.ints_operand(node, 1, "axes"));
  std::vector<bool> removed(data->dims.size(), axes.empty());
  for (size_t i = 0; i < removed.size(); ++i) removed[i] = removed[i] && data->dims[i] == 1;
  for (int64_t a : axes) {
    DISC_ASSIGN_OR_RETURN(const size_t axis, normal_axis(a, data->dims.size()));
    if (data->dims[axis] != 1) return Error("axis " + std::to_string(a) + " is not of size 1");
    removed[axis] = true;
  }
  Value v = *data;
  v.dims.clear();
  for (size_t i = 0; i < removed.size(); ++i)
    if (!removed[i]) v.dims.push_back(data->dims[i]);
  return v;
}

// Concat along `axis` of values of one type and rank, equal in every other dim.
Result<Value> concat(Folder& f, const onnx::NodeProto& node) {
  std::vector<const Value*> parts;
  for (int i = 0; i < node.input_size(); ++i) {
    DISC_ASSIGN_OR_RETURN(const Value* part, f.input(node, i));
    parts.push_back(part);
  }
  if (parts.empty()) return Error("no inputs");
  const Value& first = *parts[0];
  DISC_ASSIGN_OR_RETURN(const size_t axis, normal_axis(int_attribute(node, "axis", 0), first.dims.size()));
  Dims dims = first.dims;
  dims[axis] = 0;
  for (const Value* part : parts) {
    if (part->type != first.type || part->dims.size() != first.dims.size())
      return Error("inputs differ in type or rank");
    for (size_t d = 0; d < dims.size(); ++d)
      if (d != axis && part->dims[d] != first.dims[d]) return Error("inputs differ in dim " + std::to_string(d));
    dims[axis] += part->dims[axis];
  }
  DISC_RETURN_IF_ERROR(count_of(dims).status());
  const int64_t outer = product(first.dims, 0, axis), inner = product(first.dims, axis + 1, first.dims.size());
  Value v = first.empty_like(std::move(dims));
  for (int64_t o = 0; o < outer; ++o)
    for (const Value* part : parts) {
      const int64_t block = part->dims[axis] * inner;
      for (int64_t i = 0; i < block; ++i) v.push(*part, static_cast<size_t>(o * block + i));
    }
  return v;
}

// Slice-1 (starts, ends, axes attributes) and -10/11/13 (inputs, with steps): along each axis
// the elements start, start + step, ... before end, with ONNX's clamping of start and end.
Result<Value> slice(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  const size_t rank = data->dims.size();
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> starts, f.ints_operand(node, 1, "starts"));
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> ends, f.ints_operand(node, 2, "ends"));
  std::vector<int64_t> every_axis(starts.size());
  for (size_t i = 0; i < every_axis.size(); ++i) every_axis[i] = static_cast<int64_t>(i);
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> axes, f.ints_operand(node, 3, "axes", every_axis));
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> steps,
                        f.ints_operand(node, 4, "steps", std::vector<int64_t>(starts.size(), 1)));
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return Error("starts, ends, axes and steps differ in length");
  Dims first(rank, 0), step(rank, 1), dims = data->dims;
  std::vector<bool> sliced(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    DISC_ASSIGN_OR_RETURN(const size_t axis, normal_axis(axes[i], rank));
    if (sliced[axis]) return Error("axis " + std::to_string(axes[i]) + " given twice");
    sliced[axis] = true;
    const int64_t size = data->dims[axis], s = steps[i];
    if (s == 0 || s == INT64_MIN) return Error("a step of " + std::to_string(s));
    if (size == 0) {  // nothing to take (and the clamps below need size >= 1)
      dims[axis] = 0;
      continue;
    }
    // |start|, |end| may be near INT64_MAX; size is small, so adding it cannot overflow.
    int64_t b = starts[i] < 0 ? starts[i] + size : starts[i], e = ends[i] < 0 ? ends[i] + size : ends[i];
    b = s > 0 ? std::clamp(b, int64_t{0}, size) : std::clamp(b, int64_t{0}, size - 1);
    e = s > 0 ? std::clamp(e, int64_t{0}, size) : std::clamp(e, int64_t{-1}, size - 1);
    const int64_t span = s > 0 ? e - b : b - e, stride = s > 0 ? s : -s;
    first[axis] = b;
    step[axis] = s;
    dims[axis] = span > 0 ? (span + stride - 1) / stride : 0;
  }
  const std::vector<size_t> strides = strides_of(data->dims);
  Value v = data->empty_like(dims);
  for_each_index(dims, [&](const Dims& index) {
    size_t from = 0;
    for (size_t d = 0; d < rank; ++d) from += static_cast<size_t>(first[d] + index[d] * step[d]) * strides[d];
    v.push(*data, from);
  });
  return v;
}

// Transpose: output dim i is input dim perm[i] (reversed dims without perm).
Result<Value> transpose(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  const size_t rank = data->dims.size();
  std::vector<int64_t> reversed(rank);
  for (size_t i = 0; i < rank; ++i) reversed[i] = static_cast<int64_t>(rank - 1 - i);
  DISC_ASSIGN_OR_RETURN(const std::vector<int64_t> perm, f.ints_operand(node, -1, "perm", reversed));
  if (perm.size() != rank) return Error("perm is not of the input's rank");
  std::vector<bool> seen(rank, false);
  Dims dims(rank);
  for (size_t i = 0; i < rank; ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(perm[i])])
      return Error("perm is no permutation");
    seen[static_cast<size_t>(perm[i])] = true;
    dims[i] = data->dims[static_cast<size_t>(perm[i])];
  }
  const std::vector<size_t> strides = strides_of(data->dims);
  Value v = data->empty_like(dims);
  for_each_index(dims, [&](const Dims& index) {
    size_t from = 0;
    for (size_t i = 0; i < rank; ++i) from += static_cast<size_t>(index[i]) * strides[static_cast<size_t>(perm[i])];
    v.push(*data, from);
  });
  return v;
}

// Reshape: 0 copies the input's dim (unless allowzero), one -1 takes what remains.
Result<Value> reshape(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  DISC_ASSIGN_OR_RETURN(const Value* shape, f.input(node, 1));
  if (shape->type != TensorProto::INT64) return Error("the shape is not int64");
  const bool allow_zero = int_attribute(node, "allowzero", 0) != 0;
  Dims dims = shape->ints;
  int64_t known = 1;
  size_t inferred = dims.size();
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0 && !allow_zero) {
      if (i >= data->dims.size()) return Error("a 0 past the input's rank");
      dims[i] = data->dims[i];
    }
    if (dims[i] == -1 && inferred == dims.size())
      inferred = i;
    else if (dims[i] < 0)
      return Error("a dim of " + std::to_string(dims[i]));
    else if (dims[i] > static_cast<int64_t>(kMaxFoldedValues) ||
             (known *= dims[i]) > static_cast<int64_t>(kMaxFoldedValues))
      return Error("more than " + std::to_string(kMaxFoldedValues) + " values");  // so known cannot overflow
  }
  const int64_t count = static_cast<int64_t>(data->size());
  if (inferred < dims.size()) {
    if (known == 0 || count % known != 0) return Error("no dim fits the -1");
    dims[inferred] = count / known;
  }
  DISC_ASSIGN_OR_RETURN(const size_t reshaped, count_of(dims));
  if (reshaped != data->size()) return Error("the shape holds another number of values");
  Value v = *data;
  v.dims = std::move(dims);
  return v;
}

Result<Value> identity(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  return *data;
}

// Cast between int64 and fp32 (fp32 to int64 truncates; NaN, infinities and values past the
// int64 range are left to compute).
Result<Value> cast(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* data, f.input(node, 0));
  const int64_t to = int_attribute(node, "to", 0);
  if (to != TensorProto::INT64 && to != TensorProto::FLOAT) return Error("a cast to neither int64 nor fp32");
  if (data->type == to) return *data;
  Value v = data->empty_like(data->dims);
  v.type = static_cast<int32_t>(to);
  if (to == TensorProto::FLOAT) {
    for (int64_t i : data->ints) v.floats.push_back(static_cast<float>(i));
    return v;
  }
  for (float f : data->floats) {
    if (!std::isfinite(f) || std::abs(f) >= 9.2e18f) return Error("value " + std::to_string(f) + " past int64");
    v.ints.push_back(static_cast<int64_t>(f));
  }
  return v;
}

// ConstantOfShape: its `value` (one int64 or fp32; fp32 0 by default) in every element.
Result<Value> constant_of_shape(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* shape, f.input(node, 0));
  if (shape->type != TensorProto::INT64 || shape->dims.size() != 1) return Error("the shape is not a 1-d int64 tensor");
  DISC_ASSIGN_OR_RETURN(const size_t count, count_of(shape->ints));
  Value fill;
  fill.type = TensorProto::FLOAT;
  fill.floats = {0.0f};
  if (const onnx::AttributeProto* value = find_attribute(node, "value"); value && value->has_t()) {
    fill.type = value->t().data_type();
    if (fill.type == TensorProto::INT64) {
      DISC_ASSIGN_OR_RETURN(fill.ints, tensor_ints(&value->t(), "value"));
    } else if (fill.type == TensorProto::FLOAT) {
      DISC_ASSIGN_OR_RETURN(fill.floats, tensor_floats(&value->t(), "value"));
    } else {
      return Error("a value neither int64 nor fp32");
    }
    if (fill.size() != 1) return Error("a value of " + std::to_string(fill.size()) + " elements");
  }
  Value v = fill.empty_like(shape->ints);
  for (size_t i = 0; i < count; ++i) v.push(fill, 0);
  return v;
}

// Range of int64 scalars: start, start + delta, ... before limit.
Result<Value> range(Folder& f, const onnx::NodeProto& node) {
  int64_t bounds[3];
  for (int i = 0; i < 3; ++i) {
    DISC_ASSIGN_OR_RETURN(const Value* v, f.input(node, i));
    if (v->type != TensorProto::INT64 || v->size() != 1) return Error("an operand that is no int64 scalar");
    bounds[i] = v->ints[0];
  }
  const int64_t start = bounds[0], limit = bounds[1], delta = bounds[2];
  if (delta == 0) return Error("a delta of 0");
  // The count max(0, ceil((limit - start) / delta)), exact in 128 bits; every value it admits
  // lies between start and limit, so none overflows.
  const __int128 span = static_cast<__int128>(limit) - start;
  const __int128 count = span == 0 || (span > 0) != (delta > 0) ? 0 : (span + delta - (delta > 0 ? 1 : -1)) / delta;
  if (count > kMaxFoldedValues) return Error("more than " + std::to_string(kMaxFoldedValues) + " values");
  Value v;
  for (__int128 i = 0; i < count; ++i) v.ints.push_back(static_cast<int64_t>(start + i * delta));
  v.dims = {static_cast<int64_t>(v.ints.size())};
  return v;
}

// Add, Sub, Mul and Div of int64 tensors, broadcast as numpy does.
Result<Value> arithmetic(Folder& f, const onnx::NodeProto& node) {
  DISC_ASSIGN_OR_RETURN(const Value* a, f.input(node, 0));
  DISC_ASSIGN_OR_RETURN(const Value* b, f.input(node, 1));
  if (a->type != TensorProto::INT64 || b->type != TensorProto::INT64) return Error("operands that are not int64");
  const size_t rank = std::max(a->dims.size(), b->dims.size());
  // Each operand's dims padded in front to `rank`, and its strides with 0 where it broadcasts.
  const auto aligned = [rank](const Value& v, Dims& dims, std::vector<size_t>& strides) {
    dims.assign(rank - v.dims.size(), 1);
    dims.insert(dims.end(), v.dims.begin(), v.dims.end());
    strides = strides_of(dims);
    for (size_t i = 0; i < rank; ++i)
      if (dims[i] == 1) strides[i] = 0;
  };
  Dims a_dims, b_dims, dims(rank);
  std::vector<size_t> a_strides, b_strides;
  aligned(*a, a_dims, a_strides);
  aligned(*b, b_dims, b_strides);
  for (size_t i = 0; i < rank; ++i) {
    if (a_dims[i] != b_dims[i] && a_dims[i] != 1 && b_dims[i] != 1) return Error("operands that do not broadcast");
    dims[i] = a_dims[i] == 1 ? b_dims[i] : a_dims[i];
  }
  DISC_RETURN_IF_ERROR(count_of(dims).status());
  const std::string& op = node.op_type();
  Value v;
  v.dims = dims;
  std::string failure;
  for_each_index(dims, [&](const Dims& index) {
    size_t i = 0, j = 0;
    for (size_t d = 0; d < rank; ++d) {
      i += static_cast<size_t>(index[d]) * a_strides[d];
      j += static_cast<size_t>(index[d]) * b_strides[d];
    }
    const int64_t x = a->ints[i], y = b->ints[j];
    int64_t r = 0;
    bool overflow = false;
    if (op == "Add")
      overflow = __builtin_add_overflow(x, y, &r);
    else if (op == "Sub")
      overflow = __builtin_sub_overflow(x, y, &r);
    else if (op == "Mul")
      overflow = __builtin_mul_overflow(x, y, &r);
    else if (y == 0 || (x == INT64_MIN && y == -1))
      overflow = true;
    // C++ truncates, floor division rounds down: they differ only for an inexact quotient of
    // operands of opposite signs, which ONNX runtimes do not agree on either.
    else if (x % y != 0 && ((x < 0) != (y < 0)))
      failure = "an inexact division of a negative quotient";
    else
      r = x / y;
    if (overflow) failure = "an overflow or a division by zero";
    v.ints.push_back(r);
  });
  if (!failure.empty()) return Error(failure);
  return v;
}

// The value of `node`, which has one output (the caller's check), or an Error saying why it is
// left to compute.
Result<Value> evaluate(Folder& f, const onnx::NodeProto& node) {
  using Rule = Result<Value> (*)(Folder&, const onnx::NodeProto&);
  static const std::unordered_map<std::string, Rule> rules{
      {"Shape", shape},
      {"Gather", gather},
      {"Unsqueeze", unsqueeze},
      {"Squeeze", squeeze},
      {"Concat", concat},
      {"Slice", slice},
      {"Transpose", transpose},
      {"Reshape", reshape},
      {"Identity", identity},
      {"Cast", cast},
      {"ConstantOfShape", constant_of_shape},
      {"Range", range},
      {"Add", arithmetic},
      {"Sub", arithmetic},
      {"Mul", arithmetic},
      {"Div", arithmetic},
  };
  const auto rule = rules.find(node.op_type());
  if (rule == rules.end()) return Error("not an operator the folder evaluates");
  DISC_ASSIGN_OR_RETURN(Value value, rule->second(f, node));
  DISC_ASSIGN_OR_RETURN(const size_t count, count_of(value.dims));
  if (count != value.size()) return Error("internal: values do not match the dims");  // cannot happen
  return value;
}

// The tensor an initializer of `value` under `name` holds.
TensorProto as_tensor(const std::string& name, const Value& value) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(value.type);
  for (int64_t d : value.dims) t.add_dims(d);
  for (int64_t i : value.ints) t.add_int64_data(i);
  for (float f : value.floats) t.add_float_data(f);
  return t;
}

// By node index: whether a graph output depends on it, among the nodes `removed` leaves
// (nodes in topological order, so one backward sweep suffices).
std::vector<bool> live_nodes(const onnx::GraphProto& graph, const std::vector<bool>& removed) {
  std::unordered_set<std::string> needed;
  for (const auto& out : graph.output()) needed.insert(out.name());
  std::vector<bool> live(static_cast<size_t>(graph.node_size()), false);
  for (int i = graph.node_size() - 1; i >= 0; --i) {
    const onnx::NodeProto& node = graph.node(i);
    if (removed[static_cast<size_t>(i)]) continue;
    for (const auto& out : node.output())
      live[static_cast<size_t>(i)] = live[static_cast<size_t>(i)] || needed.count(out);
    if (!live[static_cast<size_t>(i)]) continue;
    for (const auto& in : node.input()) needed.insert(in);
  }
  return live;
}

}  // namespace

size_t fold_constant_subgraphs(onnx::ModelProto& model) {
  onnx::GraphProto& graph = *model.mutable_graph();
  std::unordered_set<std::string> outputs;
  for (const auto& out : graph.output()) outputs.insert(out.name());
  Folder folder(graph);
  const size_t count = static_cast<size_t>(graph.node_size());
  std::vector<bool> folded(count, false);
  for (size_t i = 0; i < count; ++i) {
    const onnx::NodeProto& node = graph.node(static_cast<int>(i));
    if (node.output_size() != 1 || outputs.count(node.output(0))) continue;
    auto value = evaluate(folder, node);
    if (!value.ok()) continue;  // left to compute, as before
    folder.set(node.output(0), std::move(*value));
    folded[i] = true;
  }
  if (std::none_of(folded.begin(), folded.end(), [](bool f) { return f; })) return 0;

  // Removed: the folded nodes, and those that fed only them (live before, dead after).
  const std::vector<bool> before = live_nodes(graph, std::vector<bool>(count, false));
  const std::vector<bool> after = live_nodes(graph, folded);
  std::vector<bool> removed(count);
  for (size_t i = 0; i < count; ++i) removed[i] = folded[i] || (before[i] && !after[i]);

  const ConstantMap constants = constants_by_name(graph);
  std::unordered_set<std::string> unread_candidates;  // constants that removed nodes read
  std::unordered_set<std::string> materialized;
  std::vector<TensorProto> initializers;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (size_t i = 0; i < count; ++i) {
    onnx::NodeProto& node = *graph.mutable_node(static_cast<int>(i));
    if (removed[i]) {
      for (const auto& in : node.input())
        if (constants.count(in)) unread_candidates.insert(in);
      continue;
    }
    for (const auto& in : node.input()) {
      const auto value = folder.folded().find(in);
      if (value != folder.folded().end() && materialized.insert(in).second)
        initializers.push_back(as_tensor(in, value->second));
    }
    *kept.Add() = std::move(node);
  }
  graph.mutable_node()->Swap(&kept);
  for (auto& t : initializers) add_initializer(model, std::move(t));
  drop_unread(graph, unread_candidates);
  return static_cast<size_t>(std::count(removed.begin(), removed.end(), true));
}

}  // namespace disc::model
