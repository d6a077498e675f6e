// Pinned disc streams: the wire format and the reconstruction must not change by accident.
//
// tests/codec/golden/ holds one stream per disc mode, written by compress() from the
// deterministic maps below, and MANIFEST, which names each stream's map, codec setting and
// the FNV-1a hash of the bit patterns it decodes to. Every decoder must decode every pinned
// stream to the same bits (old streams stay readable), and the encoder must still write the
// same bytes, except in the speed=1 mode, whose bytes come from the system's zstd.
//
// A deliberate format or encoder change regenerates the files with
//   DISC_UPDATE_GOLDEN=1 build/tests/disc_golden_tests
// and says in its commit why the pinned streams changed (doc/FORMAT.md, "Compatibility").
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "codec/plane_fill.hpp"
#include "disc/codec.hpp"

namespace disc {
namespace {

const std::filesystem::path kGoldenDir = DISC_GOLDEN_DIR;

uint64_t mix(uint64_t x) {  // splitmix64's finalizer: platform-independent pseudo-randomness
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A feature-map-like tensor from integer arithmetic only, so every platform builds the same
// bits: per-plane level, 4x4 blobs and element noise, in 1/256 units (exact in fp32). The
// unsigned map is that sum held at 0 (about half zeros, like a ReLU output); the signed map
// keeps the negative values.
Tensor golden_map(bool is_signed) {
  return planes_from({1, 6, 12, 10}, [is_signed](size_t p, size_t y, size_t x) {
    const auto draw = [](uint64_t key, int range) { return static_cast<int>(mix(key) % range) - range / 2; };
    const int plane = draw(p, 512);
    const int blob = draw((p << 20) | ((y / 4) << 10) | (x / 4) | (uint64_t{1} << 40), 1024);
    const int noise = draw((p << 20) | (y << 10) | x | (uint64_t{2} << 40), 256);
    const int sum = plane + blob + noise;
    return static_cast<float>(is_signed || sum > 0 ? sum : 0) / 256.0f;
  });
}

uint64_t fnv1a(const void* data, size_t size) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ static_cast<const uint8_t*>(data)[i]) * 0x100000001B3ull;
  return h;
}

struct GoldenStream {
  std::string name;
  bool is_signed = false;
  std::string spec;
  int flags = -1;  // the payload's flags byte (doc/FORMAT.md), -1 for the lossless mode, which has none
  bool encoder_pinned = true;  // false where the bytes come from a third-party compressor
};

// One stream per mode, and together every flag of doc/FORMAT.md's disc payload: signed 1,
// centroid offsets 2, plane steps 4, density contexts 8, zero-level offsets 16, mean
// corrections 32, warm-up 64, energy gain 128.
const std::vector<GoldenStream>& golden_streams() {
  static const std::vector<GoldenStream> streams = {
      {"default_unsigned", false, "disc", 8 | 64},
      {"default_signed", true, "disc", 1 | 8 | 64},
      {"lossless_signed", true, "disc:bits=0"},
      {"zero_mean_diffuse_unsigned", false, "disc:bits=2,prune=0.2,clip=4,centroid=2,mean=1,diffuse=0.5",
       8 | 16 | 32 | 64},
      {"centroid_mean_signed", true, "disc:bits=2,clip=3,centroid=3,mean=1", 1 | 2 | 8 | 32 | 64},
      {"plane_steps_unsigned", false, "disc:bits=3,chs=1", 4 | 8 | 64},
      {"transform_gain_unsigned", false, "disc:transform=1,bits=4,hf=1.5,gain=1", 64 | 128},
      {"transform_gain_signed", true, "disc:transform=1,bits=4,hf=2,gain=1", 1 | 64 | 128},
      {"all_offsets_gain_unsigned", false, "disc:bits=2,centroid=3,mean=1,gain=1", 2 | 8 | 16 | 32 | 64 | 128},
      {"fast_unsigned", false, "disc:bits=4,speed=1", 0, false},
  };
  return streams;
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// MANIFEST line: name, then the hash of the decoded bits in hex.
std::string manifest_line(const std::string& name, uint64_t decoded_hash) {
  std::ostringstream line;
  line << name << ' ' << std::hex << decoded_hash << '\n';
  return line.str();
}

Result<Tensor> decode_and_hash(const Bytes& stream, uint64_t* hash) {
  DISC_ASSIGN_OR_RETURN(Tensor t, decompress(stream));
  *hash = fnv1a(t.data(), t.bytes());
  return t;
}

TEST(GoldenStreams, PinnedStreamsDecodeToPinnedValuesAndTheEncoderStillWritesThem) {
  if (std::getenv("DISC_UPDATE_GOLDEN")) {
    std::filesystem::create_directories(kGoldenDir);
    std::string manifest;
    for (const GoldenStream& g : golden_streams()) {
      auto codec = make_codec(g.spec);
      ASSERT_TRUE(codec.ok()) << codec.error().message();
      auto stream = compress(golden_map(g.is_signed), **codec);
      ASSERT_TRUE(stream.ok()) << stream.error().message();
      std::ofstream(kGoldenDir / (g.name + ".disc"), std::ios::binary)
          .write(reinterpret_cast<const char*>(stream->data()), static_cast<std::streamsize>(stream->size()));
      uint64_t hash = 0;
      ASSERT_TRUE(decode_and_hash(*stream, &hash).ok());
      manifest += manifest_line(g.name, hash);
    }
    std::ofstream(kGoldenDir / "MANIFEST") << manifest;
    GTEST_SKIP() << "rewrote the pinned streams in " << kGoldenDir;
  }
  std::ifstream manifest_file(kGoldenDir / "MANIFEST");
  ASSERT_TRUE(manifest_file) << "no " << kGoldenDir / "MANIFEST";
  std::stringstream manifest;
  manifest << manifest_file.rdbuf();
  std::string expected_manifest;
  for (const GoldenStream& g : golden_streams()) {
    SCOPED_TRACE(g.name + " (" + g.spec + ")");
    const Bytes pinned = read_file(kGoldenDir / (g.name + ".disc"));
    ASSERT_FALSE(pinned.empty());
    uint64_t hash = 0;
    auto decoded = decode_and_hash(pinned, &hash);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    expected_manifest += manifest_line(g.name, hash);
    auto info = inspect(pinned);
    ASSERT_TRUE(info.ok());
    auto codec = make_codec(g.spec);
    ASSERT_TRUE(codec.ok()) << codec.error().message();
    EXPECT_EQ(info->spec.to_string(), (*codec)->spec().to_string());
    if (g.flags >= 0) {
      EXPECT_EQ(pinned[info->header_bytes], g.flags);
    }
    if (!g.encoder_pinned) continue;
    auto stream = compress(golden_map(g.is_signed), **codec);
    ASSERT_TRUE(stream.ok()) << stream.error().message();
    EXPECT_EQ(*stream, pinned) << "the encoder no longer writes the pinned stream (" << stream->size() << " bytes, pinned "
                               << pinned.size() << ")";
  }
  // Every pinned stream decodes to the bits recorded when it was written.
  EXPECT_EQ(manifest.str(), expected_manifest);
}

// The pinned maps are not degenerate: each exercises what its streams pin.
TEST(GoldenStreams, MapsHaveZerosAndSignsWhereTheModesNeedThem) {
  const Tensor unsigned_map = golden_map(false), signed_map = golden_map(true);
  size_t zeros = 0, negatives = 0;
  for (float v : unsigned_map.values()) zeros += v == 0;
  for (float v : signed_map.values()) negatives += v < 0;
  EXPECT_GT(zeros, unsigned_map.size() / 5);
  EXPECT_LT(zeros, unsigned_map.size() * 4 / 5);
  EXPECT_GT(negatives, signed_map.size() / 5);
}

}  // namespace
}  // namespace disc
