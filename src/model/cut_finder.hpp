// Internal: enumeration of the tensors at which a normalized graph can be split.
#pragma once

#include <vector>

#include "disc/model.hpp"
#include "model/graph_index.hpp"
#include "model/onnx_graph.hpp"

namespace disc::model {

// A tensor T is a valid cut iff it is a non-constant node output that is neither a graph
// input nor a graph output, and the nodes computing the graph outputs backwards from T
// read no non-initializer tensor besides T and their own outputs. Returns the cuts in
// topological order, or an Error naming the node if a valid cut has no static fp32 shape.
Result<std::vector<CutPoint>> find_cuts(const GraphIndex& index, const ShapeMap& shapes);

}  // namespace disc::model
