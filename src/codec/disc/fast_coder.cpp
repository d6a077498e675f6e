#include "codec/disc/fast_coder.hpp"
#include "codec/zstd_frame.hpp"

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <string>

namespace disc::codec_disc {
namespace {

constexpr int kZstdLevel = 1;

// Level codes: the level itself if unsigned, else zig-zag (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...).
int largest_code(const Quantizer& q) { return q.is_signed ? 2 * q.max_level : q.max_level; }
int decode_level(const Quantizer& q, int code) {
  if (!q.is_signed) return code;
  return code & 1 ? -(code + 1) / 2 : code / 2;
}

// Codes of at most 15 are packed two per byte, first element in the low nibble.
bool packs_nibbles(const Quantizer& q) { return largest_code(q) <= 15; }
size_t packed_size(const Quantizer& q, size_t count) { return packs_nibbles(q) ? (count + 1) / 2 : count; }

struct ContextDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

}  // namespace

Status encode_fast(const Quantizer& quantizer, std::span<const float> values, std::vector<uint8_t>* out) {
  std::vector<uint8_t> codes(values.size() + 1, 0);
  if (quantizer.is_signed) {
    for (size_t i = 0; i < values.size(); ++i) {
      const int magnitude = quantizer.magnitude(values[i]);
      codes[i] = static_cast<uint8_t>(2 * magnitude - ((values[i] < 0) & (magnitude != 0)));
    }
  } else {
    for (size_t i = 0; i < values.size(); ++i) codes[i] = static_cast<uint8_t>(quantizer.magnitude(values[i]));
  }
  const size_t packed = packed_size(quantizer, values.size());
  if (packs_nibbles(quantizer))
    for (size_t i = 0; i < packed; ++i) codes[i] = static_cast<uint8_t>(codes[2 * i] | codes[2 * i + 1] << 4);
  thread_local std::unique_ptr<ZSTD_CCtx, ContextDeleter> context(ZSTD_createCCtx());
  if (!context) return Error("zstd: cannot allocate a compression context", ErrorCode::kResourceExhausted);
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(packed));
  const size_t n =
      ZSTD_compressCCtx(context.get(), out->data() + start, out->size() - start, codes.data(), packed, kZstdLevel);
  if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n), ErrorCode::kInternal);
  out->resize(start + n);
  return Status();
}

Status check_fast(std::span<const uint8_t> in, const Quantizer& quantizer, size_t count) {
  return check_zstd_frame(in, packed_size(quantizer, count));
}

Status decode_fast(std::span<const uint8_t> in, const Quantizer& quantizer, std::span<float> values) {
  // No second buffer: the packed codes (at most one byte per value) go to the first bytes of
  // the values' own storage and are expanded from the last value back. Value i occupies bytes
  // 4i..4i+3, at or after the byte holding its code (i, or i/2 for nibbles), so it only
  // overwrites codes already expanded; each code byte is read before its values are written.
  const size_t packed = packed_size(quantizer, values.size());
  const std::span<uint8_t> bytes(reinterpret_cast<uint8_t*>(values.data()), packed);
  DISC_RETURN_IF_ERROR(zstd_decompress_frame(in, bytes));
  const int largest = largest_code(quantizer);
  if (packs_nibbles(quantizer)) {
    for (const uint8_t b : bytes)
      if ((b & 15) > largest || (b >> 4) > largest) return Error("level code exceeds " + std::to_string(largest));
    if (values.size() % 2 && bytes.back() >> 4) return Error("padding nibble is not 0");
    float table[16] = {};  // codes above `largest` were rejected above
    for (int c = 0; c <= largest; ++c) table[c] = quantizer.value(decode_level(quantizer, c));
    if (values.size() % 2) {
      const uint8_t b = bytes.back();
      values.back() = table[b & 15];
    }
    for (size_t i = values.size() / 2; i-- > 0;) {
      const uint8_t b = bytes[i];
      values[2 * i + 1] = table[b >> 4];
      values[2 * i] = table[b & 15];
    }
    return Status();
  }
  if (!bytes.empty() && *std::max_element(bytes.begin(), bytes.end()) > largest)
    return Error("level code exceeds " + std::to_string(largest));
  float table[256] = {};
  for (int c = 0; c <= largest; ++c) table[c] = quantizer.value(decode_level(quantizer, c));
  for (size_t i = values.size(); i-- > 0;) {
    const uint8_t b = bytes[i];
    values[i] = table[b];
  }
  return Status();
}

}  // namespace disc::codec_disc
