// Adaptive probabilities and context selection for coding integer symbols plane by plane.
//
// A symbol's context comes from already-coded neighbours: left (a), up (b), up-left (c),
// up-right (d) in the same plane and the same position in the previous plane (e); missing
// neighbours count as 0. See doc/FORMAT.md ("Lossy elements") for the exact formulas.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>

#include "codec/disc/plane_traversal.hpp"
#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {

// Activity buckets: bit length of 2a + 2b + c + d, capped.
inline constexpr int kActivityBuckets = 13;
inline constexpr int kNeighbourCounts = 5;   // non-zero neighbours among a, b, c, d
inline constexpr int kPreviousBuckets = 3;   // min(e, 2)
inline constexpr int kZeroContexts = kActivityBuckets * kNeighbourCounts * kPreviousBuckets;
inline constexpr int kMagnitudeSets = kActivityBuckets * kPreviousBuckets;
// Exp-Golomb prefix length bound: magnitudes reach at most 255 < 2^8.
inline constexpr int kMaxPrefix = 8;
inline constexpr int kSignContexts = 9;
// Binary tree over the 16 plane step exponents (nodes 1..15).
inline constexpr int kPlaneExponentTree = 16;

inline int activity_bucket(const Neighbours<int16_t>& n) {
  const unsigned activity = static_cast<unsigned>(2 * std::abs(n.left) + 2 * std::abs(n.up) +
                                                  std::abs(n.up_left) + std::abs(n.up_right));
  return std::min(kActivityBuckets - 1, static_cast<int>(std::bit_width(activity)));
}

inline int previous_bucket(const Neighbours<int16_t>& n) { return std::min(2, std::abs(n.previous)); }

// `third` (0..2): previous_bucket(n), or density_bucket() with plane density contexts.
inline int zero_context(const Neighbours<int16_t>& n, int activity, int third) {
  const int count = (n.left != 0) + (n.up != 0) + (n.up_left != 0) + (n.up_right != 0);
  return (activity * kNeighbourCounts + count) * kPreviousBuckets + third;
}

inline int magnitude_set(int activity, int third) { return activity * kPreviousBuckets + third; }

// Plane density bucket (0..2): floor(3 (nonzero + 1) / (coded + 2)), capped at 2, over the
// elements of the current plane coded so far (`coded`, of which `nonzero` were non-zero).
// Compared instead of divided (floor(a / b) >= k iff a >= k b); exact for planes below 2^30
// elements (decoders accept at most 2^28).
inline int density_bucket(unsigned nonzero, unsigned coded) {
  const unsigned weight = 3 * (nonzero + 1);
  return (weight >= coded + 2) + (weight >= 2 * (coded + 2));
}

inline int sign_context(const Neighbours<int16_t>& n) {
  const auto sign = [](int v) { return (v > 0) - (v < 0); };
  return 3 * (sign(n.left) + 1) + sign(n.up) + 1;
}

struct SymbolContexts {
  BitModel plane_empty[2];                         // see traverse_planes
  BitModel zero[kZeroContexts];                    // symbol != 0
  BitModel prefix[kMagnitudeSets][kMaxPrefix];     // Exp-Golomb prefix bit i of |symbol|
  BitModel suffix[kMaxPrefix + 1][kMaxPrefix];     // suffix bit j of an n-bit suffix
  BitModel sign[kSignContexts];                    // symbol < 0
  BitModel plane_exponent[kPlaneExponentTree];     // per-plane step exponent, binary tree
  BitModel mean_prefix[kMaxPrefix];                // Exp-Golomb prefix of a plane's mean correction
  BitModel mean_suffix[kMaxPrefix + 1][kMaxPrefix];  // and its suffix bits
};

}  // namespace disc::codec_disc
