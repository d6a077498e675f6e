#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <algorithm>

#include "address.hpp"
#include "auth.hpp"
#include "disc/server.hpp"
#include "inference_service.hpp"
#include "pem_file.hpp"

namespace disc {

struct InferenceServer::Impl {
  std::unique_ptr<net::InferenceService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

namespace {

Result<std::shared_ptr<grpc::ServerCredentials>> server_credentials(const ServerOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Error("TLS needs both a certificate and a key");
  if (options.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  DISC_ASSIGN_OR_RETURN(auto cert, net::read_pem_file(options.tls_cert_file, "TLS certificate"));
  DISC_ASSIGN_OR_RETURN(auto key, net::read_pem_file(options.tls_key_file, "TLS key"));
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

Result<std::unique_ptr<InferenceServer>> InferenceServer::start(const ServerOptions& options) {
  if (options.workers < 1) return Error("workers must be at least 1");
  if (options.chunked_timeout_ms < 1) return Error("chunked timeout must be at least 1 ms");
  if (options.max_connection_age_ms < 1) return Error("max connection age must be at least 1 ms");
  if (options.max_message_bytes < 1 || options.max_message_bytes > static_cast<size_t>(INT32_MAX))
    return Error("max message bytes must be in 1..2^31-1");
  DISC_RETURN_IF_ERROR(net::check_host_port(options.listen, net::PortZero::allowed));
  DISC_RETURN_IF_ERROR(net::check_token(options.token));
  DISC_ASSIGN_OR_RETURN(auto credentials, server_credentials(options));
  DISC_ASSIGN_OR_RETURN(net::ModelStore models, net::ModelStore::load(options.assets_dir, options.models));

  // Waiting requests hold only memory: bound them, and chunked calls (a partly assembled map each).
  const size_t max_queued = options.max_queued > 0 ? options.max_queued : std::max(64, 8 * options.workers);
  auto impl = std::make_unique<Impl>();
  impl->service = std::make_unique<net::InferenceService>(
      std::move(models),
      net::ServiceLimits{options.workers, max_queued, options.max_message_bytes, options.token,
                         std::chrono::milliseconds(options.chunked_timeout_ms), std::max(32, 4 * options.workers)});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &impl->port);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a busy port and take
  // half of its connections; a busy port must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, options.max_connection_age_ms);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, options.chunked_timeout_ms);
  builder.RegisterService(impl->service.get());
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    const std::string reason = net::listen_failure_reason(options.listen);
    return Error("cannot listen on " + options.listen + ": " +
                 (reason.empty() ? "gRPC did not start (its own log line says why)" : reason));
  }
  return std::unique_ptr<InferenceServer>(new InferenceServer(std::move(impl)));
}

InferenceServer::InferenceServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

InferenceServer::~InferenceServer() {
  impl_->server->Shutdown(std::chrono::system_clock::now());
  impl_->server->Wait();
}

int InferenceServer::port() const { return impl_->port; }

void InferenceServer::shutdown(std::chrono::milliseconds grace) {
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
}

void InferenceServer::wait() { impl_->server->Wait(); }

}  // namespace disc
