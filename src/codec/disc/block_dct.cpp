#include "codec/disc/block_dct.hpp"

#include <cmath>
#include <numbers>

namespace disc::codec_disc {
namespace {

// basis[u][x] = a(u) cos((2x + 1) u pi / 16), a(0) = sqrt(1/8), a(u > 0) = sqrt(2/8): the
// rows are orthonormal, so the inverse is the transpose.
struct Basis {
  float c[kBlockSide][kBlockSide];
  Basis() {
    for (int u = 0; u < kBlockSide; ++u)
      for (int x = 0; x < kBlockSide; ++x)
        c[u][x] = static_cast<float>((u == 0 ? std::sqrt(1.0 / kBlockSide) : std::sqrt(2.0 / kBlockSide)) *
                                     std::cos((2 * x + 1) * u * std::numbers::pi / (2 * kBlockSide)));
  }
};

const Basis& basis() {
  static const Basis b;
  return b;
}

}  // namespace

Block forward_dct(const Block& samples) {
  const auto& c = basis().c;
  Block rows{}, out{};
  for (int y = 0; y < kBlockSide; ++y)
    for (int u = 0; u < kBlockSide; ++u)
      for (int x = 0; x < kBlockSide; ++x) rows[y * kBlockSide + u] += c[u][x] * samples[y * kBlockSide + x];
  for (int v = 0; v < kBlockSide; ++v)
    for (int y = 0; y < kBlockSide; ++y)
      for (int u = 0; u < kBlockSide; ++u) out[v * kBlockSide + u] += c[v][y] * rows[y * kBlockSide + u];
  return out;
}

Block inverse_dct(const Block& coefficients) {
  const auto& c = basis().c;
  Block rows{}, out{};
  for (int v = 0; v < kBlockSide; ++v)
    for (int x = 0; x < kBlockSide; ++x)
      for (int u = 0; u < kBlockSide; ++u) rows[v * kBlockSide + x] += c[u][x] * coefficients[v * kBlockSide + u];
  for (int y = 0; y < kBlockSide; ++y)
    for (int v = 0; v < kBlockSide; ++v)
      for (int x = 0; x < kBlockSide; ++x) out[y * kBlockSide + x] += c[v][y] * rows[v * kBlockSide + x];
  return out;
}

}  // namespace disc::codec_disc
