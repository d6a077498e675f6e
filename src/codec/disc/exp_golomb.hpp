// Adaptive Exp-Golomb binarization of magnitudes, shared by the element-wise and the
// transform coders.
#pragma once

#include <bit>

#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {

// Models for magnitudes below 2^kMaxPrefix: `prefix` is one context set (callers keep
// several), `suffix[n][j]` codes bit j of an n-bit suffix.
template <int kMaxPrefix>
using PrefixModels = BitModel[kMaxPrefix];
template <int kMaxPrefix>
using SuffixModels = BitModel[kMaxPrefix + 1][kMaxPrefix];

// A magnitude m >= 1 is sent as Exp-Golomb order 0: n = bit_width(m) - 1 as n one-bits and
// a zero-bit, then the n bits of m below its leading one, most significant first. Returns
// the magnitude, or 0 if the prefix reaches kMaxPrefix ones (malformed). Always inlined: a
// call would take the coder's address and keep its state in memory in the caller's loop.
template <class Coder, int kMaxPrefix>
[[gnu::always_inline]] inline int code_exp_golomb(Coder& coder, PrefixModels<kMaxPrefix>& prefix, SuffixModels<kMaxPrefix>& suffix, int magnitude) {
  const int n = std::bit_width(static_cast<unsigned>(magnitude)) - 1;
  int length = 0;
  while (coder.bit(prefix[length], length < n)) {
    if (++length == kMaxPrefix) return 0;
  }
  int value = 1;
  for (int j = length - 1; j >= 0; --j) value = 2 * value + coder.bit(suffix[length][j], (magnitude >> j) & 1);
  return value;
}

}  // namespace disc::codec_disc
