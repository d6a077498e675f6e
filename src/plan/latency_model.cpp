#include "plan/latency_model.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <tuple>

#include "disc/codec.hpp"

namespace disc::plan_internal {
namespace {

// Server-side times: from the server's own profile when there is one.
struct ServerTimes {
  const Profile& profile;
  double full_ms() const { return profile.full_ms; }
  double tail_ms(const ProfiledCut& cut) const { return profile.find_cut(cut.tensor)->tail_ms; }
};

Status check_server_profile(const Profile& edge, const Profile& server) {
  if (server.model != edge.model)
    return Error("server profile is for model '" + server.model + "', the edge profile for '" + edge.model + "'");
  for (const ProfiledCut& cut : edge.cuts)
    if (!server.find_cut(cut.tensor)) return Error("server profile has no cut '" + cut.tensor + "'");
  return {};
}

// A length-delimited protobuf field of a message's first 15 (a one-byte tag) holding `length`
// bytes; a proto3 string that is empty is not written.
double delimited_field_bytes(double length) {
  if (length == 0) return 0;
  double varint_bytes = 1;
  for (double rest = length; rest >= 128; rest /= 128) ++varint_bytes;
  return 1 + varint_bytes + length;
}

// Encoding runs on the edge, decoding on the server (at the speed `row` was measured).
Candidate split_candidate(const std::string& model, const ProfiledCut& cut, size_t order, const RateRow& row,
                          double edge_speed, const ServerTimes& server) {
  Candidate c;
  c.plan.kind = Plan::Kind::kSplit;
  c.plan.cut = cut.tensor;
  c.plan.codec = row.codec;
  c.plan.bytes = request_bytes(model, cut.tensor, row.mean_bytes);
  c.plan.top1_loss_pp = row.top1_loss_pp;
  c.plan.latency.head_ms = cut.head_ms / edge_speed;
  c.plan.latency.encode_ms = row.encode_ms / edge_speed;
  c.plan.latency.decode_ms = row.decode_ms;
  c.plan.latency.tail_ms = server.tail_ms(cut);
  c.uses_link = true;
  c.order = order;
  return c;
}

}  // namespace

double request_bytes(std::string_view model, std::string_view cut, double payload_bytes) {
  constexpr double kTopKField = 2;         // tag, and top_k as a one-byte varint
  constexpr double kFingerprintField = 9;  // tag, fixed64
  return delimited_field_bytes(static_cast<double>(model.size())) +
         delimited_field_bytes(static_cast<double>(cut.size())) + delimited_field_bytes(payload_bytes) + kTopKField +
         kFingerprintField;
}

double raw_stream_bytes(const ProfiledCut& cut) {
  static const std::unique_ptr<Codec> raw = make_codec("raw").value();
  return static_cast<double>(stream_bytes(cut.shape, *raw, cut.fp32_bytes));
}

Result<std::vector<Candidate>> enumerate_candidates(const Profile& profile, const RateTable& table,
                                                    const Machines& machines) {
  if (!(machines.edge_speed > 0) || !std::isfinite(machines.edge_speed))
    return Error("edge speed must be a finite number > 0");
  if (table.model != profile.model)
    return Error("rate table is for model '" + table.model + "', the profile for '" + profile.model + "'");
  if (machines.server) DISC_RETURN_IF_ERROR(check_server_profile(profile, *machines.server));
  const ServerTimes server{machines.server ? *machines.server : profile};
  const double edge_speed = machines.edge_speed;
  const size_t cut_count = profile.cuts.size();

  std::vector<Candidate> candidates;
  candidates.reserve(table.rows.size() + cut_count + 2);

  Candidate edge_only;
  edge_only.plan.kind = Plan::Kind::kEdgeOnly;
  edge_only.plan.latency.head_ms = profile.full_ms / edge_speed;
  edge_only.order = cut_count + 1;
  candidates.push_back(edge_only);

  Candidate server_only;
  server_only.plan.kind = Plan::Kind::kServerOnly;
  server_only.plan.bytes = request_bytes(profile.model, "", profile.upload_bytes);
  server_only.plan.latency.tail_ms = server.full_ms();
  server_only.uses_link = true;
  server_only.order = 0;
  candidates.push_back(server_only);

  std::vector<bool> raw_measured(cut_count, false);
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const RateRow& row = table.rows[i];
    const ProfiledCut* cut = profile.find_cut(row.cut);
    if (!cut) return Error("rate table rows[" + std::to_string(i) + "]: cut '" + row.cut + "' is not in the profile");
    const size_t index = static_cast<size_t>(cut - profile.cuts.data());
    // However the table spells it (" raw", "raw:"), a measured raw row replaces the built-in one.
    if (CodecSpec::parse(row.codec).value().name == "raw") raw_measured[index] = true;
    candidates.push_back(split_candidate(profile.model, *cut, index + 1, row, edge_speed, server));
  }
  // Plain partition offloading: lossless, and copying fp32 costs next to nothing.
  for (size_t i = 0; i < cut_count; ++i) {
    if (raw_measured[i]) continue;
    const RateRow raw{profile.cuts[i].tensor, "raw", raw_stream_bytes(profile.cuts[i]), 0, 0, 0};
    candidates.push_back(split_candidate(profile.model, profile.cuts[i], i + 1, raw, edge_speed, server));
  }

  for (Candidate& c : candidates) {
    const LatencyBreakdown& l = c.plan.latency;
    c.edge_ms = l.head_ms + l.encode_ms;
    c.server_ms = l.decode_ms + l.tail_ms;
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.plan.top1_loss_pp, a.plan.bytes, a.order, a.plan.codec) <
           std::tie(b.plan.top1_loss_pp, b.plan.bytes, b.order, b.plan.codec);
  });
  return candidates;
}

}  // namespace disc::plan_internal
