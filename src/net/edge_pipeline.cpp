#include <algorithm>
#include <filesystem>
#include <optional>

#include "disc/chunks.hpp"
#include "disc/edge.hpp"
#include "disc/npy.hpp"
#include "disc/timing.hpp"
#include "model_fingerprint.hpp"

namespace disc {

struct EdgePipeline::Impl {
  ModelEntry model;
  std::vector<std::string> class_names;
  EdgeConfig config;
  EdgeClient* client = nullptr;
  std::optional<Network> local;          // the head (split) or the whole model (edge-only)
  std::unique_ptr<Codec> codec;          // split only
  std::string sha256;                    // of the model file, for the server to compare; "" for none
  size_t cut_fp32_bytes = 0;             // split only

  // Fills the server-side stages of `result` from a remote answer.
  static void take_remote(const RemoteAnswer& answer, EdgeResult& result) {
    result.top = answer.top;
    result.bytes_sent = answer.request_bytes;
    result.attempts = answer.attempts;
    result.timing.transfer = answer.transfer_seconds();
    result.timing.server_queue = answer.server.queue;
    result.timing.server_decode = answer.server.decode;
    result.timing.tail = answer.server.tail;
  }

  // Loads and preprocesses the image, then runs the local network (the head, or the
  // whole model): the stages every mode but server-only starts with.
  Result<Tensor> run_local(const std::string& path, EdgeResult& result) {
    Stopwatch stage;
    DISC_ASSIGN_OR_RETURN(Tensor image, load_image(path, model.preprocessing));
    result.timing.load = stage.seconds();
    stage.restart();
    auto output = local->run(image);
    if (!output.ok()) return output.error().with_context("image " + path);
    result.timing.head = stage.seconds();
    return output;
  }

  Result<EdgeResult> run_split(const std::string& path) {
    EdgeResult result;
    const Stopwatch total;
    DISC_ASSIGN_OR_RETURN(Tensor feature_map, run_local(path, result));
    auto answer = send(feature_map, result.timing.encode);
    if (!answer.ok()) return answer.error().with_context("image " + path);
    take_remote(*answer, result);
    result.raw_bytes = cut_fp32_bytes;
    result.timing.total = total.seconds();
    return result;
  }

  // Encodes and sends the feature map (in chunks if configured); `encode_seconds` is the
  // time spent encoding.
  Result<RemoteAnswer> send(const Tensor& feature_map, double& encode_seconds) {
    if (config.chunks <= 1) {
      const Stopwatch encode;
      DISC_ASSIGN_OR_RETURN(Bytes stream, compress(feature_map, *codec));
      encode_seconds = encode.seconds();
      return client->infer(ModelRef(model.name, sha256), config.cut, stream, config.top_k);
    }
    const std::vector<Slab> slabs = split_slabs(feature_map.shape(), static_cast<size_t>(config.chunks));
    return client->infer_chunked(ModelRef(model.name, sha256), config.cut, slabs.size(),
                                 [&](size_t i) -> Result<Bytes> {
                                   const Stopwatch encode;
                                   auto stream = compress_slab(feature_map, *codec, slabs[i]);
                                   encode_seconds += encode.seconds();
                                   return stream;
                                 },
                                 config.top_k);
  }

  Result<EdgeResult> run_edge_only(const std::string& path) {
    EdgeResult result;
    const Stopwatch total;
    DISC_ASSIGN_OR_RETURN(Tensor logits, run_local(path, result));
    result.top = top_k(logits, config.top_k, model.label_offset, class_names);
    result.timing.total = total.seconds();
    return result;
  }

  Result<EdgeResult> run_server_only(const std::string& path) {
    EdgeResult result;
    const Stopwatch total;
    Stopwatch stage;
    DISC_ASSIGN_OR_RETURN(Bytes file, read_file(path));
    result.timing.load = stage.seconds();
    // The server's own check, before the upload rather than after it.
    if (Status uploadable = check_upload_image(file.data(), file.size()); !uploadable.ok())
      return uploadable.error().with_context("image " + path + " (server-only sends the file as it is)");
    auto answer = client->infer_image(ModelRef(model.name, sha256), file, config.top_k);
    if (!answer.ok()) return answer.error().with_context("image " + path);
    take_remote(*answer, result);
    result.raw_bytes = file.size();
    result.timing.total = total.seconds();
    return result;
  }
};

Result<std::unique_ptr<EdgePipeline>> EdgePipeline::create(const ModelEntry& model,
                                                           std::vector<std::string> class_names,
                                                           const EdgeConfig& config, EdgeClient* client) {
  if (config.top_k < 1) return Error("top_k must be at least 1");
  if (config.chunks < 1) return Error("chunks must be at least 1");
  if (config.mode != EdgeMode::kEdgeOnly && !client) return Error("this mode needs a server");
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  impl->class_names = std::move(class_names);
  impl->config = config;
  // A model with fewer outputs answers with all of them (the server refuses more).
  if (model.classes > 0) impl->config.top_k = std::min(config.top_k, model.classes);
  impl->client = client;
  switch (config.mode) {
    case EdgeMode::kSplit: {
      // The server runs its tail on this head's output only if its file is the one hashed here.
      DISC_ASSIGN_OR_RETURN(net::IdentifiedModel loaded, net::load_identified_model(model));
      DISC_ASSIGN_OR_RETURN(SplitModel split, loaded.onnx.split(config.cut));
      DISC_ASSIGN_OR_RETURN(const CodecSpec spec, CodecSpec::parse(config.codec));
      DISC_ASSIGN_OR_RETURN(impl->codec, loaded.onnx.codec_for_cut(config.cut, spec, config.encode_threads));
      DISC_RETURN_IF_ERROR(impl->codec->check_encodable());
      if (impl->codec->needs_reader() && config.chunks > 1) return Error(std::string(kWholeMapsOnly));
      DISC_ASSIGN_OR_RETURN(impl->local, Network::from_onnx(split.head));
      impl->cut_fp32_bytes = split.cut.fp32_bytes();
      impl->sha256 = std::move(loaded.sha256);
      break;
    }
    case EdgeMode::kEdgeOnly: {
      DISC_ASSIGN_OR_RETURN(OnnxModel onnx, OnnxModel::load_file(model.path, model.input_shape));
      DISC_ASSIGN_OR_RETURN(impl->local, Network::from_onnx(onnx.serialized()));
      break;
    }
    case EdgeMode::kServerOnly: {
      // The answer is the server's model's: an edge that holds the file says which it expects; a
      // thin edge without it has nothing to compare.
      std::error_code unknown;
      if (std::filesystem::exists(model.path, unknown)) {
        DISC_ASSIGN_OR_RETURN(impl->sha256, net::entry_file_sha256(model));
      }
      break;
    }
  }
  return std::unique_ptr<EdgePipeline>(new EdgePipeline(std::move(impl)));
}

EdgePipeline::EdgePipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EdgePipeline::~EdgePipeline() = default;

Result<EdgeResult> EdgePipeline::run(const std::string& image_path) {
  // Every error names the image: the loaders by its path, the other stages as "image PATH".
  switch (impl_->config.mode) {
    case EdgeMode::kSplit: return impl_->run_split(image_path);
    case EdgeMode::kEdgeOnly: return impl_->run_edge_only(image_path);
    case EdgeMode::kServerOnly: return impl_->run_server_only(image_path);
  }
  return Error("unknown edge mode");
}

}  // namespace disc
