#include "model/cut_finder.hpp"

#include <unordered_set>

namespace disc::model {

Result<std::vector<CutPoint>> find_cuts(const GraphIndex& index, const ShapeMap& shapes) {
  const onnx::GraphProto& graph = index.graph();
  std::vector<std::string> outputs;
  std::unordered_set<std::string> boundary;
  for (const auto& out : graph.output()) {
    outputs.push_back(out.name());
    boundary.insert(out.name());
  }
  for (const auto& in : graph.input()) boundary.insert(in.name());

  std::vector<CutPoint> cuts;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (index.is_constant_node(i)) continue;
    const onnx::NodeProto& node = graph.node(i);
    for (const std::string& tensor : node.output()) {
      if (tensor.empty() || boundary.count(tensor)) continue;
      const GraphIndex::Closure tail = index.backward(outputs, tensor);
      if (!tail.uses_stop || !tail.external.empty()) continue;
      auto shape = shapes.find(tensor);
      if (shape == shapes.end())
        return Error("node '" + node.name() + "' (" + node.op_type() + "): output '" + tensor +
                     "' would be a cut but has no static fp32 shape");
      DISC_ASSIGN_OR_RETURN(size_t elements, element_count(shape->second));
      cuts.push_back({tensor, node.name(), node.op_type(), static_cast<size_t>(i), shape->second, elements});
    }
  }
  return cuts;
}

}  // namespace disc::model
