#include "disc/edge_client.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <random>
#include <thread>

#include "address.hpp"
#include "auth.hpp"
#include "disc/timing.hpp"
#include "disc/v1/inference.grpc.pb.h"
#include "pem_file.hpp"
#include "server_busy.hpp"

namespace disc {
namespace {

// Requests can be large (raw fp32 feature maps); answers carry at most the logits.
constexpr int kMaxMessageBytes = INT32_MAX;
constexpr int kReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1000;

Result<std::string> channel_target(const std::vector<std::string>& servers) {
  if (servers.empty()) return Error("no server address");
  for (const std::string& s : servers) DISC_RETURN_IF_ERROR(net::check_host_port(s, net::PortZero::refused));
  if (servers.size() == 1) return servers.front();
  std::string target = "ipv4:";
  for (size_t i = 0; i < servers.size(); ++i) {
    const std::string& s = servers[i];
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || s.find_first_not_of("0123456789.") != colon)
      return Error("load balancing needs numeric IPv4 host:port addresses, got '" + s + "'");
    target += (i ? "," : "") + s;
  }
  return target;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials(const ClientOptions& options) {
  if (options.tls_ca_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  DISC_ASSIGN_OR_RETURN(ssl.pem_root_certs, net::read_pem_file(options.tls_ca_file, "TLS CA file"));
  return grpc::SslCredentials(ssl);
}

// The error of a failed call after `attempts` attempts, with the call's gRPC code and, for
// the two limits the caller sets, which option it was.
Error call_error(const char* rpc, const grpc::Status& status, const std::string& target, int attempts,
                 const ClientOptions& options) {
  const int raw = status.error_code();
  const ErrorCode code = raw >= 1 && raw <= 16 ? static_cast<ErrorCode>(raw) : ErrorCode::kUnknown;
  std::string message = std::string(rpc) + ": " + error_code_name(code);
  if (code == ErrorCode::kUnavailable)
    message += ": server " + target + " unavailable (" + status.error_message() + ")";
  else if (code == ErrorCode::kDeadlineExceeded)
    message += ": no answer from server " + target + " within the deadline of " + std::to_string(options.deadline_ms) +
               " ms (--deadline-ms)";
  else if (code == ErrorCode::kResourceExhausted)
    message += " from server " + target + ": " + status.error_message() +
               (std::string_view(rpc) == "Infer"  // one whole feature map
                    ? " (a message size limit, such as the server's --max-message-bytes: send the map in chunks, "
                      "`disc edge --chunks N`, or raise that limit)"
                    : " (a message size limit, such as the server's --max-message-bytes)");
  else
    message += " from server " + target + ": " + status.error_message();
  if (attempts > 1) message += " after " + std::to_string(attempts) + " attempts";
  return Error(message, code);
}

RemoteAnswer to_answer(const disc::v1::InferResponse& response) {
  RemoteAnswer answer;
  for (const auto& p : response.top()) answer.top.push_back({p.label(), p.probability(), p.name()});
  answer.logits.assign(response.logits().begin(), response.logits().end());
  answer.codec = response.codec();
  const auto& t = response.timing();
  answer.server = {t.queue_seconds(), t.decode_seconds(), t.tail_seconds(), t.total_seconds(), t.receive_seconds()};
  return answer;
}

Status check_options(const ClientOptions& options) {
  if (options.deadline_ms < 1) return Error("deadline must be at least 1 ms");
  if (options.retries < 0 || options.retries > ClientOptions::kMaxRetries)
    return Error("retries must be in 0.." + std::to_string(ClientOptions::kMaxRetries));
  if (options.backoff_ms < 0 || options.backoff_ms > ClientOptions::kMaxBackoffMs)
    return Error("backoff must be in 0.." + std::to_string(ClientOptions::kMaxBackoffMs) + " ms");
  return net::check_token(options.token);
}

Error invalid_argument(const Error& e) { return Error(e.message(), ErrorCode::kInvalidArgument); }

Status check_model_ref(const char* rpc, const ModelRef& model) {
  if (model.sha256.empty() || is_sha256_hex(model.sha256)) return Status();
  return Error(std::string(rpc) + ": the sha256 of model '" + model.name + "' must be 64 hex digits or empty",
               ErrorCode::kInvalidArgument);
}

// A wait drawn uniformly from [wait / 2, 3 wait / 2], so that clients refused together do not
// all come back at the same moment.
std::chrono::milliseconds jittered(std::chrono::milliseconds wait) {
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> draw(wait.count() / 2, wait.count() + wait.count() / 2);
  return std::chrono::milliseconds(draw(random));
}

}  // namespace

struct EdgeClient::Impl {
  ClientOptions options;
  std::string target;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<disc::v1::Inference::Stub> stub;

  // Calls `rpc` with a fresh context per attempt, retrying UNAVAILABLE with doubling, jittered
  // backoff, except the server's refusal for load (server_busy.hpp).
  // Returns the round trip of the successful attempt and the number of attempts.
  template <class Call>
  Result<std::pair<double, int>> call(const char* name, Call rpc) {
    int backoff_ms = options.backoff_ms;
    for (int attempt = 1;; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options.deadline_ms));
      net::attach_bearer_token(context, options.token);
      const Stopwatch round_trip;
      const grpc::Status status = rpc(&context);
      if (status.ok()) return std::make_pair(round_trip.seconds(), attempt);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE || attempt > options.retries ||
          context.GetServerTrailingMetadata().count(net::kServerBusyTrailer) > 0)
        return call_error(name, status, target, attempt, options);
      std::this_thread::sleep_for(jittered(std::chrono::milliseconds(backoff_ms)));
      backoff_ms = std::min(2 * backoff_ms, ClientOptions::kMaxBackoffMs);
    }
  }

  // An inference RPC (`method` of the stub) and what the answer and its transfer measured.
  template <class Request>
  Result<RemoteAnswer> inference(const char* name,
                                 grpc::Status (disc::v1::Inference::Stub::*method)(
                                     grpc::ClientContext*, const Request&, disc::v1::InferResponse*),
                                 const Request& request) {
    disc::v1::InferResponse response;
    DISC_ASSIGN_OR_RETURN(auto measured, call(name, [&](grpc::ClientContext* context) {
      response.Clear();
      return (stub.get()->*method)(context, request, &response);
    }));
    RemoteAnswer answer = to_answer(response);
    answer.request_bytes = request.ByteSizeLong();
    std::tie(answer.round_trip_seconds, answer.attempts) = measured;
    return answer;
  }
};

Result<std::unique_ptr<EdgeClient>> EdgeClient::connect(const ClientOptions& options) {
  if (Status valid = check_options(options); !valid.ok()) return invalid_argument(valid.error());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  Result<std::string> target = channel_target(options.servers);
  if (!target.ok()) return invalid_argument(target.error());
  impl->target = *target;
  Result<std::shared_ptr<grpc::ChannelCredentials>> credentials = channel_credentials(options);
  if (!credentials.ok()) return invalid_argument(credentials.error());
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  if (options.servers.size() > 1) args.SetLoadBalancingPolicyName("round_robin");
  // After a failed connection gRPC waits before the next attempt (by default up to 120 s),
  // and calls fail as UNAVAILABLE meanwhile: a server that comes back is to be found within
  // about a second (plus gRPC's 20 % jitter), by the retries and by an edge that probes the
  // link. (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is not a floor of this wait but the time a
  // connection attempt may take, 20 s; lowering it fails slow links.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  impl->channel = grpc::CreateCustomChannel(impl->target, *credentials, args);
  impl->stub = disc::v1::Inference::NewStub(impl->channel);
  return std::unique_ptr<EdgeClient>(new EdgeClient(std::move(impl)));
}

EdgeClient::EdgeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EdgeClient::~EdgeClient() = default;

Result<ServerDescription> EdgeClient::describe() {
  disc::v1::DescribeResponse response;
  DISC_RETURN_IF_ERROR(impl_->call("Describe", [&](grpc::ClientContext* context) {
    response.Clear();
    return impl_->stub->Describe(context, disc::v1::DescribeRequest(), &response);
  }));
  ServerDescription description;
  for (const auto& m : response.models()) {
    RemoteModel model{m.name(), m.dataset(), Shape(m.input_shape().begin(), m.input_shape().end()), m.classes(), {},
                      m.sha256()};
    for (const auto& c : m.cuts())
      model.cuts.push_back({c.tensor(), c.node(), c.op_type(), Shape(c.shape().begin(), c.shape().end()),
                            c.fp32_bytes()});
    description.models.push_back(std::move(model));
  }
  for (const auto& c : response.codecs()) description.codecs.push_back({c.id(), c.name(), c.lossless()});
  description.max_message_bytes = response.max_message_bytes();
  return description;
}

Result<RemoteAnswer> EdgeClient::infer(const ModelRef& model, const std::string& cut,
                                       std::span<const uint8_t> stream, int top_k, bool return_logits) {
  DISC_RETURN_IF_ERROR(check_model_ref("Infer", model));
  disc::v1::InferRequest request;
  request.set_model(model.name);
  request.set_model_fingerprint(model_fingerprint(model.sha256));
  request.set_cut(cut);
  request.set_stream(stream.data(), stream.size());
  request.set_top_k(top_k);
  request.set_return_logits(return_logits);
  return impl_->inference("Infer", &disc::v1::Inference::Stub::Infer, request);
}

Result<RemoteAnswer> EdgeClient::infer_chunked(const ModelRef& model, const std::string& cut, size_t chunks,
                                               const ChunkSource& chunk, int top_k, bool return_logits) {
  DISC_RETURN_IF_ERROR(check_model_ref("InferChunked", model));
  if (chunks == 0) return Error("InferChunked: no chunk to send", ErrorCode::kInvalidArgument);
  if (!chunk) return Error("InferChunked: no chunk source", ErrorCode::kInvalidArgument);
  // Message i, made on first use and kept for retries.
  std::vector<disc::v1::InferChunk> messages;
  const auto make = [&](size_t i) -> Status {
    const std::string which = "chunk " + std::to_string(i + 1);
    Result<Bytes> stream = Error("");
    try {
      stream = chunk(i);
    } catch (const std::exception& e) {
      return Error(which + ": the chunk source threw: " + e.what());
    } catch (...) {
      return Error(which + ": the chunk source threw");
    }
    if (!stream.ok()) return stream.error().with_context(which);
    disc::v1::InferChunk& message = messages.emplace_back();
    if (i == 0) {
      message.set_model(model.name);
      message.set_model_fingerprint(model_fingerprint(model.sha256));
      message.set_cut(cut);
      message.set_top_k(top_k);
      message.set_return_logits(return_logits);
    }
    message.set_stream(stream->data(), stream->size());
    return Status();
  };
  // The first chunk is made before the call starts: nothing is on the wire yet for its
  // encoding to overlap, so it must not count as transfer.
  DISC_RETURN_IF_ERROR(make(0));
  std::optional<Error> source_error;
  disc::v1::InferResponse response;
  auto measured = impl_->call("InferChunked", [&](grpc::ClientContext* context) {
    response.Clear();
    auto writer = impl_->stub->InferChunked(context, &response);
    for (size_t i = 0; i < chunks; ++i) {
      if (i == messages.size()) {
        if (Status made = make(i); !made.ok()) {
          source_error = made.error();
          context->TryCancel();
          break;
        }
      }
      // A failed write means the call is over; Finish() says why.
      if (!writer->Write(messages[i])) break;
    }
    writer->WritesDone();
    return writer->Finish();
  });
  if (source_error) return *source_error;
  if (!measured.ok()) return measured.error();
  RemoteAnswer answer = to_answer(response);
  for (const auto& message : messages) answer.request_bytes += message.ByteSizeLong();
  std::tie(answer.round_trip_seconds, answer.attempts) = *measured;
  return answer;
}

Result<RemoteAnswer> EdgeClient::infer_image(const ModelRef& model, std::span<const uint8_t> image, int top_k,
                                             bool return_logits) {
  DISC_RETURN_IF_ERROR(check_model_ref("InferImage", model));
  disc::v1::InferImageRequest request;
  request.set_model(model.name);
  request.set_model_fingerprint(model_fingerprint(model.sha256));
  request.set_image(image.data(), image.size());
  request.set_top_k(top_k);
  request.set_return_logits(return_logits);
  return impl_->inference("InferImage", &disc::v1::Inference::Stub::InferImage, request);
}

}  // namespace disc
