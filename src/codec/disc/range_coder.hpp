// Adaptive binary range coder (LZMA-style): 32-bit range, 11-bit probabilities adapted by
// a shift of 5, or (Adaptation::kWarmUp) by faster shifts over each model's first updates.
// Byte layout in doc/FORMAT.md ("Range-coded section").
//
// Encoder and decoder expose the same `bit(model, value)` call so that one templated
// traversal describes both directions: the encoder codes `value` and returns it, the
// decoder ignores `value` and returns the decoded bit.
#pragma once

#include <algorithm>
#include <bit>
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
inline constexpr uint32_t kMinProb = 31;                // P(bit == 0) stays within [31, 2017] / 2048,
inline constexpr uint32_t kMaxProb = kProbOne - kMinProb;  // so one renormalization shift always suffices
inline constexpr uint32_t kWarmUpUpdates = 15;          // updates counted per model (4 bits)

// How models adapt. kFixed: every update moves P 1/32 of the way (LZMA). kWarmUp (disc flags
// bit 6): update n (0-based) moves it 2^-min(5, bit_width(n + 1)) of the way (1/2, 1/4, 1/4,
// 1/8 x 4, 1/16 x 8, then 1/32), roughly the running frequency, so that contexts seen only a
// few dozen times in a small map are not stuck near their initial 1/2.
enum class Adaptation : uint8_t { kFixed, kWarmUp };

// Bits 0..10: P(bit == 0) in units of 2^-11, always within [kMinProb, kMaxProb].
// Bits 11..14: updates so far, capped at kWarmUpUpdates.
struct BitModel {
  uint16_t state = kProbOne / 2;
  uint32_t p0() const { return state & (kProbOne - 1); }
};

// Shift of update n (0..kWarmUpUpdates) under each adaptation.
inline constexpr uint8_t kFixedShifts[kWarmUpUpdates + 1] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
inline constexpr uint8_t kWarmUpShifts[kWarmUpUpdates + 1] = {1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5};
static_assert([] {
  for (uint32_t n = 0; n <= kWarmUpUpdates; ++n)
    if (kFixedShifts[n] != kAdaptShift || kWarmUpShifts[n] != std::min<uint32_t>(kAdaptShift, std::bit_width(n + 1)))
      return false;
  return true;
}(), "the shifts doc/FORMAT.md specifies: 5, and min(5, bit_width(n + 1))");

inline const uint8_t* adaptation_shifts(Adaptation adaptation) {
  return adaptation == Adaptation::kWarmUp ? kWarmUpShifts : kFixedShifts;
}

// The model after coding `bit`: P moves towards 0 (bit 1) or kProbOne (bit 0) by the
// update's shift. P stays within [kMinProb, kMaxProb] without a clamp: the warm-up updates
// keep it within [105, 1943] whatever the bits, and a shift of 5 never leaves [31, 2017]
// (DiscRangeCoder tests in tests/codec/disc_codec_test.cpp check both exhaustively).
inline BitModel adapt(BitModel m, int bit, const uint8_t* shifts) {
  constexpr uint32_t kWarm = kWarmUpUpdates << kProbBits;
  const uint32_t p0 = m.p0();
  if (m.state >= kWarm) {  // the common case, with a constant shift: every table ends in 5
    const uint32_t p = bit ? p0 - (p0 >> kAdaptShift) : p0 + ((kProbOne - p0) >> kAdaptShift);
    return BitModel{static_cast<uint16_t>(kWarm | p)};
  }
  const uint32_t updates = m.state >> kProbBits;
  const int shift = shifts[updates];
  const uint32_t p = bit ? p0 - (p0 >> shift) : p0 + ((kProbOne - p0) >> shift);
  return BitModel{static_cast<uint16_t>(((updates + 1) << kProbBits) | p)};
}

class RangeEncoder {
 public:
  RangeEncoder(std::vector<uint8_t>* out, Adaptation adaptation)
      : out_(out), shifts_(adaptation_shifts(adaptation)) {}

  // Branch-free apart from renormalization: the encoder already knows `value`, and a branch on
  // it is as unpredictable as the data. (The decoder keeps its branch: the code after a bit
  // depends on it anyway, and the branch lets that code start before the bit is computed.)
  int bit(BitModel& m, int value) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0();
    low_ += value ? bound : 0;
    range_ = value ? range_ - bound : bound;
    m = adapt(m, value, shifts_);
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
  const uint8_t* shifts_;
  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  uint64_t cache_size_ = 1;
};

class RangeDecoder {
 public:
  // Reads the 5-byte preamble. Bytes past the end of `in` read as zero; overrun() reports it.
  RangeDecoder(std::span<const uint8_t> in, Adaptation adaptation);

  int bit(BitModel& m, int /*ignored*/) {
    const uint32_t bound = (range_ >> kProbBits) * m.p0();
    int value;
    if (code_ < bound) {
      range_ = bound;
      value = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      value = 1;
    }
    m = adapt(m, value, shifts_);
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
  const uint8_t* shifts_;
  size_t pos_ = 0;
  uint32_t code_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  bool bad_first_byte_ = false;
};

// The fewest bytes a range-coded section that decodes `bits` bits can have, whatever the
// bits and models: 5 + bits / 512. Invariant: `range` starts below 2^32 and is at least 2^24
// after every bit (renormalization included). A bit leaves at most kMaxProb / 2048 of it, plus
// 31 for the truncation in `bound` (bit 1: range - (range >> 11) * p0 with p0 >= kMinProb);
// as range >= 2^24, that is below 2017/2048 + 2^-19 < 2^(-1/64) of it. Each byte read after
// the first 5 multiplies it by 2^8, so after `bits` bits and R such bytes
// 2^24 <= range < 2^32 * 2^(-bits/64) * 2^(8R), i.e. R > bits/512 - 1, R >= floor(bits/512).
// A decoder checks it before allocating for a section that must decode at least `bits` bits.
inline uint64_t min_section_bytes(uint64_t bits) { return 5 + bits / 512; }

// For traversals templated on the coder: the encoder reads the values it codes, the
// decoder writes them.
template <class Coder>
constexpr bool kIsEncoder = std::is_same_v<Coder, RangeEncoder>;
template <class Coder, class T>
using CodedPointer = std::conditional_t<kIsEncoder<Coder>, const T*, T*>;

}  // namespace disc::codec_disc
