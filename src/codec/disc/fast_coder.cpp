#include "codec/disc/fast_coder.hpp"

#include <zstd.h>

#include <algorithm>
#include <string>

namespace disc::codec_disc {
namespace {

constexpr int kZstdLevel = 1;

int unzigzag(uint8_t byte) { return byte & 1 ? -(byte + 1) / 2 : byte / 2; }

}  // namespace

Status encode_fast(const Quantizer& quantizer, std::span<const float> values, std::vector<uint8_t>* out) {
  std::vector<uint8_t> bytes(values.size());
  if (quantizer.is_signed) {
    for (size_t i = 0; i < values.size(); ++i) {
      const int magnitude = quantizer.magnitude(values[i]);
      bytes[i] = static_cast<uint8_t>(2 * magnitude - ((values[i] < 0) & (magnitude != 0)));
    }
  } else {
    for (size_t i = 0; i < values.size(); ++i) bytes[i] = static_cast<uint8_t>(quantizer.magnitude(values[i]));
  }
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(bytes.size()));
  const size_t n = ZSTD_compress(out->data() + start, out->size() - start, bytes.data(), bytes.size(), kZstdLevel);
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  out->resize(start + n);
  return Status();
}

Status decode_fast(std::span<const uint8_t> in, const Quantizer& quantizer, std::span<float> values) {
  if (ZSTD_getFrameContentSize(in.data(), in.size()) != values.size())
    return Error("zstd frame does not hold the " + std::to_string(values.size()) + " levels the shape needs");
  std::vector<uint8_t> bytes(values.size());
  const size_t n = ZSTD_decompress(bytes.data(), bytes.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != bytes.size()) return Error("zstd frame decoded to " + std::to_string(n) + " bytes");
  const int largest = quantizer.is_signed ? 2 * quantizer.max_level : quantizer.max_level;
  if (!bytes.empty() && *std::max_element(bytes.begin(), bytes.end()) > largest)
    return Error("level byte exceeds " + std::to_string(largest));
  float table[256];
  for (int b = 0; b < 256; ++b) table[b] = quantizer.value(quantizer.is_signed ? unzigzag(static_cast<uint8_t>(b)) : b);
  for (size_t i = 0; i < values.size(); ++i) values[i] = table[bytes[i]];
  return Status();
}

}  // namespace disc::codec_disc
