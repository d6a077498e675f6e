// The orthonormal 2-D DCT-II of the transform mode, its block shapes and its zig-zag
// coefficient order. A block is height x width samples (each 1..kMaxBlockSide), row-major:
// element (y, x) at width * y + x, coefficient (v, u) at width * v + u, v the vertical frequency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace disc::codec_disc {

inline constexpr int kMaxBlockSide = 32;
inline constexpr int kMaxBlockArea = kMaxBlockSide * kMaxBlockSide;

struct BlockShape {
  int height = 8;
  int width = 8;
  int area() const { return height * width; }
  bool operator==(const BlockShape&) const = default;
};

// The blocks of a height x width plane: 8x8, or with `whole_plane` one block per plane, a
// side longer than kMaxBlockSide split into the fewest equal tiles of at most kMaxBlockSide
// (rounded up: 33 -> 17, 56 -> 28, 100 -> 25). Both sides >= 1.
BlockShape transform_block_shape(size_t height, size_t width, bool whole_plane);

// order[k] = row-major position of the k-th coefficient in zig-zag order: antidiagonals
// u + v = s in turn, odd s walked downwards, even s upwards, positions outside the block skipped
// (for 8x8, JPEG's order).
std::vector<uint16_t> zigzag_order(BlockShape shape);

void forward_dct(BlockShape shape, const float* samples, float* coefficients);
void inverse_dct(BlockShape shape, const float* coefficients, float* samples);

}  // namespace disc::codec_disc
