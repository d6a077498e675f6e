// Internal: the candidate plans of one (profile, table, machines) and their latency
// model, T = (head + encode) * edge scale + max(0, bytes - burst) * 8 / bandwidth + rtt
// + (decode + tail) * server scale (doc/PLANNER.md).
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "disc/plan.hpp"

namespace disc::plan_internal {

// One candidate with everything that does not depend on the link precomputed.
struct Candidate {
  Plan plan;  // as profiled (scale 1); latency.transfer_ms and latency.rtt_ms are 0
  double edge_ms = 0;    // plan.latency.head_ms + encode_ms
  double server_ms = 0;  // plan.latency.decode_ms + tail_ms
  bool uses_link = false;
  size_t order = 0;  // server-only 0, the profile's cuts 1..n, edge-only n + 1
};

// Size of a "raw" DISC stream of `cut` (doc/FORMAT.md): header, fp32 payload, CRC-32.
double raw_stream_bytes(const ProfiledCut& cut);

// Size of the message that carries `payload_bytes` to the server (proto/disc/v1/inference.proto):
// an InferRequest around a stream, or with `cut` empty an InferImageRequest around an image,
// i.e. the payload, the model and cut names, their protobuf tags and lengths, a top_k of 1..127
// and the model fingerprint (an edge that holds the model file sends one). This is what `disc
// edge` counts as bytes sent; gRPC's and HTTP/2's own framing is not counted.
double request_bytes(std::string_view model, std::string_view cut, double payload_bytes);

// Every candidate, sorted by (top-1 loss, bytes, order, codec): the planner's tie-break
// order. Fails if the inputs disagree (model names, cuts) or `machines` is invalid.
Result<std::vector<Candidate>> enumerate_candidates(const Profile& profile, const RateTable& table,
                                                    const Machines& machines);

// Milliseconds to send `bytes` over `link` (bandwidth > 0, possibly +inf), RTT excluded.
inline double transfer_ms(double bytes, const Link& link) {
  return std::max(0.0, bytes - link.burst_bytes) * 8.0 / link.bandwidth_bps * 1e3;
}

}  // namespace disc::plan_internal
