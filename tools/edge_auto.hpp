// `disc edge --auto`: the AGLOP online mode's requests and report (per request and summary).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "disc/adaptive_edge.hpp"
#include "disc/timing.hpp"
#include "edge_report.hpp"

namespace disc::cli {

struct AutoSettings {
  std::string profile;
  std::string table;
  LossBasis loss = LossBasis::kLabels;  // of the table's rows
  std::string initial_bandwidth = "10Mbit";
  double rtt_ms = -1;  // < 0: estimate from Describe round trips
  AdaptiveEdgeOptions options;
  bool json = false;
};

// One request of the online mode.
struct AutoRequest {
  ImageJob job;
  double start_seconds = 0;  // since the command started
  AdaptiveStep step;
  int local_top1 = -1;  // with --check-local
};

// The AdaptiveEdge that `settings` describe: loads the profile and the table, and measures
// the RTT unless it is given.
Result<std::unique_ptr<AdaptiveEdge>> make_adaptive_edge(AutoSettings settings, const ModelEntry& model,
                                                         std::vector<std::string> class_names, EdgeClient& client);

// Runs one job; its start time is read from `clock`, which started with the command.
Result<AutoRequest> run_auto_request(AdaptiveEdge& edge, const ImageJob& job, const Stopwatch& clock);

// How often each plan ran, by Plan::label().
std::map<std::string, size_t> plan_uses(const std::vector<AutoRequest>& requests);

// The report: the document `disc edge --auto --json` prints, and the table.
nlohmann::ordered_json auto_run_json(const std::string& model, const AutoSettings& settings, const AdaptiveEdge& edge,
                                     const std::vector<AutoRequest>& requests);
void print_auto_table(const std::vector<AutoRequest>& requests, const AdaptiveEdge& edge);

// Runs every job through an AdaptiveEdge and prints the report; `local` (may be null)
// gives the local full model's answer for the agreement check. `clock` started with the
// command, so request times line up with a link schedule.
int run_edge_auto(AutoSettings settings, const ModelEntry& model, std::vector<std::string> class_names,
                  const std::vector<ImageJob>& jobs, EdgeClient& client, EdgePipeline* local, const Stopwatch& clock);

}  // namespace disc::cli
