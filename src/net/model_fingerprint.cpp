#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <memory>

#include "disc/edge_client.hpp"
#include "model_fingerprint.hpp"

namespace disc {

Result<std::string> model_file_sha256(const std::string& path) {
  const std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) return Error("cannot open '" + path + "'");
  const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> sha(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!sha || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1) return Error("SHA-256 is not available");
  std::array<unsigned char, 1 << 16> buffer;
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0;)
    if (EVP_DigestUpdate(sha.get(), buffer.data(), n) != 1) return Error("SHA-256 of '" + path + "' failed");
  if (std::ferror(file.get())) return Error("cannot read '" + path + "'");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(sha.get(), digest.data(), &length) != 1 || length != 32)
    return Error("SHA-256 of '" + path + "' failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

uint64_t model_fingerprint(const std::string& sha256) {
  uint64_t fingerprint = 0;
  if (sha256.size() >= 16) std::from_chars(sha256.data(), sha256.data() + 16, fingerprint, 16);
  return fingerprint;
}

namespace net {

Result<std::string> entry_file_sha256(const ModelEntry& entry) {
  DISC_ASSIGN_OR_RETURN(std::string sha256, model_file_sha256(entry.path));
  if (!entry.sha256.empty() && entry.sha256 != sha256)
    return Error(entry.name + ": the SHA-256 of " + entry.path + " is " + sha256 + ", but models.json gives " +
                 entry.sha256 + " (is this the file the entry describes?)");
  return sha256;
}

}  // namespace net
}  // namespace disc
