// Network: one OpenCV DNN net with one input and one output, fp32 NCHW in and out.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error_codes.hpp"
#include "disc/model.hpp"
#include "model/onnx_graph.hpp"

namespace disc {
namespace {

// OpenCV's multi-line exception text as one line.
std::string one_line(const std::string& text) {
  std::string line;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// OpenCV names the layer of ONNX node N "onnx_node!N".
constexpr std::string_view kLayerPrefix = "onnx_node!";

// The first of the net's layers, in OpenCV's order (the model's nodes, sorted), that OpenCV
// fails to compute from the input set, or "" if each computes (then only the whole net fails).
// For the error path only: each forward computes the layer's ancestors again.
std::string first_failing_layer(cv::dnn::Net& net) {
  for (const std::string& layer : net.getLayerNames()) try {
      net.forward(layer);
    } catch (const cv::Exception&) {
      return layer;
    }
  return "";
}

// A name for a new node or tensor that no node, tensor or initializer of `graph` uses.
std::string unused_name(const onnx::GraphProto& graph, std::string name) {
  const auto used = [&](const std::string& candidate) {
    for (const auto& node : graph.node()) {
      if (node.name() == candidate) return true;
      for (const auto& out : node.output())
        if (out == candidate) return true;
    }
    for (const auto& init : graph.initializer())
      if (init.name() == candidate) return true;
    for (const auto& in : graph.input())
      if (in.name() == candidate) return true;
    return false;
  };
  while (used(name)) name += "_";
  return name;
}

// Makes the graph output the output of a new Reshape that copies every dim, and returns the
// Reshape's OpenCV layer name. OpenCV 4.6 cannot be asked for the graph output directly:
// a layer addresses only its first output (wrong for the second output of a Split), and a
// BatchNormalization, constant Add or Mul fused into the Conv before it returns a buffer
// that is never written, even when that layer is asked for by name (opencv/opencv#17944).
// A Reshape is never fused, and the layer it reads is then not the one asked for.
Result<std::string> guard_output(onnx::ModelProto& model) {
  onnx::GraphProto& graph = *model.mutable_graph();
  onnx::ValueInfoProto& output = *graph.mutable_output(0);
  if (!output.type().has_tensor_type() || !output.type().tensor_type().has_shape())
    return Error("network output '" + output.name() + "' has no known rank");
  const int rank = output.type().tensor_type().shape().dim_size();
  const std::string node_name = unused_name(graph, "disc_output_guard");
  onnx::TensorProto& dims = *graph.add_initializer();
  dims.set_name(unused_name(graph, node_name + "_dims"));
  dims.set_data_type(onnx::TensorProto::INT64);
  dims.add_dims(std::max(rank, 1));
  for (int i = 0; i < rank; ++i) dims.add_int64_data(0);  // 0: the input's dim
  if (rank == 0) dims.add_int64_data(1);                  // a scalar becomes [1]: OpenCV has no rank 0
  onnx::NodeProto& reshape = *graph.add_node();
  reshape.set_op_type("Reshape");
  reshape.set_name(node_name);
  reshape.add_input(output.name());
  reshape.add_input(dims.name());
  reshape.add_output(unused_name(graph, node_name + "_out"));
  output.set_name(reshape.output(0));
  return std::string(kLayerPrefix) + node_name;
}

}  // namespace

struct Network::Impl {
  cv::dnn::Net net;
  std::string output_layer;
  Shape input_shape;
  Shape output_shape;  // empty when the model does not declare a static one
  std::unordered_map<std::string, std::string> op_types;  // by node name
};

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;
Network::~Network() = default;

Result<Network> Network::from_onnx(const Bytes& onnx) {
  // OpenCV reads the shapes it needs from the model but does not expose them: read them here.
  DISC_ASSIGN_OR_RETURN(onnx::ModelProto model,
                        classified(model::parse_onnx(onnx.data(), onnx.size()), ErrorCode::kInvalidArgument));
  auto impl = std::make_unique<Impl>();
  const auto& graph = model.graph();
  if (graph.output_size() != 1) return Error("network must have exactly one output", ErrorCode::kInvalidArgument);
  for (const auto& in : graph.input()) {
    bool initializer = false;
    for (const auto& init : graph.initializer()) initializer = initializer || init.name() == in.name();
    if (initializer) continue;
    if (!impl->input_shape.empty()) return Error("network must have exactly one input", ErrorCode::kInvalidArgument);
    impl->input_shape = model::static_shape(in.type());
    if (impl->input_shape.empty())
      return Error("network input '" + in.name() + "' has no static fp32 shape", ErrorCode::kInvalidArgument);
  }
  if (impl->input_shape.empty()) return Error("network has no input", ErrorCode::kInvalidArgument);
  impl->output_shape = model::static_shape(graph.output(0).type());
  for (const auto& node : graph.node()) impl->op_types[node.name()] = node.op_type();
  // Failures come back as Errors; OpenCV's own log lines would only duplicate them.
  // setLogLevel is not thread-safe, and networks are built from many threads.
  static std::once_flag silence_opencv;
  std::call_once(silence_opencv, [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
  DISC_ASSIGN_OR_RETURN(impl->output_layer, classified(guard_output(model), ErrorCode::kInvalidArgument));
  std::string guarded;
  if (!model.SerializeToString(&guarded)) return Error("cannot serialize the network's model", ErrorCode::kInternal);
  try {
    impl->net = cv::dnn::readNetFromONNX(guarded.data(), guarded.size());
    impl->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const std::vector<std::string> layers = impl->net.getLayerNames();
    if (std::find(layers.begin(), layers.end(), impl->output_layer) == layers.end())
      return Error("OpenCV DNN dropped the output layer '" + impl->output_layer + "'", ErrorCode::kInvalidArgument);
  } catch (const cv::Exception& e) {
    return Error("OpenCV DNN cannot load the model: " + one_line(e.msg), ErrorCode::kInvalidArgument);
  }
  return Network(std::move(impl));
}

Result<Tensor> Network::run(const Tensor& input) {
  DISC_RETURN_IF_ERROR(input.check());
  if (input.shape() != impl_->input_shape)
    return Error(
        "network expects input " + shape_to_string(impl_->input_shape) + ", got " + shape_to_string(input.shape()),
        ErrorCode::kInvalidArgument);
  std::vector<int> dims(input.shape().begin(), input.shape().end());
  cv::Mat output;
  try {
    cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
    std::copy(input.values().begin(), input.values().end(), blob.ptr<float>());
    impl_->net.setInput(blob);
    output = impl_->net.forward(impl_->output_layer);
  } catch (const cv::Exception& e) {
    std::string node = first_failing_layer(impl_->net);
    if (node.empty()) return Error("OpenCV DNN inference failed: " + one_line(e.msg), ErrorCode::kInternal);
    if (node.starts_with(kLayerPrefix)) node.erase(0, kLayerPrefix.size());
    const auto op = impl_->op_types.find(node);
    return Error("OpenCV DNN 4.6 cannot compute node '" + node + "'" +
                     (op != impl_->op_types.end() ? " (" + op->second + ")" : "") +
                     " of this model: " + one_line(e.msg),
                 ErrorCode::kInvalidArgument);
  }
  if (output.type() != CV_32F || !output.isContinuous())
    return Error("OpenCV DNN returned a non-fp32 output", ErrorCode::kInternal);
  Shape shape;
  for (int i = 0; i < output.dims; ++i) shape.push_back(output.size[i]);
  DISC_ASSIGN_OR_RETURN(size_t elements, element_count(shape));
  if (!impl_->output_shape.empty()) {
    // OpenCV may drop or merge unit dims; the declared shape is authoritative if sizes agree.
    DISC_ASSIGN_OR_RETURN(size_t declared, element_count(impl_->output_shape));
    if (declared != elements)
      return Error("OpenCV DNN output " + shape_to_string(shape) + " does not match the declared " +
                       shape_to_string(impl_->output_shape),
                   ErrorCode::kInternal);
    shape = impl_->output_shape;
  }
  const float* data = output.ptr<float>();
  // A non-finite input (a legal raw/fp16 stream may carry NaN) must not become an answer.
  if (!std::all_of(data, data + elements, [](float v) { return std::isfinite(v); }))
    return Error("network output is not finite (the input holds NaN or infinity, or overflowed)",
                 ErrorCode::kInvalidArgument);
  return Tensor(std::move(shape), std::vector<float>(data, data + elements));
}

void set_inference_threads(int threads) { cv::setNumThreads(threads > 0 ? threads : -1); }

}  // namespace disc
