#include "model_fingerprint.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include "disc/edge_client.hpp"
#include "disc/npy.hpp"

namespace disc {
namespace {

// Protobuf reads no message beyond 2 GiB; read_file's default limit is for tensors.
constexpr size_t kMaxModelBytes = std::numeric_limits<int>::max();

Result<std::string> sha256_hex(std::span<const uint8_t> bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 || length != 32)
    return Error("SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace

Result<std::string> model_file_sha256(const std::string& path) {
  DISC_ASSIGN_OR_RETURN(const Bytes bytes, read_file(path, kMaxModelBytes));
  return sha256_hex(bytes);
}

uint64_t model_fingerprint(const std::string& sha256) {
  uint64_t fingerprint = 0;
  if (is_sha256_hex(sha256)) std::from_chars(sha256.data(), sha256.data() + 16, fingerprint, 16);
  return fingerprint;
}

namespace net {
namespace {

// An Error naming both digests if models.json gives `entry` a digest other than `sha256`.
Status check_declared_sha256(const ModelEntry& entry, const std::string& sha256) {
  const auto same_digit = [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; };
  if (entry.sha256.empty() || std::equal(entry.sha256.begin(), entry.sha256.end(), sha256.begin(), sha256.end(), same_digit))
    return Status();
  return Error(entry.name + ": the SHA-256 of " + entry.path + " is " + sha256 + ", but models.json gives " +
               entry.sha256 + " (is this the file the entry describes?)");
}

}  // namespace

Result<IdentifiedModel> load_identified_model(const ModelEntry& entry) {
  DISC_ASSIGN_OR_RETURN(const Bytes bytes, read_file(entry.path, kMaxModelBytes));
  DISC_ASSIGN_OR_RETURN(std::string sha256, sha256_hex(bytes));
  DISC_RETURN_IF_ERROR(check_declared_sha256(entry, sha256));
  auto onnx = OnnxModel::load_bytes(bytes.data(), bytes.size(), entry.input_shape);
  if (!onnx.ok()) return onnx.error().with_context(entry.path);
  return IdentifiedModel{std::move(onnx).value(), std::move(sha256)};
}

Result<std::string> entry_file_sha256(const ModelEntry& entry) {
  DISC_ASSIGN_OR_RETURN(std::string sha256, model_file_sha256(entry.path));
  DISC_RETURN_IF_ERROR(check_declared_sha256(entry, sha256));
  return sha256;
}

}  // namespace net
}  // namespace disc
