// Shared bearer-token authentication: the client sends "authorization: Bearer <token>",
// the server compares it in constant time.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>

#include "disc/status.hpp"

namespace disc::net {

// A token must be printable ASCII (0x20..0x7E): gRPC aborts the process on a call whose
// metadata holds anything else, such as the line end that reading a token from a file keeps.
Status check_token(const std::string& token);

// OK when `token` is empty (auth off) or the request carries exactly that bearer token.
grpc::Status check_bearer_token(const grpc::ServerContextBase& context, const std::string& token);

// Adds the token to an outgoing call; no-op for an empty token.
void attach_bearer_token(grpc::ClientContext& context, const std::string& token);

}  // namespace disc::net
