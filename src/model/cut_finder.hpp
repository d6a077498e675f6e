// Internal: enumeration of the tensors at which a normalized graph can be split.
#pragma once

#include <vector>

#include "disc/model.hpp"
#include "model/graph_index.hpp"
#include "model/onnx_graph.hpp"

namespace disc::model {

// A tensor T is a valid cut iff it is a non-constant node output that is neither a graph
// input nor a graph output, and the nodes computing the graph outputs backwards from T
// read no non-initializer tensor besides T and their own outputs. The cuts come in
// topological order; a tensor that separates the graph but has no static fp32 shape (ONNX
// shape inference could not size it) cannot be split at and is listed apart, with its node.
struct Cuts {
  std::vector<CutPoint> cuts;
  std::vector<UnshapedCut> unshaped;
};
Cuts find_cuts(const GraphIndex& index, const ShapeMap& shapes);

}  // namespace disc::model
