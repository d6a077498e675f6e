// `disc edge --compare PLANS`: several plans measured in one process, interleaved per
// image in a shuffled order, so that every plan sees the same process and host state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "disc/edge.hpp"
#include "disc/status.hpp"
#include "disc/timing.hpp"
#include "edge_auto.hpp"
#include "edge_report.hpp"

namespace disc::cli {

// One plan of a comparison, as parsed from its spec.
struct ComparedPlan {
  std::string spec;    // as given
  std::string label;   // as Plan::label() writes it ("edge-only", "server-only", "CUT CODEC"; with
                       // " chunks=N" when N > 1), or "auto"
  bool adaptive = false;  // AGLOP (`auto`)
  EdgeConfig config;      // fixed plans
};

// Parses a `;`-separated list of plans: `edge-only`, `server-only`, `auto` (AGLOP) or
// `cut=TENSOR[,chunks=N][,codec=SPEC]` (a split; codec= comes last and takes the rest of
// the item, commas included; a split without codec= or chunks= uses `defaults`' codec and
// chunks). Codec specs are normalized as CodecSpec prints them. Errors: an empty list or
// item, an unknown word or key, a split without cut=, a bad chunk count or codec spec, and
// two items that are the same plan (the same label, or splits whose codecs are the same
// setting with defaults filled in).
Result<std::vector<ComparedPlan>> parse_compared_plans(std::string_view text, const EdgeConfig& defaults);

struct CompareSettings {
  std::vector<ComparedPlan> plans;
  uint64_t seed = 1;
  int warmup = 1;  // untimed runs of the first image per fixed plan (auto: per new plan)
  bool json = false;
  AutoSettings auto_settings;  // for `auto`
};

// For every job, runs every plan once, in an order shuffled per job (deterministic given
// the seed), and prints one report per plan (the single-plan document, its records tagged)
// and, in text mode, a table of the plans' medians and p95. `client` may be null when every
// plan is edge-only; `local` (may be null) gives the --check-local answers.
int run_edge_compare(const CompareSettings& settings, const ModelEntry& model,
                     const std::vector<std::string>& class_names, const std::vector<ImageJob>& jobs,
                     EdgeClient* client, EdgePipeline* local, const Stopwatch& clock);

}  // namespace disc::cli
