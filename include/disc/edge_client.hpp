// The edge side of the gRPC runtime: sends DISC streams (or whole images) to one or
// more inference servers and measures every request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "disc/codec.hpp"
#include "disc/model.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

// The SHA-256 of a model's ONNX file, as 64 lowercase hex digits (models.json's
// "sha256"): what tells an edge and a server whether they hold the same model.
Result<std::string> model_file_sha256(const std::string& path);
// The first 64 bits of a SHA-256 given as 64 hex digits: the model_fingerprint requests carry
// (proto/disc/v1/inference.proto); 0 (no check) for anything else.
uint64_t model_fingerprint(const std::string& sha256);

// A model as the edge names it to the server: its models.json name and the SHA-256 of the edge's
// ONNX file for it (model_file_sha256). A server whose file for `name` differs refuses the
// request with kFailedPrecondition rather than run the tail of another model on this head's
// output; an empty sha256 skips that check, which a bare name has to ask for explicitly.
struct ModelRef {
  explicit ModelRef(std::string model_name) : name(std::move(model_name)) {}
  ModelRef(std::string model_name, std::string file_sha256)
      : name(std::move(model_name)), sha256(std::move(file_sha256)) {}
  std::string name;
  std::string sha256;
};

struct ClientOptions {
  // host:port of each server; with several, requests are balanced round robin and every
  // address must be a numeric IPv4 address.
  std::vector<std::string> servers;
  int deadline_ms = 30000;  // per attempt
  // Further attempts after UNAVAILABLE (0..kMaxRetries), with doubling backoff; none after the
  // server refused a request for load ("server busy"), which had already crossed the link.
  int retries = 2;
  // Wait before the first retry (0..kMaxBackoffMs); it doubles up to kMaxBackoffMs. Each wait is
  // drawn from half to one and a half times that.
  int backoff_ms = 100;
  std::string tls_ca_file;  // PEM roots; TLS is on when given
  // Sent as "authorization: Bearer <token>" when non-empty: printable ASCII (0x20..0x7E;
  // connect() refuses a line end left from reading a file).
  std::string token;
  static constexpr int kMaxRetries = 100;
  static constexpr int kMaxBackoffMs = 10000;
};

// Seconds the server reports for one request (see ServerTiming in the proto).
struct ServerTiming {
  double queue = 0;
  double decode = 0;
  double tail = 0;
  double total = 0;
  double receive = 0;  // chunked requests: the transfer the server overlapped with decoding
};

struct RemoteAnswer {
  std::vector<Prediction> top;
  std::vector<float> logits;  // only if requested
  std::string codec;          // the codec spec the server read from the stream header
  ServerTiming server;
  size_t request_bytes = 0;   // serialized request message, i.e. what crossed the link
  double round_trip_seconds = 0;  // of the successful attempt
  int attempts = 0;
  // Time on the wire and in the gRPC stacks: round trip minus the server's own total, plus
  // (chunked) the part of the transfer the server spent receiving later chunks.
  double transfer_seconds() const {
    const double t = round_trip_seconds - server.total + server.receive;
    return t > 0 ? t : 0;
  }
};

struct RemoteCut {
  std::string tensor;
  std::string node;
  std::string op_type;
  Shape shape;
  uint64_t fp32_bytes = 0;
};

struct RemoteModel {
  std::string name;
  std::string dataset;
  Shape input_shape;
  int classes = 0;
  std::vector<RemoteCut> cuts;
  std::string sha256;  // of the server's ONNX file for it
};

struct RemoteCodec {
  uint32_t id = 0;
  std::string name;
  bool lossless = false;
};

struct ServerDescription {
  std::vector<RemoteModel> models;
  std::vector<RemoteCodec> codecs;
  uint64_t max_message_bytes = 0;
};

// A failed call's Error has the call's gRPC code as code() (kUnavailable: no server answered
// after every retry, or the server refused the request for load; kDeadlineExceeded: an attempt ran out of time; kInvalidArgument,
// kNotFound: the server refused the request; kFailedPrecondition: the server's model file is not
// the ModelRef's; kUnauthenticated: the token), and its message
// starts "<rpc>: <GRPC_CODE>" ("Infer: NOT_FOUND from server 127.0.0.1:50051: unknown model
// 'x'", "Infer: UNAVAILABLE: server ... unavailable (...) after 3 attempts"). connect() and the
// infer calls refuse bad arguments (a ModelRef sha256 that is not 64 hex digits, no chunk) with
// kInvalidArgument before anything is sent. `top_k` must be within 1..the model's outputs (the
// server refuses others with kInvalidArgument); 0 asks for the server's default, 5 (or every
// output if there are fewer). Thread-safe.
class EdgeClient {
 public:
  static Result<std::unique_ptr<EdgeClient>> connect(const ClientOptions& options);
  ~EdgeClient();

  Result<ServerDescription> describe();
  // Runs the tail of `model` after `cut` on the server; `stream` is a DISC stream.
  Result<RemoteAnswer> infer(const ModelRef& model, const std::string& cut, std::span<const uint8_t> stream,
                             int top_k, bool return_logits = false);
  // The same with the stream sent as `chunks` chunks (disc/chunks.hpp): `chunk(i)` makes
  // chunk i, in order, while the earlier ones are on the wire. Chunks are kept for retries,
  // so `chunk` runs once per index. An error from `chunk` (or an exception, as an Error)
  // cancels the call and is returned, naming the chunk counted from 1 ("chunk 3" for i = 2).
  // The server places chunk i at slab i of split_slabs(shape, chunks) (disc/chunks.hpp).
  using ChunkSource = std::function<Result<Bytes>(size_t index)>;
  Result<RemoteAnswer> infer_chunked(const ModelRef& model, const std::string& cut, size_t chunks,
                                     const ChunkSource& chunk, int top_k, bool return_logits = false);
  // Server-only: the server decodes `image` (an encoded file) and runs the whole model.
  Result<RemoteAnswer> infer_image(const ModelRef& model, std::span<const uint8_t> image, int top_k,
                                   bool return_logits = false);

 private:
  struct Impl;
  explicit EdgeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace disc
