// Internal: the small edits of an ONNX graph that normalization and opset lowering share.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <unordered_set>

namespace disc::model {

// "node 'NAME' (OP)", as errors name a node.
std::string describe(const onnx::NodeProto& node);

// The node's attribute `name`, emptied and given `type`; added if the node had none.
onnx::AttributeProto* set_attribute(onnx::NodeProto& node, const std::string& name,
                                    onnx::AttributeProto::AttributeType type);
void remove_attribute(onnx::NodeProto& node, const std::string& name);

// The names a graph uses for tensors and nodes, so that new ones collide with none.
class GraphNames {
 public:
  explicit GraphNames(const onnx::GraphProto& graph);
  // `base`, or the first of base_1, base_2, ... not in use; from then on in use.
  std::string unused(const std::string& base);

 private:
  std::unordered_set<std::string> names_;
};

// Adds `tensor` as an initializer of the model's graph. Below IR version 4 it is declared as
// a graph input too, without which ONNX shape inference leaves its readers unsized.
void add_initializer(onnx::ModelProto& model, onnx::TensorProto tensor);

// Removes the Constant nodes, initializers and graph inputs named in `candidates` that no
// node reads and that are no graph output.
void drop_unread(onnx::GraphProto& graph, const std::unordered_set<std::string>& candidates);

}  // namespace disc::model
