// Every payload decoder refuses a payload that cannot hold the shape it is decoded under
// before it allocates anything of that shape's size (doc/FORMAT.md, the refusal rule of each
// payload). Its own executable: it replaces the global operator new to record the largest
// allocation made while a decoder runs.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "disc/codec.hpp"

namespace {

std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest{0};

void* allocate(size_t n) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t seen = g_largest.load(std::memory_order_relaxed);
    while (n > seen && !g_largest.compare_exchange_weak(seen, n)) {
    }
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(size_t n) { return allocate(n); }
void* operator new[](size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace disc {
namespace {

// 2^28 elements, the decoders' default limit: a 1 GiB fp32 output.
const Shape kHugeColumns = {1, 16384, 16384, 1};  // 16384 planes of 16384 x 1 (the CLI repro's shape)
const Shape kHugePlane = {1, 1, 16384, 16384};    // one plane
constexpr size_t kHugeCount = size_t{1} << 28;
// Far below the output: what a refused payload may allocate at most (error strings and the like).
constexpr size_t kSmall = size_t{1} << 20;

struct Decoded {
  bool ok = false;
  ErrorCode code = ErrorCode::kUnknown;
  std::string message;
  size_t largest_allocation = 0;
};

// decode_payload(payload, shape) with `spec`, recording the largest allocation it made.
Decoded decode(const std::string& spec, const Bytes& payload, const Shape& shape) {
  auto codec = make_codec(spec);
  EXPECT_TRUE(codec.ok()) << spec;
  g_largest = 0;
  g_tracking = true;
  auto r = codec.value()->decode_payload(payload, shape);
  g_tracking = false;
  Decoded d;
  d.ok = r.ok();
  d.largest_allocation = g_largest;
  if (!r.ok()) {
    d.code = r.error().code();
    d.message = r.error().message();
  }
  return d;
}

void put_u32(Bytes* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_f32(Bytes* b, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  put_u32(b, u);
}

// A well-formed zstd frame (RFC 8878) that declares `content` bytes but holds a single RLE
// block of 128 KiB: its header is not lying about anything a header-only check could see.
Bytes lying_zstd_frame(uint32_t content) {
  Bytes f = {0x28, 0xB5, 0x2F, 0xFD};
  f.push_back(0x80);         // frame header descriptor: 4-byte content size, window descriptor follows
  f.push_back(17 << 3);      // window 2^27
  put_u32(&f, content);      // frame content size
  const uint32_t block = 1u | (1u << 1) | ((1u << 17) << 3);  // last block, RLE, 128 KiB
  f.push_back(static_cast<uint8_t>(block));
  f.push_back(static_cast<uint8_t>(block >> 8));
  f.push_back(static_cast<uint8_t>(block >> 16));
  f.push_back(0);  // the repeated byte
  return f;
}

void expect_refused(const std::string& spec, const Bytes& payload, const Shape& shape, const std::string& message) {
  const Decoded d = decode(spec, payload, shape);
  ASSERT_FALSE(d.ok) << spec;
  EXPECT_NE(d.message.find(message), std::string::npos) << spec << ": " << d.message;
  EXPECT_EQ(d.code, ErrorCode::kDataLoss) << spec << ": " << d.message;
  EXPECT_LT(d.largest_allocation, kSmall) << spec << ": " << d.message;
}

TEST(DecodeBounds, RawAndFp16NeedTheirExactSizeBeforeAllocating) {
  const Bytes eight(8, 0);
  expect_refused("raw", eight, kHugeColumns, "has 8 bytes, shape needs 1073741824");
  expect_refused("fp16", eight, kHugeColumns, "has 8 bytes, shape needs 536870912");
  expect_refused("raw", {}, kHugePlane, "has 0 bytes, shape needs");
}

TEST(DecodeBounds, ZstdFramesMustBeAbleToHoldTheirContent) {
  // Not a frame at all.
  expect_refused("zstd", Bytes(8, 1), kHugeColumns, "zstd: not a zstd frame");
  // A frame of another size.
  expect_refused("zstd", lying_zstd_frame(123), kHugeColumns, "zstd frame does not hold the 1073741824 bytes");
  // A frame claiming the right size with one block: at most 128 KiB per 3 bytes.
  expect_refused("zstd", lying_zstd_frame(kHugeCount * 4), kHugeColumns,
                 "zstd frame of 14 bytes cannot hold the 1073741824 bytes it declares");
  Bytes q8;
  put_f32(&q8, 0);
  put_f32(&q8, 1);
  const Bytes frame = lying_zstd_frame(kHugeCount);
  q8.insert(q8.end(), frame.begin(), frame.end());
  expect_refused("q8zstd", q8, kHugeColumns, "zstd frame of 14 bytes cannot hold the 268435456 bytes");
}

TEST(DecodeBounds, ZfpStreamsNeedABitPerBlock) {
  Bytes payload;
  put_f32(&payload, 0.01f);
  // Well past the 84-bit header, well short of a bit per block: only the per-block term refuses
  // it (without it, the zero bytes would fail the header check with another message).
  payload.insert(payload.end(), 65536, 0);
  // 2^28 values in 4x4 blocks: 2^24 blocks, at least 2 MiB.
  expect_refused("zfp", payload, {1, 4096, 256, 256}, "too few for the header and the 16777216 blocks");
  expect_refused("zfp", payload, kHugeColumns, "too few for the header and the 67108864 blocks");
}

TEST(DecodeBounds, DiscBodiesNeedABitPerPlaneOrBlock) {
  const Bytes body = {0, 0, 0, 0, 0};  // the shortest range-coded section
  // Lossless: a "plane is all zero" bit per plane; 5 + 16384 / 512 bytes.
  expect_refused("disc:bits=0", body, kHugeColumns, "too short for the 16384 planes of the shape (a bit each: at least 37 bytes)");
  Bytes lossy = {1 | 8 | 64};  // signed, density contexts, warm-up
  put_f32(&lossy, 1.0f);
  lossy.insert(lossy.end(), body.begin(), body.end());
  expect_refused("disc:bits=4", lossy, kHugeColumns, "too short for the 16384 planes");
  // Transform: a bit per 8x8 block, 2^22 of them.
  Bytes transform = {1 | 64};
  put_f32(&transform, 1.0f);
  transform.insert(transform.end(), body.begin(), body.end());
  expect_refused("disc:bits=4,transform=1", transform, kHugePlane, "too short for the 4194304 blocks");
  // speed=1: a zstd frame of the 2^27 bytes of packed nibbles.
  Bytes fast = {1};
  put_f32(&fast, 1.0f);
  const Bytes frame = lying_zstd_frame(kHugeCount / 2);
  fast.insert(fast.end(), frame.begin(), frame.end());
  expect_refused("disc:bits=4,speed=1", fast, kHugePlane, "zstd frame of 14 bytes cannot hold the 134217728 bytes");
}

// JPEG data is only known to be bad once libjpeg has decoded it, so the image buffer exists by
// then (its pages untouched until written); the output of 4 bytes per value does not.
TEST(DecodeBounds, JpegDecodesTheImageBeforeAllocatingTheOutput) {
  const Shape shape = {1, 256, 1024, 1024};  // 16 x 16 tiles: a 16384 x 16384 image
  auto codec = make_codec("jpeg");
  ASSERT_TRUE(codec.ok());
  // A real JPEG of a small map, its frame header edited to the large image's size: its scan
  // ends long before the image does.
  Tensor small({1, 1, 16, 16});
  for (size_t i = 0; i < small.size(); ++i) small.data()[i] = static_cast<float>(i % 7);
  Bytes payload = codec.value()->encode_payload(small).value();
  size_t sof = 8;
  while (sof + 9 < payload.size() && !(payload[sof] == 0xFF && payload[sof + 1] == 0xC0)) ++sof;
  ASSERT_LT(sof + 9, payload.size());
  for (size_t at : {sof + 5, sof + 7}) {  // height, then width, big-endian
    payload[at] = 16384 >> 8;
    payload[at + 1] = 16384 & 0xFF;
  }
  const Decoded d = decode("jpeg", payload, shape);
  ASSERT_FALSE(d.ok);
  EXPECT_NE(d.message.find("corrupt JPEG data"), std::string::npos) << d.message;
  EXPECT_LE(d.largest_allocation, size_t{16384} * 16384) << d.message;
}

// The bounds hold for the smallest valid payloads: all-zero maps, with many small planes (a
// bit per plane, nearly free each) and one large plane.
TEST(DecodeBounds, TinyPayloadsOfZeroMapsStillDecode) {
  for (const Shape& shape : {Shape{1, 1 << 20, 1, 1}, Shape{1, 1, 1024, 1024}, Shape{1, 4096, 4, 64},
                             Shape{1, 1, 1, 1 << 20}, Shape{1, 1, 1, 37}}) {  // one row: zfp codes it in 1-D
    const Tensor zeros(shape);
    for (const char* spec : {"disc", "disc:bits=0", "disc:bits=4,speed=1", "disc:bits=8,speed=1", "disc:bits=4,transform=1",
                             "disc:bits=4,transform=1,tile=1", "disc:bits=2,mean=1,centroid=3", "zstd", "q8zstd",
                             "zfp", "raw", "fp16"}) {
      auto codec = make_codec(spec);
      ASSERT_TRUE(codec.ok()) << spec;
      auto stream = compress(zeros, *codec.value());
      ASSERT_TRUE(stream.ok()) << spec << ": " << stream.error().message();
      auto back = decompress(*stream);
      ASSERT_TRUE(back.ok()) << spec << " " << shape_to_string(shape) << ": " << back.error().message();
      ASSERT_EQ(back->shape(), shape);
      for (float v : back->values()) ASSERT_EQ(v, 0.0f) << spec;
    }
  }
}

// zfp decodes block by block in its own order; a single row is a 1-D field (with a partial
// last block here), more rows a 2-D one. Both must come back within the tolerance.
TEST(DecodeBounds, ZfpBlockByBlockDecodingKeepsTheTolerance) {
  for (const Shape& shape : {Shape{1, 1, 1, 37}, Shape{1, 3, 5, 7}}) {
    std::vector<float> values(static_cast<size_t>(shape[1] * shape[2] * shape[3]));
    for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.37f * static_cast<float>(i)) * 3.0f;
    const Tensor original(shape, values);
    auto codec = make_codec("zfp:tolerance=0.01");
    ASSERT_TRUE(codec.ok());
    auto stream = compress(original, **codec);
    ASSERT_TRUE(stream.ok()) << stream.error().message();
    auto back = decompress(*stream);
    ASSERT_TRUE(back.ok()) << back.error().message();
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_NEAR(back->values()[i], values[i], 0.01f) << shape_to_string(shape) << " at " << i;
  }
}

}  // namespace
}  // namespace disc
