// AGLOP online mode: an edge device that re-plans every request. It estimates the uplink
// from its own transfers, asks the Planner for the plan of least predicted latency within
// the accuracy budget, and runs it (split at any cut with any codec setting, edge-only or
// server-only), building each plan's pipeline on first use and keeping it.
// doc/PLANNER.md "Online mode" explains the bandwidth sampling and probing rules.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "disc/assets.hpp"
#include "disc/edge.hpp"
#include "disc/edge_client.hpp"
#include "disc/plan.hpp"
#include "disc/status.hpp"

namespace disc {

struct AdaptiveEdgeOptions {
  double top1_budget_pp = 1.0;
  double edge_speed = 1.0;            // as Machines::edge_speed
  std::optional<double> rtt_ms;       // fixed part of every transfer; unset: median Describe round trip
  int rtt_pings = 5;                  // Describe calls when estimating the RTT
  double burst_bytes = 0;             // as Link::burst_bytes (a shaper's bucket depth), if known
  BandwidthEstimatorOptions estimator;
  // Weight of each request's measured / profiled compute time (per side) in the running
  // ComputeScale estimates (EWMA); 0 keeps the profile's times. A request's ratio is
  // clamped to within 4x of the current estimate, so one stalled request cannot swing it;
  // a side profiled below 1 ms (fixed costs dominate it) does not feed its scale.
  double compute_alpha = 0.3;
  // A transfer feeds the estimator only if its request carried at least this many bytes:
  // smaller ones are dominated by the fixed cost and by the link's burst allowance.
  size_t min_sample_bytes = 8192;
  // After this many requests in a row without a bandwidth sample, the next request runs
  // the best plan that sends >= min_sample_bytes (a probe), so a stale estimate recovers.
  // The first request probes too unless its plan is measurable anyway. A probe that moves
  // the estimate by less than 25 % doubles the interval (up to 4x probe_every); one that
  // moves it more resets it. 0 disables probing.
  size_t probe_every = 8;
  bool warm_new_plans = true;  // one untimed run before a plan's first timed run
  // When a remote plan (split or server-only) fails with ErrorCode::kUnavailable or
  // kDeadlineExceeded, answer the request with the whole model on the edge instead of
  // failing it, and plan the following requests as if there were no link (edge-only) until
  // the next probe is due (probe_every; the interval starts afresh), which tries the link
  // again. With probe_every = 0 every request tries its plan, and a gone server costs each
  // request a failed call (the client's retries, or its deadline). false: such a failure is
  // the request's error. create() measures the RTT unless rtt_ms is given; a server it cannot
  // reach then starts the run edge-only (local_fallback) or fails create() (without).
  bool local_fallback = true;
  int top_k = 5;
  int encode_threads = 0;  // as EdgeConfig::encode_threads, for every plan's pipeline
  // Seconds one request spent on the link (round trip - server total by default). A seam:
  // tests script the link through it.
  std::function<double(const EdgeResult&)> transfer_seconds;
};

// A remote plan that failed before its request was answered edge-only, how it failed, and
// the seconds the attempt took (building or warming the plan's pipeline included).
struct RemoteFailure {
  Plan plan;
  Error error;
  double seconds = 0;
};

// One request: the plan that answered it (its latency breakdown is the prediction) and what
// it did.
struct AdaptiveStep {
  Plan plan;
  // Set when the planned remote plan failed and `plan` is the edge-only fallback
  // (AdaptiveEdgeOptions::local_fallback); `probe` and `bandwidth_bps` then describe the
  // failed plan's choice, and result.timing.total includes the failed attempt. A plan that
  // ran out of time (kDeadlineExceeded) feeds the estimator the bound it measured: its bytes
  // did not cross within that time (`sampled`).
  std::optional<RemoteFailure> fallback_from;
  bool probe = false;             // chosen to measure the link, not as the best plan
  double bandwidth_bps = 0;       // estimate the plan was chosen with
  double rtt_ms = 0;
  ComputeScale scale;             // compute scales the plan was chosen with
  EdgeResult result;              // measured; result.timing.total is the request's latency
  bool sampled = false;           // the transfer fed the estimator
  double bandwidth_after_bps = 0;  // estimate after this request
};

// Not thread-safe: one per thread.
class AdaptiveEdge {
 public:
  // `client` must outlive the object. Estimates the RTT (unless given) with Describe calls;
  // if they fail as a gone server does and local_fallback is on, the RTT is measured before
  // the first remote plan instead (rtt_ms() is 0 until then).
  // Errors: invalid options, profile/table that disagree with each other or the model.
  static Result<std::unique_ptr<AdaptiveEdge>> create(const ModelEntry& model, std::vector<std::string> class_names,
                                                      const Profile& profile, const RateTable& table,
                                                      EdgeClient* client, AdaptiveEdgeOptions options);
  ~AdaptiveEdge();

  Result<AdaptiveStep> run(const std::string& image_path);

  double rtt_ms() const;
  // Whether rtt_ms() was measured (or given): false while the server has not answered.
  bool rtt_measured() const;
  // Why create() could not reach the server, when it started edge-only (local_fallback).
  const std::optional<Error>& start_failure() const;
  double bandwidth_estimate_bps() const;
  ComputeScale compute_scale() const;
  size_t cached_pipelines() const;

 private:
  struct Impl;
  explicit AdaptiveEdge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace disc
