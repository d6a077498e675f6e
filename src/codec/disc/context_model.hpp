// Adaptive probabilities and context selection for coding integer symbols plane by plane.
//
// A symbol's context comes from already-coded neighbours: left (a), up (b), up-left (c),
// up-right (d) in the same plane and the same position in the previous plane (e); missing
// neighbours count as 0. See doc/FORMAT.md ("Lossy elements") for the exact formulas.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

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
// Nodes 1..3 of the 2-bit tree of a plane's cell order (0..3).
inline constexpr int kCellOrderTree = 4;

// The parts of an element's contexts that come from the row above (b, c, d) and from the
// previous plane (e), prepared for a whole row before its elements are coded (the loops
// vectorize), so that per element only the left neighbour a remains to be added.
class RowContexts {
 public:
  explicit RowContexts(size_t width) : up_activity_(width), up_count_(width), previous_(width) {}

  // `up`: the zero-padded row above (up[-1] .. up[width]); `previous`: the same row of the
  // previous plane. Levels are within -255..255, so 2|b| + |c| + |d| fits 16 bits.
  void prepare(const int16_t* up, const int16_t* previous) {
    // Locals, one array per loop: stores through uint8_t may alias anything, so the loops
    // must not read the vectors' bounds from memory.
    const size_t width = up_activity_.size();
    const int16_t* up_left = up - 1;
    const int16_t* up_right = up + 1;
    uint16_t* activity = up_activity_.data();
    for (size_t x = 0; x < width; ++x)
      activity[x] = static_cast<uint16_t>(2 * std::abs(up[x]) + std::abs(up_left[x]) + std::abs(up_right[x]));
    uint8_t* count = up_count_.data();
    for (size_t x = 0; x < width; ++x)
      count[x] = static_cast<uint8_t>((up[x] != 0) + (up_left[x] != 0) + (up_right[x] != 0));
    uint8_t* previous_bucket = previous_.data();
    for (size_t x = 0; x < width; ++x) previous_bucket[x] = static_cast<uint8_t>(std::min(2, std::abs(previous[x])));
  }

  // Activity bucket of column x: bit length of 2a + 2b + c + d (absolute values), capped.
  int activity(size_t x, int left) const {
    const unsigned activity = 2 * static_cast<unsigned>(std::abs(left)) + up_activity_[x];
    return std::min(kActivityBuckets - 1, static_cast<int>(std::bit_width(activity)));
  }

  // min(|e|, 2) of column x.
  int previous_bucket(size_t x) const { return previous_[x]; }

  // `third` (0..2): previous_bucket(x), or density_bucket() with plane density contexts.
  int zero_context(size_t x, int left, int activity, int third) const {
    const int count = (left != 0) + up_count_[x];
    return (activity * kNeighbourCounts + count) * kPreviousBuckets + third;
  }

 private:
  std::vector<uint16_t> up_activity_;
  std::vector<uint8_t> up_count_;
  std::vector<uint8_t> previous_;
};

inline int magnitude_set(int activity, int third) { return activity * kPreviousBuckets + third; }

// Plane density bucket (0..2): floor(3 (nonzero + 1) / (coded + 2)), capped at 2, over the
// elements of the current plane coded so far (`coded`, of which `nonzero` were non-zero).
// Compared instead of divided (floor(a / b) >= k iff a >= k b); exact while 3 (nonzero + 1)
// and 2 (coded + 2) fit 32 bits, i.e. for planes below 2^30 elements (a 4 GiB plane).
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
  BitModel cell_order[kCellOrderTree];               // per-plane cell order (cells=1), binary tree
};

}  // namespace disc::codec_disc
