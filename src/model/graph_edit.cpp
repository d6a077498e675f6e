#include "model/graph_edit.hpp"

namespace disc::model {

std::string describe(const onnx::NodeProto& node) { return "node '" + node.name() + "' (" + node.op_type() + ")"; }

onnx::AttributeProto* set_attribute(onnx::NodeProto& node, const std::string& name,
                                    onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto* attribute = nullptr;
  for (auto& a : *node.mutable_attribute())
    if (a.name() == name) attribute = &a;
  if (!attribute) attribute = node.add_attribute();
  attribute->Clear();
  attribute->set_name(name);
  attribute->set_type(type);
  return attribute;
}

void remove_attribute(onnx::NodeProto& node, const std::string& name) {
  auto* attributes = node.mutable_attribute();
  for (int i = attributes->size() - 1; i >= 0; --i)
    if (attributes->Get(i).name() == name) attributes->DeleteSubrange(i, 1);
}

GraphNames::GraphNames(const onnx::GraphProto& graph) {
  for (const auto& v : graph.input()) names_.insert(v.name());
  for (const auto& v : graph.output()) names_.insert(v.name());
  for (const auto& t : graph.initializer()) names_.insert(t.name());
  for (const auto& node : graph.node()) {
    names_.insert(node.name());
    for (const auto& out : node.output()) names_.insert(out);
  }
}

std::string GraphNames::unused(const std::string& base) {
  std::string name = base;
  for (int i = 1; names_.count(name); ++i) name = base + "_" + std::to_string(i);
  names_.insert(name);
  return name;
}

void add_initializer(onnx::ModelProto& model, onnx::TensorProto tensor) {
  onnx::GraphProto& graph = *model.mutable_graph();
  if (model.ir_version() < 4) {
    onnx::ValueInfoProto* input = graph.add_input();
    input->set_name(tensor.name());
    auto* type = input->mutable_type()->mutable_tensor_type();
    type->set_elem_type(tensor.data_type());
    auto* shape = type->mutable_shape();
    for (int64_t d : tensor.dims()) shape->add_dim()->set_dim_value(d);
  }
  *graph.add_initializer() = std::move(tensor);
}

namespace {

// Keeps the elements for which `drop` is false, in order, in time linear in their number.
template <typename T, typename Predicate>
void erase_where(google::protobuf::RepeatedPtrField<T>* elements, const Predicate& drop) {
  google::protobuf::RepeatedPtrField<T> kept;
  for (auto& element : *elements)
    if (!drop(element)) *kept.Add() = std::move(element);
  elements->Swap(&kept);
}

}  // namespace

void drop_unread(onnx::GraphProto& graph, const std::unordered_set<std::string>& candidates) {
  std::unordered_set<std::string> read;
  for (const auto& node : graph.node())
    for (const auto& in : node.input()) read.insert(in);
  for (const auto& out : graph.output()) read.insert(out.name());
  const auto unread = [&](const std::string& name) { return candidates.count(name) && !read.count(name); };
  erase_where(graph.mutable_node(), [&](const onnx::NodeProto& node) {
    return node.op_type() == "Constant" && node.output_size() == 1 && unread(node.output(0));
  });
  erase_where(graph.mutable_initializer(), [&](const onnx::TensorProto& t) { return unread(t.name()); });
  // Older models list initializers as graph inputs too.
  erase_where(graph.mutable_input(), [&](const onnx::ValueInfoProto& v) { return unread(v.name()); });
}

}  // namespace disc::model
