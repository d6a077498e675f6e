// Adaptive binary range coder (LZMA-style): 32-bit range, 11-bit probabilities adapted by
// a shift of 5. Byte layout in doc/FORMAT.md ("disc entropy coder").
//
// Encoder and decoder expose the same `bit(model, value)` call so that one templated
// traversal describes both directions: the encoder codes `value` and returns it, the
// decoder ignores `value` and returns the decoded bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "disc/status.hpp"

namespace disc::codec_disc {

inline constexpr int kProbBits = 11;
inline constexpr uint32_t kProbOne = 1u << kProbBits;
inline constexpr int kAdaptShift = 5;
inline constexpr uint32_t kTopValue = 1u << 24;

// P(bit == 0) in units of 2^-11; always within [31, 2017], so neither symbol's share of
// the range can reach zero.
struct BitModel {
  uint16_t p0 = kProbOne / 2;
};

class RangeEncoder {
 public:
  explicit RangeEncoder(std::vector<uint8_t>* out) : out_(out) {}

  int bit(BitModel& m, int value) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0;
    if (value == 0) {
      range_ = bound;
      m.p0 = static_cast<uint16_t>(m.p0 + ((kProbOne - m.p0) >> kAdaptShift));
    } else {
      low_ += bound;
      range_ -= bound;
      m.p0 = static_cast<uint16_t>(m.p0 - (m.p0 >> kAdaptShift));
    }
    while (range_ < kTopValue) {
      range_ <<= 8;
      shift_low();
    }
    return value;
  }

  // Flushes the pending state; the output then ends exactly where the decoder stops reading.
  void finish();
  // Interface parity with RangeDecoder::overran().
  bool overran() const { return false; }

 private:
  void shift_low();

  std::vector<uint8_t>* out_;
  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  uint64_t cache_size_ = 1;
};

class RangeDecoder {
 public:
  // Reads the 5-byte preamble. Bytes past the end of `in` read as zero; overrun() reports it.
  explicit RangeDecoder(std::span<const uint8_t> in);

  int bit(BitModel& m, int /*ignored*/) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0;
    int value;
    if (code_ < bound) {
      range_ = bound;
      m.p0 = static_cast<uint16_t>(m.p0 + ((kProbOne - m.p0) >> kAdaptShift));
      value = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      m.p0 = static_cast<uint16_t>(m.p0 - (m.p0 >> kAdaptShift));
      value = 1;
    }
    while (range_ < kTopValue) {
      range_ <<= 8;
      code_ = (code_ << 8) | next_byte();
    }
    return value;
  }

  // True once a byte past the end was needed: a valid section never reads past its end,
  // so decoding can stop early.
  bool overran() const { return pos_ > in_.size(); }

  // Ok iff the first byte was 0 and the coded data ended exactly at the end of the input.
  Status finish() const;

 private:
  uint8_t next_byte() { return pos_ < in_.size() ? in_[pos_++] : (++pos_, 0); }

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  uint32_t code_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  bool bad_first_byte_ = false;
};

// For traversals templated on the coder: the encoder reads the values it codes, the
// decoder writes them.
template <class Coder>
constexpr bool kIsEncoder = std::is_same_v<Coder, RangeEncoder>;
template <class Coder, class T>
using CodedPointer = std::conditional_t<kIsEncoder<Coder>, const T*, T*>;

}  // namespace disc::codec_disc
