// The inference server: runs model tails for edge devices over gRPC
// (proto/disc/v1/inference.proto, doc/DESIGN.md "Runtime").
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "disc/status.hpp"

namespace disc {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port
  std::vector<std::string> models;     // models.json names served; at least one
  std::string assets_dir;              // holds models/models.json and data/
  int workers = 2;                     // requests computed at once; the others wait (within their deadline)
  size_t max_queued = 0;               // requests waiting for a worker; more get UNAVAILABLE ("server busy")
                                       // at once. 0: max(64, 8 x workers)
  size_t max_message_bytes = size_t{64} << 20;  // larger requests get RESOURCE_EXHAUSTED
  std::string tls_cert_file;           // PEM; TLS is on when both cert and key are given
  std::string tls_key_file;
  std::string token;                   // when non-empty, requests must carry "authorization: Bearer <token>";
                                       // printable ASCII (0x20..0x7E)
  // A chunked request (InferChunked) is cancelled unless all its chunks arrive within this
  // of its start, whatever deadline the client set: a stalled sender cannot hold its partly
  // assembled map longer.
  int chunked_timeout_ms = 30000;  // as the edge's default deadline
  // Connections are closed after about this long (gRPC's GOAWAY; clients reconnect on their next
  // call), and the calls in flight then get chunked_timeout_ms to finish. A request's message
  // reaches the handlers only when complete, so this is what bounds how long an upload that
  // stalls holds its partial message. 2147483647 (INT32_MAX): never.
  int max_connection_age_ms = 600000;
};

// shutdown() and wait() may be called from any thread, and more than once.
class InferenceServer {
 public:
  // Loads the models and starts serving; returns once the port is bound.
  static Result<std::unique_ptr<InferenceServer>> start(const ServerOptions& options);
  ~InferenceServer();

  int port() const;
  // Stops accepting requests; in-flight requests get `grace` to finish, then are cancelled.
  void shutdown(std::chrono::milliseconds grace);
  // Blocks until the server has shut down.
  void wait();

 private:
  struct Impl;
  explicit InferenceServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace disc
