// Container-level tests; every registered codec goes through the same checks.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <random>

#include "disc/codec.hpp"

namespace disc {
namespace {

// Recomputes the trailing CRC-32 after a test edited the stream, so that the decoder
// reaches the part under test.
void fix_crc(Bytes* s) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, s->data(), static_cast<uInt>(s->size() - 4));
  for (int i = 0; i < 4; ++i) (*s)[s->size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

Tensor sample_tensor() {
  Tensor t({1, 4, 6, 5});
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& v : t.values()) v = std::max(0.0f, n(rng));
  return t;
}

TEST(CodecSpec, ParsesAndPrints) {
  auto s = CodecSpec::parse("disc:bits=4, prune=0.05");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "disc");
  ASSERT_EQ(s->params.size(), 2u);
  EXPECT_EQ(s->params[1].first, "prune");
  EXPECT_FLOAT_EQ(s->params[1].second, 0.05f);
  EXPECT_EQ(s->to_string(), "disc:bits=4,prune=0.05");
  EXPECT_FALSE(CodecSpec::parse(":bits=4").ok());
  EXPECT_FALSE(CodecSpec::parse("disc:bits").ok());
  EXPECT_FALSE(CodecSpec::parse("disc:bits=four").ok());
  EXPECT_FALSE(CodecSpec::parse("disc:bits=nan").ok());
}

TEST(CodecSpec, MakeCodecValidatesNamesKeysAndRanges) {
  EXPECT_TRUE(make_codec("zstd:level=5").ok());
  auto unknown = make_codec("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("known:"), std::string::npos);
  EXPECT_FALSE(make_codec("zstd:speed=1").ok());
  EXPECT_FALSE(make_codec("zstd:level=99").ok());
  EXPECT_FALSE(make_codec("zstd:level=2.5").ok());
  EXPECT_FALSE(make_codec("raw:level=1").ok());
}

TEST(Stream, LosslessCodecsRoundTripBitExactly) {
  const Tensor t = sample_tensor();
  for (const CodecInfo& info : codec_list()) {
    if (!info.lossless) continue;
    auto codec = make_codec(info.name);
    ASSERT_TRUE(codec.ok()) << info.name;
    auto stream = compress(t, **codec);
    ASSERT_TRUE(stream.ok()) << info.name << ": " << stream.error().message();
    auto back = decompress(*stream);
    ASSERT_TRUE(back.ok()) << info.name << ": " << back.error().message();
    EXPECT_EQ(back->shape(), t.shape());
    EXPECT_EQ(0, std::memcmp(back->data(), t.data(), t.bytes())) << info.name;
  }
}

TEST(Stream, InspectReportsHeaderFields) {
  const Tensor t = sample_tensor();
  auto stream = compress(t, *make_codec("zstd:level=7").value());
  ASSERT_TRUE(stream.ok());
  auto info = inspect(*stream);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->codec, CodecId::kZstd);
  EXPECT_EQ(info->shape, t.shape());
  EXPECT_EQ(info->spec.to_string(), "zstd:level=7");
  EXPECT_EQ(info->total_bytes, stream->size());
  EXPECT_EQ(info->header_bytes + info->payload_bytes + 4, stream->size());
}

// Every prefix, every single-bit flip and appended garbage must be rejected, for every codec.
TEST(Stream, EveryTruncationAndBitFlipIsRejected) {
  const Tensor t = sample_tensor();
  for (const CodecInfo& info : codec_list()) {
    auto stream = compress(t, *make_codec(info.name).value());
    ASSERT_TRUE(stream.ok()) << info.name;
    const Bytes& s = *stream;
    for (size_t n = 0; n < s.size(); ++n)
      ASSERT_FALSE(decompress(std::span(s).first(n)).ok()) << info.name << " prefix " << n;
    for (size_t bit = 0; bit < s.size() * 8; ++bit) {
      Bytes flipped = s;
      flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      ASSERT_FALSE(decompress(flipped).ok()) << info.name << " bit " << bit;
    }
    Bytes longer = s;
    longer.push_back(0);
    EXPECT_FALSE(decompress(longer).ok()) << info.name;
  }
}

TEST(Stream, RefusesShapesOverTheAllocationLimit) {
  Tensor t({1, 2, 64, 64});
  auto stream = compress(t, *make_codec("raw").value());
  ASSERT_TRUE(stream.ok());
  auto r = decompress(*stream, DecodeLimits{1000});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("limit"), std::string::npos);
}

// A stream whose parameter is out of range (here with a valid checksum) is malformed for
// inspect exactly as for decompress.
TEST(Stream, InspectRejectsOutOfRangeParameters) {
  Tensor t({1, 1, 2, 2});
  Bytes s = compress(t, *make_codec("zstd:level=3").value()).value();
  const size_t param_offset = 8 + 4 * t.shape().size();
  const float bad = 99;
  std::memcpy(&s[param_offset], &bad, 4);
  fix_crc(&s);
  EXPECT_FALSE(inspect(s).ok());
  EXPECT_FALSE(decompress(s).ok());
}


// Streams written before disc gained parameters (4: bits..speed; 6: + transform, hf; 9: up to
// mean) carry fewer of them; the missing ones take their defaults and the payload decodes
// unchanged (diffuse, the 10th, only steers the encoder). More parameters than the codec has
// stay an error.
TEST(Stream, FewerParametersTakeTheirDefaults) {
  const Tensor t = sample_tensor();
  const auto codec = make_codec("disc:bits=3,clip=4,centroid=1,mean=1,diffuse=0.5").value();  // last not default
  const Bytes full = compress(t, *codec).value();
  const Tensor expected = decompress(full).value();
  const size_t count_offset = 7;
  const size_t params_offset = 8 + 4 * t.shape().size();
  const size_t params = full[count_offset];
  ASSERT_EQ(params, codec->info().params.size());
  for (const size_t kept : {size_t{4}, size_t{6}, size_t{8}, size_t{9}}) {
    Bytes old = full;
    old[count_offset] = static_cast<uint8_t>(kept);
    old.erase(old.begin() + static_cast<long>(params_offset + 4 * kept),
              old.begin() + static_cast<long>(params_offset + 4 * params));
    fix_crc(&old);
    auto info = inspect(old);
    ASSERT_TRUE(info.ok()) << info.error().message();
    ASSERT_EQ(info->spec.params.size(), params);
    EXPECT_FLOAT_EQ(info->spec.params[0].second, 3.0f);
    EXPECT_FLOAT_EQ(info->spec.params[kept].second, codec->info().params[kept].default_value);
    auto back = decompress(old);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(0, std::memcmp(back->data(), expected.data(), expected.bytes()));
  }
  Bytes more = full;
  more[count_offset] = static_cast<uint8_t>(params + 1);
  const float extra = 0;
  more.insert(more.begin() + static_cast<long>(params_offset + 4 * params), reinterpret_cast<const uint8_t*>(&extra),
              reinterpret_cast<const uint8_t*>(&extra) + 4);
  fix_crc(&more);
  EXPECT_FALSE(inspect(more).ok());
  EXPECT_FALSE(decompress(more).ok());
}

// The encoder leaves out trailing parameters at their defaults; the header still reads
// back as the full spec.
TEST(Stream, TrailingDefaultParametersAreLeftOut) {
  const Tensor t = sample_tensor();
  const struct {
    const char* spec;
    size_t written;
  } cases[] = {{"disc:bits=3,clip=4", 3}, {"disc", 0}, {"disc:speed=1", 4}, {"zstd:level=3", 0}, {"zstd:level=5", 1}};
  for (const auto& c : cases) {
    const auto codec = make_codec(c.spec).value();
    const Bytes s = compress(t, *codec).value();
    EXPECT_EQ(s[7], c.written) << c.spec;
    auto info = inspect(s);
    ASSERT_TRUE(info.ok()) << c.spec;
    EXPECT_EQ(info->spec.to_string(), codec->spec().to_string());
    EXPECT_EQ(info->header_bytes, 12 + 4 * t.shape().size() + 4 * c.written) << c.spec;
    ASSERT_TRUE(decompress(s).ok()) << c.spec;
  }
}

}  // namespace
}  // namespace disc
