// DISC against every lossy baseline at comparable error, on the synthetic maps matched to
// real post-ReLU feature maps (bench/synthetic_maps.cpp): for each baseline, the smallest
// stream among its settings that are at least as accurate as DISC must still be larger.
#include <gtest/gtest.h>

#include <limits>

#include "disc/codec.hpp"
#include "synthetic_maps.hpp"

namespace disc {
namespace {

double relative_mse(const Tensor& a, const Tensor& b) {
  double err = 0, energy = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double{a.data()[i]} - b.data()[i];
    err += d * d;
    energy += double{a.data()[i]} * a.data()[i];
  }
  return err / energy;
}

struct Measured {
  size_t bytes = 0;
  double error = 0;
};

Measured measure(const Tensor& t, const std::string& spec) {
  auto stream = compress(t, *make_codec(spec).value());
  EXPECT_TRUE(stream.ok()) << spec;
  auto back = decompress(*stream);
  EXPECT_TRUE(back.ok()) << spec;
  return {stream->size(), relative_mse(t, *back)};
}

TEST(CodecComparison, DiscBeatsEveryBaselineAtComparableErrorOnReluMaps) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> baselines = {
      {"jpeg", {"jpeg:quality=10", "jpeg:quality=30", "jpeg:quality=50", "jpeg:quality=75", "jpeg:quality=90",
                "jpeg:quality=95", "jpeg:quality=100"}},
      {"zfp", {"zfp:tolerance=0.2", "zfp:tolerance=0.1", "zfp:tolerance=0.05", "zfp:tolerance=0.02",
               "zfp:tolerance=0.01", "zfp:tolerance=0.001"}},
      {"q8zstd", {"q8zstd:level=19"}},
      {"fp16", {"fp16"}},
  };
  int compared = 0;
  for (const auto& map : bench::synthetic_feature_maps()) {
    if (map.name.find("relu") == std::string::npos) continue;  // post-ReLU maps only
    for (const char* disc_spec : {"disc", "disc:bits=3,clip=4", "disc:bits=6,clip=8"}) {
      const Measured disc = measure(map.tensor, disc_spec);
      for (const auto& [name, settings] : baselines) {
        size_t best = std::numeric_limits<size_t>::max();
        for (const std::string& s : settings) {
          const Measured m = measure(map.tensor, s);
          if (m.error <= disc.error) best = std::min(best, m.bytes);
        }
        if (best == std::numeric_limits<size_t>::max()) continue;  // no setting is as accurate
        ++compared;
        EXPECT_LT(disc.bytes, best) << map.name << ": " << disc_spec << " (" << disc.bytes << " B, rel. MSE "
                                    << disc.error << ") vs best " << name << " at no more error (" << best
                                    << " B)";
      }
    }
  }
  EXPECT_GE(compared, 12);  // the comparison really happened
}

}  // namespace
}  // namespace disc
