// OnnxModel: a normalized ONNX model with its cuts (public face of onnx_graph, cut_finder
// and splitter).
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/error_codes.hpp"
#include "disc/model.hpp"
#include "model/cut_finder.hpp"
#include "model/graph_index.hpp"
#include "model/onnx_graph.hpp"
#include "model/reading_convolution.hpp"
#include "model/splitter.hpp"

namespace disc {

struct OnnxModel::Impl {
  onnx::ModelProto model;
  std::unique_ptr<model::GraphIndex> index;  // over model.graph(), which never changes
  std::string input_name;
  Shape input_shape;
  Shape output_shape;
  std::vector<CutPoint> cuts;
  std::vector<UnshapedCut> unshaped_cuts;
};

OnnxModel::OnnxModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxModel::OnnxModel(OnnxModel&&) noexcept = default;
OnnxModel& OnnxModel::operator=(OnnxModel&&) noexcept = default;
OnnxModel::~OnnxModel() = default;

Result<OnnxModel> OnnxModel::load_file(const std::string& path, const Shape& input_shape) {
  auto impl = std::make_unique<Impl>();
  DISC_ASSIGN_OR_RETURN(impl->model, classified(model::read_onnx(path), ErrorCode::kInvalidArgument));
  auto model = from_parsed(std::move(impl), input_shape);
  if (!model.ok()) return model.error().with_context(path);
  return model;
}

Result<OnnxModel> OnnxModel::load_bytes(const uint8_t* data, size_t size, const Shape& input_shape) {
  auto impl = std::make_unique<Impl>();
  DISC_ASSIGN_OR_RETURN(impl->model, classified(model::parse_onnx(data, size), ErrorCode::kInvalidArgument));
  return from_parsed(std::move(impl), input_shape);
}

Result<OnnxModel> OnnxModel::from_parsed(std::unique_ptr<Impl> impl, const Shape& input_shape) {
  // Cuts are tensors the user's model computes: those normalization adds (the Transposes around
  // a lowered Softmax, ...) are computed on the way and are never offered.
  std::unordered_set<std::string> computed;
  for (const auto& node : impl->model.graph().node())
    for (const std::string& output : node.output()) computed.insert(output);
  DISC_RETURN_IF_ERROR(classified(model::normalize_onnx(impl->model, input_shape), ErrorCode::kInvalidArgument));
  impl->index = std::make_unique<model::GraphIndex>(impl->model.graph());
  for (const auto& in : impl->model.graph().input())
    if (!impl->index->is_initializer(in.name())) {
      impl->input_name = in.name();
      impl->input_shape = model::static_shape(in.type());
    }
  if (impl->input_shape.empty())
    return Error("input '" + impl->input_name + "' is not an fp32 tensor", ErrorCode::kInvalidArgument);
  const auto& outputs = impl->model.graph().output();
  impl->output_shape = model::static_shape(outputs[0].type());
  model::Cuts found = model::find_cuts(*impl->index, model::static_shapes(impl->model.graph()));
  std::erase_if(found.cuts, [&](const CutPoint& cut) { return !computed.contains(cut.tensor); });
  std::erase_if(found.unshaped, [&](const UnshapedCut& cut) { return !computed.contains(cut.tensor); });
  impl->cuts = std::move(found.cuts);
  impl->unshaped_cuts = std::move(found.unshaped);
  return OnnxModel(std::move(impl));
}

const std::string& OnnxModel::input_name() const { return impl_->input_name; }
const Shape& OnnxModel::input_shape() const { return impl_->input_shape; }
const Shape& OnnxModel::output_shape() const { return impl_->output_shape; }
const std::vector<CutPoint>& OnnxModel::cuts() const { return impl_->cuts; }
const std::vector<UnshapedCut>& OnnxModel::unshaped_cuts() const { return impl_->unshaped_cuts; }

Result<CutPoint> OnnxModel::find_cut(const std::string& tensor) const {
  for (const CutPoint& cut : impl_->cuts)
    if (cut.tensor == tensor) return cut;
  for (const UnshapedCut& unshaped : impl_->unshaped_cuts)
    if (unshaped.tensor == tensor)
      return Error("'" + tensor + "' (output of " + unshaped.op_type + " '" + unshaped.node +
                       "') separates the graph, but ONNX shape inference could not give it a static shape, which "
                       "the head's output needs",
                   ErrorCode::kInvalidArgument);
  return Error("'" + tensor + "' is not a valid cut of this model (`disc cuts MODEL` or OnnxModel::cuts() lists them)",
               ErrorCode::kNotFound);
}

Result<SplitModel> OnnxModel::split(const std::string& cut_tensor) const {
  DISC_ASSIGN_OR_RETURN(CutPoint cut, find_cut(cut_tensor));
  return classified(model::split_graph(impl_->model, *impl_->index, cut), ErrorCode::kInternal);
}

Result<ConvKernel> OnnxModel::reading_convolution(const std::string& cut_tensor) const {
  DISC_ASSIGN_OR_RETURN(CutPoint cut, find_cut(cut_tensor));
  auto kernel = classified(model::reading_convolution(impl_->model.graph(), cut.tensor), ErrorCode::kInvalidArgument);
  if (kernel.ok()) {
    const Status fits = kernel->check(cut.shape);
    if (!fits.ok()) return fits.error().with_context(cut.tensor);
  }
  return kernel;
}

Result<std::unique_ptr<Codec>> OnnxModel::codec_for_cut(const std::string& cut_tensor, const CodecSpec& spec,
                                                        int threads) const {
  DISC_RETURN_IF_ERROR(find_cut(cut_tensor).status());
  DISC_ASSIGN_OR_RETURN(auto codec, make_codec(spec, EncoderContext{nullptr, threads}));
  if (!codec->needs_reader()) return codec;
  auto reader = reading_convolution(cut_tensor);
  if (!reader.ok()) return reader.error().with_context(spec.to_string());
  return make_codec(spec, EncoderContext{std::make_shared<const ConvKernel>(std::move(*reader)), threads});
}

Bytes OnnxModel::serialized() const {
  Bytes bytes(impl_->model.ByteSizeLong());
  impl_->model.SerializeToArray(bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

}  // namespace disc
