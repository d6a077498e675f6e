// AGLOP planning: choose where to split a model and how to compress the cut so that the
// predicted end-to-end latency is minimal while the top-1 accuracy loss stays within a
// budget. Pure computation over measured inputs (doc/PLANNER.md): a timing profile from
// `disc profile` and a rate-accuracy table from `disc eval`.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "disc/loss_basis.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

// ---- Inputs -----------------------------------------------------------------------------

// One cut as profiled: times of the head (input -> cut) and tail (cut -> output) halves.
struct ProfiledCut {
  std::string tensor;
  std::string node;
  std::string op_type;
  size_t position = 0;
  Shape shape;
  size_t elements = 0;
  size_t fp32_bytes = 0;  // == 4 * elements
  double head_ms = 0;
  double tail_ms = 0;
};

// `disc profile` output, validated: times finite and >= 0, shapes consistent with their
// element and byte counts, cut tensors unique. Cuts are sorted by position.
struct Profile {
  std::string model;
  std::string input_name;
  Shape input_shape;
  size_t input_fp32_bytes = 0;
  double upload_bytes = 0;  // mean size of the encoded image a server-only plan uploads
  double full_ms = 0;       // whole model
  std::vector<ProfiledCut> cuts;

  const ProfiledCut* find_cut(std::string_view tensor) const;
};

// One measured (cut, codec setting) of `disc eval`. `mean_bytes` is the whole stream.
struct RateRow {
  std::string cut;
  std::string codec;  // CodecSpec text as CodecSpec::to_string() prints the table's, e.g. "disc:bits=4,prune=0.1"
                      // (`disc eval` writes every parameter: Codec::spec())
  double mean_bytes = 0;
  // Percentage points, on the basis the table was read with: measured against labels (may be
  // negative: noise), or the label-free estimate plus one standard error.
  double top1_loss_pp = 0;
  double encode_ms = 0;
  double decode_ms = 0;
};

// `disc eval` output, validated: bytes > 0, times >= 0, all finite, no duplicate
// (cut, codec). Fields the planner does not use are ignored.
struct RateTable {
  std::string model;
  std::vector<RateRow> rows;
};

// Errors: read_file's for a file, kInvalidArgument for its content (as for the parsers below).
Result<Profile> parse_profile(std::string_view json);
Result<Profile> load_profile(const std::string& path);
// `basis` picks each row's loss: "top1_loss_pp", or "estimated_loss_pp" + "estimated_loss_se_pp"
// (>= 0). A table marked "labelled": false (`disc eval` on a folder of images without labels)
// has no measured loss and is refused on LossBasis::kLabels.
Result<RateTable> parse_rate_table(std::string_view json, LossBasis basis = LossBasis::kLabels);
Result<RateTable> load_rate_table(const std::string& path, LossBasis basis = LossBasis::kLabels);

// Human units. Bandwidth: "5Mbit", "500kbit", "1.5Gbit", "64kbit/s", "10MB/s" (SI prefixes,
// B = 8 bits, optional "/s"; "bps" is refused as ambiguous), returned in bits/s. Duration: "20ms", "0.5s", "300us",
// returned in milliseconds. A unit is required; negative or non-finite values are errors, as
// are bandwidths between 0 (no link) and 1 bit/s or above 10 Tbit/s, and durations above an
// hour: no link is that slow or fast, and a typo should not fill a plan's table with 300 digits.
Result<double> parse_bandwidth(std::string_view text);
Result<double> parse_duration_ms(std::string_view text);

// ---- Plans ------------------------------------------------------------------------------

// Predicted time of each stage, in milliseconds. Edge-only plans put the whole model in
// `head_ms`; server-only plans put it in `tail_ms` and the upload in `transfer_ms`.
struct LatencyBreakdown {
  double head_ms = 0;
  double encode_ms = 0;
  double transfer_ms = 0;
  double rtt_ms = 0;
  double decode_ms = 0;
  double tail_ms = 0;
  double total_ms() const { return head_ms + encode_ms + transfer_ms + rtt_ms + decode_ms + tail_ms; }
};

struct Plan {
  enum class Kind { kEdgeOnly, kServerOnly, kSplit };
  Kind kind = Kind::kEdgeOnly;
  std::string cut;    // kSplit only
  std::string codec;  // kSplit only; "raw" for plain partition offloading
  double bytes = 0;   // the request message sent over the link (0 for edge-only; doc/PLANNER.md)
  double top1_loss_pp = 0;
  LatencyBreakdown latency;

  // "edge-only", "server-only" or "CUT codec".
  std::string label() const;
};

// "edge-only", "server-only", "split"
const char* plan_kind_name(Plan::Kind kind);

struct PlanResult {
  Plan best;
  std::vector<Plan> alternatives;  // next best distinct plans, best first
};

// Where the two halves run. Edge times are the profile's divided by `edge_speed`
// (0.25 = an edge 4x slower than the profiling machine); server times come from
// `server` when given, else from the profile.
struct Machines {
  double edge_speed = 1.0;
  const Profile* server = nullptr;
};

struct Link {
  double bandwidth_bps = 0;  // uplink; 0 = no link (only edge-only is feasible); +inf allowed
  double rtt_ms = 0;         // added once to every plan that uses the link
  // Bytes a request gets through at line rate before the rate applies: the depth of the
  // link's token bucket (a shaper's burst), refilled between requests. A transfer of B
  // bytes takes max(0, B - burst_bytes) * 8 / bandwidth_bps + rtt_ms.
  double burst_bytes = 0;
};

// Measured / predicted compute time, learned online: the edge stages (head, encode) and
// the server stages (decode, tail) of every plan are multiplied by these. 1 = as profiled.
struct ComputeScale {
  double edge = 1;
  double server = 1;
};

struct PlanQuery {
  Link link;
  double top1_budget_pp = 1.0;  // >= 0; rows losing more are infeasible
  size_t alternatives = 5;  // how many next best plans to return
  ComputeScale scale;       // finite, > 0
};

namespace plan_internal {
struct Candidate;  // src/plan/latency_model.hpp
}

// The candidate space of one (profile, table, machines): edge-only, server-only, raw at
// every profiled cut (unless the table measured "raw" there) and every table row.
// Immutable after creation (copies share it); plan() is thread-safe, O(rows + rows log k)
// for k alternatives. Errors: model names or cuts that disagree, edge_speed not > 0, and a
// profile or table built in memory that breaks what parsing checks (values out of range,
// inconsistent shapes, duplicates, a setting this build cannot encode).
//
// plan() returns the feasible plan of minimal predicted total. Equal totals are broken by
// lower top-1 loss, then fewer bytes, then earlier position (server-only < cuts in
// profile order < edge-only), then codec text. Edge-only (loss 0, no link) is always
// feasible, so a plan always exists. Errors (kInvalidArgument, as are create()'s for inputs
// that fail the checks parsing applies): negative or NaN bandwidth, RTT or burst not finite
// and >= 0, budget negative or NaN, compute scales not finite and > 0.
class Planner {
 public:
  static Result<Planner> create(const Profile& profile, const RateTable& table, const Machines& machines = {});

  Result<PlanResult> plan(const PlanQuery& query) const;
  size_t candidate_count() const;

 private:
  using Candidates = std::vector<plan_internal::Candidate>;
  explicit Planner(std::shared_ptr<const Candidates> candidates) : candidates_(std::move(candidates)) {}

  std::shared_ptr<const Candidates> candidates_;
};

// ---- Online bandwidth estimation --------------------------------------------------------

// Estimates uplink bandwidth from completed transfers. Each sample's throughput
// (8 * bytes / seconds) passes a median filter over the last `window` samples (lower
// middle for even counts) so that one outlier cannot move the estimate, then an EWMA:
// estimate += alpha * (filtered - estimate). `initial_bps` is only a prior: the first
// sample replaces it (smoothing a measurement towards a guess would only delay it).
// Feed pure transfer time (no round trip), else small transfers understate the link.
struct BandwidthEstimatorOptions {
  double initial_bps = 10e6;
  double alpha = 0.4;  // (0, 1]; higher follows changes faster
  size_t window = 3;   // 1..16; 1 disables the filter
};

// Not thread-safe: feed it from one thread. Invalid options and samples are kInvalidArgument.
class BandwidthEstimator {
 public:
  static Result<BandwidthEstimator> create(const BandwidthEstimatorOptions& options = {});

  // Rejects non-positive or non-finite bytes and seconds, leaving the estimate unchanged.
  Status add_sample(double bytes, double seconds);
  double estimate_bps() const { return estimate_bps_; }
  size_t sample_count() const { return sample_count_; }

 private:
  explicit BandwidthEstimator(const BandwidthEstimatorOptions& options)
      : options_(options), estimate_bps_(options.initial_bps) {}

  BandwidthEstimatorOptions options_;
  double estimate_bps_;
  std::vector<double> recent_bps_;  // ring of the last `window` throughputs
  size_t sample_count_ = 0;
};

}  // namespace disc
