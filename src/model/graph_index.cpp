#include "model/graph_index.hpp"

#include <algorithm>

namespace disc::model {

GraphIndex::GraphIndex(const onnx::GraphProto& graph) : graph_(graph), constant_nodes_(graph.node_size(), false) {
  for (const auto& init : graph.initializer()) {
    initializers_.insert(init.name());
    constants_.insert(init.name());
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    for (const std::string& out : node.output())
      if (!out.empty()) producers_[out] = i;
    // Topological order means every input's constness is already known here.
    const bool constant = std::all_of(node.input().begin(), node.input().end(),
                                      [&](const std::string& in) { return in.empty() || constants_.count(in); });
    if (constant) {
      constant_nodes_[i] = true;
      for (const std::string& out : node.output())
        if (!out.empty()) constants_.insert(out);
    }
  }
}

int GraphIndex::producer(const std::string& tensor) const {
  auto it = producers_.find(tensor);
  return it == producers_.end() ? -1 : it->second;
}

GraphIndex::Closure GraphIndex::backward(const std::vector<std::string>& targets, const std::string& stop) const {
  Closure closure;
  closure.nodes.assign(graph_.node_size(), false);
  std::unordered_set<std::string> seen;
  std::vector<std::string> pending(targets.begin(), targets.end());
  while (!pending.empty()) {
    std::string tensor = std::move(pending.back());
    pending.pop_back();
    if (tensor.empty() || !seen.insert(tensor).second) continue;
    if (!stop.empty() && tensor == stop) {
      closure.uses_stop = true;
      continue;
    }
    const int node = producer(tensor);
    if (node < 0) {
      if (!is_initializer(tensor)) closure.external.push_back(tensor);
      continue;
    }
    if (closure.nodes[node]) continue;
    closure.nodes[node] = true;
    for (const std::string& in : graph_.node(node).input()) pending.push_back(in);
  }
  return closure;
}

}  // namespace disc::model
