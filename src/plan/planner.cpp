#include <algorithm>
#include <cmath>

#include "core/error_codes.hpp"
#include "plan/input_checks.hpp"
#include "plan/latency_model.hpp"

namespace disc {

using plan_internal::Candidate;

const char* plan_kind_name(Plan::Kind kind) {
  switch (kind) {
    case Plan::Kind::kEdgeOnly:
      return "edge-only";
    case Plan::Kind::kServerOnly:
      return "server-only";
    case Plan::Kind::kSplit:
      break;
  }
  return "split";
}

std::string Plan::label() const { return kind == Kind::kSplit ? cut + " " + codec : plan_kind_name(kind); }

Result<Planner> Planner::create(const Profile& profile, const RateTable& table, const Machines& machines) {
  // Parsed inputs pass these; inputs built in memory may not.
  constexpr ErrorCode kInvalid = ErrorCode::kInvalidArgument;
  DISC_RETURN_IF_ERROR(classified(plan_internal::check_profile(profile, "profile"), kInvalid));
  if (machines.server)
    DISC_RETURN_IF_ERROR(classified(plan_internal::check_profile(*machines.server, "server profile"), kInvalid));
  DISC_RETURN_IF_ERROR(classified(plan_internal::check_rate_table(table), kInvalid));
  DISC_ASSIGN_OR_RETURN(std::vector<Candidate> candidates,
                        classified(plan_internal::enumerate_candidates(profile, table, machines), kInvalid));
  return Planner(std::make_shared<const Candidates>(std::move(candidates)));
}

size_t Planner::candidate_count() const { return candidates_->size(); }

Result<PlanResult> Planner::plan(const PlanQuery& query) const {
  const double bandwidth = query.link.bandwidth_bps;
  if (std::isnan(bandwidth) || bandwidth < 0)
    return Error("bandwidth must be >= 0 bits/s", ErrorCode::kInvalidArgument);
  if (!std::isfinite(query.link.rtt_ms) || query.link.rtt_ms < 0)
    return Error("RTT must be a finite number >= 0", ErrorCode::kInvalidArgument);
  if (!std::isfinite(query.link.burst_bytes) || query.link.burst_bytes < 0)
    return Error("link burst must be a finite number of bytes >= 0", ErrorCode::kInvalidArgument);
  const ComputeScale scale = query.scale;
  if (!(std::isfinite(scale.edge) && scale.edge > 0 && std::isfinite(scale.server) && scale.server > 0))
    return Error("compute scales must be finite numbers > 0", ErrorCode::kInvalidArgument);
  if (std::isnan(query.top1_budget_pp) || query.top1_budget_pp < 0)
    return Error("top-1 loss budget must be >= 0 percentage points", ErrorCode::kInvalidArgument);

  // Candidates are sorted by loss first, so the feasible ones are a prefix.
  const Candidates& all = *candidates_;
  const auto feasible_end =
      std::upper_bound(all.begin(), all.end(), query.top1_budget_pp,
                       [](double budget, const Candidate& c) { return budget < c.plan.top1_loss_pp; });
  struct Scored {
    double total_ms;
    size_t index;  // into `all`: smaller wins ties
  };
  std::vector<Scored> scored;
  scored.reserve(static_cast<size_t>(feasible_end - all.begin()));
  for (auto it = all.begin(); it != feasible_end; ++it) {
    const double compute_ms = it->edge_ms * scale.edge + it->server_ms * scale.server;
    if (!it->uses_link) {
      scored.push_back({compute_ms, static_cast<size_t>(it - all.begin())});
    } else if (bandwidth > 0) {
      const double link_ms = plan_internal::transfer_ms(it->plan.bytes, query.link) + query.link.rtt_ms;
      scored.push_back({compute_ms + link_ms, static_cast<size_t>(it - all.begin())});
    }
  }
  // Never empty: edge-only has loss 0 <= budget and needs no link.
  const size_t kept = std::min(scored.size() - 1, query.alternatives) + 1;
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(kept), scored.end(),
                    [](const Scored& a, const Scored& b) {
                      return a.total_ms < b.total_ms || (a.total_ms == b.total_ms && a.index < b.index);
                    });

  auto to_plan = [&](const Scored& s) {
    const Candidate& c = all[s.index];
    Plan p = c.plan;
    LatencyBreakdown& l = p.latency;
    l.head_ms *= scale.edge;
    l.encode_ms *= scale.edge;
    l.decode_ms *= scale.server;
    l.tail_ms *= scale.server;
    if (c.uses_link) {
      l.transfer_ms = plan_internal::transfer_ms(c.plan.bytes, query.link);
      l.rtt_ms = query.link.rtt_ms;
    }
    return p;
  };
  PlanResult result{to_plan(scored.front()), {}};
  for (size_t i = 1; i < kept; ++i) result.alternatives.push_back(to_plan(scored[i]));
  return result;
}

}  // namespace disc
