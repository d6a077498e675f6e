#include "auth.hpp"

#include <cstdio>

namespace disc::net {
namespace {

constexpr char kHeader[] = "authorization";
constexpr char kScheme[] = "Bearer ";

// Equal-length comparison whose time does not depend on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Status check_token(const std::string& token) {
  for (size_t i = 0; i < token.size(); ++i) {
    const auto byte = static_cast<unsigned char>(token[i]);
    if (byte >= 0x20 && byte <= 0x7E) continue;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", byte);
    return Error("token: byte " + std::to_string(i) + " is " + hex +
                 (byte == '\n' || byte == '\r' ? " (a line end)" : "") +
                 "; a bearer token is printable ASCII (0x20..0x7E)");
  }
  return Status();
}

grpc::Status check_bearer_token(const grpc::ServerContextBase& context, const std::string& token) {
  if (token.empty()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find(kHeader);
  if (it == metadata.end()) return {grpc::StatusCode::UNAUTHENTICATED, "missing bearer token"};
  const std::string_view presented(it->second.data(), it->second.size());
  if (!constant_time_equal(presented, std::string(kScheme) + token))
    return {grpc::StatusCode::UNAUTHENTICATED, "wrong bearer token"};
  return grpc::Status::OK;
}

void attach_bearer_token(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata(kHeader, std::string(kScheme) + token);
}

}  // namespace disc::net
