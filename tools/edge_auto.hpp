// `disc edge --auto`: the AGLOP online mode's report (per request and summary).
#pragma once

#include <string>
#include <vector>

#include "disc/adaptive_edge.hpp"
#include "disc/timing.hpp"

namespace disc::cli {

struct ImageJob {
  std::string path;
  int label = -1;  // -1: unknown
};

struct AutoSettings {
  std::string profile;
  std::string table;
  std::string initial_bandwidth = "10Mbit";
  double rtt_ms = -1;  // < 0: estimate from Describe round trips
  AdaptiveEdgeOptions options;
  bool json = false;
};

// Runs every job through an AdaptiveEdge and prints the report; `local` (may be null)
// gives the local full model's answer for the agreement check. `clock` started with the
// command, so request times line up with a link schedule.
int run_edge_auto(AutoSettings settings, const ModelEntry& model, std::vector<std::string> class_names,
                  const std::vector<ImageJob>& jobs, EdgeClient& client, EdgePipeline* local, const Stopwatch& clock);

}  // namespace disc::cli
