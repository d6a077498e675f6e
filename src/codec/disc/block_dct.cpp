#include "codec/disc/block_dct.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace disc::codec_disc {
namespace {

// basis(n)[u * n + x] = a(u) cos((2x + 1) u pi / 2n), a(0) = sqrt(1/n), a(u > 0) = sqrt(2/n),
// rounded to fp32: the rows are orthonormal, so the inverse is the transpose.
const std::vector<float>& basis(int n) {
  static const std::array<std::vector<float>, kMaxBlockSide + 1> bases = [] {
    std::array<std::vector<float>, kMaxBlockSide + 1> b;
    for (int m = 1; m <= kMaxBlockSide; ++m) {
      b[m].resize(static_cast<size_t>(m * m));
      for (int u = 0; u < m; ++u)
        for (int x = 0; x < m; ++x)
          b[m][u * m + x] = static_cast<float>((u == 0 ? std::sqrt(1.0 / m) : std::sqrt(2.0 / m)) *
                                               std::cos((2 * x + 1) * u * std::numbers::pi / (2 * m)));
    }
    return b;
  }();
  return bases[n];
}

int tile_side(size_t n) {
  const size_t tiles = (n + kMaxBlockSide - 1) / kMaxBlockSide;
  return static_cast<int>((n + tiles - 1) / tiles);
}

}  // namespace

BlockShape transform_block_shape(size_t height, size_t width, bool whole_plane) {
  if (!whole_plane) return {};
  return {tile_side(height), tile_side(width)};
}

std::vector<uint16_t> zigzag_order(BlockShape shape) {
  std::vector<uint16_t> order;
  order.reserve(static_cast<size_t>(shape.area()));
  for (int s = 0; s < shape.height + shape.width - 1; ++s)
    for (int i = 0; i <= s; ++i) {
      const int row = s % 2 ? i : s - i;
      const int col = s - row;
      if (row < shape.height && col < shape.width) order.push_back(static_cast<uint16_t>(row * shape.width + col));
    }
  return order;
}

namespace {

// out = B_h · in · B_wᵀ (forward) or B_hᵀ · in · B_w (inverse), rows first, in f32: each
// output starts at +0 and adds its terms in increasing index (doc/FORMAT.md, Transform body).
// kSide > 0 fixes both sides at compile time (the 8x8 blocks, so that the loops unroll).
template <bool kInverse, int kSide>
void separable_dct(BlockShape shape, const float* in, float* out) {
  const int h = kSide > 0 ? kSide : shape.height, w = kSide > 0 ? kSide : shape.width;
  const std::vector<float>& bw = basis(w);
  const std::vector<float>& bh = basis(h);
  // Entry (j, i) of the n-point matrix this direction applies.
  const auto entry = [](const std::vector<float>& b, int n, int j, int i) { return kInverse ? b[i * n + j] : b[j * n + i]; };
  // Both passes accumulate in local arrays: stores through `out` could alias the basis and
  // would keep the compiler from holding it in registers.
  constexpr int kArea = kSide > 0 ? kSide * kSide : kMaxBlockArea;
  float rows[kArea], result[kArea];
  std::fill(rows, rows + h * w, 0.0f);
  for (int r = 0; r < h; ++r)
    for (int j = 0; j < w; ++j)
      for (int i = 0; i < w; ++i) rows[r * w + j] += entry(bw, w, j, i) * in[r * w + i];
  std::fill(result, result + h * w, 0.0f);
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < h; ++i)
      for (int c = 0; c < w; ++c) result[j * w + c] += entry(bh, h, j, i) * rows[i * w + c];
  std::copy(result, result + h * w, out);
}

}  // namespace

void forward_dct(BlockShape shape, const float* samples, float* coefficients) {
  if (shape == BlockShape{8, 8}) return separable_dct<false, 8>(shape, samples, coefficients);
  separable_dct<false, 0>(shape, samples, coefficients);
}

void inverse_dct(BlockShape shape, const float* coefficients, float* samples) {
  if (shape == BlockShape{8, 8}) return separable_dct<true, 8>(shape, coefficients, samples);
  separable_dct<true, 0>(shape, coefficients, samples);
}

}  // namespace disc::codec_disc
