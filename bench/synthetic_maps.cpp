#include "synthetic_maps.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace disc::bench {
namespace {

// Unit-variance Gaussian field whose horizontally and vertically adjacent values have
// correlation `correlation` (<= 0.8): a 5x5 box blur of white noise (correlation 20/25)
// mixed with white noise.
std::vector<float> smooth_field(std::mt19937& rng, size_t height, size_t width, double correlation) {
  constexpr size_t kBox = 5;
  std::normal_distribution<double> normal(0.0, 1.0);
  const size_t padded_w = width + kBox - 1;
  std::vector<double> noise((height + kBox - 1) * padded_w);
  for (double& v : noise) v = normal(rng);
  const double smooth_share = correlation / 0.8;
  std::vector<float> field(height * width);
  for (size_t y = 0; y < height; ++y)
    for (size_t x = 0; x < width; ++x) {
      double sum = 0;
      for (size_t dy = 0; dy < kBox; ++dy)
        for (size_t dx = 0; dx < kBox; ++dx) sum += noise[(y + dy) * padded_w + x + dx];
      field[y * width + x] = static_cast<float>(std::sqrt(smooth_share) * sum / kBox +
                                                std::sqrt(1 - smooth_share) * normal(rng));
    }
  return field;
}

// x with P(N(0,1) < x) = p, by bisection.
double normal_quantile(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 80; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// Post-ReLU map: channel c is scale_c * max(0, field - threshold_c), the threshold set so
// the channel has zero fraction zero_fraction(u), u uniform; scale_c log-normal, which
// also gives the positives their heavier-than-half-normal tail.
template <class ZeroFraction>
Tensor relu_map(Shape shape, unsigned seed, double median_scale, double scale_spread, double correlation,
                ZeroFraction zero_fraction) {
  Tensor t(std::move(shape));
  const PlaneView v = plane_view(t.shape());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (size_t c = 0; c < v.planes; ++c) {
    const double scale = median_scale * std::exp(scale_spread * normal(rng));
    const double threshold = normal_quantile(std::clamp(zero_fraction(uniform(rng)), 1e-6, 1 - 1e-6));
    const std::vector<float> field = smooth_field(rng, v.height, v.width, correlation);
    float* out = t.data() + c * v.plane_size();
    for (size_t i = 0; i < field.size(); ++i)
      out[i] = static_cast<float>(scale * std::max(0.0, field[i] - threshold));
  }
  return t;
}

}  // namespace

std::vector<FeatureMap> synthetic_feature_maps() {
  std::vector<FeatureMap> maps;
  // Matched to SqueezeNet v1.1 /MaxPool (1x64x56x56) on 4 ImageNet validation images:
  // 7-17% zeros; per-channel zero fraction q10 ~0, q50 ~0.05, q90 0.23-0.45; adjacent
  // correlation 0.70-0.78; positives' mean/rms 0.60-0.74; max 560-1060.
  maps.push_back({"relu_64x56x56", relu_map({1, 64, 56, 56}, 11, 20.0, 0.8, 0.3,
                                            [](double u) { return 0.6 * u * u * u; })});
  // Matched to SqueezeNet v1.1 /Concat_3 (1x256x28x28): 73% zeros, clustered (P(non-zero
  // | left neighbour non-zero) 0.71); per-channel zero fraction q10 0.42, q50 0.80, q90
  // 0.93; adjacent correlation 0.65; positives' mean/rms 0.67.
  maps.push_back({"sparse_relu_256x28x28", relu_map({1, 256, 28, 28}, 12, 50.0, 0.8, 0.7,
                                                    [](double u) { return 0.95 - 0.6 * (1 - u) * (1 - u); })});
  // Matched to MobileNetV2 /Add (1x24x56x56, a linear bottleneck sum) on the same images:
  // dense, ~50% negative, mean ~0, sd 6-9 with per-channel sd within x1.5, near-Gaussian
  // (positives' mean/rms 0.73-0.78), adjacent correlation 0.28-0.43.
  {
    Tensor t({1, 24, 56, 56});
    const PlaneView v = plane_view(t.shape());
    std::mt19937 rng(13);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (size_t c = 0; c < v.planes; ++c) {
      const double scale = 7.0 * std::exp(0.2 * normal(rng));
      const std::vector<float> field = smooth_field(rng, v.height, v.width, 0.35);
      for (size_t i = 0; i < field.size(); ++i) t.data()[c * v.plane_size() + i] = static_cast<float>(scale * field[i]);
    }
    maps.push_back({"signed_24x56x56", std::move(t)});
  }
  return maps;
}

}  // namespace disc::bench
