// Shared bearer-token authentication: the client sends "authorization: Bearer <token>",
// the server compares it in constant time.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>

namespace disc::net {

// OK when `token` is empty (auth off) or the request carries exactly that bearer token.
grpc::Status check_bearer_token(const grpc::ServerContext& context, const std::string& token);

// Adds the token to an outgoing call; no-op for an empty token.
void attach_bearer_token(grpc::ClientContext& context, const std::string& token);

}  // namespace disc::net
