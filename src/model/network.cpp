// Network: one OpenCV DNN net with one input and one output, fp32 NCHW in and out.
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>

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

}  // namespace

struct Network::Impl {
  cv::dnn::Net net;
  std::string output_layer;
  Shape input_shape;
  Shape output_shape;  // empty when the model does not declare a static one
};

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;
Network::~Network() = default;

Result<Network> Network::from_onnx(const Bytes& onnx) {
  // OpenCV reads the shapes it needs from the model but does not expose them: read them here.
  DISC_ASSIGN_OR_RETURN(onnx::ModelProto model, model::parse_onnx(onnx.data(), onnx.size()));
  auto impl = std::make_unique<Impl>();
  const auto& graph = model.graph();
  if (graph.output_size() != 1) return Error("network must have exactly one output");
  for (const auto& in : graph.input()) {
    bool initializer = false;
    for (const auto& init : graph.initializer()) initializer = initializer || init.name() == in.name();
    if (initializer) continue;
    if (!impl->input_shape.empty()) return Error("network must have exactly one input");
    impl->input_shape = model::static_shape(in.type());
    if (impl->input_shape.empty()) return Error("network input '" + in.name() + "' has no static fp32 shape");
  }
  if (impl->input_shape.empty()) return Error("network has no input");
  impl->output_shape = model::static_shape(graph.output(0).type());
  // Failures come back as Errors; OpenCV's own log lines would only duplicate them.
  // setLogLevel is not thread-safe, and networks are built from many threads.
  static std::once_flag silence_opencv;
  std::call_once(silence_opencv, [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
  try {
    impl->net = cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(onnx.data()), onnx.size());
    impl->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    // OpenCV 4.6 names the layer of node N "onnx_node!N"; asking for it by name also keeps
    // OpenCV from fusing it away.
    const std::vector<std::string> layers = impl->net.getLayerNames();
    for (const auto& node : graph.node())
      for (const auto& out : node.output())
        if (out == graph.output(0).name()) impl->output_layer = "onnx_node!" + node.name();
    if (std::find(layers.begin(), layers.end(), impl->output_layer) == layers.end()) {
      const std::vector<std::string> unconnected = impl->net.getUnconnectedOutLayersNames();
      if (unconnected.size() != 1)
        return Error("cannot tell which OpenCV DNN layer produces output '" + graph.output(0).name() + "'");
      impl->output_layer = unconnected[0];
    }
  } catch (const cv::Exception& e) {
    return Error("OpenCV DNN cannot load the model: " + one_line(e.msg));
  }
  return Network(std::move(impl));
}

Result<Tensor> Network::run(const Tensor& input) {
  DISC_RETURN_IF_ERROR(input.check());
  if (input.shape() != impl_->input_shape)
    return Error("network expects input " + shape_to_string(impl_->input_shape) + ", got " +
                 shape_to_string(input.shape()));
  std::vector<int> dims(input.shape().begin(), input.shape().end());
  cv::Mat output;
  try {
    cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
    std::copy(input.values().begin(), input.values().end(), blob.ptr<float>());
    impl_->net.setInput(blob);
    output = impl_->net.forward(impl_->output_layer);
  } catch (const cv::Exception& e) {
    return Error("OpenCV DNN inference failed: " + one_line(e.msg));
  }
  if (output.type() != CV_32F || !output.isContinuous()) return Error("OpenCV DNN returned a non-fp32 output");
  Shape shape;
  for (int i = 0; i < output.dims; ++i) shape.push_back(output.size[i]);
  DISC_ASSIGN_OR_RETURN(size_t elements, element_count(shape));
  if (!impl_->output_shape.empty()) {
    // OpenCV may drop or merge unit dims; the declared shape is authoritative if sizes agree.
    DISC_ASSIGN_OR_RETURN(size_t declared, element_count(impl_->output_shape));
    if (declared != elements)
      return Error("OpenCV DNN output " + shape_to_string(shape) + " does not match the declared " +
                   shape_to_string(impl_->output_shape));
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
