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

void forward_dct(BlockShape shape, const float* samples, float* out) {
  const int h = shape.height, w = shape.width;
  const auto& cw = basis(w);
  const auto& ch = basis(h);
  float rows[kMaxBlockArea];
  std::fill(rows, rows + h * w, 0.0f);
  for (int y = 0; y < h; ++y)
    for (int u = 0; u < w; ++u)
      for (int x = 0; x < w; ++x) rows[y * w + u] += cw[u * w + x] * samples[y * w + x];
  std::fill(out, out + h * w, 0.0f);
  for (int v = 0; v < h; ++v)
    for (int y = 0; y < h; ++y)
      for (int u = 0; u < w; ++u) out[v * w + u] += ch[v * h + y] * rows[y * w + u];
}

void inverse_dct(BlockShape shape, const float* coefficients, float* out) {
  const int h = shape.height, w = shape.width;
  const auto& cw = basis(w);
  const auto& ch = basis(h);
  float rows[kMaxBlockArea];
  std::fill(rows, rows + h * w, 0.0f);
  for (int v = 0; v < h; ++v)
    for (int x = 0; x < w; ++x)
      for (int u = 0; u < w; ++u) rows[v * w + x] += cw[u * w + x] * coefficients[v * w + u];
  std::fill(out, out + h * w, 0.0f);
  for (int y = 0; y < h; ++y)
    for (int v = 0; v < h; ++v)
      for (int x = 0; x < w; ++x) out[y * w + x] += ch[v * h + y] * rows[v * w + x];
}

}  // namespace disc::codec_disc
