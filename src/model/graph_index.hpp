// Internal: name lookups over a normalized ONNX graph, and backward closures (the nodes a
// set of tensors depends on). Shared by cut enumeration and splitting.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace disc::model {

class GraphIndex {
 public:
  // `graph` must outlive the index; nodes must be in topological order.
  explicit GraphIndex(const onnx::GraphProto& graph);

  const onnx::GraphProto& graph() const { return graph_; }
  // Index of the node producing `tensor`, or -1 (graph input, initializer or unknown).
  int producer(const std::string& tensor) const;
  bool is_initializer(const std::string& tensor) const { return initializers_.count(tensor) > 0; }
  // An initializer, or an output of a node computed from initializers only.
  bool is_constant(const std::string& tensor) const { return constants_.count(tensor) > 0; }
  bool is_constant_node(int node) const { return constant_nodes_[node]; }

  struct Closure {
    std::vector<bool> nodes;                   // by node index: needed to compute the targets
    bool uses_stop = false;                    // the stop tensor is read
    std::vector<std::string> external;         // non-initializer tensors read but not produced
  };
  // Nodes computing `targets`, walking backwards and treating `stop` (if not empty) as given.
  Closure backward(const std::vector<std::string>& targets, const std::string& stop) const;

 private:
  const onnx::GraphProto& graph_;
  std::unordered_map<std::string, int> producers_;
  std::unordered_set<std::string> initializers_;
  std::unordered_set<std::string> constants_;
  std::vector<bool> constant_nodes_;
};

}  // namespace disc::model
