#include "model/cut_finder.hpp"

#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace disc::model {

// One sweep over the nodes in topological order, O(nodes + edges). A tensor is *live* if it
// depends on the graph input (it is not constant) and the outputs need it. After node i, the
// tensors *crossing* are the live ones made at or before i (the graph input counts as made
// before node 0) that a needed node after i reads, or that are graph outputs. A path from the
// input to an output leaves the nodes up to i through a crossing tensor, so a tensor T of
// node i separates the input from the outputs iff T alone crosses after node i: any other
// crossing tensor X either bypasses T or, made before T, is read after it, which no path
// through T can do. This is the definition in cut_finder.hpp; the tests check it against a
// forward-reachability computation of the separators.
Cuts find_cuts(const GraphIndex& index, const ShapeMap& shapes) {
  const onnx::GraphProto& graph = index.graph();
  std::vector<std::string> outputs;
  std::unordered_set<std::string> boundary;  // graph inputs and outputs: never cuts
  for (const auto& out : graph.output()) {
    outputs.push_back(out.name());
    boundary.insert(out.name());
  }
  for (const auto& in : graph.input()) boundary.insert(in.name());

  const std::vector<bool> needed = index.backward(outputs, "").nodes;
  // The last needed, non-constant node reading each tensor; graph outputs are read "at the end".
  constexpr int kAtTheEnd = std::numeric_limits<int>::max();
  std::unordered_map<std::string, int> last_read;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (!needed[i] || index.is_constant_node(i)) continue;
    for (const std::string& in : graph.node(i).input())
      if (!in.empty() && !index.is_constant(in)) last_read[in] = i;
  }
  for (const std::string& out : outputs) last_read[out] = kAtTheEnd;

  std::unordered_set<std::string> crossing;
  for (const auto& in : graph.input())
    if (!index.is_initializer(in.name()) && last_read.count(in.name())) crossing.insert(in.name());
  Cuts found;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (!needed[i] || index.is_constant_node(i)) continue;
    const onnx::NodeProto& node = graph.node(i);
    for (const std::string& in : node.input()) {
      auto last = last_read.find(in);
      if (last != last_read.end() && last->second == i) crossing.erase(in);
    }
    for (const std::string& out : node.output())
      if (!out.empty() && last_read.count(out)) crossing.insert(out);
    if (crossing.size() != 1) continue;
    const std::string& tensor = *crossing.begin();
    if (boundary.count(tensor) || index.producer(tensor) != i) continue;
    const auto shape = shapes.find(tensor);
    if (shape == shapes.end()) {
      found.unshaped.push_back({tensor, node.name(), node.op_type()});
      continue;
    }
    // Within size_t: normalization refuses tensors over kDefaultMaxElements values.
    const size_t elements = element_count(shape->second).value();
    found.cuts.push_back({tensor, node.name(), node.op_type(), static_cast<size_t>(i), shape->second, elements});
  }
  return found;
}

}  // namespace disc::model
