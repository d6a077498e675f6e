// Internal: building the head and tail models of a split.
#pragma once

#include "disc/model.hpp"
#include "model/graph_index.hpp"

namespace disc::model {

// Head = the nodes computing `cut` from the graph input; tail = the nodes computing the
// graph outputs from `cut`. Both are complete models with the original ir_version and
// opset imports; constant-producing nodes and initializers go into each half that reads
// them, nothing else is duplicated. `cut` must come from find_cuts() on the same graph.
Result<SplitModel> split_graph(const onnx::ModelProto& model, const GraphIndex& index, const CutPoint& cut);

}  // namespace disc::model
