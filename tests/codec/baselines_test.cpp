// The baseline codecs: fp16, q8zstd, jpeg, zfp. Error bounds per codec, edge-case
// shapes and values for all of them, and hostile payloads fed straight to the decoders.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "codec/half.hpp"
#include "codec/plane_fill.hpp"
#include "disc/codec.hpp"

namespace disc {
namespace {

const char* const kBaselines[] = {"fp16", "q8zstd", "jpeg", "zfp"};

// Post-ReLU-like values: ~half zeros, half-normal magnitudes, scaled by `scale`.
Tensor relu_tensor(const Shape& shape, float scale, unsigned seed = 1) {
  Tensor t(shape);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, scale);
  for (float& v : t.values()) v = std::max(0.0f, n(rng));
  return t;
}

Tensor round_trip(const std::string& spec, const Tensor& t) {
  auto codec = make_codec(spec);
  EXPECT_TRUE(codec.ok()) << spec;
  auto payload = codec.value()->encode_payload(t);
  EXPECT_TRUE(payload.ok()) << spec << ": " << payload.error().message();
  auto back = codec.value()->decode_payload(*payload, t.shape());
  EXPECT_TRUE(back.ok()) << spec << ": " << back.error().message();
  EXPECT_EQ(back->shape(), t.shape()) << spec;
  return std::move(back).value();
}

float max_abs_error(const Tensor& a, const Tensor& b) {
  float e = 0;
  for (size_t i = 0; i < a.size(); ++i) e = std::max(e, std::fabs(a.data()[i] - b.data()[i]));
  return e;
}

float range_of(const Tensor& t) {
  auto [lo, hi] = std::minmax_element(t.values().begin(), t.values().end());
  return *hi - *lo;
}

// ---- half precision conversion ----

TEST(Half, HalfToFloatToHalfIsTheIdentityOnAllPatterns) {
  for (uint32_t h = 0; h < 65536; ++h)
    ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h) << std::hex << h;
}

TEST(Half, KnownValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65519.99f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // tie goes to even = infinity
  EXPECT_EQ(float_to_half(-1e10f), 0xfc00);
  EXPECT_EQ(float_to_half(INFINITY), 0x7c00);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie to even (zero)
  EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 units: tie to even
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie to even
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3c02);      // tie to even
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(float_to_half(std::ldexp(2047.0f, -25)), 0x0400);  // subnormal rounds up to normal
  const uint16_t nan = float_to_half(NAN);
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x3ff, 0);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::bit_cast<float>(0x7f800001u)))));
}

// Every float converts to one of the two halves around it, the nearer one (ties: even).
TEST(Half, RandomFloatsRoundToTheNearestHalf) {
  std::mt19937 rng(3);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (!std::isfinite(f) || std::fabs(f) >= 65520.0f) continue;
    const uint16_t h = float_to_half(f);
    const double err = std::fabs(double{f} - half_to_float(h));
    for (int step : {-1, 1}) {
      const uint16_t neighbour = static_cast<uint16_t>(h + step);
      if ((neighbour & 0x7fff) >= 0x7c00 || (neighbour & 0x8000) != (h & 0x8000)) continue;
      const double other = std::fabs(double{f} - half_to_float(neighbour));
      ASSERT_TRUE(err < other || (err == other && (h & 1) == 0)) << f;
    }
  }
}

// ---- per-codec error bounds ----

TEST(Fp16, RelativeErrorWithinHalfAnUlp) {
  Tensor t({2, 3, 17, 9});
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> exponent(-14.0f, 15.0f);
  for (float& v : t.values()) v = std::exp2(exponent(rng)) * (rng() & 1 ? 1.0f : -1.0f);
  t.values()[0] = 0.5f;    // exactly representable
  t.values()[1] = -1000.5f;
  const Tensor back = round_trip("fp16", t);
  EXPECT_EQ(back.values()[0], 0.5f);
  EXPECT_EQ(back.values()[1], -1000.5f);
  for (size_t i = 0; i < t.size(); ++i)
    ASSERT_LE(std::fabs(back.values()[i] - t.values()[i]), std::ldexp(std::fabs(t.values()[i]), -11)) << i;
}

// A finite value beyond ±65504 would decode as infinity: an error, not a silent change.
// Infinities themselves are carried as they are.
TEST(Fp16, FiniteValuesBeyondItsRangeAreAnError) {
  auto codec = make_codec("fp16");
  ASSERT_TRUE(codec.ok());
  for (float v : {1e5f, -7e4f, 65520.0f}) {
    auto payload = codec.value()->encode_payload(Tensor({3}, {2.0f, v, 1.0f}));
    ASSERT_FALSE(payload.ok()) << v;
    EXPECT_NE(payload.error().message().find("beyond fp16's range"), std::string::npos) << payload.error().message();
  }
  const Tensor back = round_trip("fp16", Tensor({4}, {65504.0f, -65519.0f, INFINITY, 2.0f}));
  EXPECT_EQ(back.values()[0], 65504.0f);
  EXPECT_EQ(back.values()[1], -65504.0f);  // rounds to the largest half
  EXPECT_EQ(back.values()[2], INFINITY);
  EXPECT_EQ(back.values()[3], 2.0f);
}

TEST(Q8Zstd, ErrorAtMostHalfAStep) {
  for (float scale : {1e-3f, 1.0f, 300.0f}) {
    Tensor t = relu_tensor({1, 8, 14, 14}, scale);
    t.values()[5] = -scale;  // signed range
    const float step = range_of(t) / 255;
    const Tensor back = round_trip("q8zstd", t);
    EXPECT_LE(max_abs_error(t, back), step * 0.5f * 1.0001f) << scale;
    EXPECT_GT(max_abs_error(t, back), step * 0.25f) << "suspiciously exact at scale " << scale;
  }
}

TEST(Q8Zstd, HigherLevelsStillDecode) {
  const Tensor t = relu_tensor({1, 4, 16, 16}, 2.0f);
  EXPECT_LE(max_abs_error(t, round_trip("q8zstd:level=19", t)), range_of(t) / 510 * 1.0001f);
}

TEST(Jpeg, ErrorShrinksAsQualityGrows) {
  // Smooth planes (as real feature maps are) so JPEG's quality setting matters gradually.
  const Tensor t = planes_from({1, 10, 24, 20}, [](float p, float y, float x) {
    return std::max(0.0f, 3.0f * std::sin(0.3f * x + p) * std::cos(0.2f * y - p) + 0.5f);
  });
  float previous = INFINITY;
  for (int quality : {10, 50, 80, 95}) {
    const float err = max_abs_error(t, round_trip("jpeg:quality=" + std::to_string(quality), t));
    EXPECT_LT(err, previous) << "quality " << quality;
    previous = err;
  }
  EXPECT_LT(previous, 0.03f * range_of(t)) << "max error at quality 95";
}

TEST(Zfp, ErrorWithinToleranceTimesMaxAbs) {
  for (float tolerance : {1e-4f, 1e-2f, 0.1f}) {
    for (const Shape& shape : {Shape{1, 16, 12, 13}, Shape{40, 7}, Shape{301}})
    for (unsigned seed = 1; seed <= 20; ++seed) {
      Tensor t = relu_tensor(shape, 50.0f, seed);
      t.values()[3] = -80.0f;
      const float max_abs = 80.0f;
      const Tensor back = round_trip("zfp:tolerance=" + std::to_string(tolerance), t);
      EXPECT_LE(max_abs_error(t, back), tolerance * max_abs) << tolerance << " " << shape_to_string(shape);
    }
  }
}

// zfp 1.0 scales a float block by 2^(30 - e) in float (|x| < 2^e), which overflows when every
// value is below 2^-97 (~6e-30, subnormals included): undefined behaviour, and in practice the
// block decoded to about -2^(e+1) everywhere. The encoder's tolerance floor (2^-92) makes zfp
// code such blocks as zeros; the error stays within max(tolerance * max|x|, 2^-91).
TEST(Zfp, TinyMapsStayWithinTheToleranceOrTheAbsoluteFloor) {
  for (float tolerance : {1e-6f, 1e-2f, 0.5f})
    for (float scale : {1e-20f, 1e-26f, 1e-29f, 1e-31f, 1e-34f, 1e-37f, 1e-39f, 1e-42f, 1e-45f}) {
      Tensor t = relu_tensor({1, 4, 8, 8}, scale);
      for (size_t i = 0; i < 64; ++i) t.values()[i] *= 1e-4f;  // a plane far below the rest
      float max_abs = 0;
      for (float v : t.values()) max_abs = std::max(max_abs, v);
      const std::string spec = "zfp:tolerance=" + std::to_string(tolerance);
      const Bytes payload = make_codec(spec).value()->encode_payload(t).value();
      float handed_to_zfp = 0;
      std::memcpy(&handed_to_zfp, payload.data(), sizeof handed_to_zfp);
      EXPECT_GE(handed_to_zfp, 0x1p-92f) << spec << " " << scale;
      const Tensor back = round_trip(spec, t);
      EXPECT_LE(max_abs_error(t, back), std::max(tolerance * max_abs, 0x1p-91f)) << spec << " " << scale;
      if (max_abs < 0x1p-97f) {
        EXPECT_TRUE(std::all_of(back.values().begin(), back.values().end(), [](float v) { return v == 0.0f; }))
            << spec << " " << scale << ": not all zeros";
      }
    }
}

TEST(Zfp, LooserToleranceCompressesMore) {
  const Tensor t = relu_tensor({1, 8, 16, 16}, 1.0f);
  size_t previous = SIZE_MAX;
  for (float tolerance : {1e-4f, 1e-2f, 0.1f}) {
    auto codec = make_codec("zfp:tolerance=" + std::to_string(tolerance));
    const size_t size = codec.value()->encode_payload(t).value().size();
    EXPECT_LT(size, previous) << tolerance;
    previous = size;
  }
}

// ---- every baseline: edge cases ----

TEST(Baselines, ConstantAndZeroTensorsDecodeExactly) {
  for (const char* spec : kBaselines) {
    for (float value : {0.0f, 2.5f, -7.0f}) {
      Tensor t({1, 3, 9, 11});
      std::fill(t.values().begin(), t.values().end(), value);
      const Tensor back = round_trip(spec, t);
      EXPECT_EQ(max_abs_error(t, back), 0.0f) << spec << " constant " << value;
    }
  }
}

TEST(Baselines, RankOneTwoAndRaggedTileGrids) {
  // 5 planes leave a 3x2 tile grid one short; 7x3 planes are not multiples of 8 or 4.
  for (const Shape& shape : {Shape{1}, Shape{37}, Shape{6, 9}, Shape{1, 5, 7, 3}, Shape{2, 3, 4, 5, 6}}) {
    const Tensor t = relu_tensor(shape, 4.0f);
    const float range = std::max(range_of(t), *std::max_element(t.values().begin(), t.values().end()));
    for (const char* spec : kBaselines) {
      const Tensor back = round_trip(spec, t);
      EXPECT_LE(max_abs_error(t, back), 0.25f * range) << spec << " " << shape_to_string(shape);
    }
  }
}

TEST(Baselines, EncodersRejectNonFiniteValues) {
  for (const char* spec : {"q8zstd", "jpeg", "zfp"}) {
    for (float bad : {NAN, INFINITY}) {
      Tensor t({1, 2, 4, 4});
      t.values()[7] = bad;
      auto payload = make_codec(spec).value()->encode_payload(t);
      EXPECT_FALSE(payload.ok()) << spec;
    }
  }
}

TEST(Baselines, JpegRefusesImagesBeyond65535Pixels) {
  auto payload = make_codec("jpeg").value()->encode_payload(Tensor({70000}));
  ASSERT_FALSE(payload.ok());
  EXPECT_NE(payload.error().message().find("65535"), std::string::npos);
}

// A payload records how many values it holds (fp16 by its length, q8zstd in the zstd
// frame, jpeg in the image size, zfp in its header), so decoding it under a shape with a
// different element count must fail. zfp's header also records the array's dimensions.
TEST(Baselines, PayloadDecodedUnderAnotherShapeIsRejected) {
  const Tensor t = relu_tensor({1, 4, 8, 8}, 1.0f);
  for (const char* spec : kBaselines) {
    auto codec = make_codec(spec);
    const Bytes payload = codec.value()->encode_payload(t).value();
    for (const Shape& other : {Shape{1, 4, 8, 7}, Shape{1, 4, 7, 8}, Shape{1, 5, 8, 8}, Shape{300}})
      EXPECT_FALSE(codec.value()->decode_payload(payload, other).ok()) << spec << " as " << shape_to_string(other);
  }
  auto zfp = make_codec("zfp");
  const Bytes payload = zfp.value()->encode_payload(t).value();
  // Same element count and, for the first two, the same number of zfp blocks.
  for (const Shape& other : {Shape{1, 4, 4, 16}, Shape{16, 16}, Shape{256}})
    EXPECT_FALSE(zfp.value()->decode_payload(payload, other).ok()) << "zfp as " << shape_to_string(other);
}

// Truncations and bit flips of a payload handed straight to the decoder: either an
// Error or a tensor of the requested shape. (The stream CRC normally catches these.)
TEST(Baselines, DamagedPayloadsGiveAnErrorOrAWellFormedTensor) {
  const Tensor t = relu_tensor({1, 5, 12, 10}, 3.0f);
  for (const char* spec : kBaselines) {
    auto codec = make_codec(spec);
    const Bytes payload = codec.value()->encode_payload(t).value();
    size_t rejected = 0;
    for (size_t n = 0; n < payload.size(); ++n) {
      auto r = codec.value()->decode_payload(std::span(payload).first(n), t.shape());
      rejected += !r.ok();
      if (r.ok()) {
        ASSERT_EQ(r->shape(), t.shape());
      }
    }
    EXPECT_EQ(rejected, payload.size()) << spec << ": every truncation must be detected";
    for (size_t bit = 0; bit < payload.size() * 8; ++bit) {
      Bytes flipped = payload;
      flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      auto r = codec.value()->decode_payload(flipped, t.shape());
      if (r.ok()) {
        ASSERT_EQ(r->shape(), t.shape()) << spec << " bit " << bit;
      }
    }
    Bytes longer = payload;
    longer.insert(longer.end(), 8, 0);
    EXPECT_FALSE(codec.value()->decode_payload(longer, t.shape()).ok()) << spec << " with trailing bytes";
  }
}

}  // namespace
}  // namespace disc
