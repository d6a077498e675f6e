// Builders of tiny ONNX models for the model tests, with the ONNX C++ API.
#pragma once

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "disc/model.hpp"

namespace disc::testing {

// An fp32 tensor type; a dim that starts with a digit is a value, any other a symbol.
inline onnx::ValueInfoProto value_info(const std::string& name, const std::vector<std::string>& dims) {
  onnx::ValueInfoProto v;
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (const std::string& d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
  return v;
}

inline onnx::NodeProto node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(op + "_" + out[0]);
  for (auto& i : in) n.add_input(i);
  for (auto& o : out) n.add_output(o);
  return n;
}

// A constant fp32 tensor named `name`.
inline onnx::TensorProto constant(const std::string& name, const std::vector<int64_t>& dims,
                                  const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  for (float v : values) t.add_float_data(v);
  return t;
}

// A constant 1-d int64 tensor named `name`.
inline onnx::TensorProto int64s(const std::string& name, const std::vector<int64_t>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t.add_int64_data(v);
  return t;
}

// A constant int64 scalar (no dims) named `name`, as exporters write a Gather's index.
inline onnx::TensorProto int64_scalar(const std::string& name, int64_t value) {
  onnx::TensorProto t = int64s(name, {value});
  t.clear_dims();
  return t;
}

// A Constant node writing `value` to `name`, as exporters write bounds and axes.
inline onnx::NodeProto constant_node(const std::string& name, const onnx::TensorProto& value) {
  onnx::NodeProto n = node("Constant", {}, {name});
  auto* a = n.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = value;
  return n;
}

inline onnx::AttributeProto* add_ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
  return a;
}

inline void set_int(onnx::NodeProto& n, const std::string& name, int64_t value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

inline void set_float(onnx::NodeProto& n, const std::string& name, float value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

inline onnx::NodeProto conv(const std::string& in, const std::string& weights, const std::string& out) {
  onnx::NodeProto n = node("Conv", {in, weights}, {out});
  add_ints(&n, "kernel_shape", {1, 1});
  return n;
}

// x[batch,2,4,4] -> Conv(Identity(W)) -> Relu -> Conv(W) -> Relu -> y; W is 2x2x1x1.
inline onnx::ModelProto tiny_model() {
  onnx::ModelProto m;
  m.set_ir_version(6);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  g->set_name("tiny");
  *g->add_input() = value_info("x", {"batch", "2", "4", "4"});
  *g->add_output() = value_info("y", {"batch", "2", "4", "4"});
  *g->add_initializer() = constant("W", {2, 2, 1, 1}, {1.0f, -0.5f, 0.25f, 2.0f});
  *g->add_node() = node("Identity", {"W"}, {"W_copy"});
  *g->add_node() = conv("x", "W_copy", "a");
  *g->add_node() = node("Relu", {"a"}, {"b"});
  *g->add_node() = conv("b", "W", "c");
  *g->add_node() = node("Relu", {"c"}, {"y"});
  return m;
}

// `out` = Reshape(`in`, Cast<int64>(Cast<int32>(Shape(`in`)))): the same tensor, which no step
// sizes: constant folding evaluates the Shape but not a cast to int32, and ONNX shape inference
// does not follow the casts. OpenCV runs it.
inline std::vector<onnx::NodeProto> unsized_reshape(const std::string& in, const std::string& out) {
  std::vector<onnx::NodeProto> nodes{node("Shape", {in}, {in + "_shape"}),
                                     node("Cast", {in + "_shape"}, {in + "_shape_int32"}),
                                     node("Cast", {in + "_shape_int32"}, {in + "_shape_int64"}),
                                     node("Reshape", {in, in + "_shape_int64"}, {out})};
  set_int(nodes[1], "to", onnx::TensorProto::INT32);
  set_int(nodes[2], "to", onnx::TensorProto::INT64);
  return nodes;
}

// How many nodes of operator `op` the graph holds.
inline size_t count_ops(const onnx::ModelProto& m, const std::string& op) {
  return static_cast<size_t>(std::count_if(m.graph().node().begin(), m.graph().node().end(),
                                           [&](const onnx::NodeProto& n) { return n.op_type() == op; }));
}

// x of `x_dims` -> `nodes` (reading `constants`) -> y of `y_dims`, at default-domain `opset`.
inline onnx::ModelProto model_of(int64_t opset, const std::vector<std::string>& x_dims,
                                 const std::vector<std::string>& y_dims, const std::vector<onnx::NodeProto>& nodes,
                                 const std::vector<onnx::TensorProto>& constants = {}) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("tiny");
  *g->add_input() = value_info("x", x_dims);
  *g->add_output() = value_info("y", y_dims);
  for (const auto& c : constants) *g->add_initializer() = c;
  for (const auto& n : nodes) *g->add_node() = n;
  return m;
}

inline Result<OnnxModel> load(const onnx::ModelProto& m) {
  std::string bytes = m.SerializeAsString();
  return OnnxModel::load_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace disc::testing
