// Random profiles and rate tables shaped like real ones, for planner tests and benchmarks.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include "disc/plan.hpp"

namespace disc::testing {

struct SyntheticOptions {
  size_t cuts = 30;
  size_t settings_per_cut = 60;  // table rows per cut
  // Dyadic values only (times multiples of 1/4 ms, bytes multiples of 128): with a
  // power-of-two bandwidth every predicted total is exact, so ties really happen.
  bool dyadic = false;
  bool measured_raw = false;  // the table also has a "raw" row at every cut
};

struct SyntheticInputs {
  Profile profile;
  RateTable table;
};

inline SyntheticInputs make_synthetic_inputs(uint32_t seed, const SyntheticOptions& options = {}) {
  std::mt19937 rng(seed);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  auto ms = [&](double lo, double hi) {
    const double v = uniform(lo, hi);
    return options.dyadic ? std::round(v * 4) / 4 : v;
  };
  auto bytes = [&](double lo, double hi) {
    const double v = uniform(lo, hi);
    return options.dyadic ? std::max(128.0, std::round(v / 128) * 128) : v;
  };

  SyntheticInputs in;
  Profile& p = in.profile;
  p.model = "synthetic";
  p.input_name = "input";
  p.input_shape = {1, 3, 224, 224};
  p.input_fp32_bytes = 4 * 3 * 224 * 224;
  p.upload_bytes = bytes(5e3, 40e3);
  p.full_ms = ms(10, 60);
  for (size_t c = 0; c < options.cuts; ++c) {
    ProfiledCut cut;
    cut.tensor = "t" + std::to_string(c);
    cut.node = "n" + std::to_string(c);
    cut.op_type = "Relu";
    cut.position = 3 * c + 1;
    const int64_t channels = 16 << (c * 4 / std::max<size_t>(options.cuts, 1));
    const int64_t side = 112 >> (c * 4 / std::max<size_t>(options.cuts, 1));
    cut.shape = {1, channels, side, side};
    cut.elements = static_cast<size_t>(channels * side * side);
    cut.fp32_bytes = 4 * cut.elements;
    cut.head_ms = ms(0, p.full_ms);
    cut.tail_ms = ms(0, p.full_ms);
    p.cuts.push_back(cut);

    if (options.measured_raw)
      in.table.rows.push_back({cut.tensor, "raw", static_cast<double>(cut.fp32_bytes + 32), 0.0, ms(0, 0.5),
                               ms(0, 0.5)});
    for (size_t s = 0; s < options.settings_per_cut; ++s) {
      RateRow row;
      row.cut = cut.tensor;
      row.codec = "disc:bits=" + std::to_string(1 + s % 8) + ",prune=0." + std::to_string(s / 8);
      row.mean_bytes = bytes(200, static_cast<double>(cut.fp32_bytes) / 4);
      row.top1_loss_pp = options.dyadic ? ms(-0.5, 3) : uniform(-0.5, 3);
      row.encode_ms = ms(0, 2);
      row.decode_ms = ms(0, 2);
      in.table.rows.push_back(row);
    }
  }
  in.table.model = p.model;
  return in;
}

}  // namespace disc::testing
