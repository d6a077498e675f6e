// Chunked feature maps: slabs along the chunk axis, each its own stream, reassembled in order.
#include "disc/chunks.hpp"

#include <gtest/gtest.h>

#include <random>

namespace disc {
namespace {

Tensor random_map(Shape shape, uint32_t seed = 3) {
  Tensor t(std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& v : t.values()) v = std::max(0.0f, n(rng));
  return t;
}

std::unique_ptr<Codec> codec(const std::string& spec) {
  auto c = make_codec(spec);
  EXPECT_TRUE(c.ok()) << c.error().message();
  return std::move(c).value();
}

Bytes chunk(const Tensor& t, const std::string& spec, Slab slab) {
  auto s = compress_slab(t, *codec(spec), slab);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? *s : Bytes{};
}

TEST(Chunks, AxisIsTheFirstOfExtentAboveOne) {
  EXPECT_EQ(chunk_axis({1, 64, 56, 56}), 1u);
  EXPECT_EQ(chunk_axis({1, 1, 7, 5}), 2u);
  EXPECT_EQ(chunk_axis({3, 64, 56, 56}), 0u);
  EXPECT_EQ(chunk_axis({1, 1}), 1u);
}

TEST(Chunks, SlabsCoverTheAxisInOrder) {
  const auto slabs = split_slabs({1, 10, 4, 4}, 4);
  ASSERT_EQ(slabs.size(), 4u);
  const size_t lengths[] = {3, 3, 2, 2};
  size_t next = 0;
  for (size_t i = 0; i < slabs.size(); ++i) {
    EXPECT_EQ(slabs[i].begin, next);
    EXPECT_EQ(slabs[i].length, lengths[i]);
    next += slabs[i].length;
  }
  EXPECT_EQ(split_slabs({1, 3, 4, 4}, 8).size(), 3u);  // no empty slab
  EXPECT_EQ(split_slabs({1, 3, 4, 4}, 1).front().length, 3u);
}

TEST(Chunks, LosslessChunksReassembleExactly) {
  const Tensor map = random_map({1, 13, 6, 5});
  for (const std::string spec : {"raw", "disc:bits=0", "zstd"}) {
    for (size_t n : {1, 2, 5, 13}) {
      SCOPED_TRACE(spec + " in " + std::to_string(n));
      ChunkAssembler assembler = ChunkAssembler::create(map.shape()).value();
      for (const Slab& slab : split_slabs(map.shape(), n)) {
        ASSERT_TRUE(assembler.add(chunk(map, spec, slab)).ok());
      }
      EXPECT_EQ(assembler.chunks(), n);
      EXPECT_EQ(CodecSpec::parse(assembler.first_codec().to_string())->name, CodecSpec::parse(spec)->name);
      auto out = std::move(assembler).finish();
      ASSERT_TRUE(out.ok()) << out.error().message();
      EXPECT_EQ(out->shape(), map.shape());
      EXPECT_TRUE(std::equal(map.values().begin(), map.values().end(), out->values().begin()));
    }
  }
}

TEST(Chunks, OneChunkIsTheWholeStream) {
  const Tensor map = random_map({1, 6, 8, 8});
  auto whole = compress(map, *codec("disc:bits=3"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(chunk(map, "disc:bits=3", {0, 6}), *whole);
}

TEST(Chunks, LossyChunksDecodeTheirOwnSlab) {
  const Tensor map = random_map({1, 8, 8, 8});
  ChunkAssembler assembler = ChunkAssembler::create(map.shape()).value();
  std::vector<Tensor> parts;
  for (const Slab& slab : split_slabs(map.shape(), 2)) {
    const Bytes s = chunk(map, "disc:bits=2", slab);
    parts.push_back(*decompress(s));
    ASSERT_TRUE(assembler.add(s).ok());
  }
  auto out = std::move(assembler).finish();
  ASSERT_TRUE(out.ok());
  const size_t half = out->size() / 2;
  EXPECT_TRUE(std::equal(parts[0].values().begin(), parts[0].values().end(), out->values().begin()));
  EXPECT_TRUE(std::equal(parts[1].values().begin(), parts[1].values().end(), out->values().begin() + half));
}

TEST(Chunks, AssemblersOfInvalidShapesAreNotMade) {
  EXPECT_EQ(ChunkAssembler::create({}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ChunkAssembler::create({1, -5, 4, 4}).error().code(), ErrorCode::kInvalidArgument);
  auto huge = ChunkAssembler::create({1, 1 << 20, 1 << 10});
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message().find("exceeds"), std::string::npos) << huge.error().message();
  EXPECT_EQ(huge.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(compress_slab(Tensor(), *codec("raw"), {0, 1}).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Chunks, SlabOutsideTheAxisIsAnError) {
  const Tensor map = random_map({1, 4, 2, 2});
  for (const Slab& outside : {Slab{3, 2}, Slab{0, 0}, Slab{5, 1}})
    EXPECT_EQ(compress_slab(map, *codec("raw"), outside).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Chunks, ChunksThatDoNotFitAreRejected) {
  const Tensor map = random_map({1, 4, 6, 5});
  const Tensor other = random_map({1, 4, 6, 4});
  {
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    const Status s = a.add(chunk(other, "raw", {0, 2}));  // wrong width
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find("not a slab"), std::string::npos) << s.error().message();
    EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss);
  }
  {
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    ASSERT_TRUE(a.add(chunk(map, "raw", {0, 3})).ok());
    // 3 + 2 > 4 planes: the header asks for more than is missing.
    EXPECT_EQ(a.add(chunk(map, "raw", {0, 2})).error().code(), ErrorCode::kResourceExhausted);
  }
  {
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    ASSERT_TRUE(a.add(chunk(map, "raw", {0, 4})).ok());
    const Status s = a.add(chunk(map, "raw", {0, 1}));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find("already complete"), std::string::npos);
    EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss);
  }
  {
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    ASSERT_TRUE(a.add(chunk(map, "raw", {0, 3})).ok());
    auto out = std::move(a).finish();
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message().find("cover 3 of the 4"), std::string::npos) << out.error().message();
    EXPECT_EQ(out.error().code(), ErrorCode::kDataLoss);
  }
  {
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    Bytes rank_differs = chunk(random_map({1, 4, 30}), "raw", {0, 4});
    EXPECT_FALSE(a.add(rank_differs).ok());
  }
  {
    // As many elements as the map, but a leading axis that is not the map's.
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    const Status s = a.add(*compress(random_map({2, 2, 6, 5}), *codec("raw")));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find("not a slab"), std::string::npos) << s.error().message();
  }
}

TEST(Chunks, MapsWhoseChunkAxisIsNotTheSecond) {
  const Tensor map = random_map({1, 1, 7, 5});  // chunk axis 2: rows
  ChunkAssembler assembler = ChunkAssembler::create(map.shape()).value();
  for (const Slab& slab : split_slabs(map.shape(), 3)) ASSERT_TRUE(assembler.add(chunk(map, "raw", slab)).ok());
  auto out = std::move(assembler).finish();
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_TRUE(std::equal(map.values().begin(), map.values().end(), out->values().begin()));
}

TEST(Chunks, CorruptOrTruncatedChunksAreErrors) {
  const Tensor map = random_map({1, 4, 6, 5});
  const Bytes good = chunk(map, "disc:bits=3", {0, 2});
  Bytes flipped = good;
  flipped[flipped.size() / 2] ^= 0x10;
  const Bytes truncated(good.begin(), good.end() - 7);
  for (const Bytes& bad : {flipped, truncated, Bytes{}}) {
    ChunkAssembler a = ChunkAssembler::create(map.shape()).value();
    const Status s = a.add(bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message().rfind("chunk 1: ", 0), 0u) << s.error().message();
    EXPECT_EQ(s.error().code(), ErrorCode::kDataLoss) << s.error().message();
  }
}

}  // namespace
}  // namespace disc
