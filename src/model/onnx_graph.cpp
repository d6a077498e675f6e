#include "model/onnx_graph.hpp"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/stat.h>

#include <bit>
#include <climits>
#include <cstring>
#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error_codes.hpp"
#include "model/constant_folding.hpp"
#include "model/graph_edit.hpp"
#include "model/opset_lowering.hpp"

namespace disc::model {
namespace {

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

// The model's default-domain opset, which must be one the ONNX library knows.
Result<int64_t> default_opset(const onnx::ModelProto& model) {
  int64_t version = 0;
  for (const auto& opset : model.opset_import()) {
    if (!is_default_domain(opset.domain()))
      return Error("operator domain '" + opset.domain() + "' is not supported (only the default ONNX domain)");
    if (version != 0) return Error("model imports the default-domain opset twice");
    version = opset.version();
  }
  if (version == 0) return Error("model imports no default-domain opset");
  if (version > kNewestKnownOpset)
    return Error("opset " + std::to_string(version) + " is newer than " + std::to_string(kNewestKnownOpset) +
                 ", the newest the ONNX library knows (re-export the model with opset 10 to 17)");
  if (version < 1) return Error("opset " + std::to_string(version) + " does not exist");
  return version;
}

// The window attributes of convolutions and pools: ONNX's shape inference and OpenCV divide by
// strides, dilations and group without checking them (a 0 stops the process with SIGFPE).
// Other ops keep their own meaning for these names (Pad's negative pads crop).
Status check_window_attributes(const onnx::NodeProto& node) {
  static const std::unordered_set<std::string> kWindowOps{"Conv",    "ConvTranspose", "ConvInteger", "QLinearConv",
                                                          "MaxPool", "AveragePool",   "LpPool",      "MaxUnpool"};
  if (!kWindowOps.count(node.op_type())) return Status();
  for (const auto& attr : node.attribute()) {
    const std::string& name = attr.name();
    const bool positive = name == "strides" || name == "dilations" || name == "kernel_shape";
    if (positive || name == "pads") {
      for (int64_t v : attr.ints())
        if (v < (positive ? 1 : 0))
          return Error(describe(node) + ": attribute '" + name + "' has the value " + std::to_string(v) +
                       (positive ? " (must be at least 1)" : " (must not be negative)"));
    } else if (name == "group" && attr.i() < 1) {
      return Error(describe(node) + ": attribute 'group' is " + std::to_string(attr.i()) + " (must be at least 1)");
    }
  }
  return Status();
}

// A tensor's values must be as many as its dims say: OpenCV copies dims-many values out of
// the data (a fuzzed weight whose dims grew past its raw_data made it read past the buffer).
Status check_tensor_data(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return Error(what + " uses external data, which is not supported");
  constexpr size_t kMaxValues = size_t{1} << 40;  // far above the 2 GiB a model may hold
  size_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) return Error(what + " has a dim of " + std::to_string(d));
    if (d > 0 && count > kMaxValues / static_cast<size_t>(d)) return Error(what + " has more than 2^40 values");
    count *= static_cast<size_t>(d);
  }
  using T = onnx::TensorProto;
  size_t element_bytes = 0, field_values = 0;
  switch (t.data_type()) {
    case T::FLOAT: element_bytes = 4, field_values = t.float_data_size(); break;
    case T::COMPLEX64: element_bytes = 8, field_values = t.float_data_size() / 2; break;
    case T::DOUBLE: element_bytes = 8, field_values = t.double_data_size(); break;
    case T::COMPLEX128: element_bytes = 16, field_values = t.double_data_size() / 2; break;
    case T::INT64: element_bytes = 8, field_values = t.int64_data_size(); break;
    case T::UINT32: element_bytes = 4, field_values = t.uint64_data_size(); break;
    case T::UINT64: element_bytes = 8, field_values = t.uint64_data_size(); break;
    case T::INT32: element_bytes = 4, field_values = t.int32_data_size(); break;
    case T::INT16: case T::UINT16: case T::FLOAT16: case T::BFLOAT16:
      element_bytes = 2, field_values = t.int32_data_size(); break;
    case T::INT8: case T::UINT8: case T::BOOL: element_bytes = 1, field_values = t.int32_data_size(); break;
    case T::STRING: return Status();  // no fixed size; nothing here reads strings
    default: return Error(what + " has the unknown data type " + std::to_string(t.data_type()));
  }
  const size_t held = t.has_raw_data() ? t.raw_data().size() / element_bytes : field_values;
  if ((t.has_raw_data() && t.raw_data().size() % element_bytes != 0) || held != count)
    return Error(what + " holds " + std::to_string(held) + " values where its dims say " + std::to_string(count));
  return Status();
}

// Every node of an operator ONNX knows must fit its schema at the model's opset (input and
// output counts, attribute names and types): ONNX's shape inference divides by output counts
// unchecked (a Split without outputs stopped the process with SIGFPE), and a mistyped
// attribute reads as its default there but as 0 where DISC reads it. An operator ONNX does
// not know is left to OpenCV.
Status check_nodes(const onnx::GraphProto& graph, int64_t opset) {
  for (const auto& node : graph.node()) {
    if (!is_default_domain(node.domain()))
      return Error(describe(node) + ": operator domain '" + node.domain() + "' is not supported");
    DISC_RETURN_IF_ERROR(check_window_attributes(node));
    for (const auto& attr : node.attribute())
      if (attr.has_g() || attr.graphs_size() > 0 || attr.type() == onnx::AttributeProto::GRAPH ||
          attr.type() == onnx::AttributeProto::GRAPHS)
        return Error(describe(node) + ": control-flow subgraphs are not supported");
    if (node.op_type() == "If" || node.op_type() == "Loop" || node.op_type() == "Scan")
      return Error(describe(node) + ": control-flow subgraphs are not supported");
    for (const auto& attr : node.attribute())
      if (attr.has_t())
        DISC_RETURN_IF_ERROR(check_tensor_data(attr.t(), describe(node) + ": attribute '" + attr.name() + "'"));
    if (const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset), ""))
      try {
        schema->Verify(node);
      } catch (const std::exception& e) {
        return Error(describe(node) + ": " + e.what());
      }
  }
  for (const auto& init : graph.initializer())
    DISC_RETURN_IF_ERROR(check_tensor_data(init, "initializer '" + init.name() + "'"));
  return Status();
}

// Constant-12 and later may give a scalar or a list as value_float(s) or value_int(s): written
// as the `value` tensor that every version reads, so that every later step sees one form.
void constant_values_as_tensors(onnx::GraphProto& graph) {
  for (auto& node : *graph.mutable_node()) {
    if (node.op_type() != "Constant" || node.attribute_size() != 1) continue;
    const onnx::AttributeProto given = node.attribute(0);
    const std::string& name = given.name();
    onnx::TensorProto tensor;
    if (name == "value_float" || name == "value_floats") {
      tensor.set_data_type(onnx::TensorProto::FLOAT);
      if (name == "value_float") tensor.add_float_data(given.f());
      else tensor.add_dims(given.floats_size());
      for (float v : given.floats()) tensor.add_float_data(v);
    } else if (name == "value_int" || name == "value_ints") {
      tensor.set_data_type(onnx::TensorProto::INT64);
      if (name == "value_int") tensor.add_int64_data(given.i());
      else tensor.add_dims(given.ints_size());
      for (int64_t v : given.ints()) tensor.add_int64_data(v);
    } else {
      continue;
    }
    auto* value = node.mutable_attribute(0);
    value->Clear();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    *value->mutable_t() = std::move(tensor);
  }
}

// Every node gets a name of its own: an unnamed one "<op>_<index>", a repeated one (which
// OpenCV refuses as a layer already in the net) "<name>_<n>".
void name_nodes(onnx::GraphProto& graph) {
  GraphNames names(graph);
  std::unordered_set<std::string> kept;  // node names given out so far
  for (int i = 0; i < graph.node_size(); ++i) {
    auto* node = graph.mutable_node(i);
    if (!node->name().empty() && kept.insert(node->name()).second) continue;
    node->set_name(names.unused(node->name().empty() ? node->op_type() + "_" + std::to_string(i) : node->name()));
    kept.insert(node->name());
  }
}

// The single graph input that is not an initializer.
Result<onnx::ValueInfoProto*> real_input(onnx::GraphProto& graph) {
  std::unordered_set<std::string> initializers;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  onnx::ValueInfoProto* found = nullptr;
  for (auto& input : *graph.mutable_input()) {
    if (initializers.count(input.name())) continue;
    if (found) return Error("model has more than one input ('" + found->name() + "', '" + input.name() + "')");
    found = &input;
  }
  if (!found) return Error("model has no input");
  return found;
}

// A tail runs to one output, which the edge's answer is read from: a model of several
// (logits and probabilities, features and logits) is refused at once, naming them, rather
// than listing cuts that no split could serve.
Status check_one_output(const onnx::GraphProto& graph) {
  if (graph.output_size() == 1) return Status();
  std::string names;
  for (const auto& output : graph.output()) names += (names.empty() ? "'" : ", '") + output.name() + "'";
  return Error("model has " + std::to_string(graph.output_size()) + " outputs (" + names +
               "); DISC splits models of one output (export the one the edge should answer with)");
}

// Batch (axis 0) may be symbolic or unknown and becomes 1; every other dim must be known, or
// is taken from `requested` (when not empty), whose other dims must be the known ones.
Status fix_input_shape(onnx::ValueInfoProto& input, const Shape& requested) {
  if (!input.type().has_tensor_type() || !input.type().tensor_type().has_shape())
    return Error("input '" + input.name() + "' has no tensor shape");
  auto* shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
  if (shape->dim_size() == 0) return Error("input '" + input.name() + "' is a scalar");
  // The declared dims, a dynamic one by its name ("?" without one): "1x3xheightxwidth".
  const auto declared = [&] {
    std::string text;
    for (const auto& dim : shape->dim()) {
      if (!text.empty()) text += "x";
      if (dim.has_dim_value() && dim.dim_value() > 0) text += std::to_string(dim.dim_value());
      else text += dim.dim_param().empty() ? "?" : dim.dim_param();
    }
    return text;
  };
  if (!requested.empty() && requested.size() != static_cast<size_t>(shape->dim_size()))
    return Error("input '" + input.name() + "' is " + declared() + ", not of the " + std::to_string(requested.size()) +
                 " dims of " + shape_to_string(requested));
  for (int i = 0; i < shape->dim_size(); ++i) {
    auto* dim = shape->mutable_dim(i);
    const bool known = dim->has_dim_value() && dim->dim_value() > 0;
    if (i == 0) {
      if (!known) dim->set_dim_value(1);
    } else if (!requested.empty()) {
      if (known && dim->dim_value() != requested[static_cast<size_t>(i)])
        return Error("input '" + input.name() + "' is " + declared() + ", not " + shape_to_string(requested) +
                     " (a requested size only fills dynamic dims)");
      dim->set_dim_value(requested[static_cast<size_t>(i)]);
    } else if (!known) {
      return Error("input '" + input.name() + "' has dynamic dimension '" +
                   (dim->dim_param().empty() ? "?" : dim->dim_param()) + "' at axis " + std::to_string(i) +
                   ": give the input size (--size HxW)");
    }
  }
  return Status();
}

// Symbolic dims of the declared outputs are forgotten so that inference can fill them in.
void forget_symbolic_output_dims(onnx::GraphProto& graph) {
  for (auto& output : *graph.mutable_output()) {
    if (!output.type().has_tensor_type() || !output.type().tensor_type().has_shape()) continue;
    for (auto& dim : *output.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
      if (!dim.has_dim_value()) dim.clear_dim_param();
  }
}

void fold_identity_initializers(onnx::GraphProto& graph) {
  std::unordered_set<std::string> initializers, outputs;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  for (const auto& out : graph.output()) outputs.insert(out.name());
  std::unordered_map<std::string, std::string> renamed;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (auto& node : *graph.mutable_node()) {
    for (auto& in : *node.mutable_input()) {
      auto it = renamed.find(in);
      if (it != renamed.end()) in = it->second;
    }
    if (node.op_type() == "Identity" && node.input_size() == 1 && node.output_size() == 1 &&
        initializers.count(node.input(0)) && !outputs.count(node.output(0))) {
      renamed[node.output(0)] = node.input(0);
      continue;
    }
    *kept.Add() = std::move(node);
  }
  graph.mutable_node()->Swap(&kept);
}

// ONNX's convolution shape inference takes a missing kernel_shape from the weights' dims and
// then indexes strides, dilations and the data's dims by it without checking that the data
// has as many spatial dims (a rank-2 input to such a Conv read past the end: SIGSEGV). With
// the attribute present it checks the sizes. So every convolution gets its kernel_shape from
// its constant weights (dims 2..), and one without either is refused.
Status complete_kernel_shapes(onnx::GraphProto& graph) {
  static const std::unordered_map<std::string, int> kWeightInput{{"Conv", 1}, {"ConvInteger", 1}, {"QLinearConv", 3}};
  const ConstantMap constants = constants_by_name(graph);
  for (auto& node : *graph.mutable_node()) {
    const auto weights = kWeightInput.find(node.op_type());
    if (weights == kWeightInput.end()) continue;
    bool has_kernel_shape = false;
    for (const auto& attr : node.attribute()) has_kernel_shape = has_kernel_shape || attr.name() == "kernel_shape";
    if (has_kernel_shape) continue;
    const auto w_found = node.input_size() > weights->second ? constants.find(node.input(weights->second))
                                                              : constants.end();
    const onnx::TensorProto* w = w_found == constants.end() ? nullptr : w_found->second;
    if (!w || w->dims_size() < 3)
      return Error(describe(node) + ": has no kernel_shape attribute and no constant weights of 3 or more dims to "
                   "take it from");
    auto* attr = node.add_attribute();
    attr->set_name("kernel_shape");
    attr->set_type(onnx::AttributeProto::INTS);
    for (int i = 2; i < w->dims_size(); ++i) {
      if (w->dims(i) < 1)
        return Error(describe(node) + ": weight dim " + std::to_string(i) + " is " + std::to_string(w->dims(i)));
      attr->add_ints(w->dims(i));
    }
  }
  return Status();
}

// OpenCV DNN 4.6 reads a Gemm as a fully connected layer: it ignores transA, alpha and beta;
// it takes a missing transB for 1 where ONNX means 0, and with transB = 0 it transposes B but
// sizes the layer by B's first dim. So it computed x·Bᵀ for a square B without transB, and
// refused other B. Every constant B is therefore written as Bᵀ with transB = 1 (the form
// exporters write), alpha and beta are folded into B and C, and transA = 1 is refused. A
// rewritten operand is a new initializer, shared by the Gemms that read the same rewrite; the
// old one goes once nothing reads it.
Status spell_out_gemms(onnx::ModelProto& model) {
  onnx::GraphProto& graph = *model.mutable_graph();
  const ConstantMap constants = constants_by_name(graph);
  GraphNames names(graph);
  std::vector<onnx::TensorProto> rewritten;
  std::unordered_map<std::string, std::string> copies;  // "operand/transposed/factor/width" -> copy
  std::unordered_set<std::string> replaced;              // operands now read through a copy
  // Makes input `index` (B or C) of `node` read a copy of its constant, transposed (if 2-d) and
  // times `factor`; a single value is repeated `width` times if `width` > 0.
  const auto rewrite = [&](onnx::NodeProto& node, int index, bool transpose, float factor, int64_t width) -> Status {
    const std::string operand = node.input(index);
    const std::string key =  // the factor's exact bits: two alphas may differ past any decimals printed
        operand + "/" + std::to_string(transpose) + "/" + std::to_string(std::bit_cast<uint32_t>(factor)) + "/" +
        std::to_string(width);
    if (auto copy = copies.find(key); copy != copies.end()) {
      node.set_input(index, copy->second);
      return Status();
    }
    const auto found = constants.find(operand);
    auto values = tensor_floats(found == constants.end() ? nullptr : found->second, operand);
    if (!values.ok())
      return Error(describe(node) + ": OpenCV 4.6 needs its " + (index == 1 ? "B" : "C") +
                   " constant for this Gemm, and " + values.error().message());
    onnx::TensorProto copy = *found->second;
    copy.clear_raw_data();
    copy.clear_float_data();
    if (transpose && copy.dims_size() == 2) {
      const int64_t rows = copy.dims(0), columns = copy.dims(1);
      copy.set_dims(0, columns);
      copy.set_dims(1, rows);
      for (int64_t c = 0; c < columns; ++c)
        for (int64_t r = 0; r < rows; ++r) copy.add_float_data((*values)[static_cast<size_t>(r * columns + c)] * factor);
    } else if (width > 0 && values->size() == 1) {
      copy.clear_dims();
      copy.add_dims(width);
      for (int64_t i = 0; i < width; ++i) copy.add_float_data((*values)[0] * factor);
    } else {  // shape inference refuses a B that is not 2-d
      for (float v : *values) copy.add_float_data(v * factor);
    }
    copy.set_name(names.unused(operand + (transpose ? "_transposed" : "_scaled")));
    copies[key] = copy.name();
    replaced.insert(operand);
    node.set_input(index, copy.name());
    rewritten.push_back(std::move(copy));
    return Status();
  };
  for (auto& node : *graph.mutable_node()) {
    if (node.op_type() != "Gemm" || node.input_size() < 2) continue;
    if (const auto* a = find_attribute(node, "transA"); a && a->i() != 0)
      return Error(describe(node) + ": OpenCV 4.6 ignores transA=1 (transpose A before the Gemm instead)");
    const auto* trans_b = find_attribute(node, "transB");
    const bool transpose = !trans_b || trans_b->i() == 0;
    const float alpha = float_attribute(node, "alpha", 1.0f), beta = float_attribute(node, "beta", 1.0f);
    // The output width N, from a constant 2-d B (its rows once transposed for transB = 1).
    const auto b = constants.find(node.input(1));
    const int64_t width = b != constants.end() && b->second->dims_size() == 2 ? b->second->dims(transpose ? 1 : 0) : 0;
    if (transpose || alpha != 1.0f) DISC_RETURN_IF_ERROR(rewrite(node, 1, transpose, alpha, 0));
    // OpenCV wants N values of C, where ONNX broadcasts a single one.
    const auto c = node.input_size() > 2 ? constants.find(node.input(2)) : constants.end();
    const bool single_c = c != constants.end() && c->second->dims_size() <= 1 && width > 1 &&
                          (c->second->dims_size() == 0 || c->second->dims(0) == 1);
    if (node.input_size() > 2 && !node.input(2).empty() && (beta != 1.0f || single_c))
      DISC_RETURN_IF_ERROR(rewrite(node, 2, false, beta, single_c ? width : 0));
    remove_attribute(node, "alpha");
    remove_attribute(node, "beta");
    set_attribute(node, "transB", onnx::AttributeProto::INT)->set_i(1);
  }
  for (auto& t : rewritten) add_initializer(model, std::move(t));
  drop_unread(graph, replaced);
  return Status();
}

// OpenCV DNN 4.6 divides by the dims of convolution and fully connected weights when it
// creates the layer (a Gemm weight of dims {3, 0} stopped the process with SIGFPE). Such
// weights hold no values anyway, so a constant input of these ops with a dim below 1 is refused.
Status check_weight_dims(const onnx::GraphProto& graph) {
  static const std::unordered_set<std::string> kWeighted{"Conv", "ConvTranspose", "Gemm", "MatMul"};
  const ConstantMap constants = constants_by_name(graph);
  for (const auto& node : graph.node()) {
    if (!kWeighted.count(node.op_type())) continue;
    for (int i = 1; i < node.input_size(); ++i) {
      const auto found = constants.find(node.input(i));
      if (found == constants.end()) continue;
      const onnx::TensorProto* t = found->second;
      for (int64_t d : t->dims())
        if (d < 1)
          return Error(describe(node) + ": its constant input '" + node.input(i) + "' has a dim of " +
                       std::to_string(d));
    }
  }
  return Status();
}

// Topological sort in O((nodes + edges) log nodes) (Kahn's algorithm; of the nodes that are ready the
// earliest goes first, so a sorted graph keeps its order). Fails on a tensor written twice
// (or a node writing a graph input or initializer), a missing input or a cycle.
Status sort_nodes(onnx::GraphProto& graph) {
  std::unordered_set<std::string> given;  // graph inputs and initializers
  for (const auto& init : graph.initializer()) given.insert(init.name());
  for (const auto& in : graph.input()) given.insert(in.name());
  const int count = graph.node_size();
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < count; ++i)
    for (const auto& out : graph.node(i).output()) {
      if (out.empty()) continue;
      if (given.count(out))
        return Error(describe(graph.node(i)) + ": writes '" + out + "', which is a graph input or an initializer");
      const auto [first, inserted] = producer.emplace(out, i);
      if (!inserted)
        return Error(describe(graph.node(i)) + ": writes '" + out + "', which " + describe(graph.node(first->second)) +
                     " writes too");
    }
  std::vector<int> unmet(count, 0);  // inputs not yet produced, counted with repeats
  std::vector<std::vector<int>> consumers(count);
  for (int i = 0; i < count; ++i)
    for (const auto& in : graph.node(i).input()) {
      if (in.empty() || given.count(in)) continue;
      const auto p = producer.find(in);
      if (p == producer.end())
        return Error(describe(graph.node(i)) + ": input '" + in +
                     "' is neither produced by a node, nor an initializer, nor a graph input");
      ++unmet[i];
      consumers[p->second].push_back(i);
    }
  for (const auto& out : graph.output())
    if (!given.count(out.name()) && !producer.count(out.name()))
      return Error("graph output '" + out.name() + "' is never produced");

  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (int i = 0; i < count; ++i)
    if (unmet[i] == 0) ready.push(i);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> sorted;
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    *sorted.Add() = graph.node(i);
    for (int c : consumers[i])
      if (--unmet[c] == 0) ready.push(c);
  }
  for (int i = 0; i < count; ++i)
    if (unmet[i] > 0) return Error(describe(graph.node(i)) + ": is part of a cycle");
  graph.mutable_node()->Swap(&sorted);
  return Status();
}

// Softmax, LogSoftmax and Hardmax before opset 13 work on the input flattened at `axis` (one
// softmax over all dims from it on); OpenCV 4.6 computes along that dim alone. The two agree
// when every later dim is 1; otherwise OpenCV would answer wrongly without a word.
Status check_softmax_axes(const onnx::GraphProto& graph) {
  std::unordered_map<std::string, const onnx::TypeProto*> types;
  for (const auto& v : graph.input()) types[v.name()] = &v.type();
  for (const auto& v : graph.value_info()) types[v.name()] = &v.type();
  for (const auto& node : graph.node()) {
    const std::string& op = node.op_type();
    if ((op != "Softmax" && op != "LogSoftmax" && op != "Hardmax") || node.input_size() < 1) continue;
    const auto type = types.find(node.input(0));
    if (type == types.end() || !type->second->tensor_type().has_shape()) continue;
    const auto& dims = type->second->tensor_type().shape().dim();
    int64_t axis = int_attribute(node, "axis", 1);
    if (axis < 0) axis += dims.size();
    for (int i = static_cast<int>(axis) + 1; i < dims.size(); ++i)
      if (!dims[i].has_dim_value() || dims[i].dim_value() != 1)
        return Error(describe(node) + ": one " + op + " over dims " + std::to_string(axis) + ".." +
                     std::to_string(dims.size() - 1) + " at once (its meaning before opset 13), which OpenCV 4.6 "
                     "computes along dim " + std::to_string(axis) + " alone");
  }
  return Status();
}

// Whether an AveragePool's windows reach into padding: explicit pads, or auto_pad SAME_*.
bool pools_padding(const onnx::NodeProto& node) {
  if (const onnx::AttributeProto* pads = find_attribute(node, "pads"))
    for (int64_t p : pads->ints())
      if (p != 0) return true;
  const onnx::AttributeProto* auto_pad = find_attribute(node, "auto_pad");
  return auto_pad && auto_pad->s() != "NOTSET" && auto_pad->s() != "VALID";
}

// OpenCV 4.6 ignores AveragePool's count_include_pad: it counts the padding in a window's
// divisor iff the model's producer_name is "pytorch", a name that also switches its linear
// Resize to PyTorch's. So the producer is set to give the padded pools their own rule, and a
// model is refused where no producer can: its padded pools disagree, or the name would change
// how a linear Resize or Upsample computes.
Status match_average_pool_padding(onnx::ModelProto& model) {
  constexpr const char* kPyTorch = "pytorch";
  const onnx::NodeProto* counting = nullptr;  // a padded pool with count_include_pad = 1
  const onnx::NodeProto* excluding = nullptr;
  const onnx::NodeProto* interpolating = nullptr;
  for (const auto& node : model.graph().node()) {
    const std::string& op = node.op_type();
    if (op == "AveragePool" && pools_padding(node))
      (int_attribute(node, "count_include_pad", 0) != 0 ? counting : excluding) = &node;
    const onnx::AttributeProto* mode = find_attribute(node, "mode");
    if ((op == "Resize" || op == "Upsample") && mode && mode->s() != "nearest") interpolating = &node;
  }
  if (counting && excluding)
    return Error(describe(*counting) + " counts padding (count_include_pad=1) and " + describe(*excluding) +
                 " does not: OpenCV 4.6 applies one rule to every AveragePool of a model");
  if (!counting && !excluding) return Status();
  const bool opencv_counts = model.producer_name() == kPyTorch;
  if (opencv_counts == (counting != nullptr)) return Status();
  const onnx::NodeProto& pool = counting ? *counting : *excluding;
  if (interpolating)
    return Error(describe(pool) + " needs producer_name " + (counting ? "'pytorch'" : "other than 'pytorch'") +
                 " for OpenCV 4.6 to compute its padded windows as count_include_pad says, which would change " +
                 describe(*interpolating) + "'s interpolation");
  model.set_producer_name(counting ? kPyTorch : model.producer_name() + " (AveragePool without padding counted)");
  return Status();
}

// Every tensor whose inferred dims are all known holds at most kDefaultMaxElements values
// (the decoders' default limit), so that a model of a few hundred bytes cannot make OpenCV
// allocate gigabytes (a Pad to 26008x26008, or a 30000x30000 input).
Status check_tensor_sizes(const onnx::GraphProto& graph) {
  const auto check = [](const onnx::ValueInfoProto& value) -> Status {
    if (!value.type().has_tensor_type() || !value.type().tensor_type().has_shape()) return Status();
    uint64_t elements = 1;
    for (const auto& dim : value.type().tensor_type().shape().dim()) {
      if (!dim.has_dim_value() || dim.dim_value() < 1) return Status();
      if (static_cast<uint64_t>(dim.dim_value()) > kDefaultMaxElements / elements)
        return Error("tensor '" + value.name() + "' would hold more than " + std::to_string(kDefaultMaxElements) +
                     " values (2^28, the most this tool handles)");
      elements *= static_cast<uint64_t>(dim.dim_value());
    }
    return Status();
  };
  for (const auto& value : graph.input()) DISC_RETURN_IF_ERROR(check(value));
  for (const auto& value : graph.value_info()) DISC_RETURN_IF_ERROR(check(value));
  for (const auto& value : graph.output()) DISC_RETURN_IF_ERROR(check(value));
  return Status();
}

// Without data propagation: libonnx 1.13 propagates Slice-13 over an empty 1-d input with a
// negative step by reading past its end (a segmentation fault), and the constant folding sizes
// what propagation would have (a folded shape is an initializer in the next round).
Status infer_shapes(onnx::ModelProto& model) {
  model.mutable_graph()->clear_value_info();
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*error_mode=*/1, /*data_propagation=*/false);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return Error(std::string("shape inference failed: ") + e.what());
  }
  return Status();
}

constexpr const char* kTooLarge = "ONNX model larger than 2 GiB is not supported";

// Parses with `parse` (true on success), then checks that a graph came out.
Result<onnx::ModelProto> parse_with(const std::function<bool(onnx::ModelProto&)>& parse) {
  onnx::ModelProto model;
  try {
    if (!parse(model)) return Error("not a valid ONNX model (protobuf parse failed; truncated or corrupt file?)");
  } catch (const std::exception& e) {
    return Error(std::string("not a valid ONNX model: ") + e.what());
  }
  if (!model.has_graph() || model.graph().node_size() == 0 || model.graph().output_size() == 0)
    return Error("ONNX model has no graph, no nodes or no outputs (truncated file?)");
  return model;
}

template <typename T, typename Field>
Result<std::vector<T>> values_of(const onnx::TensorProto& t, const Field& field) {
  size_t count = 1;
  for (int64_t d : t.dims()) count *= static_cast<size_t>(d);
  std::vector<T> v;
  if (t.has_raw_data()) {
    if (t.raw_data().size() != count * sizeof(T)) return Error("tensor '" + t.name() + "' has the wrong data size");
    v.resize(count);
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  } else {
    if (static_cast<size_t>(field.size()) != count) return Error("tensor '" + t.name() + "' has the wrong data size");
    v.assign(field.begin(), field.end());
  }
  return v;
}

// The tensor a Constant node of one output writes, or null for any other node.
const onnx::TensorProto* constant_value(const onnx::NodeProto& node) {
  if (node.op_type() != "Constant" || node.output_size() != 1) return nullptr;
  const onnx::AttributeProto* value = find_attribute(node, "value");
  return value && value->has_t() ? &value->t() : nullptr;
}

}  // namespace

Result<onnx::ModelProto> parse_onnx(const uint8_t* data, size_t size) {
  if (size == 0) return Error("empty ONNX model");
  if (size > kMaxOnnxBytes) return Error(kTooLarge, ErrorCode::kResourceExhausted);
  return parse_with([&](onnx::ModelProto& model) { return model.ParseFromArray(data, static_cast<int>(size)); });
}

Result<onnx::ModelProto> read_onnx(const std::string& path) {
  const auto failure = [&path](const char* what, int error) { return system_call_error(what, path, error); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure("cannot open", errno);
  google::protobuf::io::FileInputStream input(fd);
  input.SetCloseOnDelete(true);
  struct stat status {};
  if (::fstat(fd, &status) != 0) return failure("cannot read", errno);
  if (S_ISREG(status.st_mode) && static_cast<uint64_t>(status.st_size) > kMaxOnnxBytes)
    return Error(path + ": " + kTooLarge, ErrorCode::kResourceExhausted);
  google::protobuf::io::CodedInputStream coded(&input);
  coded.SetTotalBytesLimit(static_cast<int>(kMaxOnnxBytes));
  // A zero or end-group tag ends a message for protobuf's stream parser, so the parse must
  // also have ended at the end of the input (as parsing an array requires).
  auto model = parse_with([&](onnx::ModelProto& m) {
    return m.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  });
  if (input.GetErrno() != 0) return failure("cannot read", input.GetErrno());
  // Judged by what was read: files of /proc claim a size of 0.
  if (!model.ok() && coded.CurrentPosition() == 0) return Error(path + ": empty ONNX model");
  if (!model.ok() && static_cast<size_t>(coded.CurrentPosition()) >= kMaxOnnxBytes)
    return Error(path + ": " + kTooLarge, ErrorCode::kResourceExhausted);
  if (!model.ok()) return model.error().with_context(path);
  return model;
}

Status normalize_onnx(onnx::ModelProto& model, const Shape& input_shape) {
  DISC_ASSIGN_OR_RETURN(const int64_t opset, default_opset(model));
  onnx::GraphProto& graph = *model.mutable_graph();
  constant_values_as_tensors(graph);
  DISC_RETURN_IF_ERROR(check_nodes(graph, opset));
  DISC_ASSIGN_OR_RETURN(onnx::ValueInfoProto * input, real_input(graph));
  DISC_RETURN_IF_ERROR(check_one_output(graph));
  DISC_RETURN_IF_ERROR(fix_input_shape(*input, input_shape));
  forget_symbolic_output_dims(graph);
  name_nodes(graph);
  DISC_RETURN_IF_ERROR(sort_nodes(graph));
  fold_identity_initializers(graph);
  DISC_RETURN_IF_ERROR(check_weight_dims(graph));
  DISC_RETURN_IF_ERROR(complete_kernel_shapes(graph));
  DISC_RETURN_IF_ERROR(spell_out_gemms(model));
  // The static dims that folding reads, and the ranks that the lowering renumbers axes in.
  DISC_RETURN_IF_ERROR(infer_shapes(model));
  // Shapes, pads and axes computed from constants and static dims become initializers: shape
  // inference then sizes what reads them, and the lowering finds Pad's pads constant. A Shape
  // of a tensor that only a folded shape sizes folds in the next round (ShuffleNet's second
  // channel shuffle measures the output of its first); each round removes nodes, so it ends.
  while (fold_constant_subgraphs(model) > 0)
    if (auto inferred = infer_shapes(model); !inferred.ok())
      return inferred.error().with_context("model with its constant subgraphs folded");
  // Folding can make weights constant that were computed before: they must pass the same check.
  DISC_RETURN_IF_ERROR(check_weight_dims(graph));
  if (needs_lowering(graph, opset)) {
    DISC_RETURN_IF_ERROR(lower_to_opset10(model, opset));
    if (auto inferred = infer_shapes(model); !inferred.ok())
      return inferred.error().with_context("opset " + std::to_string(opset) + " model lowered to opset " +
                                           std::to_string(kLoweredOpset) + " for OpenCV");
  }
  DISC_RETURN_IF_ERROR(check_softmax_axes(model.graph()));
  DISC_RETURN_IF_ERROR(match_average_pool_padding(model));
  return check_tensor_sizes(model.graph());
}

ConstantMap constants_by_name(const onnx::GraphProto& graph) {
  ConstantMap constants;
  for (const auto& t : graph.initializer()) constants[t.name()] = &t;
  for (const auto& node : graph.node())
    if (const onnx::TensorProto* value = constant_value(node)) constants[node.output(0)] = value;
  return constants;
}

const onnx::TensorProto* find_constant(const onnx::GraphProto& graph, const std::string& name) {
  for (const auto& init : graph.initializer())
    if (init.name() == name) return &init;
  for (const auto& node : graph.node())
    if (const onnx::TensorProto* value = constant_value(node); value && node.output(0) == name) return value;
  return nullptr;
}

int64_t int_attribute(const onnx::NodeProto& node, const std::string& name, int64_t fallback) {
  const onnx::AttributeProto* a = find_attribute(node, name);
  return a ? a->i() : fallback;
}

float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const onnx::AttributeProto* a = find_attribute(node, name);
  return a ? a->f() : fallback;
}

Result<std::vector<float>> tensor_floats(const onnx::TensorProto* t, const std::string& name) {
  if (!t || t->data_type() != onnx::TensorProto::FLOAT) return Error("'" + name + "' is not a constant fp32 tensor");
  return values_of<float>(*t, t->float_data());
}

Result<std::vector<int64_t>> tensor_ints(const onnx::TensorProto* t, const std::string& name) {
  if (!t || t->data_type() != onnx::TensorProto::INT64) return Error("'" + name + "' is not a constant int64 tensor");
  return values_of<int64_t>(*t, t->int64_data());
}

Result<std::vector<float>> constant_floats(const onnx::GraphProto& graph, const std::string& name) {
  return tensor_floats(find_constant(graph, name), name);
}

Result<std::vector<int64_t>> constant_ints(const onnx::GraphProto& graph, const std::string& name) {
  return tensor_ints(find_constant(graph, name), name);
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

Shape static_shape(const onnx::TypeProto& type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape() ||
      type.tensor_type().elem_type() != onnx::TensorProto::FLOAT)
    return {};
  Shape shape;
  for (const auto& dim : type.tensor_type().shape().dim()) {
    if (!dim.has_dim_value() || dim.dim_value() < 1) return {};
    shape.push_back(dim.dim_value());
  }
  return shape;
}

ShapeMap static_shapes(const onnx::GraphProto& graph) {
  ShapeMap shapes;
  auto record = [&](const onnx::ValueInfoProto& info) {
    Shape s = static_shape(info.type());
    if (!s.empty()) shapes[info.name()] = std::move(s);
  };
  for (const auto& v : graph.input()) record(v);
  for (const auto& v : graph.output()) record(v);
  for (const auto& v : graph.value_info()) record(v);
  return shapes;
}

}  // namespace disc::model
