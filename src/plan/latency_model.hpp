// Internal: the candidate plans of one (profile, table, machines) and their latency
// model, T = head + encode + bytes * 8 / bandwidth + rtt + decode + tail (doc/PLANNER.md).
#pragma once

#include <vector>

#include "disc/plan.hpp"

namespace disc::plan_internal {

// One candidate with everything that does not depend on the link precomputed.
struct Candidate {
  Plan plan;  // latency.transfer_ms and latency.rtt_ms are 0 until predict()
  double compute_ms = 0;  // plan.latency.total_ms(): every stage but transfer and rtt
  bool uses_link = false;
  size_t order = 0;  // server-only 0, the profile's cuts 1..n, edge-only n + 1
};

// Size of a "raw" DISC stream of `cut` (doc/FORMAT.md): header, fp32 payload, CRC-32.
double raw_stream_bytes(const ProfiledCut& cut);

// Every candidate, sorted by (top-1 loss, bytes, order, codec): the planner's tie-break
// order. Fails if the inputs disagree (model names, cuts) or `machines` is invalid.
Result<std::vector<Candidate>> enumerate_candidates(const Profile& profile, const RateTable& table,
                                                    const Machines& machines);

// Milliseconds to send `bytes` at `bandwidth_bps` (> 0, possibly +inf).
inline double transfer_ms(double bytes, double bandwidth_bps) { return bytes * 8.0 / bandwidth_bps * 1e3; }

}  // namespace disc::plan_internal
