#include "inference_service.hpp"

#include <algorithm>
#include <cmath>

#include "auth.hpp"
#include "call_watchdog.hpp"
#include "disc/chunks.hpp"
#include "disc/codec.hpp"
#include "disc/timing.hpp"

namespace disc::net {
namespace {

using grpc::Status;
using grpc::StatusCode;

constexpr int kDefaultTopK = 5;

// A status message quotes request fields (model and cut names); gRPC sends it as a trailer,
// which a long one would push past the peer's metadata limit (the client would then see
// RESOURCE_EXHAUSTED instead of this status).
std::string bounded(const std::string& message) {
  constexpr size_t kMaxMessage = 1000;
  return message.size() <= kMaxMessage ? message : message.substr(0, kMaxMessage) + "... (cut short)";
}

Status invalid(const std::string& message) { return {StatusCode::INVALID_ARGUMENT, bounded(message)}; }

// The request's deadline on the monotonic clock (far future when the client set none).
std::chrono::steady_clock::time_point steady_deadline(const grpc::ServerContext& context) {
  const auto remaining = context.deadline() - std::chrono::system_clock::now();
  constexpr auto kNever = std::chrono::hours(24 * 365);
  if (remaining > kNever) return std::chrono::steady_clock::now() + kNever;
  return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining);
}

Result<int> checked_top_k(int requested, const ServedModel& model) {
  const int classes = std::max(1, model.entry.classes);
  if (requested == 0) return std::min(kDefaultTopK, classes);
  if (requested < 0 || requested > classes)
    return Error("top_k " + std::to_string(requested) + " outside 1.." + std::to_string(classes));
  return requested;
}

// The decoded input of a request. A chunked request's decoding also waits for its later
// chunks to arrive.
struct Decoded {
  Tensor input;
  bool chunked = false;
  double waiting_seconds = 0;  // of the decode stage, spent waiting for the network
};

Result<Decoded> finite(Tensor tensor, std::string_view what) {
  const auto values = tensor.values();
  if (!std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }))
    return Error(std::string(what) + ": the feature map holds NaN or infinity");
  return Decoded{std::move(tensor)};
}

// Everything after input decoding is the same for both RPCs: slot, cached network, top-k.
class Pipeline {
 public:
  Pipeline(grpc::ServerContext* context, WorkerSlots& slots, TailCache& tails)
      : context_(context), slots_(slots), tails_(tails) {}

  // Third-party code (OpenCV, protobuf) may throw; a request must never take the server down.
  template <class DecodeFn>
  Status run(const ServedModel& model, const std::string& cut, int k, bool return_logits, DecodeFn decode,
             disc::v1::InferResponse* response) {
    try {
      return run_unguarded(model, cut, k, return_logits, decode, response);
    } catch (const std::exception& e) {
      return {StatusCode::INTERNAL, e.what()};
    }
  }

 private:
  template <class DecodeFn>
  Status run_unguarded(const ServedModel& model, const std::string& cut, int k, bool return_logits,
                       DecodeFn decode, disc::v1::InferResponse* response) {
    const Stopwatch total;
    auto slot = slots_.acquire(steady_deadline(*context_), [this] { return context_->IsCancelled(); });
    if (const auto* refusal = std::get_if<WorkerSlots::Refusal>(&slot))
      return *refusal == WorkerSlots::Refusal::kCancelled
                 ? Status(StatusCode::CANCELLED, "client cancelled while queued")
                 : Status(StatusCode::DEADLINE_EXCEEDED, "deadline passed while queued for a worker");
    const double queue_seconds = total.seconds();

    Stopwatch stage;
    Result<Decoded> decoded = decode();
    if (!decoded.ok())
      return context_->IsCancelled() ? Status(StatusCode::CANCELLED, "client cancelled while sending")
                                     : invalid(decoded.error().message());
    const double decode_wall_seconds = stage.seconds();
    const Tensor& input = decoded->input;

    auto pool = tails_.get(model, cut);
    if (!pool.ok()) return {StatusCode::INTERNAL, pool.error().message()};
    auto network = (*pool)->lease();
    if (!network.ok()) return {StatusCode::INTERNAL, network.error().message()};
    stage.restart();
    auto logits = (**network).run(input);
    if (!logits.ok())
      return logits.error().code() == ErrorCode::kInvalidArgument ? invalid(logits.error().message())
                                                                  : Status(StatusCode::INTERNAL, logits.error().message());
    const double tail_seconds = stage.seconds();

    for (const Prediction& p : top_k(*logits, k, model.entry.label_offset, model.class_names)) {
      auto* out = response->add_top();
      out->set_label(p.label);
      out->set_probability(p.probability);
      out->set_name(p.name);
    }
    if (return_logits) response->mutable_logits()->Add(logits->values().begin(), logits->values().end());
    auto* timing = response->mutable_timing();
    timing->set_queue_seconds(queue_seconds);
    timing->set_decode_seconds(decode_wall_seconds - decoded->waiting_seconds);
    if (decoded->chunked) timing->set_receive_seconds(decode_wall_seconds);
    timing->set_tail_seconds(tail_seconds);
    timing->set_total_seconds(total.seconds());
    if (context_->IsCancelled()) return {StatusCode::CANCELLED, "client cancelled"};
    return Status::OK;
  }

  grpc::ServerContext* context_;
  WorkerSlots& slots_;
  TailCache& tails_;
};

}  // namespace

InferenceService::InferenceService(ModelStore models, const ServiceLimits& limits)
    : models_(std::move(models)), limits_(limits), slots_(std::max(1, limits.workers)) {}

Status InferenceService::resolve(const std::string& model_name, int top_k, Target& target) const {
  target.model = models_.find(model_name);
  if (!target.model) return {StatusCode::NOT_FOUND, bounded("unknown model '" + model_name + "'")};
  auto k = checked_top_k(top_k, *target.model);
  if (!k.ok()) return invalid(k.error().message());
  target.top_k = *k;
  return Status::OK;
}

Status InferenceService::Infer(grpc::ServerContext* context, const disc::v1::InferRequest* request,
                               disc::v1::InferResponse* response) {
  if (Status s = check_bearer_token(*context, limits_.token); !s.ok()) return s;
  Target target;
  if (Status s = resolve(request->model(), request->top_k(), target); !s.ok()) return s;
  const ServedModel* model = target.model;
  auto cut = model->onnx.find_cut(request->cut());
  if (!cut.ok()) return invalid(cut.error().message());

  const std::span<const uint8_t> stream(reinterpret_cast<const uint8_t*>(request->stream().data()),
                                        request->stream().size());
  DecodeLimits decode_limits;
  decode_limits.max_elements = cut->elements;
  auto header = inspect(stream, decode_limits);
  if (!header.ok()) return invalid("stream: " + header.error().message());
  if (header->shape != cut->shape)
    return invalid("stream shape " + shape_to_string(header->shape) + " differs from cut '" + cut->tensor +
                   "' shape " + shape_to_string(cut->shape));
  response->set_codec(header->spec.to_string());

  Pipeline pipeline(context, slots_, tails_);
  return pipeline.run(
      *model, cut->tensor, target.top_k, request->return_logits(),
      [&]() -> Result<Decoded> {
        auto tensor = decompress(stream, decode_limits);
        if (!tensor.ok()) return tensor.error().with_context("stream");
        return finite(std::move(*tensor), "stream");
      },
      response);
}

Status InferenceService::InferChunked(grpc::ServerContext* context,
                                      grpc::ServerReader<disc::v1::InferChunk>* reader,
                                      disc::v1::InferResponse* response) {
  if (Status s = check_bearer_token(*context, limits_.token); !s.ok()) return s;
  const int in_progress = ++chunked_calls_;
  const struct Leave {
    std::atomic<int>& calls;
    ~Leave() { --calls; }
  } leave{chunked_calls_};
  if (in_progress > limits_.max_chunked_calls)
    return {StatusCode::RESOURCE_EXHAUSTED, std::to_string(limits_.max_chunked_calls) +
                                                " chunked calls are in progress, the most this server takes; retry later"};
  CallWatchdog watchdog(context, limits_.chunked_timeout);
  disc::v1::InferChunk chunk;
  if (!reader->Read(&chunk))
    return context->IsCancelled() ? Status(StatusCode::CANCELLED, "no chunk arrived in time")
                                  : invalid("no chunk: the request stream was empty");
  Target target;
  if (Status s = resolve(chunk.model(), chunk.top_k(), target); !s.ok()) return s;
  auto cut = target.model->onnx.find_cut(chunk.cut());
  if (!cut.ok()) return invalid(cut.error().message());
  const bool return_logits = chunk.return_logits();

  Pipeline pipeline(context, slots_, tails_);
  return pipeline.run(
      *target.model, cut->tensor, target.top_k, return_logits,
      [&]() -> Result<Decoded> {
        DISC_ASSIGN_OR_RETURN(ChunkAssembler assembler, ChunkAssembler::create(cut->shape));
        double waiting_seconds = 0;
        for (bool more = true; more;) {
          const auto& bytes = chunk.stream();
          const disc::Status added = assembler.add({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
          if (!added.ok()) return added.error().with_context("stream");
          const Stopwatch wait;
          more = reader->Read(&chunk);
          waiting_seconds += wait.seconds();
        }
        watchdog.disarm();
        if (watchdog.fired())
          return Error("the chunks did not all arrive within " + std::to_string(limits_.chunked_timeout.count()) +
                       " ms");
        response->set_codec(assembler.first_codec().to_string());
        auto tensor = std::move(assembler).finish();
        if (!tensor.ok()) return tensor.error().with_context("stream");
        DISC_ASSIGN_OR_RETURN(Decoded decoded, finite(std::move(*tensor), "stream"));
        decoded.chunked = true;
        decoded.waiting_seconds = waiting_seconds;
        return decoded;
      },
      response);
}

Status InferenceService::InferImage(grpc::ServerContext* context, const disc::v1::InferImageRequest* request,
                                    disc::v1::InferResponse* response) {
  if (Status s = check_bearer_token(*context, limits_.token); !s.ok()) return s;
  Target target;
  if (Status s = resolve(request->model(), request->top_k(), target); !s.ok()) return s;
  const ServedModel* model = target.model;
  if (request->image().empty()) return invalid("image: empty");
  // Before a worker slot: a decompression bomb is refused from its header.
  if (const disc::Status checked = check_upload_image(reinterpret_cast<const uint8_t*>(request->image().data()),
                                                      request->image().size());
      !checked.ok())
    return invalid("image: " + checked.error().message());

  Pipeline pipeline(context, slots_, tails_);
  return pipeline.run(
      *model, "", target.top_k, request->return_logits(),
      [&]() -> Result<Decoded> {
        auto tensor = decode_image(reinterpret_cast<const uint8_t*>(request->image().data()),
                                   request->image().size(), model->entry.preprocessing);
        if (!tensor.ok()) return tensor.error().with_context("image");
        return Decoded{std::move(*tensor)};
      },
      response);
}

Status InferenceService::Describe(grpc::ServerContext* context, const disc::v1::DescribeRequest*,
                                  disc::v1::DescribeResponse* response) {
  if (Status s = check_bearer_token(*context, limits_.token); !s.ok()) return s;
  for (const auto& model : models_.models()) {
    auto* m = response->add_models();
    m->set_name(model->entry.name);
    m->set_dataset(model->entry.dataset);
    m->mutable_input_shape()->Add(model->entry.input_shape.begin(), model->entry.input_shape.end());
    m->set_classes(model->entry.classes);
    for (const CutPoint& cut : model->onnx.cuts()) {
      auto* c = m->add_cuts();
      c->set_tensor(cut.tensor);
      c->set_node(cut.node);
      c->set_op_type(cut.op_type);
      c->mutable_shape()->Add(cut.shape.begin(), cut.shape.end());
      c->set_fp32_bytes(cut.fp32_bytes());
    }
  }
  for (const CodecInfo& codec : codec_list()) {
    auto* c = response->add_codecs();
    c->set_id(static_cast<uint32_t>(codec.id));
    c->set_name(codec.name);
    c->set_lossless(codec.lossless);
    c->set_summary(codec.summary);
  }
  response->set_max_message_bytes(limits_.max_message_bytes);
  return Status::OK;
}

}  // namespace disc::net
