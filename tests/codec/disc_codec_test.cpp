// The disc codec: exactness of the lossless mode, the quantization contract of the lossy
// modes, compression against baselines on realistic maps, and robustness to bad payloads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "codec/disc/activated_error.hpp"
#include "codec/disc/block_dct.hpp"
#include "codec/disc/cell_grid.hpp"
#include "codec/disc/exp_golomb.hpp"
#include "codec/disc/output_residual.hpp"
#include "codec/disc/shaping_error.hpp"
#include "codec/disc/quantizer.hpp"
#include "codec/disc/range_coder.hpp"
#include "codec/plane_fill.hpp"
#include "codec/reference_conv.hpp"
#include "disc/codec.hpp"

namespace disc {
namespace {

std::unique_ptr<Codec> codec(const std::string& spec) {
  auto c = make_codec(spec);
  EXPECT_TRUE(c.ok()) << spec << ": " << (c.ok() ? "" : c.error().message());
  return std::move(c).value();
}

Tensor round_trip(const Tensor& t, const Codec& c) {
  auto stream = compress(t, c);
  EXPECT_TRUE(stream.ok()) << stream.error().message();
  auto back = decompress(*stream);
  EXPECT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->shape(), t.shape());
  return std::move(back).value();
}

size_t compressed_size(const Tensor& t, const std::string& spec) { return compress(t, *codec(spec)).value().size(); }

double relative_mse(const Tensor& a, const Tensor& b) {
  double err = 0, sig = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (double{a.data()[i]} - b.data()[i]) * (double{a.data()[i]} - b.data()[i]);
    sig += double{a.data()[i]} * a.data()[i];
  }
  return err / sig;
}

// Mimics measured post-ReLU maps: a smooth random field per plane (spatially clustered
// activity), thresholded to `zero_fraction` zeros, half-normal magnitudes where active.
Tensor realistic_sparse_map(Shape shape, double zero_fraction, uint32_t seed) {
  Tensor t(std::move(shape));
  const PlaneView v = plane_view(t.shape());
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> field(v.plane_size()), blurred(v.plane_size());
  for (size_t p = 0; p < v.planes; ++p) {
    for (float& f : field) f = normal(rng);
    for (int pass = 0; pass < 3; ++pass) {  // 3x3 box blur, three times
      for (size_t y = 0; y < v.height; ++y)
        for (size_t x = 0; x < v.width; ++x) {
          float s = 0;
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              const size_t yy = std::clamp<long>(static_cast<long>(y) + dy, 0, static_cast<long>(v.height) - 1);
              const size_t xx = std::clamp<long>(static_cast<long>(x) + dx, 0, static_cast<long>(v.width) - 1);
              s += field[yy * v.width + xx];
            }
          blurred[y * v.width + x] = s / 9;
        }
      field.swap(blurred);
    }
    std::vector<float> sorted = field;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(zero_fraction * (sorted.size() - 1)),
                     sorted.end());
    const float cut = sorted[static_cast<size_t>(zero_fraction * (sorted.size() - 1))];
    const float gain = 0.5f + static_cast<float>(p % 5);  // channels differ in scale
    for (size_t i = 0; i < v.plane_size(); ++i)
      t.data()[p * v.plane_size() + i] = field[i] > cut ? gain * std::fabs(normal(rng)) * (1 + field[i] - cut) : 0.0f;
  }
  return t;
}

Tensor dense_signed_map(Shape shape, uint32_t seed) {
  Tensor t(std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  float previous = 0;
  for (float& v : t.values()) v = previous = 0.7f * previous + normal(rng);  // spatially correlated
  return t;
}

// --- lossless ---------------------------------------------------------------------------

TEST(DiscLossless, RoundTripsEveryBitPattern) {
  Tensor t({2, 3, 7, 5});
  std::mt19937 rng(3);
  for (float& v : t.values()) {
    const uint32_t u = rng();
    std::memcpy(&v, &u, 4);  // includes NaNs, infinities, denormals, both zeros
  }
  const float specials[] = {-0.0f, 0.0f, std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::max(), std::numeric_limits<float>::min()};
  for (size_t i = 0; i < std::size(specials); ++i) t.data()[i * 11] = specials[i];
  std::fill(t.data() + 35, t.data() + 70, 0.0f);  // an all-zero plane
  const Tensor back = round_trip(t, *codec("disc:bits=0"));
  EXPECT_EQ(0, std::memcmp(back.data(), t.data(), t.bytes()));
}

// Losslessness is a setting's: disc is lossless at bits=0 only, raw and zstd at every one.
TEST(DiscLossless, IsASettingsProperty) {
  for (const auto& [spec, lossless] : {std::pair<const char*, bool>{"disc:bits=0", true},
                                      {"disc:bits=3", false},
                                      {"disc", false},
                                      {"raw", true},
                                      {"zstd:level=1", true},
                                      {"jpeg:quality=100", false}}) {
    auto codec = make_codec(spec);
    ASSERT_TRUE(codec.ok()) << spec;
    EXPECT_EQ((*codec)->lossless(), lossless) << spec;
  }
}

TEST(DiscLossless, RoundTripsOddShapes) {
  for (const Shape& shape : std::vector<Shape>{{1}, {1, 1, 1, 1}, {13}, {3, 17}, {2, 4, 1, 9}, {2, 4, 9, 1}}) {
    const Tensor t = realistic_sparse_map(shape, 0.5, 11);
    const Tensor back = round_trip(t, *codec("disc:bits=0"));
    EXPECT_EQ(0, std::memcmp(back.data(), t.data(), t.bytes())) << shape_to_string(shape);
  }
}

TEST(DiscLossless, BeatsZstdOnSparseMaps) {
  const Tensor t = realistic_sparse_map({1, 32, 28, 28}, 0.6, 5);
  EXPECT_LT(compressed_size(t, "disc:bits=0"), compressed_size(t, "zstd"));
}

// --- lossy ------------------------------------------------------------------------------

// Reference of the quantization contract, in double precision.
struct Expectation {
  double clip_value = 0;
  double step = 0;
};
Expectation expected_quantizer(const Tensor& t, int bits, double clip) {
  double max_abs = 0, sum_sq = 0;
  size_t nonzero = 0;
  bool is_signed = false;
  for (float v : t.values()) {
    max_abs = std::max(max_abs, double{std::fabs(v)});
    sum_sq += double{v} * v;
    nonzero += v != 0;
    is_signed |= v < 0;
  }
  const int levels = is_signed ? std::max(1, (1 << (bits - 1)) - 1) : (1 << bits) - 1;
  const double clip_value = clip > 0 ? std::min(max_abs, clip * std::sqrt(sum_sq / nonzero)) : max_abs;
  return {clip_value, clip_value / levels};
}

void expect_quantization_contract(const Tensor& t, int bits, double prune, double clip, bool fast) {
  const std::string spec = "disc:bits=" + std::to_string(bits) + ",prune=" + std::to_string(prune) +
                           ",clip=" + std::to_string(clip) + ",speed=" + std::to_string(fast);
  const Tensor back = round_trip(t, *codec(spec));
  const Expectation e = expected_quantizer(t, bits, clip);
  const double slack = 1e-4 * e.step;  // fp32 rounding of step, threshold and products
  const double threshold = prune * e.clip_value;
  for (size_t i = 0; i < t.size(); ++i) {
    const double v = t.data()[i];
    const double d = back.data()[i];
    if (std::fabs(v) < threshold - slack) {
      ASSERT_EQ(d, 0.0) << spec << " pruned value " << v << " at " << i;
      continue;
    }
    if (d == 0 && std::fabs(v) < threshold + slack) continue;  // at the threshold either way is right
    const double clipped = std::copysign(std::min(std::fabs(v), e.clip_value), v);
    ASSERT_LE(std::fabs(d - clipped), e.step / 2 + slack) << spec << " value " << v << " at " << i;
    ASSERT_TRUE(d == 0 || std::signbit(d) == std::signbit(v)) << spec << " sign of " << v;
  }
}

TEST(DiscLossy, KeptValuesWithinHalfAStepAndPrunedValuesExactlyZero) {
  const Tensor sparse = realistic_sparse_map({1, 6, 20, 19}, 0.6, 1);
  const Tensor dense = dense_signed_map({1, 6, 20, 19}, 2);
  for (int bits = 1; bits <= 8; ++bits)
    for (const bool fast : {false, true}) {
      expect_quantization_contract(sparse, bits, 0.0, 0.0, fast);
      expect_quantization_contract(sparse, bits, 0.2, 3.0, fast);
      expect_quantization_contract(dense, bits, 0.0, 0.0, fast);
      expect_quantization_contract(dense, bits, 0.1, 2.5, fast);
    }
}

TEST(DiscLossy, OddShapes) {
  for (const Shape& shape :
       std::vector<Shape>{{1}, {1, 1, 1, 1}, {13}, {3, 17}, {2, 4, 1, 9}, {2, 4, 9, 1}, {1, 2, 300, 301}}) {
    for (const bool fast : {false, true}) {
      expect_quantization_contract(realistic_sparse_map(shape, 0.6, 4), 4, 0.05, 6, fast);
      expect_quantization_contract(dense_signed_map(shape, 4), 3, 0.0, 4, fast);
    }
  }
}

// `spec` and `spec` with speed=1 decode a sparse and a dense map to identical values.
void expect_fast_stage_reconstructs_identically(const std::string& spec, uint32_t seed) {
  for (const Tensor& t : {realistic_sparse_map({1, 8, 14, 14}, 0.6, seed), dense_signed_map({1, 8, 14, 14}, seed)}) {
    const Tensor a = round_trip(t, *codec(spec));
    const Tensor b = round_trip(t, *codec(spec + ",speed=1"));
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.bytes())) << spec;
  }
}

TEST(DiscLossy, FastStageReconstructsExactlyLikeTheRangeCoder) {
  expect_fast_stage_reconstructs_identically("disc:bits=5,prune=0.05", 8);
}

TEST(DiscLossy, AllZeroAndConstantTensors) {
  const Tensor zeros({1, 3, 4, 4});
  for (const char* spec : {"disc", "disc:speed=1", "disc:bits=0"}) {
    const Tensor back = round_trip(zeros, *codec(spec));
    EXPECT_TRUE(std::all_of(back.values().begin(), back.values().end(), [](float v) { return v == 0; })) << spec;
  }
  Tensor constant({1, 2, 3, 3});
  std::fill(constant.values().begin(), constant.values().end(), -2.5f);
  const Tensor back = round_trip(constant, *codec("disc:bits=2"));
  for (float v : back.values()) EXPECT_FLOAT_EQ(v, -2.5f);
}

TEST(DiscLossy, RejectsNonFiniteValuesAtEncode) {
  Tensor t({1, 1, 2, 2});
  t.data()[3] = std::numeric_limits<float>::quiet_NaN();
  auto r = compress(t, *codec("disc"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("NaN"), std::string::npos);
  t.data()[3] = -std::numeric_limits<float>::infinity();
  EXPECT_FALSE(compress(t, *codec("disc:speed=1")).ok());
}

// levels=L caps the largest level at L: the step is clip value / L, so a map decodes to
// multiples of it, at most L + 1 magnitudes (signed maps: at most 2^(bits-1) - 1 levels a side, whatever L).
TEST(DiscLevels, CapTheLargestLevelAndSetTheStep) {
  const Tensor sparse = realistic_sparse_map({1, 6, 20, 19}, 0.6, 3);
  const float max_abs = *std::max_element(sparse.values().begin(), sparse.values().end());
  for (const int levels : {9, 11, 15}) {
    for (const char* speed : {"", ",speed=1"}) {
      const std::string spec = "disc:bits=4,clip=0,levels=" + std::to_string(levels) + speed;
      const Tensor back = round_trip(sparse, *codec(spec));
      const std::set<float> decoded(back.values().begin(), back.values().end());
      EXPECT_LE(decoded.size(), static_cast<size_t>(levels + 1)) << spec;
      const float step = max_abs / static_cast<float>(levels);
      EXPECT_FLOAT_EQ(*decoded.rbegin(), static_cast<float>(levels) * step) << spec;
      for (const float v : decoded) EXPECT_NEAR(v / step, std::round(v / step), 1e-3) << spec;  // on the L grid
      for (size_t i = 0; i < sparse.size(); ++i)
        ASSERT_LE(std::fabs(back.data()[i] - sparse.data()[i]), 0.5f * step * 1.0001f) << spec << " at " << i;
    }
  }
  const Tensor dense = dense_signed_map({1, 6, 20, 19}, 4);
  const Tensor back = round_trip(dense, *codec("disc:bits=4,clip=0,levels=11"));
  EXPECT_LE(std::set<float>(back.values().begin(), back.values().end()).size(), 15u);  // -7..7
}

TEST(DiscLevels, MustFitTheBitDepth) {
  EXPECT_TRUE(make_codec("disc:bits=3,levels=7").ok());
  for (const char* spec : {"disc:bits=3,levels=8", "disc:bits=0,levels=3", "disc:bits=1,levels=2"}) {
    auto c = make_codec(spec);
    ASSERT_FALSE(c.ok()) << spec;
    EXPECT_NE(c.error().message().find("levels must be 0 or at most 2^bits - 1"), std::string::npos)
        << c.error().message();
  }
}

// --- centroid reconstruction and per-plane steps ---------------------------------------------

// Per-plane reference of the plane steps: e_c = clamp(round(2 chs log2(r_c / r)), -8, 7).
std::vector<double> expected_plane_steps(const Tensor& t, double step, double chs) {
  const PlaneView v = plane_view(t.shape());
  double sum = 0;
  size_t count = 0;
  std::vector<double> plane_sum(v.planes, 0);
  std::vector<size_t> plane_count(v.planes, 0);
  for (size_t i = 0; i < t.size(); ++i)
    if (t.data()[i] != 0) {
      const double v2 = double{t.data()[i]} * t.data()[i];
      sum += v2;
      plane_sum[i / v.plane_size()] += v2;
      ++count;
      ++plane_count[i / v.plane_size()];
    }
  std::vector<double> steps(v.planes, step);
  for (size_t p = 0; p < v.planes; ++p) {
    if (plane_count[p] == 0 || chs == 0) continue;
    const double ratio = std::sqrt(plane_sum[p] / plane_count[p]) / std::sqrt(sum / count);
    const double e = std::clamp(std::round(2 * chs * std::log2(ratio)), -8.0, 7.0);
    steps[p] = step * std::exp2(e / 2);
  }
  return steps;
}

// The contract with centroids and per-plane steps: a kept value decodes to the sign of the
// value times (k + d_k) step_c, |d_k| <= 1/2, so within one step_c of the clipped value
// (half a step from rounding, half from the offset); pruned values stay exactly 0; every
// non-zero level's reconstruction is the mean of the values it holds (to 1/512 step_c + fp32).
void expect_plane_step_contract(const Tensor& t, int bits, double prune, double clip, double chs, bool centroid,
                                bool fast = false) {
  const std::string spec = "disc:bits=" + std::to_string(bits) + ",prune=" + std::to_string(prune) +
                           ",clip=" + std::to_string(clip) + ",chs=" + std::to_string(chs) +
                           ",centroid=" + std::to_string(centroid) + ",speed=" + std::to_string(fast);
  const Tensor back = round_trip(t, *codec(spec));
  const Expectation e = expected_quantizer(t, bits, clip);
  const std::vector<double> steps = expected_plane_steps(t, e.step, chs);
  const PlaneView v = plane_view(t.shape());
  const int levels = static_cast<int>(std::lround(e.clip_value / e.step));
  for (size_t i = 0; i < t.size(); ++i) {
    const double step = steps[i / v.plane_size()];
    const double slack = 1e-4 * step;
    const double value = t.data()[i];
    const double d = back.data()[i];
    const double threshold = prune * levels * step;
    if (std::fabs(value) < threshold - slack) {
      ASSERT_EQ(d, 0.0) << spec << " pruned value " << value << " at " << i;
      continue;
    }
    if (d == 0 && std::fabs(value) < threshold + slack) continue;
    const double clipped = std::copysign(std::min(std::fabs(value), levels * step), value);
    ASSERT_LE(std::fabs(d - clipped), (centroid ? 1.0 : 0.5) * step + slack) << spec << " value " << value << " at " << i;
    ASSERT_TRUE(d == 0 || std::signbit(d) == std::signbit(value)) << spec << " sign of " << value;
    if (!centroid) {  // exactly k * step_c
      const double k = std::fabs(d) / step;
      ASSERT_NEAR(k, std::round(k), 1e-4) << spec << " at " << i;
    }
  }
  if (!centroid) return;
  // Centroids: per level, the reconstruction is the mean of |x| / step_c of its values.
  std::map<int, std::pair<double, size_t>> by_level;
  std::map<int, double> decoded;
  for (size_t i = 0; i < t.size(); ++i) {
    if (back.data()[i] == 0) continue;
    const double step = steps[i / v.plane_size()];
    const double d = std::fabs(back.data()[i]) / step;
    const int k = static_cast<int>(std::lround(d));
    by_level[k].first += std::fabs(t.data()[i]) / step;
    ++by_level[k].second;
    decoded[k] = d;
  }
  for (const auto& [k, sum_count] : by_level) {
    const double mean = std::clamp(sum_count.first / sum_count.second, k - 0.5, k + 127.0 / 256);
    EXPECT_NEAR(decoded[k], mean, 1.0 / 512 + 1e-4 * k) << spec << " level " << k;
  }
}

TEST(DiscCentroid, LevelsDecodeToTheMeanOfTheirValues) {
  const Tensor sparse = realistic_sparse_map({1, 6, 20, 19}, 0.6, 70);
  const Tensor dense = dense_signed_map({1, 6, 20, 19}, 71);
  for (int bits = 1; bits <= 8; ++bits)
    for (const bool fast : {false, true}) {
      expect_plane_step_contract(sparse, bits, 0.0, 3.0, 0.0, true, fast);
      expect_plane_step_contract(sparse, bits, 0.2, 2.0, 0.0, true, fast);
      expect_plane_step_contract(dense, bits, 0.0, 2.5, 0.0, true, fast);
    }
}

TEST(DiscCentroid, FastStageReconstructsExactlyLikeTheRangeCoder) {
  expect_fast_stage_reconstructs_identically("disc:bits=3,clip=3,centroid=1", 72);
}

TEST(DiscCentroid, LowersTheErrorAtTheSameLevels) {
  const Tensor t = realistic_sparse_map({1, 16, 28, 28}, 0.6, 73);
  for (const auto& [spec, levels] : {std::pair{"disc:bits=2,clip=3", 3}, std::pair{"disc:bits=3,clip=4", 7}}) {
    const Tensor plain = round_trip(t, *codec(spec));
    const Tensor centroid = round_trip(t, *codec(std::string(spec) + ",centroid=1"));
    EXPECT_LT(relative_mse(t, centroid), relative_mse(t, plain)) << spec;
    // The payload only gains the M offset bytes.
    EXPECT_EQ(codec(std::string(spec) + ",centroid=1")->encode_payload(t).value().size(),
              codec(spec)->encode_payload(t).value().size() + levels)
        << spec;
  }
}

// --- per-plane mean correction (flags bits 5 and 6) ------------------------------------------

struct PlaneMeans {
  std::vector<double> mean;  // per plane
  std::vector<size_t> nonzero;
};
PlaneMeans plane_means(const Tensor& t) {
  const PlaneView v = plane_view(t.shape());
  PlaneMeans m{std::vector<double>(v.planes, 0), std::vector<size_t>(v.planes, 0)};
  for (size_t i = 0; i < t.size(); ++i) {
    m.mean[i / v.plane_size()] += double{t.data()[i]} / v.plane_size();
    m.nonzero[i / v.plane_size()] += t.data()[i] != 0;
  }
  return m;
}

// Every plane with a non-zero level decodes to its true mean up to the correction's
// rounding (half of step / 64), unless the map is unsigned and an element had to be held at
// 0: every element of the plane moves by the same multiple of step / 64. All-zero planes are
// left as they are.
void expect_mean_contract(const Tensor& t, const std::string& base) {
  const std::string spec = base + ",mean=1";
  const Tensor plain = round_trip(t, *codec(base));
  const Tensor back = round_trip(t, *codec(spec));
  const PlaneView v = plane_view(t.shape());
  const PlaneMeans truth = plane_means(t), before = plane_means(plain), after = plane_means(back);
  const Bytes payload = codec(base)->encode_payload(t).value();
  float step;
  std::memcpy(&step, payload.data() + 1, 4);
  const bool is_signed = payload[0] & 1;
  size_t improved = 0, shifted = 0;
  for (size_t p = 0; p < v.planes; ++p) {
    const float* a = plain.data() + p * v.plane_size();
    const float* b = back.data() + p * v.plane_size();
    if (truth.nonzero[p] == 0) {
      EXPECT_EQ(0, std::memcmp(a, b, v.plane_size() * 4)) << spec << " all-zero plane " << p;
      ++improved;
      continue;
    }
    bool held = false;
    double delta = 0;
    for (size_t i = 0; i < v.plane_size(); ++i) {
      if (!is_signed && b[i] == 0) {
        held = true;
        continue;
      }
      const double diff = double{b[i]} - a[i];
      if (delta == 0) delta = diff;
      ASSERT_NEAR(diff, delta, 1e-5 * step) << spec << " plane " << p << ": one shift per plane";
    }
    ASSERT_NEAR(delta / step * 64, std::round(delta / step * 64), 1e-3) << spec << " plane " << p;
    if (delta != 0) ++shifted;
    if (!held && delta != 0 && std::fabs(delta) < 127.0 / 64 * step) {
      EXPECT_LE(std::fabs(after.mean[p] - truth.mean[p]), 0.5 / 64 * step + 1e-5 * step) << spec << " plane " << p;
    }
    improved += std::fabs(after.mean[p] - truth.mean[p]) <= std::fabs(before.mean[p] - truth.mean[p]) + 1e-6 * step;
  }
  EXPECT_GT(shifted, 0u) << spec;
  EXPECT_EQ(improved, v.planes) << spec;
}

TEST(DiscMean, NonEmptyPlanesDecodeToTheirTrueMean) {
  const Tensor sparse = realistic_sparse_map({1, 12, 20, 19}, 0.6, 80);
  const Tensor dense = dense_signed_map({1, 6, 20, 19}, 81);
  Tensor with_empty = realistic_sparse_map({1, 5, 9, 11}, 0.5, 82);
  std::fill(with_empty.data() + 2 * 99, with_empty.data() + 3 * 99, 0.0f);  // plane 2 all zero
  for (const char* base : {"disc:bits=2,clip=3", "disc:bits=2,clip=4,centroid=2", "disc:bits=3,clip=3,centroid=3",
                           "disc:bits=2,clip=3,prune=0.25", "disc:bits=8,clip=0"}) {
    expect_mean_contract(sparse, base);
    expect_mean_contract(with_empty, base);
  }
  for (const char* base : {"disc:bits=2,clip=2", "disc:bits=4,clip=3,centroid=1", "disc:bits=1"})
    expect_mean_contract(dense, base);
}

TEST(DiscMean, LevelsAndOtherSideInformationAreUnchanged) {
  // The corrections only add to the body; without mean the stream is the one before it.
  const Tensor t = realistic_sparse_map({1, 16, 14, 14}, 0.6, 83);
  for (const char* base : {"disc:bits=2,clip=3", "disc:bits=2,clip=3,centroid=2"}) {
    const Bytes plain = codec(base)->encode_payload(t).value();
    EXPECT_EQ(plain, codec(std::string(base) + ",mean=0")->encode_payload(t).value());
    EXPECT_EQ(plain[0] & 32, 0);
    const Bytes corrected = codec(std::string(base) + ",mean=1")->encode_payload(t).value();
    EXPECT_EQ(corrected[0], plain[0] | 32);
    EXPECT_EQ(0, std::memcmp(corrected.data() + 1, plain.data() + 1, 4));  // same step
    EXPECT_GT(corrected.size(), plain.size());
    EXPECT_LT(corrected.size(), plain.size() + 16 * 2);  // at most about two bytes per plane
  }
}

// --- energy gain (gain=1, flags bit 7) -------------------------------------------------------

// Sum over planes of the squared deviations from the plane's mean.
double energy_about_plane_means(const Tensor& t) {
  const PlaneView v = plane_view(t.shape());
  const PlaneMeans means = plane_means(t);
  double energy = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double d = t.data()[i] - means.mean[i / v.plane_size()];
    energy += d * d;
  }
  return energy;
}

// The decoding rule of doc/FORMAT.md ("Energy gain"), written out independently of the codec.
Tensor apply_gain_as_specified(Tensor t, int8_t code, bool non_negative) {
  const PlaneView v = plane_view(t.shape());
  const float gain = static_cast<float>(std::exp2(code / 64.0));
  for (size_t p = 0; p < v.planes; ++p) {
    float* plane = t.data() + p * v.plane_size();
    double sum = 0;
    for (size_t i = 0; i < v.plane_size(); ++i) sum += plane[i];
    const float mean = static_cast<float>(sum / static_cast<double>(v.plane_size()));
    for (size_t i = 0; i < v.plane_size(); ++i) {
      const float difference = plane[i] - mean;
      const float scaled = gain * difference;
      const float value = mean + scaled;
      plane[i] = non_negative && value < 0 ? 0.0f : value;
    }
  }
  return t;
}

// Settings that lose energy (a transform that zeroes high frequencies, a strong dead zone) or
// gain it (coarse rounding of a dense map): with gain=1 the decoded energy about the plane
// means is the original's to the code's rounding (2^(1/64) in amplitude) plus what the clamp
// at 0 changes, where without it the two differ by more than 5 %.
TEST(DiscEnergyGain, DecodedEnergyMatchesTheOriginal) {
  const Tensor sparse = realistic_sparse_map({1, 12, 20, 19}, 0.6, 86);
  const Tensor dense = dense_signed_map({1, 6, 24, 19}, 87);
  const struct {
    const Tensor* map;
    const char* spec;
    double tolerance;
  } cases[] = {{&sparse, "disc:transform=1,bits=4,hf=2", 0.03},
               {&sparse, "disc:bits=2,clip=4.5,prune=0.3,centroid=2,mean=1", 0.03},
               {&dense, "disc:transform=1,bits=4,hf=2", 0.015},
               {&dense, "disc:bits=1", 0.015}};
  for (const auto& c : cases) {
    const double truth = energy_about_plane_means(*c.map);
    const double before = energy_about_plane_means(round_trip(*c.map, *codec(c.spec)));
    const double after = energy_about_plane_means(round_trip(*c.map, *codec(std::string(c.spec) + ",gain=1")));
    EXPECT_GT(std::fabs(before / truth - 1), 0.05) << c.spec << ": a case where the gain has work to do";
    EXPECT_NEAR(after / truth, 1.0, c.tolerance) << c.spec << " (before: " << before / truth << ")";
  }
}

// The gain adds flags bit 7 and one byte after the step and changes nothing else; decoding
// applies the specified rule to what the stream without it decodes to, bit for bit.
TEST(DiscEnergyGain, StreamIsTheGainlessOnePlusOneByte) {
  const Tensor sparse = realistic_sparse_map({1, 9, 17, 13}, 0.5, 88);
  const Tensor dense = dense_signed_map({1, 5, 11, 21}, 89);
  for (const Tensor* t : {&sparse, &dense})
    for (const std::string base : {"disc:transform=1,bits=5,hf=1", "disc:bits=2,clip=3,centroid=3,mean=1",
                                   "disc:bits=3,clip=4,prune=0.2,diffuse=0.5", "disc:bits=2,chs=1"}) {
      const auto plain_codec = codec(base);
      const Bytes plain = plain_codec->encode_payload(*t).value();
      EXPECT_EQ(plain, codec(base + ",gain=0")->encode_payload(*t).value()) << base;
      const auto gain_codec = codec(base + ",gain=1");
      const Bytes with_gain = gain_codec->encode_payload(*t).value();
      ASSERT_EQ(with_gain.size(), plain.size() + 1) << base;
      EXPECT_EQ(with_gain[0], plain[0] | 128) << base;
      EXPECT_EQ(plain[0] & 128, 0) << base;
      EXPECT_EQ(0, std::memcmp(with_gain.data() + 1, plain.data() + 1, 4)) << base;
      EXPECT_EQ(0, std::memcmp(with_gain.data() + 6, plain.data() + 5, plain.size() - 5)) << base;
      const Tensor expected = apply_gain_as_specified(plain_codec->decode_payload(plain, t->shape()).value(),
                                                      static_cast<int8_t>(with_gain[5]), !(plain[0] & 1));
      const Tensor decoded = gain_codec->decode_payload(with_gain, t->shape()).value();
      EXPECT_EQ(0, std::memcmp(decoded.data(), expected.data(), expected.bytes())) << base;
      // Any code is valid, and a gain-less decoder configuration reads the stream alike: the
      // flag, not the parameter, says the byte is there.
      for (const int code : {-128, -1, 0, 1, 127}) {
        Bytes other = with_gain;
        other[5] = static_cast<uint8_t>(code);
        const auto back = plain_codec->decode_payload(other, t->shape());
        ASSERT_TRUE(back.ok()) << base << " code " << code;
        const Tensor want = apply_gain_as_specified(plain_codec->decode_payload(plain, t->shape()).value(),
                                                    static_cast<int8_t>(code), !(plain[0] & 1));
        EXPECT_EQ(0, std::memcmp(back->data(), want.data(), want.bytes())) << base << " code " << code;
      }
    }
}

// Near the largest steps a gain can overflow fp32: such a payload is rejected, and the encoder
// leaves the gain out rather than write one.
TEST(DiscEnergyGain, OverflowIsAnErrorNotInfinity) {
  Tensor t({1, 2, 4, 4});
  for (size_t i = 0; i < t.size(); ++i)
    t.data()[i] = (i % 3 == 0 ? -1.0f : 1.0f) * 3e38f / 7 * static_cast<float>((i % 7) + 1);
  const auto c = codec("disc:bits=4,clip=0,gain=1");
  const auto encoded = c->encode_payload(t);
  ASSERT_TRUE(encoded.ok()) << encoded.error().message();
  const Bytes& payload = *encoded;
  EXPECT_EQ(payload[0] & 128, 0) << "the encoder must not write a gain that overflows";
  Bytes with_gain(payload.begin(), payload.begin() + 5);
  with_gain[0] |= 128;
  with_gain.push_back(127);  // g = 2^(127/64), about 3.96
  with_gain.insert(with_gain.end(), payload.begin() + 5, payload.end());
  const auto back = c->decode_payload(with_gain, t.shape());
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message().find("overflow"), std::string::npos) << back.error().message();
  // Unsigned: a value far below a huge plane mean scales to -inf, which the clamp at 0 must
  // not hide.
  Tensor u({1, 1, 8, 8});
  std::fill(u.values().begin(), u.values().end(), 3e38f);
  u.data()[0] = 0;
  const Bytes unsigned_payload = codec("disc:bits=4,clip=0")->encode_payload(u).value();
  ASSERT_EQ(unsigned_payload[0] & (1 | 128), 0);
  Bytes unsigned_gain(unsigned_payload.begin(), unsigned_payload.begin() + 5);
  unsigned_gain[0] |= 128;
  unsigned_gain.push_back(127);
  unsigned_gain.insert(unsigned_gain.end(), unsigned_payload.begin() + 5, unsigned_payload.end());
  const auto unsigned_back = c->decode_payload(unsigned_gain, u.shape());
  ASSERT_FALSE(unsigned_back.ok());
  EXPECT_NE(unsigned_back.error().message().find("overflow"), std::string::npos) << unsigned_back.error().message();
}

TEST(DiscEnergyGain, ConstantAndAllZeroTensorsAreUnchanged) {
  for (const float value : {0.0f, 2.5f}) {
    Tensor t({1, 3, 8, 8});
    std::fill(t.values().begin(), t.values().end(), value);
    for (const char* spec : {"disc:bits=2,gain=1", "disc:transform=1,gain=1"}) {
      const Bytes payload = codec(spec)->encode_payload(t).value();
      EXPECT_EQ(payload[5], 0) << spec << " " << value << ": no energy to match, gain code 0";
      const Tensor back = round_trip(t, *codec(spec));
      for (float v : back.values()) EXPECT_NEAR(v, value, 1e-6f + value * 0.01f) << spec;
    }
  }
}

// --- error diffusion (diffuse) ---------------------------------------------------------------

// Floyd-Steinberg as FORMAT.md words it, on a whole-plane error array: contributions reach
// each element in the order the codec adds them, so the float sums, and the levels, agree
// exactly with codec_disc::diffused_levels.
std::vector<int16_t> reference_diffusion(const codec_disc::Quantizer& q, const std::vector<float>& x, size_t height,
                                         size_t width, float strength) {
  std::vector<float> carried(x.size(), 0.0f);
  std::vector<int16_t> levels(x.size());
  const double top = static_cast<double>(static_cast<float>(q.max_level) * q.step);
  for (size_t y = 0; y < height; ++y)
    for (size_t c = 0; c < width; ++c) {
      const size_t i = y * width + c;
      const float v = static_cast<float>(std::clamp(double{x[i]} + double{strength} * double{carried[i]}, -top, top));
      const int level = q.level(q.is_signed ? v : std::max(v, 0.0f));
      levels[i] = static_cast<int16_t>(level);
      const float error = v - static_cast<float>(level) * q.step;
      const auto pass = [&](size_t yy, long cc, float weight) {
        if (yy >= height || cc < 0 || static_cast<size_t>(cc) >= width) return;  // leaves the plane
        carried[yy * width + static_cast<size_t>(cc)] += error * weight;
      };
      const long col = static_cast<long>(c);
      pass(y, col + 1, 7.0f / 16);
      pass(y + 1, col - 1, 3.0f / 16);
      pass(y + 1, col, 5.0f / 16);
      pass(y + 1, col + 1, 1.0f / 16);
    }
  return levels;
}

TEST(DiscDiffusion, LevelsAreFloydSteinbergAsSpecified) {
  std::mt19937 rng(86);
  for (const bool is_signed : {false, true})
    for (const float prune : {0.0f, 0.3f})
      for (const float strength : {0.25f, 0.5f, 1.0f}) {
        const size_t height = 13, width = 17;
        std::vector<float> x(height * width);
        std::normal_distribution<float> normal(0, 1);
        for (float& v : x) v = is_signed ? normal(rng) : std::max(0.0f, normal(rng));
        x[40] = 9;  // beyond the largest level: nothing of it is passed on
        auto q = codec_disc::fit_quantizer(x, {2, prune, 2.5f});
        ASSERT_TRUE(q.ok());
        std::vector<int16_t> levels(x.size());
        codec_disc::diffused_levels(*q, x.data(), height, width, strength, levels.data());
        EXPECT_EQ(levels, reference_diffusion(*q, x, height, width, strength))
            << "signed " << is_signed << " prune " << prune << " strength " << strength;
      }
  // A negative sum next to a zero of an unsigned map travels on: 0.6, 0, 0.55 (step 1) gives
  // 1, 0, 0 (the zero passes its -0.175 on), where dropping it would give 1, 0, 1.
  codec_disc::Quantizer q;
  q.max_level = 3;
  const std::vector<float> x = {0.6f, 0.0f, 0.55f};
  std::vector<int16_t> levels(3);
  codec_disc::diffused_levels(q, x.data(), 1, 3, 1.0f, levels.data());
  EXPECT_EQ(levels, (std::vector<int16_t>{1, 0, 0}));
}

TEST(DiscDiffusion, KeepsLocalSumsThatRoundingDrops) {
  // A plane of values all below half a step: plain rounding decodes it to zero; with full
  // diffusion every 8x8 block keeps its sum to within what crosses its border.
  Tensor t({1, 2, 32, 32});
  for (size_t i = 0; i < t.size(); ++i) t.data()[i] = 0.3f + 0.1f * static_cast<float>((i * 7) % 5) / 4;
  t.data()[0] = 4.0f;  // step = 4 / 3 at bits=2, clip=0
  const float step = 4.0f / 3;
  const Tensor plain = round_trip(t, *codec("disc:bits=2,clip=0"));
  const Tensor diffused = round_trip(t, *codec("disc:bits=2,clip=0,diffuse=1"));
  for (size_t i = 1; i < t.size(); ++i) ASSERT_EQ(plain.data()[i], 0.0f) << i;
  for (size_t plane = 0; plane < 2; ++plane)
    for (size_t by = 0; by < 4; ++by)
      for (size_t bx = 0; bx < 4; ++bx) {
        double truth = 0, decoded = 0;
        for (size_t y = 8 * by; y < 8 * by + 8; ++y)
          for (size_t x = 8 * bx; x < 8 * bx + 8; ++x) {
            truth += t.data()[plane * 1024 + y * 32 + x];
            decoded += diffused.data()[plane * 1024 + y * 32 + x];
          }
        if (plane == 0 && by == 0 && bx == 0) continue;  // holds the outlier that set the step
        EXPECT_NEAR(decoded, truth, 3 * step) << "plane " << plane << " block " << by << "," << bx;
      }
  // Every decoded value is still one of the levels; nothing negative on an unsigned map.
  for (size_t i = 0; i < t.size(); ++i) {
    const float level = diffused.data()[i] / step;
    EXPECT_NEAR(level, std::round(level), 1e-4) << i;
    EXPECT_GE(diffused.data()[i], 0.0f) << i;
  }
}

TEST(DiscDiffusion, ExtremeValuesStayLevels) {
  // Outliers near FLT_MAX, clipped: nothing overflows, every decoded value is finite, and what
  // lies beyond the largest level is not passed on, so the small values stay 0.
  Tensor t({1, 3, 9, 7});
  for (size_t i = 0; i < t.size(); ++i) {
    const float share = static_cast<float>(i % 7) / 6;  // 0..1: the input itself is finite
    t.data()[i] = (i % 5 == 0 ? 3e38f : 1.0f) * (i % 2 ? -share : share);
  }
  for (const char* spec : {"disc:bits=2,clip=1,diffuse=1", "disc:bits=8,clip=0.5,diffuse=1,mean=1",
                           "disc:bits=3,clip=2,prune=0.5,centroid=3,diffuse=0.5"}) {
    auto stream = compress(t, *codec(spec));
    ASSERT_TRUE(stream.ok()) << spec << ": " << stream.error().message();
    auto back = decompress(*stream);
    ASSERT_TRUE(back.ok()) << spec << ": " << back.error().message();
    for (size_t i = 0; i < back->size(); ++i) ASSERT_TRUE(std::isfinite(back->data()[i])) << spec << " " << i;
    if (std::string(spec) != "disc:bits=2,clip=1,diffuse=1") continue;
    for (size_t i = 0; i < back->size(); ++i) {
      if (i % 5 == 0) continue;  // an outlier
      EXPECT_EQ(back->data()[i], 0.0f) << i;
    }
  }
}

TEST(DiscDiffusion, OnlyTheLevelsChange) {
  // An encoder-only choice: the same header and side information, a stream today's decoder
  // reads, and zero strength is plain rounding byte for byte.
  const Tensor sparse = realistic_sparse_map({1, 12, 20, 19}, 0.6, 84);
  const Tensor dense = dense_signed_map({1, 6, 20, 19}, 85);
  for (const Tensor* t : {&sparse, &dense})
    for (const std::string base : {"disc:bits=2,clip=3", "disc:bits=3,clip=4,prune=0.2,centroid=3,mean=1"}) {
      const Bytes plain = codec(base)->encode_payload(*t).value();
      EXPECT_EQ(plain, codec(base + ",diffuse=0")->encode_payload(*t).value()) << base;
      const Bytes diffused = codec(base + ",diffuse=0.5")->encode_payload(*t).value();
      EXPECT_NE(plain, diffused) << base;
      EXPECT_EQ(0, std::memcmp(diffused.data(), plain.data(), 5)) << base;  // flags and step
      EXPECT_TRUE(decompress(compress(*t, *codec(base + ",diffuse=0.5")).value()).ok()) << base;
    }
}

TEST(DiscPlaneSteps, KeptValuesWithinTheirPlaneStep) {
  // Planes of very different scales (including an all-zero plane and a tiny one).
  Tensor scaled = realistic_sparse_map({1, 8, 20, 19}, 0.6, 74);
  const PlaneView v = plane_view(scaled.shape());
  const float gains[] = {1, 0, 0.001f, 40, 0.3f, 3, 1e-6f, 200};
  for (size_t i = 0; i < scaled.size(); ++i) scaled.data()[i] *= gains[i / v.plane_size()];
  const Tensor dense = dense_signed_map({1, 6, 20, 19}, 75);
  for (int bits = 1; bits <= 8; ++bits)
    for (const double chs : {0.25, 0.5, 1.0})
      for (const bool centroid : {false, true}) {
        expect_plane_step_contract(scaled, bits, 0.0, 3.0, chs, centroid);
        expect_plane_step_contract(scaled, bits, 0.2, 0.0, chs, centroid);
        expect_plane_step_contract(dense, bits, 0.1, 2.5, chs, centroid);
      }
}

TEST(DiscPlaneSteps, OddShapesAndConstantTensors) {
  for (const Shape& shape : std::vector<Shape>{{1}, {13}, {3, 17}, {2, 4, 1, 9}, {2, 4, 9, 1}, {1, 2, 30, 31}}) {
    expect_plane_step_contract(realistic_sparse_map(shape, 0.6, 76), 3, 0.05, 4, 1.0, true);
    expect_plane_step_contract(dense_signed_map(shape, 77), 2, 0.0, 2, 0.5, true);
  }
  const Tensor zeros({1, 3, 4, 4});
  const Tensor back = round_trip(zeros, *codec("disc:chs=1,centroid=1"));
  EXPECT_TRUE(std::all_of(back.values().begin(), back.values().end(), [](float x) { return x == 0; }));
  Tensor constant({1, 2, 3, 3});
  std::fill(constant.values().begin(), constant.values().end(), -2.5f);
  const Tensor constant_back = round_trip(constant, *codec("disc:bits=2,chs=1,centroid=1"));
  for (float x : constant_back.values()) EXPECT_FLOAT_EQ(x, -2.5f);
}

TEST(DiscPlaneSteps, ZeroStrengthIsTodaysStream) {
  const Tensor t = realistic_sparse_map({1, 8, 14, 14}, 0.6, 78);
  const Bytes a = codec("disc:bits=3,clip=4")->encode_payload(t).value();
  const Bytes b = codec("disc:bits=3,clip=4,chs=0,centroid=0")->encode_payload(t).value();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0] & 6, 0);  // no centroids, no plane steps
}

// --- transform mode -----------------------------------------------------------------------

TEST(DiscTransform, DctIsOrthonormalAndZigzagIsAPermutation) {
  using namespace codec_disc;
  std::mt19937 rng(60);
  std::normal_distribution<float> normal(0, 1);
  for (const BlockShape block : {BlockShape{8, 8}, BlockShape{1, 1}, BlockShape{10, 10}, BlockShape{12, 10},
                                 BlockShape{1, 32}, BlockShape{32, 32}, BlockShape{7, 3}}) {
    SCOPED_TRACE(std::to_string(block.height) + "x" + std::to_string(block.width));
    const size_t area = static_cast<size_t>(block.area());
    std::vector<float> x(area), c(area), back(area);
    for (float& v : x) v = normal(rng);
    forward_dct(block, x.data(), c.data());
    inverse_dct(block, c.data(), back.data());
    double energy_x = 0, energy_c = 0;
    for (size_t i = 0; i < area; ++i) {
      EXPECT_NEAR(back[i], x[i], 1e-5);
      energy_x += double{x[i]} * x[i];
      energy_c += double{c[i]} * c[i];
    }
    EXPECT_NEAR(energy_c, energy_x, 1e-4 * energy_x);
    const std::vector<uint16_t> order = zigzag_order(block);
    ASSERT_EQ(order.size(), area);
    std::vector<bool> seen(area);
    for (uint16_t position : order) seen[position] = true;
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
    EXPECT_EQ(order[0], 0);
  }
  const std::vector<uint16_t> jpeg = zigzag_order({8, 8});
  EXPECT_EQ(jpeg[1], 1);  // (0,1)
  EXPECT_EQ(jpeg[2], 8);  // (1,0)
  EXPECT_EQ(jpeg[3], 16);  // (2,0)
  EXPECT_EQ(jpeg[63], 63);
}

TEST(DiscTransform, WholePlaneBlocksSplitLongSidesIntoEqualTiles) {
  using codec_disc::BlockShape;
  using codec_disc::transform_block_shape;
  EXPECT_EQ(transform_block_shape(100, 3, false), (BlockShape{8, 8}));
  EXPECT_EQ(transform_block_shape(10, 10, true), (BlockShape{10, 10}));
  EXPECT_EQ(transform_block_shape(1, 32, true), (BlockShape{1, 32}));
  EXPECT_EQ(transform_block_shape(33, 64, true), (BlockShape{17, 32}));
  EXPECT_EQ(transform_block_shape(56, 100, true), (BlockShape{28, 25}));
  EXPECT_EQ(transform_block_shape(224, 7, true), (BlockShape{32, 7}));
  EXPECT_EQ(transform_block_shape(225, 7, true), (BlockShape{29, 7}));
}

// Orthonormal DCT: per block (padding included), the squared error against the clamped input
// is at most the sum over coefficients of (step_k / 2)^2; clamping the output can only reduce
// it, and cropping the padding too. Blocks: 8x8, or with tile=1 the plane in equal tiles of at
// most 32 per side; step_k = step (1 + hf (8u / width + 8v / height)) (doc/FORMAT.md).
void expect_transform_error_bound(const Tensor& t, int bits, double clip, double hf, int tile = 0) {
  const std::string spec = "disc:transform=1,bits=" + std::to_string(bits) + ",clip=" + std::to_string(clip) +
                           ",hf=" + std::to_string(hf) + ",tile=" + std::to_string(tile);
  const Tensor back = round_trip(t, *codec(spec));
  const Expectation e = expected_quantizer(t, bits, clip);
  const bool is_signed = std::any_of(t.values().begin(), t.values().end(), [](float v) { return v < 0; });
  const double low = is_signed ? -e.clip_value : 0.0;
  const PlaneView v = plane_view(t.shape());
  const auto tile_side = [tile](size_t n) -> size_t {
    if (!tile) return 8;
    const size_t tiles = (n + 31) / 32;
    return (n + tiles - 1) / tiles;
  };
  const size_t bh = tile_side(v.height), bw = tile_side(v.width);
  double block_bound = 0;
  for (size_t vf = 0; vf < bh; ++vf)
    for (size_t uf = 0; uf < bw; ++uf) {
      const double step = e.step * (1 + hf * (8.0 * uf / bw + 8.0 * vf / bh));
      block_bound += step * step / 4;
    }
  block_bound = block_bound * (1 + 1e-3) + 1e-9;
  for (size_t p = 0; p < v.planes; ++p)
    for (size_t by = 0; by < v.height; by += bh)
      for (size_t bx = 0; bx < v.width; bx += bw) {
        double err = 0;
        for (size_t y = by; y < std::min(by + bh, v.height); ++y)
          for (size_t x = bx; x < std::min(bx + bw, v.width); ++x) {
            const size_t i = p * v.plane_size() + y * v.width + x;
            const double clamped = std::clamp(double{t.data()[i]}, low, e.clip_value);
            ASSERT_GE(back.data()[i], low - 1e-5 * e.clip_value) << spec;
            ASSERT_LE(back.data()[i], e.clip_value * (1 + 1e-5)) << spec;
            err += (back.data()[i] - clamped) * (back.data()[i] - clamped);
          }
        ASSERT_LE(err, block_bound) << spec << " " << shape_to_string(t.shape()) << " block " << p << "," << by << ","
                                    << bx;
      }
}

TEST(DiscTransform, BlockErrorWithinTheStepBound) {
  for (const Shape& shape : std::vector<Shape>{{1}, {13}, {3, 17}, {2, 4, 1, 9}, {2, 4, 9, 1}, {1, 3, 20, 19},
                                               {1, 2, 16, 16}, {1, 2, 5, 7}, {1, 2, 33, 70}, {1, 1, 1, 100}}) {
    for (const double hf : {0.0, 0.5, 2.0}) {
      for (const int tile : {0, 1}) {
        expect_transform_error_bound(dense_signed_map(shape, 61), 4, 6, hf, tile);
        expect_transform_error_bound(dense_signed_map(shape, 62), 2, 2, hf, tile);
        expect_transform_error_bound(realistic_sparse_map(shape, 0.6, 63), 5, 3, hf, tile);
        expect_transform_error_bound(realistic_sparse_map(shape, 0.3, 64), 8, 0, hf, tile);
      }
    }
  }
}

TEST(DiscTransform, LargestLevelsAndDcSwingsRoundTrip) {
  // 8x8 blocks alternating between the largest and smallest value: DC levels at ±(8M + 1)
  // and DC residuals near twice that, at the finest step.
  const Tensor t = planes_from({1, 2, 24, 24}, [](size_t p, size_t y, size_t x) {
    return (y / 8 + x / 8 + p) % 2 ? 3.0f : -3.0f;
  });
  for (const char* spec : {"disc:transform=1,bits=8,clip=0,hf=0", "disc:transform=1,bits=1,clip=0,hf=0"}) {
    const Tensor back = round_trip(t, *codec(spec));
    EXPECT_LT(relative_mse(t, back), 1e-3) << spec;
  }
  expect_transform_error_bound(t, 8, 0, 0);
  // tile=1: 32x32 tiles, DC levels near ±32M and residuals near twice that (12 prefix ones; the
  // encoder never writes 13, see TransformBodyAtTheLimitsOfTheSpec).
  const Tensor tiles = planes_from({1, 2, 64, 64}, [](size_t p, size_t y, size_t x) {
    return (y / 32 + x / 32 + p) % 2 ? 3.0f : -3.0f;
  });
  for (const char* spec : {"disc:transform=1,bits=8,clip=0,hf=0,tile=1", "disc:transform=1,bits=1,clip=0,hf=0,tile=1"}) {
    const Tensor back = round_trip(tiles, *codec(spec));
    EXPECT_LT(relative_mse(tiles, back), 1e-3) << spec;
  }
  expect_transform_error_bound(tiles, 8, 0, 0, 1);
}

// Transform bodies written bit by bit as doc/FORMAT.md specifies them, at limits the encoder
// never reaches: a coded count above the block's area, and a DC residual of 2L (13 prefix ones).
// Each model is used by at most one context here, except where noted, so fresh models stand in
// for the decoder's.
Bytes transform_payload(const std::function<void(codec_disc::RangeEncoder&)>& body) {
  Bytes payload = {64};  // flags: unsigned, warm-up adaptation
  const float step = 1.0f;
  payload.resize(5);
  std::memcpy(payload.data() + 1, &step, 4);
  codec_disc::RangeEncoder coder(&payload, codec_disc::Adaptation::kWarmUp);
  body(coder);
  coder.finish();
  return payload;
}

TEST(DiscTransform, TransformBodyAtTheLimitsOfTheSpec) {
  using namespace codec_disc;
  // A 1x3 plane with tile=1: one block, A = 3, count in c = 2 bits.
  const auto count_then_last = [](unsigned count_minus_one) {
    return transform_payload([count_minus_one](RangeEncoder& coder) {
      BitModel any, count_1, count_2or3, significant_0, significant_21, prefix, sign;
      coder.bit(any, 1);
      coder.bit(count_1, (count_minus_one >> 1) & 1);
      coder.bit(count_2or3, count_minus_one & 1);
      if (count_minus_one + 1 > 3) return;
      coder.bit(significant_0, 0);   // k = 0, q = 0
      coder.bit(significant_21, 0);  // k = 1, q = 21
      coder.bit(prefix, 0);          // k = 2 (the last, non-zero): magnitude 1
      coder.bit(sign, 0);
    });
  };
  const auto c = codec("disc:transform=1,bits=8,clip=0,hf=0,tile=1");
  const Shape row = {1, 1, 1, 3};
  auto three = c->decode_payload(count_then_last(2), row);
  ASSERT_TRUE(three.ok()) << three.error().message();
  EXPECT_GT(three->values()[0], 0.0f);  // the one non-zero level is the highest frequency
  const auto four = c->decode_payload(count_then_last(3), row);
  ASSERT_FALSE(four.ok());
  EXPECT_NE(four.error().message().find("malformed"), std::string::npos) << four.error().message();

  // A 1x64 plane: two 1x32 blocks (A = 32, c = 5, L = 32 * 255 + 1 = 8161). DC levels -L, then
  // +L predicted from -L: residual 2L = 16322, 13 prefix ones, which a valid stream may hold.
  const Bytes extreme = transform_payload([](RangeEncoder& coder) {
    PrefixModels<14> prefix_hood0{}, prefix_hood1{};
    SuffixModels<14> suffix{};  // shared by both blocks (different suffix lengths)
    BitModel sign;              // shared: both DCs use sign[0]
    for (int block = 0; block < 2; ++block) {
      BitModel any, count[5];
      coder.bit(any, 1);
      for (BitModel& node : count) coder.bit(node, 0);  // n = 1
      const int residual = block == 0 ? -8161 : 16322;
      code_exp_golomb(coder, block == 0 ? prefix_hood0 : prefix_hood1, suffix, std::abs(residual));
      coder.bit(sign, residual < 0);
    }
  });
  auto decoded = c->decode_payload(extreme, {1, 1, 1, 64});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  for (size_t i = 0; i < 64; ++i) ASSERT_EQ(decoded->values()[i], i < 32 ? 0.0f : 255.0f) << i;  // clamped to [0, M]
}

TEST(DiscTransform, WholePlaneBlocksCostLessOnSmallPlanes) {
  // 10x10 planes: 8x8 blocks code four blocks (three mostly padding) where tile=1 codes one.
  const Tensor t = planes_from({1, 32, 10, 10}, [](float p, float y, float x) {
    return 2.0f + std::sin(0.3f * x + p) * std::cos(0.25f * y - p);
  });
  for (const char* setting : {"bits=4,hf=1", "bits=5,hf=0.5"}) {
    const std::string blocks = std::string("disc:transform=1,") + setting, tiles = blocks + ",tile=1";
    EXPECT_LT(compressed_size(t, tiles) * 5, compressed_size(t, blocks) * 4) << setting;
    EXPECT_LT(relative_mse(t, round_trip(t, *codec(tiles))), 2 * relative_mse(t, round_trip(t, *codec(blocks))))
        << setting;
  }
}

TEST(DiscTransform, ConstantAndAllZeroTensorsRoundTrip) {
  for (const Shape& shape : std::vector<Shape>{{1, 2, 3, 3}, {1, 1, 8, 8}, {1, 2, 11, 17}, {5}}) {
    for (const float value : {-2.5f, 0.75f}) {
      Tensor constant(shape);
      std::fill(constant.values().begin(), constant.values().end(), value);
      for (const char* spec : {"disc:transform=1,bits=2", "disc:transform=1,bits=6,hf=3"}) {
        const Tensor back = round_trip(constant, *codec(spec));
        for (float v : back.values()) ASSERT_FLOAT_EQ(v, value) << spec << " " << shape_to_string(shape);
      }
      // Whole-plane blocks: the DC level of a constant block of area A is value * sqrt(A) / step,
      // rounded, so the plane decodes within step / (2 sqrt(A)) of the value (doc/CODEC.md,
      // "Whole-plane blocks"); here step = |value| / M with M = 31 (bits=6, signed) or 63.
      const Tensor back = round_trip(constant, *codec("disc:transform=1,bits=6,tile=1"));
      for (float v : back.values()) ASSERT_NEAR(v, value, std::fabs(value) / 31 / 2) << shape_to_string(shape);
    }
    for (const char* spec : {"disc:transform=1", "disc:transform=1,tile=1"}) {
      const Tensor back = round_trip(Tensor(shape), *codec(spec));
      EXPECT_TRUE(std::all_of(back.values().begin(), back.values().end(), [](float v) { return v == 0; })) << spec;
    }
  }
}

TEST(DiscTransform, SmoothMapsCostLessThanElementwiseAtTheSameStep) {
  // Same step; the transform concentrates a smooth plane's energy in few coefficients.
  const Tensor t = planes_from({1, 16, 28, 28}, [](float p, float y, float x) {
    return std::sin(0.2f * x + p) * std::cos(0.15f * y - p);
  });
  EXPECT_LT(compressed_size(t, "disc:transform=1,bits=5,hf=0") * 3, compressed_size(t, "disc:bits=5") * 2);
}

TEST(DiscParams, RejectsInvalidCombinations) {
  EXPECT_FALSE(make_codec("disc:bits=9").ok());
  EXPECT_FALSE(make_codec("disc:bits=2.5").ok());
  EXPECT_FALSE(make_codec("disc:prune=-0.1").ok());
  EXPECT_FALSE(make_codec("disc:bits=0,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:bits=0,transform=1").ok());
  EXPECT_FALSE(make_codec("disc:transform=1,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:transform=1,prune=0.1").ok());
  EXPECT_FALSE(make_codec("disc:transform=2").ok());
  EXPECT_FALSE(make_codec("disc:transform=1,hf=-1").ok());
  EXPECT_TRUE(make_codec("disc:transform=1,bits=8,clip=0,hf=8").ok());
  EXPECT_TRUE(make_codec("disc:bits=8,prune=1,clip=1000,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:chs=1.5").ok());
  EXPECT_FALSE(make_codec("disc:chs=-0.5").ok());
  EXPECT_FALSE(make_codec("disc:chs=0.5,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:chs=0.5,transform=1").ok());
  EXPECT_FALSE(make_codec("disc:chs=0.5,bits=0").ok());
  EXPECT_FALSE(make_codec("disc:centroid=0.5").ok());
  EXPECT_FALSE(make_codec("disc:centroid=4").ok());
  EXPECT_TRUE(make_codec("disc:bits=2,chs=1,centroid=1,prune=0.3").ok());
  EXPECT_TRUE(make_codec("disc:centroid=1,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:mean=2").ok());
  EXPECT_FALSE(make_codec("disc:mean=0.5").ok());
  EXPECT_FALSE(make_codec("disc:mean=1,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:mean=1,transform=1").ok());
  EXPECT_FALSE(make_codec("disc:mean=1,bits=0").ok());
  EXPECT_TRUE(make_codec("disc:bits=2,chs=1,centroid=3,prune=0.3,mean=1").ok());
  EXPECT_FALSE(make_codec("disc:diffuse=1.5").ok());
  EXPECT_FALSE(make_codec("disc:diffuse=-0.5").ok());
  EXPECT_FALSE(make_codec("disc:diffuse=0.5,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:diffuse=0.5,transform=1").ok());
  EXPECT_FALSE(make_codec("disc:diffuse=0.5,bits=0").ok());
  EXPECT_FALSE(make_codec("disc:diffuse=0.5,chs=0.5").ok());
  EXPECT_TRUE(make_codec("disc:bits=2,diffuse=1,centroid=3,prune=0.3,mean=1").ok());
  EXPECT_FALSE(make_codec("disc:gain=2").ok());
  EXPECT_FALSE(make_codec("disc:gain=0.5").ok());
  EXPECT_FALSE(make_codec("disc:gain=1,speed=1").ok());
  EXPECT_FALSE(make_codec("disc:gain=1,bits=0").ok());
  EXPECT_TRUE(make_codec("disc:transform=1,bits=4,hf=1,gain=1").ok());
  EXPECT_FALSE(make_codec("disc:tile=1").ok());
  EXPECT_FALSE(make_codec("disc:transform=1,tile=2").ok());
  EXPECT_FALSE(make_codec("disc:transform=1,tile=0.5").ok());
  EXPECT_TRUE(make_codec("disc:transform=1,bits=5,hf=2,gain=1,tile=1").ok());
  EXPECT_TRUE(make_codec("disc:bits=2,diffuse=1,centroid=3,prune=0.3,mean=1,chs=0,gain=1").ok());
}

// --- compression --------------------------------------------------------------------------

TEST(DiscCompression, BeatsBaselinesOnRealisticSparseMaps) {
  const Tensor t = realistic_sparse_map({1, 64, 28, 28}, 0.6, 21);
  // Same quantizer, so identical reconstructions: only the entropy stage differs.
  EXPECT_LT(compressed_size(t, "disc:bits=8,clip=0"), compressed_size(t, "disc:bits=8,clip=0,speed=1"));
  // The default setting against lossless zstd and 8-bit quantization + zstd.
  const Tensor back = round_trip(t, *codec("disc"));
  EXPECT_LT(relative_mse(t, back), 0.02);
  const size_t disc_bytes = compressed_size(t, "disc");
  EXPECT_LT(disc_bytes * 8, compressed_size(t, "zstd"));
  EXPECT_LT(disc_bytes * 2, compressed_size(t, "disc:bits=8,clip=0,speed=1"));
  // Zeros are cheap: even charging every bit to the zeros, a zero costs far under one bit.
  const Tensor mostly_zero = realistic_sparse_map({1, 64, 28, 28}, 0.9, 23);
  const size_t zeros = static_cast<size_t>(std::count(mostly_zero.values().begin(), mostly_zero.values().end(), 0.0f));
  EXPECT_LT(8.0 * compressed_size(mostly_zero, "disc") / zeros, 0.6);
}

TEST(DiscCompression, RatioSpansAWideRange) {
  const Tensor t = realistic_sparse_map({1, 64, 28, 28}, 0.6, 22);
  const double raw = static_cast<double>(t.bytes());
  EXPECT_LT(raw / compressed_size(t, "disc:bits=8,clip=0"), 12);
  EXPECT_GT(raw / compressed_size(t, "disc:bits=1,prune=0.8,clip=3"), 150);
}

// --- robustness ---------------------------------------------------------------------------

// Decoding a damaged payload must return an error or a tensor of the requested shape.
void expect_safe_decode(const Codec& c, std::span<const uint8_t> payload, const Shape& shape) {
  auto r = c.decode_payload(payload, shape);
  if (r.ok()) {
    ASSERT_EQ(r->shape(), shape);
  }
}

TEST(DiscRobustness, DamagedPayloadsNeverCrash) {
  const Tensor sparse = realistic_sparse_map({1, 4, 9, 11}, 0.6, 31);
  const Tensor dense = dense_signed_map({1, 4, 9, 11}, 32);
  std::mt19937 rng(33);
  for (const char* spec : {"disc",
                           "disc:bits=1",
                           "disc:bits=8,clip=0",
                           "disc:speed=1",
                           "disc:bits=0",
                           "disc:transform=1",
                           "disc:transform=1,bits=8,clip=0,hf=0",
                           "disc:transform=1,bits=1,hf=4",
                           "disc:bits=2,clip=3,centroid=1",
                           "disc:bits=3,chs=1",
                           "disc:bits=8,clip=0,chs=0.5,centroid=1",
                           "disc:bits=3,centroid=1,speed=1",
                           "disc:bits=2,clip=3,mean=1",
                           "disc:bits=2,clip=4,centroid=3,chs=0.5,mean=1",
                           "disc:transform=1,gain=1",
                           "disc:bits=2,clip=3,centroid=3,mean=1,gain=1",
                           "disc:transform=1,tile=1",
                           "disc:transform=1,bits=8,clip=0,hf=0,tile=1",
                           "disc:transform=1,bits=5,hf=2,gain=1,tile=1",
                           "disc:cells=1,bits=2,clip=3",
                           "disc:cells=1,bits=1",
                           "disc:cells=1,bits=6,clip=0"}) {
    const auto c = codec(spec);
    for (const Tensor* t : {&sparse, &dense}) {
      const Bytes payload = c->encode_payload(*t).value();
      for (size_t n = 0; n < payload.size(); ++n) {
        const auto r = c->decode_payload(std::span(payload).first(n), t->shape());
        if (std::string(spec).find("speed") == std::string::npos) {
          EXPECT_FALSE(r.ok()) << spec << " prefix " << n;
        }
      }
      for (int trial = 0; trial < 400; ++trial) {
        Bytes damaged = payload;
        for (int flips = 1 + trial % 3; flips > 0; --flips) damaged[rng() % damaged.size()] ^= uint8_t(1u << (rng() % 8));
        expect_safe_decode(*c, damaged, t->shape());
      }
      Bytes garbage(payload.size());
      for (uint8_t& b : garbage) b = static_cast<uint8_t>(rng());
      expect_safe_decode(*c, garbage, t->shape());
      expect_safe_decode(*c, {}, t->shape());
    }
  }
}

// Squares of such magnitudes underflow fp32: the clip value must not collapse to 0, which
// decoded every element to 0.
TEST(DiscRobustness, TinyMagnitudesKeepTheirRelativeAccuracy) {
  for (float scale : {1e-24f, 1e-30f}) {
    Tensor t({1, 2, 8, 8});
    for (size_t i = 0; i < t.size(); ++i) t.data()[i] = scale * static_cast<float>(i % 7) * (i % 3 == 0 ? -1.0f : 1.0f);
    for (const char* spec : {"disc:bits=8", "disc:bits=4,clip=3", "disc:transform=1,bits=6", "disc:bits=4,speed=1"}) {
      const Tensor back = round_trip(t, *codec(spec));
      double worst = 0;
      for (size_t i = 0; i < t.size(); ++i) worst = std::max(worst, std::abs(double{back.data()[i]} - t.data()[i]));
      EXPECT_LT(worst, 0.5 * 6 * scale) << spec << " at " << scale;  // a zero map would be off by 6 * scale
    }
  }
  // A map of subnormals only decodes as zeros, off by less than the smallest normal float.
  Tensor subnormal({1, 1, 4, 4});
  std::fill(subnormal.values().begin(), subnormal.values().end(), 1e-40f);
  const Tensor zeros = round_trip(subnormal, *codec("disc:bits=4"));
  for (float v : zeros.values()) EXPECT_EQ(v, 0.0f);
  // A normal largest magnitude whose step would be subnormal is refused.
  Tensor tiny({1, 1, 4, 4});
  std::fill(tiny.values().begin(), tiny.values().end(), 1e-37f);
  const auto r = codec("disc:bits=8")->encode_payload(tiny);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("below fp32's normal range"), std::string::npos) << r.error().message();
}

// Finite values whose DCT overflows fp32 (a constant block's DC is its value times sqrt(area))
// are an encoding error, not undefined behaviour.
TEST(DiscRobustness, TransformOfValuesNearTheLargestFloatIsAnError) {
  Tensor t({1, 1, 32, 32});
  std::fill(t.values().begin(), t.values().end(), 3e38f);
  for (const char* spec : {"disc:transform=1,clip=0", "disc:transform=1,clip=0,tile=1"}) {
    const auto r = codec(spec)->encode_payload(t);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.error().message().find("overflows fp32"), std::string::npos) << r.error().message();
  }
}

TEST(DiscRobustness, RejectsBadSideInformation) {
  for (const char* spec : {"disc", "disc:transform=1", "disc:transform=1,tile=1", "disc:chs=1,centroid=1",
                           "disc:speed=1,centroid=1", "disc:mean=1", "disc:chs=1,mean=1,centroid=1"}) {
    const auto c = codec(spec);
    const Tensor t = dense_signed_map({1, 2, 4, 4}, 40);
    Bytes payload = c->encode_payload(t).value();
    ASSERT_TRUE(c->decode_payload(payload, t.shape()).ok()) << spec;
    const float bad_steps[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 0.0f,
                               -1.0f};
    for (float step : bad_steps) {
      Bytes damaged = payload;
      std::memcpy(damaged.data() + 1, &step, 4);
      EXPECT_FALSE(c->decode_payload(damaged, t.shape()).ok()) << step;
    }
    Bytes zero_offsets_on_signed_map = payload;  // every flag bit has a meaning; this combination none
    zero_offsets_on_signed_map[0] |= 16;
    EXPECT_FALSE(c->decode_payload(zero_offsets_on_signed_map, t.shape()).ok()) << spec;
    Bytes no_gain_code(payload.begin(), payload.begin() + 5);  // flags bit 7 with the payload ending at the step
    no_gain_code[0] |= 128;
    const auto truncated = c->decode_payload(no_gain_code, t.shape());
    ASSERT_FALSE(truncated.ok()) << spec;
    if (std::string(spec).find("speed=1") == std::string::npos) {  // speed=1 rejects the flag itself
      EXPECT_NE(truncated.error().message().find("energy-gain code"), std::string::npos) << truncated.error().message();
    }
    Bytes longer = payload;
    longer.push_back(0);
    EXPECT_FALSE(c->decode_payload(longer, t.shape()).ok());
  }
}

// Centroid offsets are only valid element-wise, plane steps only with the range coder.
TEST(DiscRobustness, RejectsFlagsTheModeCannotCarry) {
  const Tensor t = realistic_sparse_map({1, 4, 9, 11}, 0.5, 42);
  const auto transform = codec("disc:transform=1");
  const auto fast = codec("disc:speed=1");
  for (const uint8_t flag : {2, 4, 8, 32}) {
    Bytes payload = transform->encode_payload(t).value();
    payload[0] |= flag;
    auto r = transform->decode_payload(payload, t.shape());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("transform"), std::string::npos) << r.error().message();
  }
  for (const uint8_t flag : {4, 8, 32, 64}) {
    Bytes payload = fast->encode_payload(t).value();
    payload[0] |= flag;
    EXPECT_FALSE(fast->decode_payload(payload, t.shape()).ok());
  }
  // A well-formed fast payload with a gain byte where the gain would sit.
  Bytes with_gain = fast->encode_payload(t).value();
  with_gain[0] |= 128;
  with_gain.insert(with_gain.begin() + 5, 0);
  auto r = fast->decode_payload(with_gain, t.shape());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("speed=1"), std::string::npos) << r.error().message();
}

// Fixed streams of one small map per mode: written before flags bit 6 existed (fixed
// adaptation, by the encoder of commit fda954f) and with it (warm-up, commit 6ba641f). The two
// hold the same levels, so both must decode, to the same values: this pins the decoder of
// either adaptation (a changed warm-up schedule breaks the second stream of each pair).
struct AdaptationPair {
  const char* spec;
  bool is_signed;
  Bytes fixed, warm_up;
};
const std::vector<AdaptationPair>& adaptation_pairs() {
  static const std::vector<AdaptationPair> pairs = {
      {"disc:bits=2,clip=3,centroid=2,mean=1", false,
       {
        0x44, 0x49, 0x53, 0x43, 0x01, 0x07, 0x04, 0x09, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x40, 0x00, 0x00, 0x80, 0x3f, 0x2e, 0x00, 0x00, 0x00, 0x38, 0x55, 0x55, 0x55, 0x3f, 0x00, 0x00, 0x00,
        0x46, 0x5c, 0x00, 0x73, 0x5a, 0x05, 0x3d, 0x1c, 0xc7, 0xd3, 0xc9, 0x60, 0x0e, 0xca, 0xce, 0x42, 0x1e, 0x73,
        0x5b, 0xcf, 0x1c, 0xc3, 0xb9, 0x2a, 0x49, 0xed, 0xcd, 0xb6, 0x23, 0x4c, 0xa4, 0x68, 0x55, 0xcb, 0x12, 0xff,
        0xe4, 0xa0, 0x53, 0xff, 0x8e, 0x0b},
       {
        0x44, 0x49, 0x53, 0x43, 0x01, 0x07, 0x04, 0x09, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x40, 0x00, 0x00, 0x80, 0x3f, 0x2a, 0x00, 0x00, 0x00, 0x78, 0x55, 0x55, 0x55, 0x3f, 0x00, 0x00, 0x00,
        0x46, 0x5c, 0x00, 0x73, 0x6c, 0x72, 0xe7, 0x55, 0x11, 0x36, 0xd4, 0xfd, 0xad, 0x45, 0x74, 0xb7, 0x9e, 0xa2,
        0xbc, 0xd7, 0x36, 0xfe, 0x1b, 0xbd, 0x55, 0x0a, 0xa8, 0x90, 0xdb, 0x41, 0x2d, 0x2d, 0x67, 0x00, 0x09, 0xaf,
        0x0f, 0x8c}},
      {"disc:bits=3,transform=1,hf=0.5", false,
       {
        0x44, 0x49, 0x53, 0x43, 0x01, 0x07, 0x04, 0x06, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x31, 0x00, 0x00, 0x00, 0x00, 0x6e,
        0xdb, 0xb6, 0x3e, 0x00, 0xd9, 0xf6, 0x10, 0x5b, 0x4e, 0x3f, 0x9e, 0x20, 0x67, 0x5d, 0xdd, 0x1e, 0x1e, 0x6f,
        0x6b, 0xf8, 0x34, 0x6e, 0xa3, 0x7e, 0x3a, 0x64, 0x3a, 0x8c, 0x63, 0x23, 0x40, 0xbe, 0xaf, 0xbb, 0x3e, 0xba,
        0xb5, 0xc5, 0xfb, 0xd1, 0x9b, 0xce, 0x55, 0x6e, 0x80, 0xeb, 0x4c, 0x83, 0xc9, 0x2a, 0x24},
       {
        0x44, 0x49, 0x53, 0x43, 0x01, 0x07, 0x04, 0x06, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x2e, 0x00, 0x00, 0x00, 0x40, 0x6e,
        0xdb, 0xb6, 0x3e, 0x00, 0xd9, 0xf6, 0x10, 0x5a, 0x6d, 0x58, 0x45, 0x1d, 0xff, 0xb5, 0x86, 0x38, 0x18, 0x9b,
        0x6a, 0xf0, 0x96, 0x0b, 0x61, 0xa6, 0x69, 0xc2, 0x13, 0x28, 0x99, 0x14, 0x77, 0xc0, 0xa4, 0x0e, 0xe5, 0xd9,
        0x12, 0x60, 0xc1, 0x30, 0x64, 0x21, 0x9a, 0x30, 0xc5, 0xc4, 0x62, 0xb2}},
      {"disc:bits=3,chs=0.5,centroid=1", true,
       {
        0x44, 0x49, 0x53, 0x43, 0x01, 0x07, 0x04, 0x08, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00,
        0x80, 0x3f, 0x36, 0x00, 0x00, 0x00, 0x0f, 0x55, 0x55, 0xd5, 0x3e, 0xe4, 0x1a, 0x00, 0x00, 0x46, 0xee, 0x2b,
        0x9f, 0x01, 0x19, 0x32, 0x24, 0x55, 0x31, 0x7b, 0xde, 0x80, 0x22, 0x56, 0xd0, 0x92, 0xea, 0x7d, 0xc7, 0x89,
        0x88, 0xa2, 0x9b, 0x4b, 0xd8, 0xf8, 0x41, 0xd3, 0x6c, 0x19, 0xe1, 0x6e, 0x56, 0x3b, 0x4f, 0x72, 0x88, 0x74,
        0xc6, 0x34, 0x00, 0xe1, 0xf4, 0xb3, 0x83, 0x07, 0x8d, 0x1a},
       {
        0x44, 0x49, 0x53, 0x43, 0x01, 0x07, 0x04, 0x08, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x40,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00,
        0x80, 0x3f, 0x2f, 0x00, 0x00, 0x00, 0x4f, 0x55, 0x55, 0xd5, 0x3e, 0xe4, 0x1a, 0x00, 0x00, 0x46, 0xee, 0x09,
        0x60, 0x0e, 0xfb, 0x47, 0x64, 0x22, 0x90, 0x88, 0xb3, 0x48, 0xd0, 0x86, 0xb0, 0x99, 0x4b, 0x64, 0x63, 0x33,
        0x51, 0x5b, 0x96, 0x1b, 0xc3, 0x2b, 0xbf, 0xc6, 0xc2, 0xdc, 0x1d, 0x94, 0x47, 0x4b, 0xfb, 0x15, 0x31, 0x50,
        0x2b, 0x94, 0x02}},
  };
  return pairs;
}

TEST(DiscCompatibility, StreamsOfEitherAdaptationDecodeAlike) {
  for (const AdaptationPair& pair : adaptation_pairs()) {
    Tensor t({1, 3, 5, 6});
    for (size_t i = 0; i < t.size(); ++i)
      t.data()[i] = (static_cast<float>((i * 37) % 11) - (pair.is_signed ? 5.0f : 0.0f)) * 0.25f;
    const auto flags = [](const Bytes& stream) { return stream[inspect(stream).value().header_bytes]; };
    ASSERT_EQ(flags(pair.fixed) & 64, 0) << pair.spec;
    ASSERT_EQ(flags(pair.warm_up) & 64, 64) << pair.spec;
    const auto fixed = decompress(pair.fixed);
    ASSERT_TRUE(fixed.ok()) << pair.spec << ": " << fixed.error().message();
    const auto warm_up = decompress(pair.warm_up);
    ASSERT_TRUE(warm_up.ok()) << pair.spec << ": " << warm_up.error().message();
    const Tensor today = decompress(compress(t, *codec(pair.spec)).value()).value();
    ASSERT_EQ(fixed.value().size(), t.size());
    for (size_t i = 0; i < t.size(); ++i) {
      EXPECT_EQ(warm_up.value().data()[i], fixed.value().data()[i]) << pair.spec << " " << i;
      EXPECT_EQ(today.data()[i], fixed.value().data()[i]) << pair.spec << " " << i;
    }
    EXPECT_LT(pair.warm_up.size(), pair.fixed.size()) << pair.spec;
  }
}

// The adaptation decides how the body is read: a body read with the other adaptation (flags
// bit 6 toggled) fails or decodes differently, never silently the same.
TEST(DiscRobustness, BodyReadWithTheOtherAdaptationFailsOrDiffers) {
  for (const AdaptationPair& pair : adaptation_pairs()) {
    for (const Bytes* stream : {&pair.fixed, &pair.warm_up}) {
      const StreamInfo info = inspect(*stream).value();
      const auto c = codec(info.spec.to_string());
      const Bytes payload(stream->begin() + static_cast<std::ptrdiff_t>(info.header_bytes), stream->end() - 4);
      const Tensor right = c->decode_payload(payload, info.shape).value();
      Bytes toggled = payload;
      toggled[0] ^= 64;
      const auto wrong = c->decode_payload(toggled, info.shape);
      if (!wrong.ok()) continue;
      bool same = true;
      for (size_t i = 0; i < right.size(); ++i) same = same && right.data()[i] == wrong.value().data()[i];
      EXPECT_FALSE(same) << pair.spec;
    }
  }
}

// The corrections sit in the range-coded body: a stream with them read as one without
// fails or decodes differently, never silently the same.
TEST(DiscRobustness, MeanCorrectionsNeedTheirFlag) {
  const Tensor t = realistic_sparse_map({1, 4, 9, 11}, 0.5, 44);
  const Bytes with = codec("disc:bits=2,clip=3,mean=1")->encode_payload(t).value();
  const Tensor right = codec("disc:bits=2,clip=3")->decode_payload(with, t.shape()).value();
  Bytes without_flag = with;
  without_flag[0] &= static_cast<uint8_t>(~32);
  const auto wrong = codec("disc:bits=2,clip=3")->decode_payload(without_flag, t.shape());
  if (wrong.ok()) {
    EXPECT_NE(0, std::memcmp(wrong->data(), right.data(), right.bytes()));
  }
}

// A plane step that overflows or underflows fp32 is rejected, and so is a centroid
// reconstruction that overflows.
TEST(DiscRobustness, RejectsPlaneStepsOutsideFp32) {
  Tensor t = realistic_sparse_map({1, 3, 8, 8}, 0.3, 43);
  const PlaneView v = plane_view(t.shape());
  for (size_t i = 0; i < t.size(); ++i) t.data()[i] *= i / v.plane_size() == 0 ? 4.0f : 0.25f;
  const auto c = codec("disc:bits=3,chs=1");
  const Bytes payload = c->encode_payload(t).value();
  ASSERT_EQ(payload[0] & 4, 4);
  ASSERT_TRUE(c->decode_payload(payload, t.shape()).ok());
  for (const float step : {std::numeric_limits<float>::max() / 7, std::numeric_limits<float>::min()}) {
    Bytes damaged = payload;
    std::memcpy(damaged.data() + 1, &step, 4);
    auto r = c->decode_payload(damaged, t.shape());
    ASSERT_FALSE(r.ok()) << step;
    EXPECT_NE(r.error().message().find("plane step"), std::string::npos) << r.error().message();
  }
  const auto centroid = codec("disc:bits=3,centroid=1");
  Bytes with_offsets = centroid->encode_payload(t).value();
  ASSERT_EQ(with_offsets[0] & 2, 2);
  const float largest = std::numeric_limits<float>::max() / 7;  // valid without offsets
  std::memcpy(with_offsets.data() + 1, &largest, 4);
  for (int k = 0; k < 7; ++k) with_offsets[5 + k] = 100;  // +100/256 step: overflows
  auto r = centroid->decode_payload(with_offsets, t.shape());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("centroid"), std::string::npos) << r.error().message();
}

TEST(DiscRobustness, ShortPayloadForALargeShapeIsRejected) {
  const Shape large = {1, 16, 512, 512};
  for (const char* spec : {"disc", "disc:bits=0", "disc:transform=1"}) {
    const auto c = codec(spec);
    const Bytes payload = c->encode_payload(dense_signed_map({1, 1, 4, 4}, 41)).value();
    auto r = c->decode_payload(payload, large);
    EXPECT_FALSE(r.ok()) << spec;
  }
}

// --- range coder --------------------------------------------------------------------------

TEST(DiscRangeCoder, RoundTripsNearTheEntropy) {
  using namespace codec_disc;
  std::mt19937 rng(50);
  std::bernoulli_distribution one(0.1);
  std::vector<int> bits(100000);
  for (int& b : bits) b = one(rng);
  std::vector<uint8_t> out;
  RangeEncoder enc(&out, Adaptation::kFixed);
  BitModel model;
  for (int b : bits) enc.bit(model, b);
  enc.finish();
  const double entropy_bits = bits.size() * (-0.1 * std::log2(0.1) - 0.9 * std::log2(0.9));
  EXPECT_LT(out.size() * 8, 1.03 * entropy_bits);
  RangeDecoder dec(out, Adaptation::kFixed);
  BitModel decoder_model;
  for (size_t i = 0; i < bits.size(); ++i) ASSERT_EQ(dec.bit(decoder_model, 0), bits[i]) << i;
  EXPECT_TRUE(dec.finish().ok());
  RangeDecoder short_dec(std::span<const uint8_t>(out).first(out.size() - 1), Adaptation::kFixed);
  BitModel short_model;
  for (size_t i = 0; i < bits.size(); ++i) short_dec.bit(short_model, 0);
  EXPECT_FALSE(short_dec.finish().ok());
}

// One renormalization shift per bit is enough only while P(0) stays within [31, 2017]: check
// every bit sequence through the warm-up, then the fixed shift from every reachable value.
TEST(DiscRangeCoder, ProbabilitiesStayWithinTheirBounds) {
  using namespace codec_disc;
  uint32_t low = kProbOne, high = 0;
  for (uint32_t sequence = 0; sequence < (1u << kWarmUpUpdates); ++sequence) {
    BitModel m;
    for (uint32_t n = 0; n < kWarmUpUpdates; ++n) {
      m = adapt(m, (sequence >> n) & 1, adaptation_shifts(Adaptation::kWarmUp));
      low = std::min(low, m.p0());
      high = std::max(high, m.p0());
    }
    ASSERT_EQ(m.state >> kProbBits, kWarmUpUpdates);
  }
  EXPECT_GE(low, kMinProb);
  EXPECT_LE(high, kMaxProb);
  // Past the warm-up (and always under kFixed) the shift is 5.
  for (uint32_t p0 = kMinProb; p0 <= kMaxProb; ++p0) {
    for (int bit = 0; bit < 2; ++bit) {
      const BitModel m{static_cast<uint16_t>((kWarmUpUpdates << kProbBits) | p0)};
      const BitModel next = adapt(m, bit, adaptation_shifts(Adaptation::kWarmUp));
      EXPECT_GE(next.p0(), kMinProb) << p0;
      EXPECT_LE(next.p0(), kMaxProb) << p0;
      EXPECT_EQ(next.state >> kProbBits, kWarmUpUpdates);
    }
  }
}

// Warm-up learns a skewed source in fewer bits than the fixed shift when there are few
// samples per model, and the decoder must use the encoder's adaptation to read them back.
TEST(DiscRangeCoder, WarmUpCodesShortSkewedInputsSmaller) {
  using namespace codec_disc;
  std::mt19937 rng(51);
  std::bernoulli_distribution one(0.05);
  std::vector<int> bits(64 * 40);  // 64 models, 40 bits each
  for (int& b : bits) b = one(rng);
  std::vector<uint8_t> sizes[2];
  const Adaptation adaptations[2] = {Adaptation::kFixed, Adaptation::kWarmUp};
  for (int k = 0; k < 2; ++k) {
    std::vector<BitModel> models(64);
    RangeEncoder enc(&sizes[k], adaptations[k]);
    for (size_t i = 0; i < bits.size(); ++i) enc.bit(models[i % 64], bits[i]);
    enc.finish();
    std::vector<BitModel> decoder_models(64);
    RangeDecoder dec(sizes[k], adaptations[k]);
    for (size_t i = 0; i < bits.size(); ++i) ASSERT_EQ(dec.bit(decoder_models[i % 64], 0), bits[i]) << i;
    EXPECT_TRUE(dec.finish().ok());
  }
  EXPECT_LT(sizes[1].size(), 0.9 * sizes[0].size());
  // Read with the other adaptation, the same bytes do not give back the same bits.
  std::vector<BitModel> models(64);
  RangeDecoder wrong(sizes[1], Adaptation::kFixed);
  size_t same = 0;
  for (size_t i = 0; i < bits.size(); ++i) same += wrong.bit(models[i % 64], 0) == bits[i];
  EXPECT_TRUE(same < bits.size() || !wrong.finish().ok());
}

}  // namespace
}  // namespace disc

namespace disc {
namespace {

// A parameter the mode ignores is refused by the encoder (it would sit in the header as if it
// acted), while decoders still read the streams doc/FORMAT.md allows to carry it.
TEST(DiscParams, EncoderRefusesParametersItsModeIgnores) {
  Tensor t({1, 4, 8, 8});
  for (size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i % 7);
  const std::pair<const char*, const char*> ignored[] = {
      {"disc:bits=3,hf=2", "disc:bits=3"},
      {"disc:transform=1,bits=4,centroid=1", "disc:transform=1,bits=4"},
      {"disc:bits=0,centroid=1", "disc:bits=0"},
      {"disc:bits=4,speed=1,centroid=2", "disc:bits=4,speed=1"},
      {"disc:bits=0,prune=0.5", "disc:bits=0"},
      {"disc:bits=0,clip=3", "disc:bits=0"},
  };
  for (const auto& [spec, effective] : ignored) {
    SCOPED_TRACE(spec);
    auto codec = make_codec(spec);
    ASSERT_TRUE(codec.ok()) << codec.error().message();
    auto refused = (*codec)->encode_payload(t);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("would be ignored"), std::string::npos) << refused.error().message();
    EXPECT_EQ((*codec)->check_encodable().error().message(), refused.error().message());  // said before encoding
    const Bytes payload = make_codec(effective).value()->encode_payload(t).value();
    auto decoded = (*codec)->decode_payload(payload, t.shape());
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    const Tensor expected = make_codec(effective).value()->decode_payload(payload, t.shape()).value();
    EXPECT_TRUE(std::equal(expected.values().begin(), expected.values().end(), decoded->values().begin()));
  }
  for (const char* acting : {"disc:transform=1,bits=4,hf=2", "disc:bits=4,speed=1,centroid=1", "disc:bits=2,centroid=3"})
    EXPECT_TRUE(make_codec(acting).value()->encode_payload(t).ok()) << acting;
}

// zstd decodes every frame it is given; a skippable or empty frame after the real one
// must not let a stream carry hidden bytes.
TEST(DiscRobustness, FastStageRejectsFramesAfterTheLevels) {
  Tensor t({1, 4, 8, 8});
  for (size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i % 7);
  for (const char* spec : {"disc:speed=1", "disc:speed=1,bits=8", "q8zstd", "zstd"}) {
    auto c = make_codec(spec).value();
    Bytes payload = c->encode_payload(t).value();
    ASSERT_TRUE(c->decode_payload(payload, t.shape()).ok()) << spec;
    const Bytes skippable = {0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0};
    payload.insert(payload.end(), skippable.begin(), skippable.end());
    auto r = c->decode_payload(payload, t.shape());
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.error().message().find("stray"), std::string::npos) << spec << ": " << r.error().message();
  }
}

}  // namespace
}  // namespace disc

// --- shape=1: levels shaped for the convolution that reads the map -----------------------

namespace disc {
namespace {

ConvKernel random_kernel(int out_channels, int in_per_group, int groups, int size, int stride, uint32_t seed) {
  ConvKernel k;
  k.out_channels = out_channels;
  k.in_per_group = in_per_group;
  k.groups = groups;
  k.kernel_h = k.kernel_w = size;
  k.stride_h = k.stride_w = stride;
  k.pad_bottom = k.pad_right = size / 2;  // asymmetric, as a Pad node before a strided convolution makes it
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  k.weights.resize(static_cast<size_t>(out_channels) * in_per_group * size * size);
  for (float& w : k.weights) w = normal(rng);
  return k;
}

// The smallest non-zero magnitude of a decoded map: the step, when some element is at level +-1.
float smallest_magnitude(const Tensor& t) {
  float step = 0;
  for (float v : t.values()) step = v != 0 && (step == 0 || std::fabs(v) < step) ? std::fabs(v) : step;
  return step;
}

// ||conv(x) - conv(decoded)||^2 of the reading convolution k, or the same after its activation
// if it has one.
double reader_output_error(const ConvKernel& k, const Tensor& x, const Tensor& decoded) {
  const std::vector<double> a = testing::reference_reader_outputs(k, x),
                            b = testing::reference_reader_outputs(k, decoded);
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e += (a[i] - b[i]) * (a[i] - b[i]);
  return e;
}

// ||conv(x - decoded)||^2 with the stream decoded without the kernel, as a server does.
double reader_error(const Tensor& x, const ConvKernel& k, const std::string& spec) {
  auto c = make_codec(*CodecSpec::parse(spec), EncoderContext{std::make_shared<const ConvKernel>(k)});
  EXPECT_TRUE(c.ok()) << c.error().message();
  return reader_output_error(k, x, round_trip(x, **c));
}

// A kernel of positive weights, low-pass like many trained depthwise kernels: neighbours'
// responses are alike, which the unit moves of shape=2 exploit.
ConvKernel low_pass_kernel(int channels, int stride, uint32_t seed) {
  ConvKernel k = random_kernel(channels, 1, channels, 3, stride, seed);
  for (float& w : k.weights) w = 0.5f + std::fabs(w);
  return k;
}

ConvKernel padded_on_every_side(ConvKernel k) {
  k.pad_top = k.pad_left = k.kernel_h / 2;
  return k;
}

// k followed by a ReLU6-like clamp to [0, top], with biases that put each output channel's
// median on `x` at 0 and top at the channels' median distance from there to their 90th
// percentile: half of the outputs are clamped at 0, some at top.
ConvKernel with_activation(ConvKernel k, const Tensor& x) {
  const std::vector<double> out = testing::reference_conv(k, x);
  const size_t per_channel = out.size() / static_cast<size_t>(x.shape()[0]) / static_cast<size_t>(k.out_channels);
  ConvActivation a;
  std::vector<double> spans;
  for (int o = 0; o < k.out_channels; ++o) {
    std::vector<double> values;
    for (size_t i = 0; i < out.size(); ++i)
      if (i / per_channel % static_cast<size_t>(k.out_channels) == static_cast<size_t>(o)) values.push_back(out[i]);
    std::sort(values.begin(), values.end());
    const double median = values[values.size() / 2];
    a.bias.push_back(static_cast<float>(-median));
    spans.push_back(values[values.size() * 9 / 10] - median);
  }
  std::sort(spans.begin(), spans.end());
  a.min = 0;
  a.max = static_cast<float>(spans[spans.size() / 2]);
  k.activation = std::move(a);
  return k;
}

TEST(DiscShape, LowersTheReadingConvolutionsError) {
  const Tensor x = realistic_sparse_map({2, 8, 13, 12}, 0.5, 41);
  // A strided depthwise convolution (mobilenet_v2's, which sees a quarter of the positions)
  // and a 1x1 convolution to fewer channels (squeezenet's squeeze layers).
  for (const ConvKernel& k : {random_kernel(8, 1, 8, 3, 2, 1), random_kernel(3, 8, 1, 1, 1, 2)}) {
    SCOPED_TRACE(k.groups);
    for (const char* levels : {"bits=1,clip=2", "bits=2,clip=3", "bits=2,levels=2,clip=3"}) {
      SCOPED_TRACE(levels);
      const double plain = reader_error(x, k, std::string("disc:") + levels);
      const double shaped = reader_error(x, k, std::string("disc:shape=1,") + levels);
      EXPECT_LT(shaped, 0.5 * plain);
    }
  }
}

// The descent stops at a local minimum: from the decoded map, no single level moved by one
// step lowers the reading convolution's error (measured with the reference convolution).
// Checks that the encoder's bookkeeping (footprints, skipped elements) misses no move. Holds
// because these small maps settle within max_shaping_passes.
TEST(DiscShape, EndsWhereNoSingleStepLowersTheError) {
  const Tensor x = realistic_sparse_map({2, 8, 10, 9}, 0.5, 43);
  // Depthwise stride 2, a squeeze to fewer channels, and a full 3x3 convolution; the first two
  // also with an activation (reader_output_error then measures the error after it).
  for (const ConvKernel& k :
       {random_kernel(8, 1, 8, 3, 2, 5), random_kernel(3, 8, 1, 1, 1, 6), random_kernel(4, 8, 1, 3, 1, 7),
        with_activation(random_kernel(8, 1, 8, 3, 2, 5), x), with_activation(random_kernel(3, 8, 1, 1, 1, 6), x)}) {
    SCOPED_TRACE(k.out_channels + (k.activation ? 100 : 0));
    for (const char* shaping : {"shape=1,", "shape=2,"}) {
      for (const auto& [levels, max_level] : {std::pair{"bits=1,clip=2", 1}, std::pair{"bits=2,clip=3", 3}}) {
        SCOPED_TRACE(std::string(shaping) + levels);
        auto c = make_codec(*CodecSpec::parse(std::string("disc:") + shaping + levels),
                            EncoderContext{std::make_shared<const ConvKernel>(k)});
        ASSERT_TRUE(c.ok());
        Tensor decoded = round_trip(x, **c);
        const float step = smallest_magnitude(decoded);
        ASSERT_GT(step, 0);
        const double reached = reader_output_error(k, x, decoded);
        size_t better = 0;
        for (size_t i = 0; i < decoded.size(); ++i) {
          const float kept = decoded.data()[i];
          for (const float moved : {kept - step, kept + step}) {
            if (moved < -1e-6f * step || moved > (max_level + 1e-3f) * step) continue;
            decoded.data()[i] = moved;
            better += reader_output_error(k, x, decoded) < reached * (1 - 1e-6);
          }
          decoded.data()[i] = kept;
        }
        EXPECT_EQ(better, 0u);
      }
    }
  }
}

// With shape=2, nor does moving one level unit between two neighbours in a plane (the move
// that keeps the plane's sum: the descent tries it where the two footprints overlap, which for
// these kernels is every neighbour, unless it would raise the two magnitudes' sum). Also
// checks the skipping of elements none of whose or whose neighbours' footprint positions
// changed. A move counts as lowering E if it does so by more than 10^-3 of the two units' own
// energies (the encoder's rounding tolerance is 10^-4).
TEST(DiscShape, TwoEndsWhereNoLevelUnitMovedToANeighbourLowersTheError) {
  struct Case {
    Tensor map;
    const char* levels;
    int max_level;  // a side
  };
  const Case cases[] = {{realistic_sparse_map({1, 6, 10, 9}, 0.5, 44), "bits=1,clip=2", 1},
                        {realistic_sparse_map({1, 6, 10, 9}, 0.5, 44), "bits=2,clip=3", 3},
                        {dense_signed_map({1, 6, 10, 9}, 47), "bits=3,clip=2", 3}};
  for (const ConvKernel& reader : {random_kernel(6, 1, 6, 3, 2, 8), random_kernel(6, 1, 6, 3, 1, 9)})
    for (const bool activated : {false, true})
      for (const Case& test : cases) {
        SCOPED_TRACE(std::string(test.levels) + (activated ? ", activated" : "") + ", stride " +
                     std::to_string(reader.stride_h));
        const Tensor& x = test.map;
        const ConvKernel k = activated ? with_activation(reader, x) : reader;
        // The encoder's tolerance scales with the units' energies in the convolution's output.
        const ConvKernel linear = reader;
        auto c = make_codec(*CodecSpec::parse(std::string("disc:shape=2,") + test.levels),
                            EncoderContext{std::make_shared<const ConvKernel>(k)});
        ASSERT_TRUE(c.ok());
        Tensor decoded = round_trip(x, **c);
        const float step = smallest_magnitude(decoded);
        ASSERT_GT(step, 0);
        const bool is_signed =
            std::any_of(decoded.values().begin(), decoded.values().end(), [](float v) { return v < 0; });
        const float lowest = is_signed ? -test.max_level * step : 0;
        const auto in_range = [&](float v) { return v > lowest - 1e-3f * step && v < (test.max_level + 1e-3f) * step; };
        const double reached = reader_output_error(k, x, decoded);
        const Tensor before = decoded;
        const Shape& s = x.shape();
        size_t better = 0, tried = 0;
        for (int64_t plane = 0; plane < s[1]; ++plane)
          for (int64_t row = 0; row < s[2]; ++row)
            for (int64_t column = 0; column < s[3]; ++column)
              for (const auto& [dy, dx] : {std::pair{0, 1}, std::pair{1, -1}, std::pair{1, 0}, std::pair{1, 1}}) {
                if (row + dy >= s[2] || column + dx < 0 || column + dx >= s[3]) continue;
                float& a = decoded.data()[(plane * s[2] + row) * s[3] + column];
                float& b = decoded.data()[(plane * s[2] + row + dy) * s[3] + column + dx];
                const float kept_a = a, kept_b = b;
                for (const float unit : {step, -step}) {
                  if (!in_range(kept_a + unit) || !in_range(kept_b - unit)) continue;
                  if (std::fabs(kept_a + unit) + std::fabs(kept_b - unit) >
                      std::fabs(kept_a) + std::fabs(kept_b) + 1e-3f * step)
                    continue;
                  ++tried;
                  a = kept_a + unit;
                  const double own_a = reader_output_error(linear, before, decoded);
                  a = kept_a;
                  b = kept_b - unit;
                  const double own_b = reader_output_error(linear, before, decoded);
                  a = kept_a + unit;
                  better += reached - reader_output_error(k, x, decoded) > 1e-3 * (own_a + own_b);
                  a = kept_a;
                  b = kept_b;
                }
              }
        EXPECT_GT(tried, 100u);
        EXPECT_EQ(better, 0u);
      }
}

// Where footprints overlap, the unit moves reach lower errors than single steps alone; where
// they do not (a 1x1 reader), shape=2 chooses the same levels as shape=1 (given that shape=1
// settles within its 8 passes, as it does on these maps, where shape=2 may take 12).
TEST(DiscShape, TwoLowersTheErrorWhereFootprintsOverlap) {
  const Tensor x = realistic_sparse_map({2, 8, 16, 15}, 0.5, 45);
  for (const char* levels : {"bits=1,clip=2", "bits=2,levels=2,clip=3"}) {
    SCOPED_TRACE(levels);
    for (const ConvKernel& k : {low_pass_kernel(8, 2, 10), low_pass_kernel(8, 1, 11)}) {
      SCOPED_TRACE(k.stride_h);
      const double single = reader_error(x, k, std::string("disc:shape=1,") + levels);
      const double units = reader_error(x, k, std::string("disc:shape=2,") + levels);
      EXPECT_LT(units, 0.95 * single) << units << " " << single;
    }
    const ConvKernel squeeze = random_kernel(3, 8, 1, 1, 1, 12);
    const auto decoded = [&](const char* shaping) {
      auto c = make_codec(*CodecSpec::parse(std::string("disc:") + shaping + levels),
                          EncoderContext{std::make_shared<const ConvKernel>(squeeze)});
      EXPECT_TRUE(c.ok());
      return round_trip(x, **c);
    };
    const Tensor a = decoded("shape=1,"), b = decoded("shape=2,");
    EXPECT_TRUE(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
  }
}

// The groups of a grouped reader descend on several threads; the stream must not depend on how
// many, or on which thread takes which group. A race on the shared residual, or a group's
// descent reading another group's levels, would show as a difference here (the map is large
// enough that groups are still being shaped on several threads at once).
TEST(DiscShape, StreamsAreTheSameForEveryThreadCount) {
  const Tensor x = realistic_sparse_map({2, 12, 40, 37}, 0.5, 47);
  // Depthwise, stride 2 and 1; groups of 3 channels; one group (threads unused).
  for (const ConvKernel& k :
       {low_pass_kernel(12, 2, 15), low_pass_kernel(12, 1, 16), random_kernel(8, 3, 4, 3, 1, 17),
        random_kernel(5, 12, 1, 1, 1, 18), with_activation(random_kernel(8, 3, 4, 3, 1, 17), x)}) {
    SCOPED_TRACE(k.groups);
    for (const char* spec :
         {"disc:shape=1,bits=2,clip=3", "disc:shape=2,bits=1,clip=2", "disc:shape=3,bits=2,clip=3"}) {
      SCOPED_TRACE(spec);
      const auto stream = [&](int threads) {
        auto c = make_codec(*CodecSpec::parse(spec), EncoderContext{std::make_shared<const ConvKernel>(k), threads});
        EXPECT_TRUE(c.ok()) << c.error().message();
        return compress(x, **c).value();
      };
      const Bytes one = stream(1);
      for (int threads : {2, 3, 5, 16, 0}) EXPECT_EQ(stream(threads), one) << threads << " threads";
    }
  }
  auto negative = make_codec(*CodecSpec::parse("disc:shape=1"), EncoderContext{nullptr, -1});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().message(), "encoder threads must be in 0..256 (0: one per hardware thread)");
  EXPECT_FALSE(make_codec(*CodecSpec::parse("disc:shape=1"), EncoderContext{nullptr, kMaxEncoderThreads + 1}).ok());
}

// On a signed map a unit moved between two zeros would make a +1/-1 pair that a low-pass
// reader barely sees and the coder pays for; shape=2 makes none, so its streams stay about as
// small as shape=1's.
TEST(DiscShape, TwoMakesNoSignedPairsThatCostRate) {
  const Tensor x = dense_signed_map({1, 8, 24, 23}, 46);
  for (const ConvKernel& k : {low_pass_kernel(8, 2, 13), low_pass_kernel(8, 1, 14)}) {
    SCOPED_TRACE(k.stride_h);
    for (const char* levels : {"bits=2,clip=2", "bits=3,levels=2,clip=3"}) {
      SCOPED_TRACE(levels);
      const auto bytes = [&](const char* shaping) {
        auto c = make_codec(*CodecSpec::parse(std::string("disc:") + shaping + levels),
                            EncoderContext{std::make_shared<const ConvKernel>(k)});
        EXPECT_TRUE(c.ok());
        return compress(x, **c).value().size();
      };
      EXPECT_LE(bytes("shape=2,"), 1.05 * bytes("shape=1,"));
    }
  }
}

TEST(DiscShape, DecodesToLevelsOfTheUsualStep) {
  const Tensor x = realistic_sparse_map({1, 8, 10, 10}, 0.5, 42);
  const ConvKernel k = random_kernel(8, 1, 8, 3, 2, 3);
  auto c = make_codec(*CodecSpec::parse("disc:shape=1,bits=2,clip=3"), EncoderContext{std::make_shared<const ConvKernel>(k)});
  ASSERT_TRUE(c.ok());
  const Tensor shaped = round_trip(x, **c);
  const Tensor plain = round_trip(x, *codec("disc:bits=2,clip=3"));
  // Same quantizer: both decode to multiples of one step within 0..3 steps; shaping moved
  // some levels (by one step per visit, so by more over several passes).
  const float step = smallest_magnitude(plain);
  ASSERT_GT(step, 0);
  size_t moved = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float a = shaped.data()[i] / step, b = plain.data()[i] / step;
    EXPECT_NEAR(a, std::round(a), 1e-3);
    EXPECT_LE(a, 3.001f);
    EXPECT_GE(a, 0.0f);
    moved += std::fabs(a - b) > 0.5f;
  }
  EXPECT_GT(moved, 0u);
}

TEST(DiscShape, NeedsTheReadingConvolutionToEncode) {
  auto c = make_codec("disc:shape=1,bits=1,clip=2");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*c)->needs_reader());
  EXPECT_FALSE(codec("disc:bits=1,clip=2")->needs_reader());
  auto stream = compress(realistic_sparse_map({1, 4, 8, 8}, 0.5, 1), **c);
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.error().message().find("convolution that reads the map"), std::string::npos);
}

TEST(DiscShape, RejectsAConvolutionThatCannotReadTheMap) {
  const Tensor x = realistic_sparse_map({1, 8, 6, 6}, 0.5, 7);
  const auto encode = [&](const ConvKernel& k) {
    auto c = make_codec(*CodecSpec::parse("disc:shape=1,bits=2"), EncoderContext{std::make_shared<const ConvKernel>(k)});
    EXPECT_TRUE(c.ok());
    return compress(x, **c);
  };
  ConvKernel k = random_kernel(4, 4, 1, 1, 1, 5);  // reads 4 channels, the map has 8
  auto stream = encode(k);
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.error().message().find("reads 4 channels, the map has 8"), std::string::npos);
  k = random_kernel(4, 8, 1, 1, 1, 5);
  k.weights.pop_back();
  EXPECT_FALSE(encode(k).ok());
  k = random_kernel(4, 8, 1, 1, 1, 5);
  k.weights[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(encode(k).ok());
  k = random_kernel(4, 8, 1, 9, 1, 5);  // larger than the 6x6 map padded by 4
  k.pad_bottom = k.pad_right = 0;
  EXPECT_FALSE(encode(k).ok());
  k = random_kernel(6, 4, 2, 3, 0, 5);  // stride 0
  EXPECT_FALSE(encode(k).ok());
  EXPECT_FALSE(random_kernel(4, 8, 1, 1, 1, 5).check({8, 6, 6}).ok());  // not N x C x H x W
  // An activation needs one finite bias per output and ordered bounds.
  k = random_kernel(4, 8, 1, 1, 1, 5);
  k.activation = ConvActivation{{0.5f, -1.0f, 0.0f, 2.0f}, 0.0f, 6.0f};
  EXPECT_TRUE(encode(k).ok());
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& broken :
       {ConvActivation{{0.5f, -1.0f, 0.0f}, 0.0f, 6.0f}, ConvActivation{{0.5f, inf, 0.0f, 2.0f}, 0.0f, 6.0f},
        ConvActivation{{0.5f, -1.0f, 0.0f, 2.0f}, 6.0f, 0.0f}, ConvActivation{{0.5f, -1.0f, 0.0f, 2.0f}, nan, 6.0f},
        ConvActivation{{0.5f, -1.0f, 0.0f, 2.0f}, inf, inf}, ConvActivation{{0.5f, -1.0f, 0.0f, 2.0f}, -inf, -inf}}) {
    k.activation = broken;
    auto stream = encode(k);
    ASSERT_FALSE(stream.ok());
    EXPECT_EQ(stream.error().code(), ErrorCode::kInvalidArgument);
  }
  // Sizes whose product wraps to 0 in 64 bits, which an empty weight list would match.
  k = ConvKernel{};
  k.out_channels = k.in_per_group = 1 << 30;
  k.kernel_h = k.kernel_w = 16;
  EXPECT_FALSE(k.check({1, int64_t{1} << 30, 16, 16}).ok());
}

TEST(DiscShape, ComesWithPlainLevelsOnly) {
  for (const char* spec :
       {"disc:shape=1,bits=0", "disc:shape=1,speed=1", "disc:shape=1,transform=1", "disc:shape=1,chs=0.5",
        "disc:shape=1,centroid=2", "disc:shape=1,mean=1", "disc:shape=1,diffuse=0.5", "disc:shape=1,gain=1",
        "disc:shape=2,mean=1", "disc:shape=2,speed=1", "disc:shape=3,mean=1", "disc:shape=4", "disc:shape=1.5"})
    EXPECT_FALSE(make_codec(spec).ok()) << spec;
  EXPECT_TRUE(make_codec("disc:shape=2,bits=1").ok());
  EXPECT_TRUE(make_codec("disc:shape=3,bits=1").ok());
}

}  // namespace
}  // namespace disc

// --- cells=1: counts of level units per 2x2 cell ----------------------------------------

namespace disc {
namespace {

// The decoded map's levels (value / step) of a cells=1 stream, and the cell sums it was coded
// from: each cell's levels hold the nearest count to the cell's sum in steps, spread so that
// they differ by at most one unit, with the count's sign. Odd sides make cells of 2 and 1.
TEST(DiscCells, DecodesEachCellsSumSpreadOverItsElements) {
  struct Case {
    Tensor map;
    const char* spec;
    int max_level;
  };
  const Case cases[] = {{realistic_sparse_map({2, 5, 9, 7}, 0.5, 51), "disc:cells=1,bits=2,clip=3", 3},
                        {dense_signed_map({1, 4, 8, 11}, 52), "disc:cells=1,bits=3,clip=2", 3},
                        {realistic_sparse_map({1, 3, 1, 5}, 0.3, 53), "disc:cells=1,bits=1,clip=0", 1}};
  for (const Case& test : cases) {
    SCOPED_TRACE(test.spec);
    const Tensor decoded = round_trip(test.map, *codec(test.spec));
    const float step = smallest_magnitude(decoded);
    ASSERT_GT(step, 0);
    const Shape& s = test.map.shape();
    size_t cells = 0, spread = 0;
    for (int64_t plane = 0; plane < s[0] * s[1]; ++plane)
      for (int64_t row = 0; row < s[2]; row += 2)
        for (int64_t col = 0; col < s[3]; col += 2) {
          double sum = 0;
          int units = 0, low = 1 << 20, high = -(1 << 20), k = 0;
          for (int64_t y = row; y < std::min(row + 2, s[2]); ++y)
            for (int64_t x = col; x < std::min(col + 2, s[3]); ++x, ++k) {
              const size_t i = static_cast<size_t>((plane * s[2] + y) * s[3] + x);
              const float level = decoded.data()[i] / step;
              ASSERT_NEAR(level, std::round(level), 1e-4);
              const int q = static_cast<int>(std::round(level));
              EXPECT_LE(std::abs(q), test.max_level);
              units += q;
              low = std::min(low, q);
              high = std::max(high, q);
              sum += test.map.data()[i];
            }
          const int nearest =
              static_cast<int>(std::clamp(std::round(sum / step), -test.max_level * k * 1.0, test.max_level * k * 1.0));
          // The step is the smallest decoded magnitude, so an fp32 rounding of sum / step may
          // differ from the encoder's by one unit where the sum lies half-way.
          EXPECT_LE(std::abs(units - nearest), std::fabs(sum / step - std::round(sum / step)) > 0.499 ? 1 : 0);
          EXPECT_LE(high - low, 1);
          EXPECT_TRUE(low >= 0 || high <= 0) << "a cell's units all have its count's sign";
          ++cells;
          spread += high > low;
        }
    EXPECT_GT(spread, cells / 10) << "some counts are not multiples of the cell size";
  }
}

// A cell holds a quarter of the symbols: on smooth maps its stream is smaller than the levels'
// at the same step, and what it decodes stays near the map.
TEST(DiscCells, CodesFewerBytesThanTheLevelsOfTheSameStep) {
  const Tensor x = realistic_sparse_map({1, 16, 28, 28}, 0.4, 54);
  for (const char* levels : {"bits=2,clip=3", "bits=3,clip=4"}) {
    SCOPED_TRACE(levels);
    EXPECT_LT(compressed_size(x, std::string("disc:cells=1,") + levels),
              0.7 * compressed_size(x, std::string("disc:") + levels));
    EXPECT_LT(relative_mse(x, round_trip(x, *codec(std::string("disc:cells=1,") + levels))), 0.5);
  }
}

// With shape=1|2 the counts descend on the reading convolution's error from the unshaped
// ones, which it must lower (E never rises), shape=2 more than shape=1 under a low-pass reader
// whose neighbouring cells' footprints overlap.
TEST(DiscCells, ShapedCountsLowerTheReadingConvolutionsError) {
  const Tensor x = realistic_sparse_map({2, 8, 16, 15}, 0.5, 55);
  const std::pair<ConvKernel, bool> readers[] = {{low_pass_kernel(8, 2, 56), true},
                                                 {random_kernel(8, 1, 8, 3, 2, 57), false},
                                                 {random_kernel(3, 8, 1, 1, 1, 58), false},
                                                 {random_kernel(4, 8, 1, 3, 1, 59), false}};
  for (const auto& [k, low_pass] : readers) {
    SCOPED_TRACE(k.out_channels * 10 + k.stride_h);
    for (const char* levels : {"bits=2,clip=3", "bits=1,clip=2"}) {
      SCOPED_TRACE(levels);
      const double plain = reader_error(x, k, std::string("disc:cells=1,") + levels);
      const double single = reader_error(x, k, std::string("disc:cells=1,shape=1,") + levels);
      const double units = reader_error(x, k, std::string("disc:cells=1,shape=2,") + levels);
      EXPECT_LT(single, 0.8 * plain);
      EXPECT_LE(units, single * (1 + 1e-6));
      if (low_pass) {
        EXPECT_LT(units, 0.95 * single);
      }
    }
  }
}

// With shape=2 the descent ends where no count moved by one and no unit moved to a neighbouring
// cell lowers the reading convolution's error (by more than 10^-3 of the moved units' own
// energies; the encoder's tolerance is 10^-4), in the order the plane was spread in (one of the
// orders its levels are consistent with). Covers readers that leave elements unread (stride
// above the kernel size, an uncovered last row), where a unit can move through an element no
// output sees: the skipping of unchanged cells once missed a count changed that way (a review's
// map, the first case).
TEST(DiscCells, TwoEndsWhereNoCountOrUnitMoveLowersTheError) {
  struct Case {
    Tensor map;
    ConvKernel reader;
  };
  ConvKernel strided;  // 1 output, 1x1, stride 1 x 2: odd columns are read by nothing
  strided.out_channels = strided.in_per_group = 1;
  strided.stride_w = 2;
  strided.weights = {1.0f};
  ConvKernel uncovered = random_kernel(3, 1, 3, 3, 3, 65);  // stride 3 over 3x3, last row and column unread
  uncovered.pad_bottom = uncovered.pad_right = 0;
  const Tensor map = realistic_sparse_map({1, 3, 8, 9}, 0.4, 63);
  const Case cases[] = {
      {Tensor({1, 1, 2, 5}, {1, 0, 0.25f, 0.5f, 0.5f, 0.25f, 1, 0.75f, 0.75f, 0.75f}), strided},
      {map, low_pass_kernel(3, 2, 64)},
      {realistic_sparse_map({1, 3, 10, 10}, 0.4, 66), uncovered},
      // The error after an activation (reader_output_error measures that one).
      {map, with_activation(low_pass_kernel(3, 2, 64), map)},
      {map, with_activation(random_kernel(3, 1, 3, 3, 2, 67), map)},
      {map, with_activation(padded_on_every_side(random_kernel(3, 1, 3, 3, 1, 73)), map)},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.reader.stride_w * 10 + test.reader.kernel_w + (test.reader.activation ? 100 : 0));
    for (const char* levels : {"bits=1,clip=0", "bits=2,clip=3"}) {
      SCOPED_TRACE(levels);
      const int max_level = std::string(levels) == "bits=1,clip=0" ? 1 : 3;
      auto c = make_codec(*CodecSpec::parse(std::string("disc:cells=1,shape=2,") + levels),
                          EncoderContext{std::make_shared<const ConvKernel>(test.reader)});
      ASSERT_TRUE(c.ok()) << c.error().message();
      const Tensor decoded = round_trip(test.map, **c);
      const float step = smallest_magnitude(decoded);
      ASSERT_GT(step, 0);
      double kernel_energy = 0;
      for (float w : test.reader.weights) kernel_energy += double{w} * w;
      const Shape& s = test.map.shape();
      const codec_disc::CellPlane grid{static_cast<size_t>(s[2]), static_cast<size_t>(s[3])};
      const size_t plane = grid.height * grid.width;
      // The decoded levels and, per plane, each cell's count.
      std::vector<int16_t> levels(decoded.size()), counts(static_cast<size_t>(s[1]) * grid.cells(), 0);
      for (size_t i = 0; i < decoded.size(); ++i) levels[i] = static_cast<int16_t>(std::lround(decoded.data()[i] / step));
      for (size_t p = 0; p < static_cast<size_t>(s[1]); ++p)
        for (size_t i = 0; i < plane; ++i)
          counts[p * grid.cells() + (i / grid.width / 2) * grid.cols() + (i % grid.width) / 2] += levels[p * plane + i];
      const auto error_of = [&](const std::vector<int16_t>& plane_counts, size_t p, int order) {
        Tensor candidate = decoded;
        std::vector<int16_t> spread(plane);
        EXPECT_TRUE(codec_disc::spread_cells(grid, plane_counts.data() + p * grid.cells(), order, max_level,
                                             spread.data()));
        for (size_t i = 0; i < plane; ++i) candidate.data()[p * plane + i] = spread[i] * step;
        return reader_output_error(test.reader, test.map, candidate);
      };
      for (size_t p = 0; p < static_cast<size_t>(s[1]); ++p) {
        bool some_order_is_a_minimum = false;
        for (int order = 0; order < codec_disc::kCellOrders && !some_order_is_a_minimum; ++order) {
          std::vector<int16_t> spread(plane);
          codec_disc::spread_cells(grid, counts.data() + p * grid.cells(), order, max_level, spread.data());
          if (!std::equal(spread.begin(), spread.end(), levels.begin() + static_cast<long>(p * plane))) continue;
          const double reached = error_of(counts, p, order);
          size_t better = 0;
          std::vector<int16_t> moved = counts;
          const auto capacity = [&](size_t cell) {
            size_t index[4];
            return max_level * grid.elements(cell / grid.cols(), cell % grid.cols(), order, index);
          };
          for (size_t a = 0; a < grid.cells(); ++a)
            for (const int own : {-1, 1}) {
              int16_t& qa = moved[p * grid.cells() + a];
              const int16_t kept_a = qa;
              if (qa + own < 0 || qa + own > capacity(a)) continue;
              qa = static_cast<int16_t>(qa + own);
              better += error_of(moved, p, order) < reached * (1 - 1e-9) - 1e-9;
              for (size_t b = 0; b < grid.cells(); ++b) {  // a unit from b to a, b a neighbour of a
                const long dr = static_cast<long>(b / grid.cols()) - static_cast<long>(a / grid.cols());
                const long dc = static_cast<long>(b % grid.cols()) - static_cast<long>(a % grid.cols());
                if (b == a || std::abs(dr) > 1 || std::abs(dc) > 1) continue;
                int16_t& qb = moved[p * grid.cells() + b];
                const int16_t kept_b = qb;
                if (qb - own < 0 || qb - own > capacity(b)) continue;
                qb = static_cast<int16_t>(qb - own);
                const double e = error_of(moved, p, order);
                // Above the encoder's tolerance, 10^-4 of the two units' own energies, each at
                // most step^2 times the kernel's energy.
                better += reached - e > 1e-3 * step * step * kernel_energy + 1e-9 * reached;
                qb = kept_b;
              }
              qa = kept_a;
            }
          some_order_is_a_minimum = better == 0;
        }
        EXPECT_TRUE(some_order_is_a_minimum) << "plane " << p;
      }
    }
  }
}

// A map of one sample for reader k, its values normal, and a reconstruction of it off by
// normal errors of half that spread.
struct MapAndReconstruction {
  Tensor x, reconstruction;
};
MapAndReconstruction map_and_reconstruction(const ConvKernel& k, size_t height, size_t width, std::mt19937& rng) {
  std::normal_distribution<float> normal(0, 1);
  const Shape shape{1, static_cast<int64_t>(k.groups) * k.in_per_group, static_cast<int64_t>(height),
                    static_cast<int64_t>(width)};
  MapAndReconstruction m{Tensor(shape), Tensor(shape)};
  for (size_t i = 0; i < m.x.size(); ++i) {
    m.x.data()[i] = normal(rng);
    m.reconstruction.data()[i] = m.x.data()[i] - 0.5f * normal(rng);
  }
  return m;
}

// ActivatedError's E over a group and its changes for one element, and for two whose footprints
// overlap or not, are those of the direct sums (reference_reader_outputs) under readers padded on
// every side, strided, grouped, with several outputs per position and bounds on one or two sides.
TEST(ActivatedError, IsTheErrorAfterTheActivationOfTheDirectConvolution) {
  std::mt19937 rng(74);
  std::normal_distribution<float> normal(0, 1);
  const float infinity = std::numeric_limits<float>::infinity();
  const std::pair<float, float> bounds[] = {{0.0f, infinity}, {-0.5f, 1.0f}, {-infinity, 0.5f}};
  size_t pairs = 0, overlapping = 0;
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE(trial);
    ConvKernel k = random_kernel(2 * (1 + trial % 2), 1 + trial % 3 / 2, 2, 2 + trial % 3, 1 + trial % 3, 75 + trial);
    k.pad_top = trial % k.kernel_h;
    k.pad_left = (trial / 2) % k.kernel_w;
    k.pad_bottom = (trial / 3) % k.kernel_h;
    k.pad_right = (trial / 5) % k.kernel_w;
    ConvActivation a;
    for (int o = 0; o < k.out_channels; ++o) a.bias.push_back(normal(rng));
    std::tie(a.min, a.max) = bounds[trial % 3];
    k.activation = a;
    const size_t height = 5 + trial % 4, width = 4 + trial % 5;
    const size_t channels = static_cast<size_t>(k.groups * k.in_per_group), plane = height * width;
    const auto [x, reconstruction] = map_and_reconstruction(k, height, width, rng);
    ASSERT_TRUE(k.check(x.shape()).ok());
    const std::vector<double> target = testing::reference_reader_outputs(k, x);
    const auto direct_error = [&](const Tensor& r) {
      const std::vector<double> out = testing::reference_reader_outputs(k, r);
      double e = 0;
      for (size_t i = 0; i < out.size(); ++i) e += (out[i] - target[i]) * (out[i] - target[i]);
      return e;
    };
    codec_disc::OutputResidual residual(k, height, width);
    codec_disc::ActivatedError activated(k, height, width);
    for (size_t i = 0; i < x.size(); ++i)
      residual.add(i / plane, i % plane / width, i % width, x.data()[i] - reconstruction.data()[i]);
    activated.clear();
    double summed = 0;
    for (size_t g = 0; g < static_cast<size_t>(k.groups); ++g) {
      activated.set_group(g, x.data());
      summed += activated.group_error(residual, g);
    }
    const double before = direct_error(reconstruction);
    EXPECT_NEAR(summed, before, 1e-4 * (1 + before));
    for (int move = 0; move < 20; ++move) {
      const size_t c = rng() % channels, ay = rng() % height, ax = rng() % width;
      const size_t by = std::min(height - 1, ay + rng() % 3), bx = (ax + 1 + rng() % 2) % width;
      const double da = normal(rng), db = normal(rng);
      // The error x - reconstruction grows by d: the reconstruction falls by d.
      Tensor one = reconstruction;
      one.data()[c * plane + ay * width + ax] -= static_cast<float>(da);
      Tensor two = one;
      two.data()[c * plane + by * width + bx] -= static_cast<float>(db);
      const double single = activated.change(residual, c, {ay, ax, da});
      const double pair = activated.change(residual, c, {ay, ax, da}, {by, bx, db});
      EXPECT_NEAR(single, direct_error(one) - before, 1e-4 * (1 + before));
      EXPECT_NEAR(pair, direct_error(two) - before, 1e-4 * (1 + before));
      ++pairs;
      for (size_t p = 0; p < residual.positions(); ++p)
        if (residual.tap_reaching(c, ay, ax, p) >= 0 && residual.tap_reaching(c, by, bx, p) >= 0) {
          ++overlapping;
          break;
        }
    }
  }
  EXPECT_GT(overlapping, pairs / 4);
}

// What ShapingError charges a descent's moves is what the direct sums give, with and without
// the activation: the change of E for both directions of one element and of two elements up to
// 3 apart along each axis, and each unit's tolerance energy d^2 |t|^2 in the convolution's
// output (the same in both modes).
TEST(ShapingError, CostsAreThoseOfTheDirectSums) {
  std::mt19937 rng(76);
  std::normal_distribution<float> normal(0, 1);
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE(trial);
    ConvKernel linear = random_kernel(2 * (1 + trial % 2), 1 + trial % 3 / 2, 2, 2 + trial % 3, 1 + trial % 3, 77 + trial);
    linear.pad_top = trial % linear.kernel_h;
    linear.pad_left = (trial / 2) % linear.kernel_w;
    ConvKernel k = linear;
    if (trial % 2) {
      ConvActivation a;
      for (int o = 0; o < k.out_channels; ++o) a.bias.push_back(normal(rng));
      a.min = 0;
      a.max = 1.5f;
      k.activation = a;
    }
    const size_t height = 6 + trial % 3, width = 5 + trial % 4;
    const size_t channels = static_cast<size_t>(k.groups * k.in_per_group), plane = height * width;
    const auto [x, reconstruction] = map_and_reconstruction(k, height, width, rng);
    ASSERT_TRUE(k.check(x.shape()).ok());
    // E of a reconstruction under `reader`, measured against x.
    const auto direct_error = [&](const ConvKernel& reader, const Tensor& r) {
      const std::vector<double> target = testing::reference_reader_outputs(reader, x),
                                out = testing::reference_reader_outputs(reader, r);
      double e = 0;
      for (size_t i = 0; i < out.size(); ++i) e += (out[i] - target[i]) * (out[i] - target[i]);
      return e;
    };
    codec_disc::ShapingError error(k, height, width);
    error.clear();
    for (size_t i = 0; i < x.size(); ++i)
      error.residual().add(i / plane, i % plane / width, i % width, x.data()[i] - reconstruction.data()[i]);
    for (size_t g = 0; g < static_cast<size_t>(k.groups); ++g) error.set_group(g, x.data());
    const double before = direct_error(k, reconstruction);
    const auto near = [&](double got, double expected) { EXPECT_NEAR(got, expected, 1e-4 * (1 + std::fabs(before))); };
    for (int move = 0; move < 10; ++move) {
      const size_t c = rng() % channels, ay = rng() % height, ax = rng() % width;
      const long dy = static_cast<long>(rng() % 7) - 3, dx = static_cast<long>(rng() % 7) - 3;
      const long by = static_cast<long>(ay) + dy, bx = static_cast<long>(ax) + dx;
      if ((dy == 0 && dx == 0) || by < 0 || bx < 0 || by >= static_cast<long>(height) || bx >= static_cast<long>(width))
        continue;
      const size_t a = c * plane + ay * width + ax, b = c * plane + static_cast<size_t>(by) * width + static_cast<size_t>(bx);
      const double da[2] = {normal(rng), normal(rng)}, db[2] = {normal(rng), normal(rng)};
      codec_disc::ShapingError::Cost singles[2], pairs[2];
      error.singles(c, ay, ax, da, singles);
      error.pairs(c, {ay, ax}, da, singles, {static_cast<size_t>(by), static_cast<size_t>(bx)}, db, pairs);
      for (int side = 0; side < 2; ++side) {
        // The error x - reconstruction grows by d: the reconstruction falls by d.
        Tensor one = reconstruction, alone_a = x, alone_b = x;
        one.data()[a] -= static_cast<float>(da[side]);
        alone_a.data()[a] -= static_cast<float>(da[side]);
        alone_b.data()[b] -= static_cast<float>(db[side]);
        Tensor two = one;
        two.data()[b] -= static_cast<float>(db[side]);
        near(singles[side].change, direct_error(k, one) - before);
        near(pairs[side].change, direct_error(k, two) - before);
        near(singles[side].energy, direct_error(linear, alone_a));
        near(pairs[side].energy, direct_error(linear, alone_b));
      }
    }
  }
}

// Where the reader's activation is known, the levels and the cell counts descend on the error
// after it: it ends lower there than where the descent measured the convolution's output,
// outputs that the activation clamps either way included (they cost nothing), under depthwise,
// grouped and 1x1 readers (one and several outputs per position).
TEST(DiscShape, AfterTheActivationLowersTheErrorThere) {
  const Tensor x = realistic_sparse_map({2, 8, 16, 15}, 0.5, 68);
  for (const ConvKernel& linear : {low_pass_kernel(8, 2, 69), random_kernel(8, 1, 8, 3, 2, 70),
                                   random_kernel(4, 4, 2, 3, 1, 71), random_kernel(3, 8, 1, 1, 1, 72)}) {
    SCOPED_TRACE(linear.groups * 10 + linear.stride_h);
    const ConvKernel activated = with_activation(linear, x);
    for (const char* mode : {"cells=1,", ""})
      for (const char* levels : {"bits=2,clip=3", "bits=2,levels=2,clip=2.5", "bits=1,clip=2"}) {
        SCOPED_TRACE(std::string(mode) + levels);
        const auto error_after_activation = [&](const ConvKernel& shaped_for, const std::string& spec) {
          auto c = make_codec(*CodecSpec::parse(spec), EncoderContext{std::make_shared<const ConvKernel>(shaped_for)});
          EXPECT_TRUE(c.ok()) << c.error().message();
          return reader_output_error(activated, x, round_trip(x, **c));
        };
        const std::string shaped = std::string("disc:shape=2,") + mode + levels;
        const double unshaped = error_after_activation(activated, std::string("disc:") + mode + levels);
        const double for_convolution = error_after_activation(linear, shaped);
        const double for_activation = error_after_activation(activated, shaped);
        EXPECT_LT(for_activation, 0.9 * for_convolution);
        EXPECT_LT(for_activation, 0.5 * unshaped);
      }
  }
}

// shape=3 trades a little of the reader's error for rate: under readers with an activation
// (where many moves change no output the activation lets through) its streams are smaller than
// shape=2's, for levels and cell counts, while the error after the activation stays far below
// the unshaped levels' and within twice shape=2's.
TEST(DiscShape, ThreeTradesALittleErrorForRate) {
  const Tensor x = realistic_sparse_map({2, 8, 16, 15}, 0.5, 78);
  for (const ConvKernel& linear : {low_pass_kernel(8, 2, 79), random_kernel(3, 8, 1, 1, 1, 80)}) {
    SCOPED_TRACE(linear.groups);
    const ConvKernel k = with_activation(linear, x);
    for (const char* mode : {"cells=1,", ""})
      for (const char* levels : {"bits=2,clip=3", "bits=1,clip=2"}) {
        SCOPED_TRACE(std::string(mode) + levels);
        const auto coded = [&](const std::string& spec) {
          auto c = make_codec(*CodecSpec::parse(spec), EncoderContext{std::make_shared<const ConvKernel>(k)});
          EXPECT_TRUE(c.ok()) << c.error().message();
          const Bytes stream = compress(x, **c).value();
          return std::pair{stream.size(), reader_output_error(k, x, decompress(stream).value())};
        };
        const auto [unshaped_bytes, unshaped] = coded(std::string("disc:") + mode + levels);
        const auto [two_bytes, two] = coded(std::string("disc:shape=2,") + mode + levels);
        const auto [three_bytes, three] = coded(std::string("disc:shape=3,") + mode + levels);
        EXPECT_LT(three_bytes, two_bytes);
        EXPECT_LT(three, 2 * two);
        EXPECT_LT(three, 0.7 * unshaped);
      }
  }
}

TEST(DiscCells, ShapedStreamsAreTheSameForEveryThreadCount) {
  const Tensor x = realistic_sparse_map({2, 12, 30, 27}, 0.5, 60);
  for (const ConvKernel& k :
       {low_pass_kernel(12, 2, 61), random_kernel(8, 3, 4, 3, 1, 62), with_activation(low_pass_kernel(12, 2, 61), x)}) {
    SCOPED_TRACE(k.groups);
    const auto stream = [&](int threads) {
      auto c = make_codec(*CodecSpec::parse("disc:cells=1,shape=2,bits=2,clip=3"),
                          EncoderContext{std::make_shared<const ConvKernel>(k), threads});
      EXPECT_TRUE(c.ok()) << c.error().message();
      return compress(x, **c).value();
    };
    const Bytes one = stream(1);
    for (int threads : {2, 3, 16}) EXPECT_EQ(stream(threads), one) << threads << " threads";
  }
}

// A count above what its cell's elements can hold is refused, not clamped: the body of a 4x4
// plane whose cells are full, read as a 3x3 plane (the same 2x2 cells), puts 4 units in the
// corner cell of one element.
TEST(DiscCells, RefusesACountItsCellCannotHold) {
  const auto c = codec("disc:cells=1,bits=1,clip=0");
  Tensor full({1, 1, 4, 4});
  std::fill(full.values().begin(), full.values().end(), 1.0f);
  const Bytes payload = c->encode_payload(full).value();
  const auto back = c->decode_payload(payload, {1, 1, 4, 4});
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->values()[15], 1.0f);
  const auto r = c->decode_payload(payload, {1, 1, 3, 3});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "a cell count exceeds 1 units per element of its cell");
}

TEST(DiscCells, ComesWithPlainLevelsOfAtMost63) {
  for (const char* spec :
       {"disc:cells=1,bits=0", "disc:cells=1,bits=7", "disc:cells=1,bits=8", "disc:cells=1,prune=0.1",
        "disc:cells=1,speed=1", "disc:cells=1,transform=1", "disc:cells=1,chs=0.5", "disc:cells=1,centroid=1",
        "disc:cells=1,mean=1", "disc:cells=1,diffuse=0.5", "disc:cells=1,gain=1", "disc:cells=2", "disc:cells=0.5"})
    EXPECT_FALSE(make_codec(spec).ok()) << spec;
  for (const char* spec : {"disc:cells=1,bits=6", "disc:cells=1,bits=8,levels=63", "disc:cells=1,shape=2,bits=1"})
    EXPECT_TRUE(make_codec(spec).ok()) << spec;
  EXPECT_FALSE(codec("disc:cells=1,bits=2")->needs_reader());
  EXPECT_TRUE(codec("disc:cells=1,shape=1,bits=2")->needs_reader());
}

}  // namespace
}  // namespace disc
