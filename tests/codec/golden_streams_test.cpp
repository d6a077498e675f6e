// Pinned disc streams: the wire format and the reconstruction must not change by accident.
//
// tests/codec/golden/ holds NAME.disc for every entry of golden_streams() below, written by
// compress() from the deterministic maps below, and MANIFEST, one line per stream: its name
// and the FNV-1a hash of the bit patterns it decodes to. Every decoder must decode every
// pinned stream to those bits (old streams stay readable), and the encoder must still write
// the same bytes, except with speed=1, whose bytes come from the system's zstd.
//
// A deliberate encoder change regenerates the files with
//   DISC_UPDATE_GOLDEN=1 build/tests/disc_golden_tests
// which refuses while any pinned stream decodes to other bits than MANIFEST records, and says
// in its commit why the pinned streams changed (doc/FORMAT.md, "Compatibility").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <set>
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
// bits: per-plane level, 4x4 blobs and element noise, in 1/256 units (|sum| < 2^10, so exact
// in fp32). The unsigned map is that sum held at 0 (about half zeros, like a ReLU output);
// the signed map keeps the negative values. Hash keys: plane << 20 | y << 10 | x, with
// y, x < 2^10 and the component in bits 40+, so no two draws share a key.
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

// The same map with planes 1, 2 and 4 of 6 all zero: the coder's "plane is all zero" flags
// between non-empty planes, and a previous-plane context that must read an empty plane as zeros.
Tensor golden_map_with_empty_planes(bool is_signed) {
  Tensor t = golden_map(is_signed);
  const size_t plane = t.size() / t.shape()[1];
  for (size_t p : {1, 2, 4}) std::fill_n(t.data() + p * plane, plane, 0.0f);
  return t;
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
  bool empty_planes = false;   // coded from golden_map_with_empty_planes
  int reader = 0;              // shape=1..3: the golden_reader() the encoder shapes for (cells=1 too)
};

// Reading convolutions for the shaped streams (the descent's levels are what they pin), with
// weights and biases in 1/64 units from integer arithmetic: 1, a stride-2 3x3 depthwise one
// (one group per plane); 2, a stride-1 3x3 one in 2 groups of 3 planes and 2 outputs each; 3
// and 4, the same followed by a bias and a clamp to [0, 1.5] (3) or a ReLU (4), which the
// descents then measure their error after.
std::shared_ptr<const ConvKernel> golden_reader(int kind) {
  if (kind > 2) {
    auto k = std::make_shared<ConvKernel>(*golden_reader(kind - 2));
    ConvActivation a;
    for (int o = 0; o < k->out_channels; ++o)
      a.bias.push_back(
          static_cast<float>(static_cast<int>(mix(static_cast<uint64_t>(o) | uint64_t{4} << 48) % 129) - 64) / 64.0f);
    a.min = 0;
    a.max = kind == 3 ? 1.5f : std::numeric_limits<float>::infinity();
    k->activation = std::move(a);
    return k;
  }
  auto k = std::make_shared<ConvKernel>();
  k->kernel_h = k->kernel_w = 3;
  if (kind == 1) {
    k->out_channels = k->groups = 6;
    k->in_per_group = 1;
    k->stride_h = k->stride_w = 2;
    k->pad_bottom = k->pad_right = 1;
  } else {
    k->out_channels = 4;
    k->groups = 2;
    k->in_per_group = 3;
    k->pad_top = k->pad_left = k->pad_bottom = k->pad_right = 1;
  }
  k->weights.resize(static_cast<size_t>(k->out_channels) * k->in_per_group * 9);
  for (size_t i = 0; i < k->weights.size(); ++i)
    k->weights[i] = static_cast<float>(static_cast<int>(mix(i | static_cast<uint64_t>(kind) << 40 | uint64_t{3} << 48) % 129) - 64) / 64.0f;
  return k;
}

// The codec of a pinned stream; a shaped one on 3 threads, whose streams are those of one.
Result<std::unique_ptr<Codec>> golden_codec(const GoldenStream& g) {
  DISC_ASSIGN_OR_RETURN(const CodecSpec spec, CodecSpec::parse(g.spec));
  return make_codec(spec, EncoderContext{g.reader ? golden_reader(g.reader) : nullptr, 3});
}

Tensor golden_map(const GoldenStream& g) {
  return g.empty_planes ? golden_map_with_empty_planes(g.is_signed) : golden_map(g.is_signed);
}

// One stream per mode, and together every flag of doc/FORMAT.md's disc payload: signed 1,
// centroid offsets 2, plane steps 4, density contexts 8, zero-level offsets 16, mean
// corrections 32, warm-up 64, energy gain 128.
const std::vector<GoldenStream>& golden_streams() {
  static const std::vector<GoldenStream> streams = {
      {"default_unsigned", false, "disc", 8 | 64},
      {"default_signed", true, "disc", 1 | 8 | 64},
      {"ternary_signed", true, "disc:bits=1", 1 | 8 | 64},
      {"lossless_unsigned", false, "disc:bits=0"},
      {"lossless_signed", true, "disc:bits=0"},
      {"zero_mean_diffuse_unsigned", false, "disc:bits=2,prune=0.2,clip=4,centroid=2,mean=1,diffuse=0.5",
       8 | 16 | 32 | 64},
      {"centroid_mean_signed", true, "disc:bits=2,clip=3,centroid=3,mean=1", 1 | 2 | 8 | 32 | 64},
      {"plane_steps_unsigned", false, "disc:bits=3,chs=1", 4 | 8 | 64},
      {"transform_signed", true, "disc:transform=1,bits=5", 1 | 64},
      {"transform_gain_unsigned", false, "disc:transform=1,bits=4,hf=1.5,gain=1", 64 | 128},
      {"transform_gain_signed", true, "disc:transform=1,bits=4,hf=2,gain=1", 1 | 64 | 128},
      {"transform_tile_gain_unsigned", false, "disc:transform=1,bits=5,hf=2,gain=1,tile=1", 64 | 128},
      {"transform_tile_signed", true, "disc:transform=1,bits=4,tile=1", 1 | 64},
      {"all_offsets_gain_unsigned", false, "disc:bits=2,centroid=3,mean=1,gain=1", 2 | 8 | 16 | 32 | 64 | 128},
      {"fast_unsigned", false, "disc:bits=4,speed=1", 0, false},
      {"fast_centroid_signed", true, "disc:bits=6,speed=1,centroid=1", 1 | 2, false},
      {"empty_planes_lossless_signed", true, "disc:bits=0", -1, true, true},
      {"empty_planes_default_unsigned", false, "disc", 8 | 64, true, true},
      {"shaped_depthwise_unsigned", false, "disc:shape=2,bits=1,clip=2", 8 | 64, true, false, 1},
      {"shaped_groups_signed", true, "disc:shape=1,bits=2,clip=3", 1 | 8 | 64, true, false, 2},
      {"cells_shaped_depthwise_unsigned", false, "disc:cells=1,shape=2,bits=2,clip=2.5", 8 | 64, true, false, 1},
      {"cells_empty_planes_signed", true, "disc:cells=1,bits=3", 1 | 8 | 64, true, true},
      {"shaped_activated_depthwise_unsigned", false, "disc:shape=2,bits=1,clip=2", 8 | 64, true, false, 3},
      {"shaped_activated_groups_signed", true, "disc:shape=2,bits=2,clip=3", 1 | 8 | 64, true, false, 4},
      {"cells_shaped_activated_depthwise_unsigned", false, "disc:cells=1,shape=2,bits=2,clip=2.5", 8 | 64, true, false,
       3},
      {"rate_shaped_activated_groups_unsigned", false, "disc:shape=3,bits=1,clip=2", 8 | 64, true, false, 4},
      {"cells_rate_shaped_activated_depthwise_unsigned", false, "disc:cells=1,shape=3,bits=2,clip=2.5", 8 | 64, true,
       false, 3},
  };
  return streams;
}

std::filesystem::path stream_path(const GoldenStream& g) { return kGoldenDir / (g.name + ".disc"); }

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// MANIFEST: name -> hash of the decoded bits. Empty if there is no MANIFEST.
std::map<std::string, uint64_t> read_manifest() {
  std::map<std::string, uint64_t> hashes;
  std::ifstream in(kGoldenDir / "MANIFEST");
  std::string name;
  uint64_t hash = 0;
  while (in >> name >> std::hex >> hash) hashes[name] = hash;
  return hashes;
}

Result<uint64_t> decoded_bits_hash(const Bytes& stream) {
  DISC_ASSIGN_OR_RETURN(const Tensor t, decompress(stream));
  return fnv1a(t.data(), t.bytes());
}

// Decoding the pinned streams must not change: an update may rewrite what the encoder writes,
// never what an old stream means.
void rewrite_pinned_streams() {
  const std::map<std::string, uint64_t> recorded = read_manifest();
  for (const GoldenStream& g : golden_streams()) {
    if (!recorded.contains(g.name)) continue;
    auto hash = decoded_bits_hash(read_file(stream_path(g)));
    ASSERT_TRUE(hash.ok() && *hash == recorded.at(g.name))
        << g.name << " no longer decodes to its recorded bits: that breaks old streams (doc/FORMAT.md, "
        << "\"Compatibility\"); not rewriting";
  }
  std::ostringstream manifest;
  for (const GoldenStream& g : golden_streams()) {
    auto codec = golden_codec(g);
    ASSERT_TRUE(codec.ok()) << codec.error().message();
    auto stream = compress(golden_map(g), **codec);
    ASSERT_TRUE(stream.ok()) << stream.error().message();
    std::ofstream out(stream_path(g), std::ios::binary);
    out.write(reinterpret_cast<const char*>(stream->data()), static_cast<std::streamsize>(stream->size()));
    ASSERT_TRUE(out.flush()) << "cannot write " << stream_path(g);
    auto hash = decoded_bits_hash(*stream);
    ASSERT_TRUE(hash.ok()) << hash.error().message();
    manifest << g.name << ' ' << std::hex << *hash << '\n';
  }
  std::ofstream out(kGoldenDir / "MANIFEST");
  ASSERT_TRUE(out << manifest.str() && out.flush()) << "cannot write " << kGoldenDir / "MANIFEST";
}

// The offset of the first byte where a and b differ (the shorter size if one is a prefix).
size_t first_difference(const Bytes& a, const Bytes& b) {
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + std::min(a.size(), b.size()), b.begin()).first -
                             a.begin());
}

TEST(GoldenStreams, PinnedStreamsDecodeToTheirRecordedBitsAndTheEncoderStillWritesThem) {
  if (const char* update = std::getenv("DISC_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    rewrite_pinned_streams();
    if (!HasFatalFailure()) GTEST_SKIP() << "rewrote the pinned streams in " << kGoldenDir;
    return;
  }
  const std::map<std::string, uint64_t> recorded = read_manifest();
  ASSERT_EQ(recorded.size(), golden_streams().size()) << "MANIFEST and the table of pinned streams disagree";
  for (const GoldenStream& g : golden_streams()) {
    SCOPED_TRACE(g.name + " (" + g.spec + ")");
    const Bytes pinned = read_file(stream_path(g));
    const auto decoded = decompress(pinned);
    if (!decoded.ok()) {
      ADD_FAILURE() << "the pinned stream no longer decodes: " << decoded.error().message();
      continue;
    }
    const Tensor original = golden_map(g);
    EXPECT_EQ(decoded->shape(), original.shape());
    ASSERT_TRUE(recorded.contains(g.name)) << "not in MANIFEST";
    EXPECT_EQ(fnv1a(decoded->data(), decoded->bytes()), recorded.at(g.name)) << "decodes to other bits than recorded";
    const auto info = inspect(pinned);
    const auto codec = golden_codec(g);
    ASSERT_TRUE(info.ok() && codec.ok());
    EXPECT_EQ(info->spec.to_string(), (*codec)->spec().to_string());
    if (g.flags >= 0) {
      EXPECT_EQ(pinned[info->header_bytes], g.flags);
    } else {  // lossless: the recorded bits are the original's
      EXPECT_EQ(std::memcmp(decoded->data(), original.data(), original.bytes()), 0);
    }
    if (!g.encoder_pinned) continue;
    const auto stream = compress(original, **codec);
    ASSERT_TRUE(stream.ok()) << stream.error().message();
    EXPECT_EQ(*stream, pinned) << "the encoder no longer writes the pinned stream: " << stream->size()
                               << " bytes against " << pinned.size() << ", first difference at byte "
                               << first_difference(*stream, pinned);
  }
}

// Nothing else lies in the folder: a stream dropped from the table must go, not linger untested.
TEST(GoldenStreams, FolderHoldsExactlyTheTablesStreamsAndManifest) {
  std::set<std::string> expected = {"MANIFEST"}, found;
  for (const GoldenStream& g : golden_streams()) expected.insert(g.name + ".disc");
  for (const auto& entry : std::filesystem::directory_iterator(kGoldenDir)) found.insert(entry.path().filename());
  EXPECT_EQ(found, expected);
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
