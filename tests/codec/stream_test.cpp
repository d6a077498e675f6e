// Container-level tests; every registered codec goes through the same checks.
#include <gtest/gtest.h>
#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
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
  for (const char* bad : {":bits=4", "disc:bits", "disc:bits=four", "disc:bits=nan", "disc:bits=1e99"})
    EXPECT_EQ(CodecSpec::parse(bad).error().code(), ErrorCode::kInvalidArgument) << bad;
}

// Which of two values would win is not for the parser to guess.
TEST(CodecSpec, AKeyGivenTwiceIsRefused) {
  auto s = CodecSpec::parse("disc:bits=3, bits=4");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "codec parameter 'bits' is given twice in 'disc:bits=3, bits=4'");
  EXPECT_FALSE(make_codec("disc:clip=4,bits=2,clip=5").ok());
}

// A number a float cannot hold is named as such, not as "non-numeric" (bad-input audit).
TEST(CodecSpec, OutOfRangeValuesAreToldFromNonNumericOnes) {
  for (const char* value : {"1e99", "-1e99", "1e-99", "3.5e38"}) {
    auto s = CodecSpec::parse(std::string("disc:bits=") + value);
    ASSERT_FALSE(s.ok()) << value;
    EXPECT_EQ(s.error().message(),
              std::string("codec parameter 'bits' has an out-of-range value '") + value +
                  "' (not representable as a float)");
  }
  for (const char* value : {"four", "1e99x", "nan", "inf", "", "0x10"}) {
    auto s = CodecSpec::parse(std::string("disc:bits=") + value);
    ASSERT_FALSE(s.ok()) << value;
    EXPECT_EQ(s.error().message(), std::string("codec parameter 'bits' has a non-numeric value '") + value + "'");
  }
  EXPECT_TRUE(CodecSpec::parse("zfp:tolerance=3.4e38").ok());  // in range; make_codec checks the bounds
}

TEST(CodecSpec, MakeCodecValidatesNamesKeysAndRanges) {
  EXPECT_TRUE(make_codec("zstd:level=5").ok());
  auto unknown = make_codec("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("known:"), std::string::npos);
  EXPECT_EQ(find_codec("nope").error().code(), ErrorCode::kInvalidArgument);
  for (const char* bad : {"nope", "zstd:speed=1", "zstd:level=99", "zstd:level=2.5", "raw:level=1", "disc:bits"})
    EXPECT_EQ(make_codec(bad).error().code(), ErrorCode::kInvalidArgument) << bad;
  // Settings the codec refuses to encode with (disc: a transform-only parameter in element-wise
  // mode, which a decoder would ignore).
  const auto ignored = make_codec("disc:hf=2").value();
  EXPECT_EQ(ignored->check_encodable().error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compress(Tensor({1, 1, 2, 2}), *ignored).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(make_codec(*CodecSpec::parse("raw"), EncoderContext{nullptr, -1}).error().code(),
            ErrorCode::kInvalidArgument);
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

// A tensor that breaks its invariant (no shape, or values that do not fit the shape) is an
// Error for every codec, through compress() and through Codec::encode_payload() called
// directly; before the check, some codecs crashed on it, read past its values, or wrote
// streams their own decoders refused.
TEST(Stream, EveryCodecRefusesATensorThatBreaksItsInvariant) {
  std::vector<Tensor> broken = {Tensor()};
#ifdef NDEBUG  // the constructor asserts the invariant where asserts are on
  broken.emplace_back(Shape{1, 4, 8, 8}, std::vector<float>(10, 1.0f));
#endif
  EXPECT_EQ(Tensor().check().error().message(), "invalid tensor: tensor rank 0 is outside 1..8");
  for (const Tensor& t : broken) {
    for (const CodecInfo& info : codec_list()) {
      std::vector<std::string> specs = {info.name};
      if (info.name == "disc") specs.push_back("disc:transform=1");
      for (const std::string& spec : specs) {
        const auto codec = make_codec(spec).value();
        auto stream = compress(t, *codec);
        ASSERT_FALSE(stream.ok()) << spec;
        auto payload = codec->encode_payload(t);
        ASSERT_FALSE(payload.ok()) << spec;
        EXPECT_EQ(payload.error().message(), t.check().error().message());
        EXPECT_EQ(stream.error().code(), ErrorCode::kInvalidArgument) << spec;
        EXPECT_EQ(payload.error().code(), ErrorCode::kInvalidArgument) << spec;
      }
    }
  }
  auto codec = make_codec("raw").value();
  EXPECT_EQ(codec->decode_payload({}, Shape{}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(codec->decode_payload({}, Shape{1, -4}).error().code(), ErrorCode::kInvalidArgument);
}

// A value the codec cannot represent is the caller's to fix, like a broken tensor.
TEST(Stream, ValuesACodecCannotHoldAreInvalidArguments) {
  Tensor t({1, 1, 2, 2});
  t.values()[1] = 1e6f;  // beyond fp16's 65504
  auto fp16 = compress(t, *make_codec("fp16").value());
  ASSERT_FALSE(fp16.ok());
  EXPECT_EQ(fp16.error().code(), ErrorCode::kInvalidArgument) << fp16.error().message();
  t.values()[1] = std::numeric_limits<float>::quiet_NaN();
  for (const char* quantizing : {"q8zstd", "jpeg", "zfp", "disc"}) {
    auto stream = compress(t, *make_codec(quantizing).value());
    ASSERT_FALSE(stream.ok()) << quantizing;
    EXPECT_EQ(stream.error().code(), ErrorCode::kInvalidArgument) << quantizing << ": " << stream.error().message();
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

// Decoding an inspected stream gives what decompress() gives, for every codec; the inspection
// of another stream is refused rather than read at the wrong offsets.
TEST(Stream, AnInspectedStreamDecodesAsDecompressDoes) {
  const Tensor t = sample_tensor();
  for (const CodecInfo& codec : codec_list()) {
    const Bytes s = compress(t, *make_codec(codec.name).value()).value();
    const StreamInfo info = inspect(s).value();
    auto direct = decompress(s);
    auto inspected = decompress(s, info);
    ASSERT_TRUE(direct.ok() && inspected.ok()) << codec.name;
    ASSERT_EQ(inspected->shape(), direct->shape()) << codec.name;
    EXPECT_EQ(std::memcmp(inspected->data(), direct->data(), direct->bytes()), 0) << codec.name;
    const Bytes longer = compress(t, *make_codec("raw").value()).value();
    if (longer.size() != s.size()) {
      EXPECT_FALSE(decompress(longer, info).ok()) << codec.name;
    }
  }
}

// Every prefix, every single-bit flip and appended garbage must be rejected, for every codec.
TEST(Stream, EveryTruncationAndBitFlipIsRejected) {
  const Tensor t = sample_tensor();
  for (const CodecInfo& info : codec_list()) {
    auto stream = compress(t, *make_codec(info.name).value());
    ASSERT_TRUE(stream.ok()) << info.name;
    const Bytes& s = *stream;
    // Whatever is wrong with the bytes, the code says the data is damaged; a flip may also make
    // the header announce a larger tensor than the limit allows.
    const auto damaged = [](const Result<Tensor>& r) {
      return !r.ok() && (r.error().code() == ErrorCode::kDataLoss || r.error().code() == ErrorCode::kResourceExhausted);
    };
    for (size_t n = 0; n < s.size(); ++n)
      ASSERT_EQ(decompress(std::span(s).first(n)).error().code(), ErrorCode::kDataLoss) << info.name << " prefix " << n;
    for (size_t bit = 0; bit < s.size() * 8; ++bit) {
      Bytes flipped = s;
      flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      ASSERT_TRUE(damaged(decompress(flipped))) << info.name << " bit " << bit;
    }
    Bytes longer = s;
    longer.push_back(0);
    EXPECT_EQ(decompress(longer).error().code(), ErrorCode::kDataLoss) << info.name;
  }
  EXPECT_EQ(inspect({}).error().message(), "empty stream (0 bytes): not a DISC stream");
  EXPECT_EQ(inspect({}).error().code(), ErrorCode::kDataLoss);
}

TEST(Stream, RefusesShapesOverTheAllocationLimit) {
  Tensor t({1, 2, 64, 64});
  auto stream = compress(t, *make_codec("raw").value());
  ASSERT_TRUE(stream.ok());
  auto r = decompress(*stream, DecodeLimits{1000});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("limit"), std::string::npos);
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(inspect(*stream, DecodeLimits{1000}).error().code(), ErrorCode::kResourceExhausted);
  const StreamInfo info = inspect(*stream).value();
  EXPECT_EQ(decompress(std::span(*stream).first(stream->size() - 1), info).error().code(), ErrorCode::kInvalidArgument);
}

// A container written field by field, independently of the library's writer (doc/FORMAT.md,
// "Stream container"): version 1 with u32 sizes and f32 parameters, version 2 with varint
// sizes and parameters given as their encoded bytes.
struct Fields {
  uint8_t version = 2;
  uint8_t codec_id = 0;
  Shape shape;
  std::vector<Bytes> params;  // each parameter's bytes as they appear in the header
  Bytes payload;
};

void put_u32(Bytes* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_varint(Bytes* b, uint64_t v) {
  for (; v >= 0x80; v >>= 7) b->push_back(static_cast<uint8_t>(v | 0x80));
  b->push_back(static_cast<uint8_t>(v));
}
Bytes f32_bytes(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  Bytes b;
  put_u32(&b, u);
  return b;
}
// Version 2: the short code u = 1 + v * 20 when that is exact, else 0 and the f32.
Bytes v2_param(float v) {
  Bytes b;
  const double units = std::round(static_cast<double>(v) * 20);
  if (v >= 0 && static_cast<float>(units / 20) == v && !std::signbit(v)) {
    put_varint(&b, static_cast<uint64_t>(units) + 1);
  } else {
    b.push_back(0);
    const Bytes f = f32_bytes(v);
    b.insert(b.end(), f.begin(), f.end());
  }
  return b;
}

Bytes build_stream(const Fields& f) {
  Bytes s = {'D', 'I', 'S', 'C', f.version, f.codec_id, static_cast<uint8_t>(f.shape.size()),
             static_cast<uint8_t>(f.params.size())};
  for (int64_t d : f.shape) f.version == 1 ? put_u32(&s, static_cast<uint32_t>(d)) : put_varint(&s, static_cast<uint64_t>(d));
  for (const Bytes& p : f.params) s.insert(s.end(), p.begin(), p.end());
  f.version == 1 ? put_u32(&s, static_cast<uint32_t>(f.payload.size())) : put_varint(&s, f.payload.size());
  s.insert(s.end(), f.payload.begin(), f.payload.end());
  s.resize(s.size() + 4);
  fix_crc(&s);
  return s;
}

// The fields of a stream the library wrote, with `kept` of its parameters (in `version`'s encoding).
Fields fields_of(const Bytes& stream, const Codec& codec, uint8_t version, size_t kept) {
  const StreamInfo info = inspect(stream).value();
  Fields f;
  f.version = version;
  f.codec_id = static_cast<uint8_t>(info.codec);
  f.shape = info.shape;
  for (size_t i = 0; i < kept; ++i)
    f.params.push_back(version == 1 ? f32_bytes(codec.params()[i]) : v2_param(codec.params()[i]));
  f.payload.assign(stream.begin() + static_cast<std::ptrdiff_t>(info.header_bytes), stream.end() - 4);
  return f;
}

// The library writes version 2 exactly as specified: every byte equals the independent builder's.
TEST(Stream, WritesVersionTwoAsSpecified) {
  const Tensor t = sample_tensor();
  // Values at, just above and just below multiples of 0.05 as f32, -0, and the largest allowed.
  for (const char* spec : {"disc:bits=2,prune=0.3,clip=4.5,centroid=2,mean=1,diffuse=0.5", "disc:bits=3,prune=0.123",
                           "zfp:tolerance=0.001", "jpeg:quality=75", "raw", "disc:bits=4,clip=600",
                           "disc:transform=1,bits=3,hf=0.7", "disc:prune=0.9,clip=1000", "disc:prune=-0,clip=2"}) {
    const auto codec = make_codec(spec).value();
    const Bytes s = compress(t, *codec).value();
    EXPECT_EQ(s[4], 2) << spec;
    size_t written = codec->params().size();
    while (written > 0 && codec->params()[written - 1] == codec->info().params[written - 1].default_value) --written;
    EXPECT_EQ(s, build_stream(fields_of(s, *codec, 2, written))) << spec;
    EXPECT_EQ(stream_bytes(t.shape(), *codec, inspect(s)->payload_bytes), s.size()) << spec;
  }
  // What the compact header saves: 1x32x16x16 and ten parameters of the default grid take 22
  // bytes before the payload length instead of 64.
  Tensor small({1, 32, 16, 16});
  const Bytes s = compress(small, *make_codec("disc:bits=2,prune=0.3,clip=4.5,centroid=2,mean=1,diffuse=0.5").value()).value();
  const StreamInfo info = inspect(s).value();
  EXPECT_EQ(info.header_bytes, 8 + 4 + 10 + (info.payload_bytes < 128 ? 1u : 2u));
}

// Parameters round-trip bit for bit whichever form the writer picks, and a short code decodes
// to the f32 nearest (u - 1) / 20.
TEST(Stream, ParametersRoundTripExactly) {
  const Tensor t = sample_tensor();
  const struct {
    float tolerance;
    size_t bytes;  // of the parameter in the header
  } cases[] = {{0.000001f, 5}, {0.0001234f, 5}, {0.02f, 5}, {0.05f, 1}, {0.1f, 1}, {0.3f, 1}, {0.45f, 1}, {0.5f, 1}};
  for (const auto& c : cases) {
    const auto codec = make_codec("zfp:tolerance=" + std::to_string(c.tolerance)).value();
    const Bytes s = compress(t, *codec).value();
    const StreamInfo info = inspect(s).value();
    EXPECT_EQ(std::bit_cast<uint32_t>(info.spec.params[0].second), std::bit_cast<uint32_t>(codec->params()[0]))
        << c.tolerance;
    // magic .. parameter count 8, four one-byte dims, the parameter, the payload length.
    EXPECT_EQ(info.header_bytes, 8 + 4 + c.bytes + (info.payload_bytes < 128 ? 1 : 2)) << c.tolerance;
  }
  Fields f = fields_of(compress(t, *make_codec("disc:bits=3").value()).value(), *make_codec("disc:bits=3").value(), 2, 0);
  f.params = {Bytes{61}, Bytes{0x97, 0x01}};  // bits = 60 / 20 = 3, prune = (151 - 1) / 20 = 7.5: out of range
  EXPECT_FALSE(inspect(build_stream(f)).ok());
  f.params = {Bytes{61}, Bytes{3}};  // prune = 0.1
  const StreamInfo info = inspect(build_stream(f)).value();
  EXPECT_EQ(info.spec.params[1].second, 0.1f);
}

// A stream whose parameter is out of range (here with a valid checksum) is malformed for
// inspect exactly as for decompress, in both versions.
TEST(Stream, InspectRejectsOutOfRangeParameters) {
  Tensor t({1, 1, 2, 2});
  const auto codec = make_codec("zstd:level=3").value();
  const Bytes good = compress(t, *codec).value();
  for (uint8_t version : {1, 2}) {
    Fields f = fields_of(good, *codec, version, 0);
    f.params = {version == 1 ? f32_bytes(99) : v2_param(99)};
    const Bytes s = build_stream(f);
    // Parameters make_codec would call invalid arguments are damaged data in a stream.
    EXPECT_EQ(inspect(s).error().code(), ErrorCode::kDataLoss) << int{version};
    EXPECT_EQ(decompress(s).error().code(), ErrorCode::kDataLoss) << int{version};
  }
}

// Varints must be the shortest encoding of a value below 2^32; anything else is rejected with a
// message that names the field.
TEST(Stream, RejectsMalformedVarints) {
  const Tensor t = sample_tensor();
  const auto codec = make_codec("raw").value();
  const Fields good = fields_of(compress(t, *codec).value(), *codec, 2, 0);
  ASSERT_TRUE(decompress(build_stream(good)).ok());
  const struct {
    Bytes dim;
    const char* message;
  } cases[] = {{{0x81, 0x00}, "overlong"},
               {{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, "longer than 5 bytes"},
               {{0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, "exceeds 32 bits"},
               {{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, "limit"}};  // 2^32 - 1 is a valid varint, too large a shape
  for (const auto& c : cases) {
    // The first dimension (1) replaced by the malformed bytes.
    Bytes s = build_stream(good);
    s.erase(s.begin() + 8);
    s.insert(s.begin() + 8, c.dim.begin(), c.dim.end());
    fix_crc(&s);
    auto r = decompress(s);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_NE(r.error().message().find(c.message), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(c.message == std::string("limit") ? "shape" : "dimension"), std::string::npos)
        << r.error().message();
  }
}

// Bytes between the payload and the checksum are rejected even under a valid checksum.
TEST(Stream, RejectsTrailingBytesUnderAValidChecksum) {
  Bytes s = compress(sample_tensor(), *make_codec("raw").value()).value();
  s.insert(s.end() - 4, 0);
  fix_crc(&s);
  auto r = decompress(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("1 trailing bytes"), std::string::npos) << r.error().message();
}

// Streams of version 1 (u32 sizes, f32 parameters) still decode to the same tensor.
TEST(Stream, ReadsVersionOne) {
  const Tensor t = sample_tensor();
  for (const CodecInfo& info : codec_list()) {
    const auto codec = make_codec(info.name).value();
    const Bytes v2 = compress(t, *codec).value();
    const Bytes v1 = build_stream(fields_of(v2, *codec, 1, codec->params().size()));
    const auto a = decompress(v2), b = decompress(v1);
    ASSERT_TRUE(b.ok()) << info.name << ": " << b.error().message();
    EXPECT_EQ(inspect(v1)->version, 1);
    EXPECT_EQ(inspect(v1)->spec.to_string(), inspect(v2)->spec.to_string());
    EXPECT_EQ(0, std::memcmp(a->data(), b->data(), t.bytes())) << info.name;
  }
  for (uint8_t version : {0, 3}) {
    Bytes other = compress(t, *make_codec("raw").value()).value();
    other[4] = version;
    fix_crc(&other);
    auto r = decompress(other);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("version " + std::to_string(version)), std::string::npos);
  }
}

// Streams written before disc gained parameters (4: bits..speed; 6: + transform, hf; 9: up to
// mean; 10: up to diffuse; 11: up to gain; 12: up to tile) carry fewer of them; the missing ones take their
// defaults and the payload decodes unchanged (diffuse and gain, the 10th and 11th, only steer
// the encoder; the gain's byte is announced by flags bit 7). More parameters than the codec has
// stay an error. Both versions.
TEST(Stream, FewerParametersTakeTheirDefaults) {
  const Tensor t = sample_tensor();
  // Non-default up to gain, the 11th; tile, the 12th, needs transform=1 and is left out as a
  // trailing default, and so are levels, the 13th, shape, the 14th, and cells, the 15th.
  const auto codec = make_codec("disc:bits=3,clip=4,centroid=1,mean=1,diffuse=0.5,gain=1").value();
  const Bytes full = compress(t, *codec).value();
  const Tensor expected = decompress(full).value();
  const size_t params = codec->info().params.size();
  ASSERT_EQ(params, 15u);
  ASSERT_EQ(full[7], 11);
  for (uint8_t version : {1, 2}) {
    for (const size_t kept : {size_t{4}, size_t{6}, size_t{8}, size_t{9}, size_t{10}}) {
      const Bytes old = build_stream(fields_of(full, *codec, version, kept));
      auto info = inspect(old);
      ASSERT_TRUE(info.ok()) << info.error().message();
      ASSERT_EQ(info->spec.params.size(), params);
      EXPECT_FLOAT_EQ(info->spec.params[0].second, 3.0f);
      EXPECT_FLOAT_EQ(info->spec.params[kept].second, codec->info().params[kept].default_value);
      auto back = decompress(old);
      ASSERT_TRUE(back.ok()) << back.error().message();
      EXPECT_EQ(0, std::memcmp(back->data(), expected.data(), expected.bytes()));
    }
    Fields more = fields_of(full, *codec, version, params);
    more.params.push_back(version == 1 ? f32_bytes(0) : v2_param(0));
    EXPECT_FALSE(inspect(build_stream(more)).ok());
    EXPECT_FALSE(decompress(build_stream(more)).ok());
  }
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
    EXPECT_EQ(s, build_stream(fields_of(s, *codec, 2, c.written))) << c.spec;
    ASSERT_TRUE(decompress(s).ok()) << c.spec;
  }
}

}  // namespace
}  // namespace disc
