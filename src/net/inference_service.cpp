#include "inference_service.hpp"

#include <fmt/format.h>
#include <grpcpp/alarm.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>

#include "auth.hpp"
#include "server_busy.hpp"
#include "disc/chunks.hpp"
#include "disc/codec.hpp"
#include "disc/timing.hpp"

namespace disc::net {
namespace {

using grpc::Status;
using grpc::StatusCode;
using Clock = std::chrono::steady_clock;

constexpr int kDefaultTopK = 5;

// A status message quotes request fields (model and cut names); gRPC sends it as a trailer,
// which a long one would push past the peer's metadata limit (the client would then see
// RESOURCE_EXHAUSTED instead of this status).
std::string bounded(const std::string& message) {
  constexpr size_t kMaxMessage = 1000;
  return message.size() <= kMaxMessage ? message : message.substr(0, kMaxMessage) + "... (cut short)";
}

Status invalid(const std::string& message) { return {StatusCode::INVALID_ARGUMENT, bounded(message)}; }

// A refusal for load (server_busy.hpp). Before Finish, from the thread that finishes the call.
Status busy(grpc::CallbackServerContext* context, const std::string& why) {
  context->AddTrailingMetadata(kServerBusyTrailer, "1");
  return {StatusCode::UNAVAILABLE, "server busy: " + why + "; retry later"};
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Result<int> checked_top_k(int requested, const ServedModel& model) {
  const int classes = std::max(1, model.entry.classes);
  if (requested == 0) return std::min(kDefaultTopK, classes);
  if (requested < 0 || requested > classes)
    return Error("top_k " + std::to_string(requested) + " outside 1.." + std::to_string(classes));
  return requested;
}

Status finite(const Tensor& tensor) {
  const auto values = tensor.values();
  if (!std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }))
    return invalid("stream: the feature map holds NaN or infinity");
  return Status::OK;
}

// A job's decode step that times itself; its error gets `what` as context.
template <class DecodeFn>
std::function<Result<InferenceService::Decoded>()> timed_decode(const char* what, DecodeFn decode) {
  return [what, decode = std::move(decode)]() -> Result<InferenceService::Decoded> {
    const Stopwatch decoding;
    Result<Tensor> tensor = decode();
    if (!tensor.ok()) return tensor.error().with_context(what);
    return InferenceService::Decoded{std::move(*tensor), decoding.seconds()};
  };
}

// Ends a unary call with `status` when it is not OK; whether the handler goes on.
bool proceed(grpc::ServerUnaryReactor* reactor, const Status& status) {
  if (!status.ok()) reactor->Finish(status);
  return status.ok();
}

}  // namespace

// An InferChunked call. Each chunk is decoded into place by a worker while the next one is on
// the wire (the next read starts when the decode is done, so a fast sender waits for the
// workers); after the last chunk the tail is queued for a worker.
//
// Lifetime: the context is valid until OnDone, which gRPC runs once after Finish, and OnDone
// deletes the object. The time-limit alarm runs its callback exactly once (fired, or cancelled
// by `finish`), and may cancel the context from there; so Finish waits for that callback, and
// whichever of `finish` and the callback comes second calls it.
class InferenceService::ChunkedCall final : public grpc::ServerReadReactor<disc::v1::InferChunk> {
 public:
  ChunkedCall(InferenceService& service, grpc::CallbackServerContext* context, disc::v1::InferResponse* response)
      : service_(service), context_(context), response_(response) {
    if (Status s = check_bearer_token(*context, service.limits_.token); !s.ok()) {
      finish(s);
      return;
    }
    if (++service_.chunked_calls_ > service_.limits_.max_chunked_calls) {
      --service_.chunked_calls_;
      finish(busy(context, std::to_string(service_.limits_.max_chunked_calls) +
                               " chunked calls are in progress, the most it takes"));
      return;
    }
    counted_ = true;
    alarm_set_ = true;
    alarm_done_ = false;
    alarm_.Set(std::chrono::system_clock::now() + service_.limits_.chunked_timeout,
               [this](bool fired) { on_alarm(fired); });
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return on_end_of_stream();
    if (!assembler_) {
      if (Status s = start(); !s.ok()) return finish(s);
      receiving_since_ = Clock::now();
    }
    if (!service_.queue_.submit([this] { decode_chunk(); })) finish(service_.queue_full(context_));
  }

  void OnDone() override {
    if (counted_) --service_.chunked_calls_;
    delete this;
  }

 private:
  // The first chunk names the model and cut.
  Status start() {
    if (Status s = service_.resolve(chunk_, target_); !s.ok()) return s;
    auto cut = target_.model->onnx.find_cut(chunk_.cut());
    if (!cut.ok()) return invalid(cut.error().message());
    auto assembler = ChunkAssembler::create(cut->shape);
    if (!assembler.ok()) return invalid(assembler.error().message());
    cut_ = cut->tensor;
    return_logits_ = chunk_.return_logits();
    assembler_.emplace(std::move(assembler).value());
    return Status::OK;
  }

  // On a worker.
  void decode_chunk() {
    // The client sees CANCELLED whatever status follows a cancellation (the time limit's too).
    if (context_->IsCancelled()) return finish({StatusCode::CANCELLED, "cancelled while sending"});
    const Stopwatch decoding;
    disc::Status added;
    try {
      const auto& bytes = chunk_.stream();
      added = assembler_->add({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    } catch (const std::exception& e) {
      return finish({StatusCode::INTERNAL, bounded(e.what())});
    }
    decode_seconds_ += decoding.seconds();
    if (!added.ok()) return finish(invalid(added.error().with_context("stream").message()));
    StartRead(&chunk_);
  }

  void on_end_of_stream() {
    if (context_->IsCancelled()) return finish({StatusCode::CANCELLED, "cancelled while sending"});
    if (!assembler_) return finish(invalid("no chunk: the request stream was empty"));
    alarm_.Cancel();  // every chunk is in: the time limit no longer applies
    const double receive_seconds = seconds_since(receiving_since_);
    response_->set_codec(assembler_->first_codec().to_string());
    auto assemble = [this, receive_seconds]() -> Result<Decoded> {
      const Stopwatch assembling;
      auto tensor = std::move(*assembler_).finish();
      if (!tensor.ok()) return tensor.error().with_context("stream");
      return Decoded{std::move(*tensor), decode_seconds_ + assembling.seconds(), receive_seconds};
    };
    service_.submit({context_, target_, cut_, return_logits_, assemble, response_,
                     [this](const Status& status) { finish(status); }, started_});
  }

  // Every path of the call ends here, exactly once.
  void finish(const Status& status) {
    if (alarm_set_) alarm_.Cancel();  // no effect once it has fired
    {
      const std::lock_guard lock(mutex_);
      if (!alarm_done_) {
        pending_ = status;
        return;
      }
    }
    Finish(status);
  }

  void on_alarm(bool fired) {
    // A pending read then fails and on_end_of_stream finishes the call; a chunk being decoded
    // finishes it after the decode.
    if (fired) context_->TryCancel();
    std::optional<Status> pending;
    {
      const std::lock_guard lock(mutex_);
      alarm_done_ = true;
      pending = pending_;
    }
    if (pending) Finish(*pending);
  }

  InferenceService& service_;
  grpc::CallbackServerContext* const context_;
  disc::v1::InferResponse* const response_;
  const Clock::time_point started_ = Clock::now();
  bool counted_ = false;  // in service_.chunked_calls_
  disc::v1::InferChunk chunk_;
  // Set from the first chunk.
  Target target_;
  std::string cut_;
  bool return_logits_ = false;
  std::optional<ChunkAssembler> assembler_;
  Clock::time_point receiving_since_;
  double decode_seconds_ = 0;

  grpc::Alarm alarm_;
  bool alarm_set_ = false;  // constant once the constructor returns
  std::mutex mutex_;
  bool alarm_done_ = true;         // guarded by mutex_ once the alarm is set
  std::optional<Status> pending_;  // guarded by mutex_: the status Finish waits to send
};

InferenceService::InferenceService(ModelStore models, const ServiceLimits& limits)
    : models_(std::move(models)), limits_(limits), queue_(std::max(1, limits.workers), limits.max_queued) {}

Status InferenceService::resolve(const std::string& model_name, uint64_t fingerprint, int top_k,
                                 Target& target) const {
  target.model = models_.find(model_name);
  if (!target.model) return {StatusCode::NOT_FOUND, bounded("unknown model '" + model_name + "'")};
  if (fingerprint != 0 && fingerprint != target.model->fingerprint)
    return {StatusCode::FAILED_PRECONDITION,
            bounded(fmt::format("model '{}' differs between edge and server: the SHA-256 of the edge's ONNX file "
                                "begins {:016x}, the server's {}",
                                model_name, fingerprint, target.model->sha256.substr(0, 16)))};
  auto k = checked_top_k(top_k, *target.model);
  if (!k.ok()) return invalid(k.error().message());
  target.top_k = *k;
  return Status::OK;
}

void InferenceService::submit(Job job) {
  const Clock::time_point queued = Clock::now();
  auto run = [this, job, queued] {
    Status status;
    if (job.context->IsCancelled()) {
      status = {StatusCode::CANCELLED, "client cancelled while queued"};
    } else if (job.context->deadline() <= std::chrono::system_clock::now()) {
      status = {StatusCode::DEADLINE_EXCEEDED, "deadline passed while queued for a worker"};
    } else {
      // Third-party code (OpenCV, protobuf) may throw; a request must never take the server down.
      try {
        status = compute(job, seconds_since(queued));
      } catch (const std::exception& e) {
        status = {StatusCode::INTERNAL, bounded(e.what())};
      }
    }
    job.finish(status);
  };
  if (!queue_.submit(run)) job.finish(queue_full(job.context));
}

Status InferenceService::queue_full(grpc::CallbackServerContext* context) const {
  return busy(context, std::to_string(queue_.capacity()) + " requests are waiting for a worker, the most it queues");
}

Status InferenceService::compute(const Job& job, double queue_seconds) {
  Result<Decoded> decoded = job.decode();
  if (!decoded.ok()) return invalid(decoded.error().message());
  if (Status s = finite(decoded->input); !s.ok()) return s;

  auto pool = tails_.get(*job.target.model, job.cut);
  if (!pool.ok()) return {StatusCode::INTERNAL, pool.error().message()};
  auto network = (*pool)->lease();
  if (!network.ok()) return {StatusCode::INTERNAL, network.error().message()};
  const Stopwatch tail;
  auto logits = (**network).run(decoded->input);
  if (!logits.ok())
    return logits.error().code() == ErrorCode::kInvalidArgument ? invalid(logits.error().message())
                                                                : Status(StatusCode::INTERNAL, logits.error().message());
  const double tail_seconds = tail.seconds();

  const ServedModel& model = *job.target.model;
  for (const Prediction& p : top_k(*logits, job.target.top_k, model.entry.label_offset, model.class_names)) {
    auto* out = job.response->add_top();
    out->set_label(p.label);
    out->set_probability(p.probability);
    out->set_name(p.name);
  }
  if (job.return_logits) job.response->mutable_logits()->Add(logits->values().begin(), logits->values().end());
  auto* timing = job.response->mutable_timing();
  timing->set_queue_seconds(queue_seconds);
  timing->set_decode_seconds(decoded->decode_seconds);
  timing->set_receive_seconds(decoded->receive_seconds);
  timing->set_tail_seconds(tail_seconds);
  timing->set_total_seconds(seconds_since(job.started));
  if (job.context->IsCancelled()) return {StatusCode::CANCELLED, "client cancelled"};
  return Status::OK;
}

grpc::ServerUnaryReactor* InferenceService::Infer(grpc::CallbackServerContext* context,
                                                  const disc::v1::InferRequest* request,
                                                  disc::v1::InferResponse* response) {
  const Clock::time_point started = Clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!proceed(reactor, check_bearer_token(*context, limits_.token))) return reactor;
  Target target;
  if (!proceed(reactor, resolve(*request, target))) return reactor;
  auto cut = target.model->onnx.find_cut(request->cut());
  if (!proceed(reactor, cut.ok() ? Status::OK : invalid(cut.error().message()))) return reactor;

  const std::span<const uint8_t> stream(reinterpret_cast<const uint8_t*>(request->stream().data()),
                                        request->stream().size());
  // On the worker, like all work proportional to the request's size (the header check reads the
  // whole stream for its checksum): a request the queue refuses costs the server nothing more.
  auto decode = [stream, cut = *cut, response]() -> Result<Tensor> {
    DecodeLimits decode_limits;
    decode_limits.max_elements = cut.elements;
    DISC_ASSIGN_OR_RETURN(StreamInfo header, inspect(stream, decode_limits));
    if (header.shape != cut.shape)
      return Error("shape " + shape_to_string(header.shape) + " differs from cut '" + cut.tensor + "' shape " +
                   shape_to_string(cut.shape));
    response->set_codec(header.spec.to_string());
    return decompress(stream, header);
  };
  submit({context, target, cut->tensor, request->return_logits(), timed_decode("stream", std::move(decode)), response,
          [reactor](const Status& status) { reactor->Finish(status); }, started});
  return reactor;
}

grpc::ServerReadReactor<disc::v1::InferChunk>* InferenceService::InferChunked(grpc::CallbackServerContext* context,
                                                                              disc::v1::InferResponse* response) {
  return new ChunkedCall(*this, context, response);
}

grpc::ServerUnaryReactor* InferenceService::InferImage(grpc::CallbackServerContext* context,
                                                       const disc::v1::InferImageRequest* request,
                                                       disc::v1::InferResponse* response) {
  const Clock::time_point started = Clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!proceed(reactor, check_bearer_token(*context, limits_.token))) return reactor;
  Target target;
  if (!proceed(reactor, resolve(*request, target))) return reactor;
  const std::string& image = request->image();
  if (!proceed(reactor, image.empty() ? invalid("image: empty") : Status::OK)) return reactor;
  // Before a worker: a decompression bomb is refused from its header.
  if (const disc::Status checked = check_upload_image(reinterpret_cast<const uint8_t*>(image.data()), image.size());
      !checked.ok()) {
    reactor->Finish(invalid("image: " + checked.error().message()));
    return reactor;
  }

  submit({context, target, "", request->return_logits(),
          timed_decode("image",
                       [&image, &preprocessing = target.model->entry.preprocessing] {
                         return decode_image(reinterpret_cast<const uint8_t*>(image.data()), image.size(),
                                             preprocessing);
                       }),
          response, [reactor](const Status& status) { reactor->Finish(status); }, started});
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::Describe(grpc::CallbackServerContext* context,
                                                     const disc::v1::DescribeRequest*,
                                                     disc::v1::DescribeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!proceed(reactor, check_bearer_token(*context, limits_.token))) return reactor;
  for (const auto& model : models_.models()) {
    auto* m = response->add_models();
    m->set_name(model->entry.name);
    m->set_sha256(model->sha256);
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
  reactor->Finish(Status::OK);
  return reactor;
}

}  // namespace disc::net
