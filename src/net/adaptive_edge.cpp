#include "disc/adaptive_edge.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "disc/timing.hpp"

namespace disc {

struct AdaptiveEdge::Impl {
  ModelEntry model;
  std::vector<std::string> class_names;
  EdgeClient* client = nullptr;
  AdaptiveEdgeOptions options;
  std::optional<Planner> planner;
  std::optional<BandwidthEstimator> estimator;
  double rtt_ms = 0;
  bool rtt_known = false;  // false while create() could not reach the server; plans use 0 ms
  std::optional<Error> start_failure;  // why create() could not
  ComputeScale scale;
  size_t requests_since_sample = 0;
  size_t probe_interval = 0;  // requests without a sample before the next probe
  bool link_down = false;     // a remote plan failed; plan edge-only until the next probe
  struct CachedPipeline {
    std::unique_ptr<EdgePipeline> pipeline;
    bool warm = false;  // its untimed first run succeeded (or warm_new_plans is off)
  };
  std::map<std::string, CachedPipeline> pipelines;  // by Plan::label()

  // Sets rtt_ms to the median Describe round trip.
  Status measure_rtt() {
    std::vector<double> round_trips;
    for (int i = 0; i < options.rtt_pings; ++i) {
      const Stopwatch watch;
      DISC_RETURN_IF_ERROR(client->describe());
      round_trips.push_back(1e3 * watch.seconds());
    }
    rtt_ms = quantile(round_trips, 0.5);
    rtt_known = true;
    return Status();
  }

  // A failure that local_fallback answers edge-only: the server is gone, busy or too slow.
  bool link_failure(const Error& error) const {
    return options.local_fallback &&
           (error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kDeadlineExceeded);
  }

  // The planner's best plan, or, when a probe is due and the best plan sends too few bytes
  // to measure the link, the best plan that sends enough (if any). While the link is down,
  // edge-only until a probe is due.
  Result<std::pair<Plan, bool>> choose() const {
    const bool probe_due = options.probe_every > 0 && requests_since_sample >= probe_interval;
    if (link_down && options.probe_every > 0 && !probe_due) {
      DISC_ASSIGN_OR_RETURN(Plan local, edge_only_plan());
      return std::make_pair(local, false);
    }
    const Link link{estimator->estimate_bps(), rtt_ms, options.burst_bytes};
    const size_t alternatives = probe_due ? planner->candidate_count() : 0;
    DISC_ASSIGN_OR_RETURN(PlanResult ranked, planner->plan({link, options.top1_budget_pp, alternatives, scale}));
    const auto measurable = [&](const Plan& p) { return p.kind != Plan::Kind::kEdgeOnly && samples_link(p.bytes); };
    if (!probe_due || measurable(ranked.best)) return std::make_pair(ranked.best, false);
    for (const Plan& p : ranked.alternatives)
      if (measurable(p)) return std::make_pair(p, true);
    return std::make_pair(ranked.best, false);
  }

  // With no link the planner's only feasible plan is edge-only (doc/PLANNER.md).
  Result<Plan> edge_only_plan() const {
    DISC_ASSIGN_OR_RETURN(PlanResult ranked,
                          planner->plan({Link{0, rtt_ms, options.burst_bytes}, options.top1_budget_pp, 0, scale}));
    return ranked.best;
  }

  // Whether `error` of running `plan` is a link failure that local_fallback answers edge-only.
  bool falls_back(const Plan& plan, const Error& error) const {
    return plan.kind != Plan::Kind::kEdgeOnly && link_failure(error);
  }

  // Runs `plan` on `image_path`, building (and warming) its pipeline on first use.
  Result<EdgeResult> run_plan(const Plan& plan, const std::string& image_path) {
    DISC_ASSIGN_OR_RETURN(EdgePipeline * pipeline, pipeline_for(plan, image_path));
    return pipeline->run(image_path);
  }

  // The plan's pipeline, built on first use and kept; warmed (one untimed run) until a warm-up
  // succeeds, so that a link failure during the warm-up costs no rebuild.
  Result<EdgePipeline*> pipeline_for(const Plan& plan, const std::string& warm_image) {
    CachedPipeline& slot = pipelines[plan.label()];
    if (!slot.pipeline) {
      EdgeConfig config;
      config.top_k = options.top_k;
      config.mode = plan.kind == Plan::Kind::kSplit      ? EdgeMode::kSplit
                    : plan.kind == Plan::Kind::kEdgeOnly ? EdgeMode::kEdgeOnly
                                                         : EdgeMode::kServerOnly;
      config.cut = plan.cut;
      config.codec = plan.codec;
      config.encode_threads = options.encode_threads;
      auto made = EdgePipeline::create(model, class_names, config, client);
      if (!made.ok()) {
        pipelines.erase(plan.label());
        return made.error().with_context(plan.label());
      }
      slot.pipeline = std::move(made).value();
      slot.warm = !options.warm_new_plans;
    }
    if (!slot.warm) {
      if (auto warm = slot.pipeline->run(warm_image); !warm.ok())
        return warm.error().with_context("warming " + plan.label());
      slot.warm = true;
    }
    return slot.pipeline.get();
  }

  // Whether a request of `bytes` measures the link: large enough, and beyond the burst.
  bool samples_link(double bytes) const {
    return bytes >= static_cast<double>(options.min_sample_bytes) && bytes > options.burst_bytes;
  }

  // Feeds the rate-limited part of the transfer (bytes beyond the burst, transfer - RTT) to
  // the estimator when the request was large enough to measure the link. Returns whether
  // it did. A transfer no slower than the RTT only bounds the link from below; its
  // proportional part is floored at kMinProportionalShare of the transfer, so it raises
  // the estimate without claiming an infinite link.
  bool observe_link(const Plan& plan, const EdgeResult& result) {
    constexpr double kMinProportionalShare = 0.1;
    const auto bytes = static_cast<double>(result.bytes_sent);
    if (plan.kind == Plan::Kind::kEdgeOnly || !samples_link(bytes)) return false;
    const double transfer =
        options.transfer_seconds ? options.transfer_seconds(result) : result.timing.transfer;
    const double proportional = std::max(transfer - rtt_ms / 1e3, kMinProportionalShare * transfer);
    return estimator->add_sample(bytes - options.burst_bytes, proportional).ok();
  }

  // A plan that ran out of time moved fewer than its bytes in that time: feeds that bound to
  // the estimator (as observe_link), so that the next plans send less. Returns whether it did.
  bool observe_timeout(const RemoteFailure& failure) {
    const double bytes = failure.plan.bytes;
    if (failure.error.code() != ErrorCode::kDeadlineExceeded || !samples_link(bytes)) return false;
    const double proportional = std::max(failure.seconds - rtt_ms / 1e3, 0.1 * failure.seconds);
    return estimator->add_sample(bytes - options.burst_bytes, proportional).ok();
  }

  // A probe that confirms the estimate makes probing rarer; one that corrects it restores
  // the configured interval.
  void adapt_probe_interval(double before_bps, double after_bps) {
    constexpr double kConfirmed = 0.25;
    constexpr size_t kMaxBackoff = 4;
    const bool confirmed = std::abs(after_bps - before_bps) <= kConfirmed * before_bps;
    probe_interval =
        confirmed ? std::min(2 * probe_interval, kMaxBackoff * options.probe_every) : options.probe_every;
  }

  // Moves each compute scale towards this request's measured / predicted-at-scale-1 time of
  // that side (`used` is the scale the plan's prediction was made with). Sides the profile
  // timed below kMinProfiledMs are skipped: their measured time is mostly fixed per-request
  // cost (a 3 us tail measured 0.3 ms on the server and drove the scale to 27 in 9 requests).
  // The profile's own time, not the prediction: an --edge-speed set far too high predicts
  // microseconds for the milliseconds a profiled head takes, which is what the scale corrects.
  void observe_compute(const Plan& plan, const ComputeScale& used, const EdgeTiming& measured) {
    constexpr double kMaxScaleStep = 4;
    constexpr double kMinProfiledMs = 1;
    const auto update = [&](double& scale, double predicted_ms, double used_scale, double speed,
                            double measured_seconds) {
      const double profiled_ms = predicted_ms / used_scale;
      if (!(profiled_ms * speed >= kMinProfiledMs) || !(measured_seconds > 0)) return;
      const double ratio = std::clamp(1e3 * measured_seconds / profiled_ms, scale / kMaxScaleStep, scale * kMaxScaleStep);
      scale += options.compute_alpha * (ratio - scale);
    };
    const LatencyBreakdown& l = plan.latency;
    update(scale.edge, l.head_ms + l.encode_ms, used.edge, options.edge_speed, measured.head + measured.encode);
    update(scale.server, l.decode_ms + l.tail_ms, used.server, 1, measured.server_decode + measured.tail);
  }
};

Result<std::unique_ptr<AdaptiveEdge>> AdaptiveEdge::create(const ModelEntry& model,
                                                           std::vector<std::string> class_names,
                                                           const Profile& profile, const RateTable& table,
                                                           EdgeClient* client, AdaptiveEdgeOptions options) {
  if (!client) return Error("the online mode needs a server");
  if (profile.model != model.name)
    return Error("profile is for model '" + profile.model + "', not '" + model.name + "'");
  if (options.rtt_ms && !(std::isfinite(*options.rtt_ms) && *options.rtt_ms >= 0))
    return Error("RTT must be a finite number of milliseconds >= 0");
  if (!options.rtt_ms && options.rtt_pings < 1) return Error("RTT estimation needs at least one ping");
  if (options.top_k < 1) return Error("top_k must be at least 1");
  if (!(std::isfinite(options.burst_bytes) && options.burst_bytes >= 0))
    return Error("link burst must be a finite number of bytes >= 0");
  if (!(options.compute_alpha >= 0 && options.compute_alpha <= 1)) return Error("compute alpha must be in [0, 1]");

  auto impl = std::make_unique<Impl>();
  impl->model = model;
  impl->class_names = std::move(class_names);
  impl->client = client;
  DISC_ASSIGN_OR_RETURN(Planner planner, Planner::create(profile, table, {options.edge_speed, nullptr}));
  impl->planner = std::move(planner);
  DISC_ASSIGN_OR_RETURN(BandwidthEstimator estimator, BandwidthEstimator::create(options.estimator));
  impl->estimator = std::move(estimator);
  impl->options = std::move(options);
  impl->probe_interval = impl->options.probe_every;
  impl->requests_since_sample = impl->probe_interval;  // the first request measures the link
  // Validates the budget once, so that run() fails only on the request itself.
  DISC_RETURN_IF_ERROR(impl->planner->plan({{impl->estimator->estimate_bps(), 0}, impl->options.top1_budget_pp, 0, {}}));
  if (impl->options.rtt_ms) {
    impl->rtt_ms = *impl->options.rtt_ms;
    impl->rtt_known = true;
  } else if (Status measured = impl->measure_rtt(); !measured.ok()) {
    if (!impl->link_failure(measured.error())) return measured.error().with_context("estimating the RTT");
    // A server that cannot be reached now: edge-only until the first probe, as after a
    // remote plan's failure; the RTT is measured before the first remote plan runs.
    impl->link_down = true;
    impl->requests_since_sample = 0;
    impl->start_failure = measured.error();
  }
  return std::unique_ptr<AdaptiveEdge>(new AdaptiveEdge(std::move(impl)));
}

AdaptiveEdge::AdaptiveEdge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdaptiveEdge::~AdaptiveEdge() = default;

Result<AdaptiveStep> AdaptiveEdge::run(const std::string& image_path) {
  Impl& s = *impl_;
  AdaptiveStep step;
  step.bandwidth_bps = s.estimator->estimate_bps();
  step.rtt_ms = s.rtt_ms;
  step.scale = s.scale;
  DISC_ASSIGN_OR_RETURN(std::tie(step.plan, step.probe), s.choose());
  Stopwatch attempt;
  // The first remote plan after a create() that could not reach the server measures the RTT
  // first, and is chosen again with it; the server answered, so the link is up again. The
  // pings count in the request's total, not in the attempt's time, which bounds the link.
  Status reached;
  double pings_seconds = 0;
  if (!s.rtt_known && step.plan.kind != Plan::Kind::kEdgeOnly) {
    reached = s.measure_rtt();
    if (reached.ok()) {
      step.rtt_ms = s.rtt_ms;
      s.link_down = false;
      DISC_ASSIGN_OR_RETURN(std::tie(step.plan, step.probe), s.choose());
      pings_seconds = attempt.seconds();
      attempt.restart();
    }
  }
  Result<EdgeResult> result = reached.ok() ? s.run_plan(step.plan, image_path) : Result<EdgeResult>(reached.error());
  if (!result.ok() && s.falls_back(step.plan, result.error())) {
    step.fallback_from = RemoteFailure{step.plan, result.error(), attempt.seconds()};
    step.sampled = reached.ok() && s.observe_timeout(*step.fallback_from);
    DISC_ASSIGN_OR_RETURN(step.plan, s.edge_only_plan());
    s.link_down = true;
    s.requests_since_sample = 1;  // this one: the next probe after probe_every requests in all
    s.probe_interval = s.options.probe_every;
    DISC_ASSIGN_OR_RETURN(step.result, s.run_plan(step.plan, image_path));
    step.result.timing.total += pings_seconds + step.fallback_from->seconds;
    step.bandwidth_after_bps = s.estimator->estimate_bps();
    return step;
  }
  if (!result.ok()) return result.error();
  step.result = std::move(result).value();
  step.result.timing.total += pings_seconds;
  if (step.plan.kind != Plan::Kind::kEdgeOnly) s.link_down = false;
  step.sampled = s.observe_link(step.plan, step.result);
  s.observe_compute(step.plan, step.scale, step.result.timing);
  s.requests_since_sample = step.sampled ? 0 : s.requests_since_sample + 1;
  step.bandwidth_after_bps = s.estimator->estimate_bps();
  if (step.probe && step.sampled) s.adapt_probe_interval(step.bandwidth_bps, step.bandwidth_after_bps);
  return step;
}

double AdaptiveEdge::rtt_ms() const { return impl_->rtt_ms; }
bool AdaptiveEdge::rtt_measured() const { return impl_->rtt_known; }
const std::optional<Error>& AdaptiveEdge::start_failure() const { return impl_->start_failure; }
double AdaptiveEdge::bandwidth_estimate_bps() const { return impl_->estimator->estimate_bps(); }
ComputeScale AdaptiveEdge::compute_scale() const { return impl_->scale; }
size_t AdaptiveEdge::cached_pipelines() const { return impl_->pipelines.size(); }

}  // namespace disc
