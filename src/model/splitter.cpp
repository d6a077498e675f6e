#include "model/splitter.hpp"

#include <unordered_map>
#include <unordered_set>

namespace disc::model {
namespace {

onnx::ValueInfoProto fp32_value_info(const std::string& name, const Shape& shape) {
  onnx::ValueInfoProto info;
  info.set_name(name);
  auto* tensor = info.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tensor->mutable_shape()->add_dim()->set_dim_value(d);
  return info;
}

// A model holding the `selected` nodes of `source` with the given inputs and outputs.
Result<Bytes> build_half(const onnx::ModelProto& source, const std::vector<bool>& selected, const std::string& suffix,
                         const std::vector<onnx::ValueInfoProto>& inputs,
                         const std::vector<onnx::ValueInfoProto>& outputs) {
  const onnx::GraphProto& graph = source.graph();
  onnx::ModelProto half;
  half.set_ir_version(source.ir_version());
  *half.mutable_opset_import() = source.opset_import();
  half.set_producer_name(source.producer_name());
  half.set_producer_version(source.producer_version());
  onnx::GraphProto& out = *half.mutable_graph();
  out.set_name(graph.name() + suffix);

  std::unordered_set<std::string> read, written;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (!selected[i]) continue;
    const auto& node = graph.node(i);
    *out.add_node() = node;
    read.insert(node.input().begin(), node.input().end());
    written.insert(node.output().begin(), node.output().end());
  }
  std::unordered_set<std::string> boundary;
  for (const auto& v : inputs) boundary.insert(v.name());
  for (const auto& v : outputs) boundary.insert(v.name());
  for (const auto& v : inputs) *out.add_input() = v;
  for (const auto& init : graph.initializer())
    if (read.count(init.name())) {
      *out.add_initializer() = init;
      // Before IR version 4 every initializer must also be declared as a graph input.
      if (source.ir_version() < 4)
        for (const auto& in : graph.input())
          if (in.name() == init.name()) *out.add_input() = in;
    }
  for (const auto& v : outputs) *out.add_output() = v;
  for (const auto& v : graph.value_info())
    if (written.count(v.name()) && !boundary.count(v.name())) *out.add_value_info() = v;

  Bytes bytes(half.ByteSizeLong());
  if (!half.SerializeToArray(bytes.data(), static_cast<int>(bytes.size())))
    return Error("cannot serialize the" + suffix.substr(1) + " model");
  return bytes;
}

}  // namespace

Result<SplitModel> split_graph(const onnx::ModelProto& model, const GraphIndex& index, const CutPoint& cut) {
  const onnx::GraphProto& graph = model.graph();
  std::vector<std::string> outputs;
  for (const auto& out : graph.output()) outputs.push_back(out.name());
  const GraphIndex::Closure head = index.backward({cut.tensor}, "");
  const GraphIndex::Closure tail = index.backward(outputs, cut.tensor);
  if (!tail.uses_stop || !tail.external.empty())
    return Error("tensor '" + cut.tensor + "' is not a valid cut");
  for (int i = 0; i < graph.node_size(); ++i)
    if (head.nodes[i] && tail.nodes[i] && !index.is_constant_node(i))
      return Error("node '" + graph.node(i).name() + "' would run in both halves");

  std::vector<onnx::ValueInfoProto> head_inputs;
  for (const auto& in : graph.input())
    if (!index.is_initializer(in.name())) head_inputs.push_back(in);
  const onnx::ValueInfoProto cut_info = fp32_value_info(cut.tensor, cut.shape);
  std::vector<onnx::ValueInfoProto> tail_outputs(graph.output().begin(), graph.output().end());

  SplitModel split;
  split.cut = cut;
  DISC_ASSIGN_OR_RETURN(split.head, build_half(model, head.nodes, "_head", head_inputs, {cut_info}));
  DISC_ASSIGN_OR_RETURN(split.tail, build_half(model, tail.nodes, "_tail", {cut_info}, tail_outputs));
  return split;
}

}  // namespace disc::model
