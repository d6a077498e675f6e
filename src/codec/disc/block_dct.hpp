// The orthonormal 8x8 DCT-II of the transform mode and the zig-zag coefficient order.
// Blocks are row-major: element (y, x) at 8y + x, coefficient (v, u) at 8v + u, v being
// the vertical frequency.
#pragma once

#include <array>
#include <cstdint>

namespace disc::codec_disc {

inline constexpr int kBlockSide = 8;
inline constexpr int kBlockArea = kBlockSide * kBlockSide;

using Block = std::array<float, kBlockArea>;

// kZigzag[k] = row-major position of the k-th coefficient in JPEG zig-zag order (antidiagonals
// u + v = s in turn, odd s walked downwards, even s upwards).
inline constexpr std::array<uint8_t, kBlockArea> kZigzag = [] {
  std::array<uint8_t, kBlockArea> order{};
  int k = 0;
  for (int s = 0; s < 2 * kBlockSide - 1; ++s)
    for (int i = 0; i <= s; ++i) {
      const int row = s % 2 ? i : s - i;
      const int col = s - row;
      if (row < kBlockSide && col < kBlockSide) order[k++] = static_cast<uint8_t>(row * kBlockSide + col);
    }
  return order;
}();

// Frequency index u + v of the k-th zig-zag coefficient.
inline int zigzag_frequency(int k) { return kZigzag[k] / kBlockSide + kZigzag[k] % kBlockSide; }

Block forward_dct(const Block& samples);
Block inverse_dct(const Block& coefficients);

}  // namespace disc::codec_disc
