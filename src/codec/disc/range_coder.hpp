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

// p0 after coding `bit`: moves 1/32 of the way towards 0 (bit 1) or kProbOne (bit 0).
inline uint16_t adapt(uint16_t p0, int bit) {
  return static_cast<uint16_t>(bit ? p0 - (p0 >> kAdaptShift) : p0 + ((kProbOne - p0) >> kAdaptShift));
}

class RangeEncoder {
 public:
  explicit RangeEncoder(std::vector<uint8_t>* out) : out_(out) {}

  // Branch-free apart from renormalization: the encoder already knows `value`, and a branch on
  // it is as unpredictable as the data. (The decoder keeps its branch: the code after a bit
  // depends on it anyway, and the branch lets that code start before the bit is computed.)
  int bit(BitModel& m, int value) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0;
    low_ += value ? bound : 0;
    range_ = value ? range_ - bound : bound;
    m.p0 = adapt(m.p0, value);
    // One shift suffices: range_ >= 2^24 before the bit and each symbol keeps at least 31/2048 of it.
    if (range_ < kTopValue) {
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
  // Carry propagation: a byte is held in cache_ (followed by cache_size_-1 pending 0xFF bytes)
  // until it is known that no later carry can change it. Inline so that the coder's state
  // can stay in registers in the coding loops.
  void shift_low() {
    if (low_ < 0xFF000000u || low_ > 0xFFFFFFFFu) {
      const uint8_t carry = static_cast<uint8_t>(low_ >> 32);
      uint8_t byte = cache_;
      do {
        out_->push_back(static_cast<uint8_t>(byte + carry));
        byte = 0xFF;
      } while (--cache_size_ != 0);
      cache_ = static_cast<uint8_t>(low_ >> 24);
    }
    ++cache_size_;
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }

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
      value = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      value = 1;
    }
    m.p0 = adapt(m.p0, value);
    if (range_ < kTopValue) {  // once at most, as in RangeEncoder::bit
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
