#include "disc/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <tuple>

#include "disc/codec.hpp"
#include "plan/latency_model.hpp"
#include "plan/synthetic_plan_inputs.hpp"

namespace disc {
namespace {

using testing::make_synthetic_inputs;
using testing::SyntheticInputs;
using testing::SyntheticOptions;

// The oracle: every plan written out from the inputs, independently of the planner.
struct OraclePlan {
  std::string label;
  double total_ms;
  double loss;
  double bytes;
  size_t order;
  std::string codec;
};

std::vector<OraclePlan> oracle_ranking(const Profile& profile, const RateTable& table, const Machines& machines,
                                       const PlanQuery& q) {
  const Profile& server = machines.server ? *machines.server : profile;
  const double bw = q.link.bandwidth_bps;
  // The request message around a payload (its size is checked against the protobuf library in
  // net_tests: RequestBytes.*).
  auto request = [&](const std::string& cut, double payload) {
    return plan_internal::request_bytes(profile.model, cut, payload);
  };
  auto link_ms = [&](double bytes) { return std::max(0.0, bytes - q.link.burst_bytes) * 8 / bw * 1000 + q.link.rtt_ms; };
  const double edge = q.scale.edge / machines.edge_speed, server_scale = q.scale.server;
  auto server_tail = [&](const std::string& cut) {
    for (const ProfiledCut& c : server.cuts)
      if (c.tensor == cut) return c.tail_ms;
    ADD_FAILURE() << "no server cut " << cut;
    return 0.0;
  };

  std::vector<OraclePlan> plans;
  plans.push_back({"edge-only", profile.full_ms * edge, 0, 0, profile.cuts.size() + 1, ""});
  if (bw > 0) {
    const double upload = request("", profile.upload_bytes);
    plans.push_back({"server-only", link_ms(upload) + server.full_ms * server_scale, 0, upload, 0, ""});
    for (size_t i = 0; i < profile.cuts.size(); ++i) {
      const ProfiledCut& cut = profile.cuts[i];
      bool has_raw = false;
      for (const RateRow& row : table.rows) {
        if (row.cut != cut.tensor) continue;
        has_raw |= row.codec == "raw";
        if (row.top1_loss_pp > q.top1_budget_pp) continue;
        const double bytes = request(cut.tensor, row.mean_bytes);
        plans.push_back({cut.tensor + " " + row.codec,
                         (cut.head_ms + row.encode_ms) * edge + link_ms(bytes) +
                             (row.decode_ms + server_tail(cut.tensor)) * server_scale,
                         row.top1_loss_pp, bytes, i + 1, row.codec});
      }
      if (!has_raw) {
        const double raw_bytes =
            request(cut.tensor, static_cast<double>(stream_bytes(cut.shape, *make_codec("raw").value(), 4 * cut.elements)));
        plans.push_back({cut.tensor + " raw",
                         cut.head_ms * edge + link_ms(raw_bytes) + server_tail(cut.tensor) * server_scale, 0,
                         raw_bytes, i + 1, "raw"});
      }
    }
  }
  std::sort(plans.begin(), plans.end(), [](const OraclePlan& a, const OraclePlan& b) {
    return std::tie(a.total_ms, a.loss, a.bytes, a.order, a.codec) <
           std::tie(b.total_ms, b.loss, b.bytes, b.order, b.codec);
  });
  return plans;
}

std::vector<std::string> labels(const PlanResult& r) {
  std::vector<std::string> out{r.best.label()};
  for (const Plan& p : r.alternatives) out.push_back(p.label());
  return out;
}

void expect_matches_oracle(const SyntheticInputs& in, const Machines& machines, const PlanQuery& q,
                           const std::string& what) {
  SCOPED_TRACE(what);
  auto planner = Planner::create(in.profile, in.table, machines);
  ASSERT_TRUE(planner.ok()) << planner.error().message();
  auto result = planner->plan(q);
  ASSERT_TRUE(result.ok()) << result.error().message();
  const auto oracle = oracle_ranking(in.profile, in.table, machines, q);
  const size_t expected = std::min(oracle.size(), q.alternatives + 1);
  const auto got = labels(*result);
  ASSERT_EQ(got.size(), expected);
  for (size_t i = 0; i < expected; ++i) {
    EXPECT_EQ(got[i], oracle[i].label) << "rank " << i;
    const Plan& p = i == 0 ? result->best : result->alternatives[i - 1];
    EXPECT_NEAR(p.latency.total_ms(), oracle[i].total_ms, 1e-9 * oracle[i].total_ms) << "rank " << i;
    EXPECT_LE(p.top1_loss_pp, q.top1_budget_pp);
  }
}

TEST(Planner, MatchesBruteForceOnRandomTables) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed * 7919);
    SyntheticOptions options;
    options.cuts = 1 + rng() % 12;
    options.settings_per_cut = rng() % 20;
    options.measured_raw = seed % 3 == 0;
    const auto in = make_synthetic_inputs(seed, options);
    auto server = make_synthetic_inputs(seed + 1000, options).profile;  // same cut names
    std::uniform_real_distribution<double> u(0, 1);
    PlanQuery q;
    q.link.bandwidth_bps = std::pow(10.0, 4 + 5 * u(rng));
    q.link.rtt_ms = 100 * u(rng);
    q.link.burst_bytes = seed % 4 ? 0 : 20000 * u(rng);
    q.top1_budget_pp = 3 * u(rng);
    q.alternatives = rng() % 8;
    if (seed % 5 == 0) q.scale = {0.5 + 2 * u(rng), 0.5 + 2 * u(rng)};
    const double speeds[] = {0.1, 0.25, 1, 3};
    const Machines machines{speeds[rng() % 4], seed % 2 ? &server : nullptr};
    expect_matches_oracle(in, machines, q, "seed " + std::to_string(seed));
  }
}

TEST(Planner, MatchesBruteForceWhenTotalsTie) {
  SyntheticOptions options;
  options.dyadic = true;
  options.cuts = 6;
  options.settings_per_cut = 24;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    const auto in = make_synthetic_inputs(seed, options);
    PlanQuery q;
    q.link.bandwidth_bps = 8192;  // transfer_ms = bytes * 1000 / 1024: exact for multiples of 128
    q.link.rtt_ms = 0.25 * (seed % 5);
    q.top1_budget_pp = 0.25 * (seed % 12);
    q.alternatives = 40;
    expect_matches_oracle(in, {}, q, "seed " + std::to_string(seed));
  }
}

// One cut "c" with head 1 ms and tail 1 ms, a slow edge-only and a slow upload.
SyntheticInputs one_cut(std::vector<RateRow> rows) {
  SyntheticInputs in;
  in.profile.model = "m";
  in.profile.input_shape = {1, 3, 8, 8};
  in.profile.input_fp32_bytes = 4 * 3 * 8 * 8;
  in.profile.upload_bytes = 1e6;
  in.profile.full_ms = 100;
  in.profile.cuts.push_back({"c", "n", "Relu", 1, {1, 256, 64, 64}, 256 * 64 * 64, 4 * 256 * 64 * 64, 1, 1});
  in.profile.cuts.push_back({"d", "n2", "Relu", 2, {1, 256, 64, 64}, 256 * 64 * 64, 4 * 256 * 64 * 64, 1, 1});
  in.table.model = "m";
  in.table.rows = std::move(rows);
  return in;
}

// The bytes a request adds to what it carries, for model "m" and cut "c" (an InferRequest): two
// 1-byte names with their tags and lengths (3 + 3), the stream's tag and length (2 below 128
// bytes, 3 below 16384), top_k (2) and the model fingerprint (9). An InferImageRequest has no
// cut: 3 + 2 + 2 + 9 below 128.
constexpr double kSmallStreamRequest = 19, kStreamRequest = 20, kSmallImageRequest = 16;

// one_cut with `row`, halves of 0.25 ms, a 2 ms whole model and a 100-byte upload request: at
// 1 Mbit/s edge-only, server-only and the split are all a few ms apart.
SyntheticInputs fast_small_model(RateRow row) {
  auto in = one_cut({std::move(row)});
  in.profile.cuts[0].head_ms = 0.25;
  in.profile.cuts[0].tail_ms = 0.25;
  in.profile.upload_bytes = 100 - kSmallImageRequest;
  in.profile.full_ms = 2;
  return in;
}

Plan best_plan(const SyntheticInputs& in, const PlanQuery& q, const Machines& machines = {}) {
  auto planner = Planner::create(in.profile, in.table, machines);
  EXPECT_TRUE(planner.ok());
  auto r = planner->plan(q);
  EXPECT_TRUE(r.ok());
  return r->best;
}

PlanQuery query(double bandwidth_bps, double rtt_ms = 0, double budget = 1.0) {
  PlanQuery q;
  q.link = {bandwidth_bps, rtt_ms};
  q.top1_budget_pp = budget;
  return q;
}

TEST(Planner, EqualTotalsPreferLowerLossThenFewerBytesThenEarlierCutThenCodecText) {
  // 2^23 bits/s: 1024 bytes take exactly 0.9765625 ms, 512 bytes 0.48828125 ms.
  const double bw = 8388608;
  auto lower_loss = one_cut({{"c", "disc:bits=2", 1024, 0.5, 0, 0}, {"c", "disc:bits=3", 1024, 0.25, 0, 0}});
  EXPECT_EQ(best_plan(lower_loss, query(bw)).codec, "disc:bits=3");
  // Fewer bytes, same total: the heavier encode makes up for the lighter transfer.
  auto fewer_bytes = one_cut({{"c", "disc:bits=2", 1024, 0.5, 0, 0}, {"c", "disc:bits=3", 512, 0.5, 0.48828125, 0}});
  EXPECT_EQ(best_plan(fewer_bytes, query(bw)).codec, "disc:bits=3");
  auto fewer_bytes_at_a_later_cut =
      one_cut({{"c", "disc:bits=2", 1024, 0.5, 0, 0}, {"d", "disc:bits=3", 512, 0.5, 0.48828125, 0}});
  EXPECT_EQ(best_plan(fewer_bytes_at_a_later_cut, query(bw)).label(), "d disc:bits=3");
  auto earlier_cut = one_cut({{"d", "disc:bits=2", 1024, 0.5, 0, 0}, {"c", "disc:bits=2", 1024, 0.5, 0, 0}});
  EXPECT_EQ(best_plan(earlier_cut, query(bw)).cut, "c");
  auto codec_text = one_cut({{"c", "disc:bits=4", 1024, 0.5, 0, 0}, {"c", "disc:bits=2", 1024, 0.5, 0, 0}});
  EXPECT_EQ(best_plan(codec_text, query(bw)).codec, "disc:bits=2");
}

TEST(Planner, BudgetNothingMeetsFallsBackToLosslessPlans) {
  auto in = one_cut({{"c", "disc:bits=2", 100, 2.0, 0, 0}, {"d", "disc:bits=2", 50, 1.5, 0, 0}});
  auto planner = Planner::create(in.profile, in.table);
  ASSERT_TRUE(planner.ok());
  auto r = planner->plan(query(1e6, 5, 1.0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->best.kind, Plan::Kind::kEdgeOnly);  // raw: 16 MB at 1 Mbit/s; upload: 8 s
  EXPECT_EQ(r->best.latency.total_ms(), 100);
  for (const Plan& p : r->alternatives) EXPECT_EQ(p.top1_loss_pp, 0) << p.label();
  EXPECT_EQ(r->alternatives.size(), 3u);  // server-only, c raw, d raw
  // Raising the budget admits the lossy rows.
  EXPECT_EQ(best_plan(in, query(1e6, 5, 2.0)).label(), "d disc:bits=2");
}

TEST(Planner, ZeroBandwidthLeavesOnlyEdgeOnly) {
  auto in = one_cut({{"c", "disc:bits=2", 1, 0, 0, 0}});
  auto planner = Planner::create(in.profile, in.table);
  auto r = planner->plan(query(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->best.kind, Plan::Kind::kEdgeOnly);
  EXPECT_TRUE(r->alternatives.empty());
}

TEST(Planner, HugeBandwidthMakesTransferFree) {
  auto in = one_cut({{"c", "disc:bits=2", 100, 0.5, 3, 3}});
  for (double bw : {1e15, std::numeric_limits<double>::infinity()}) {
    const Plan p = best_plan(in, query(bw, 2));
    EXPECT_EQ(p.label(), "c raw");  // head 1 + tail 1 + rtt 2 beats the codec's extra 6 ms
    EXPECT_LT(p.latency.transfer_ms, 1e-3);
    EXPECT_NEAR(p.latency.total_ms(), 4, 1e-3);
  }
}

TEST(Planner, RoundTripTimeDecidesBetweenOffloadingAndEdgeOnly) {
  // c disc: 1 + 0 + 10 ms transfer (a 125-byte request) at 100 kbit/s + rtt + 0 + 1 = 12 + rtt;
  // edge-only 100.
  auto in = one_cut({{"c", "disc:bits=2", 125 - kSmallStreamRequest, 0.5, 0, 0}});
  const Plan near = best_plan(in, query(1e5, 50));
  EXPECT_EQ(near.label(), "c disc:bits=2");
  EXPECT_DOUBLE_EQ(near.latency.rtt_ms, 50);
  EXPECT_DOUBLE_EQ(near.latency.total_ms(), 62);
  EXPECT_EQ(best_plan(in, query(1e5, 88.5)).label(), "edge-only");
}

TEST(Planner, EdgeSpeedScalesEdgeSideWork) {
  // At 1 Mbit/s: c disc = (0.25 head + 0.25 encode) / speed + 1 transfer (125 bytes) + 0.25 tail;
  // edge-only = 2 / speed; server-only = 0.8 upload + 2.
  auto in = fast_small_model({"c", "disc:bits=2", 125 - kSmallStreamRequest, 0.5, 0.25, 0});
  const PlanQuery q = query(1e6);
  const Plan fast = best_plan(in, q, {4.0});
  EXPECT_EQ(fast.kind, Plan::Kind::kEdgeOnly);
  EXPECT_DOUBLE_EQ(fast.latency.total_ms(), 0.5);
  const Plan same = best_plan(in, q, {1.0});
  EXPECT_EQ(same.label(), "c disc:bits=2");
  EXPECT_DOUBLE_EQ(same.latency.total_ms(), 1.75);
  const Plan slow = best_plan(in, q, {0.25});
  EXPECT_EQ(slow.kind, Plan::Kind::kServerOnly);
  EXPECT_DOUBLE_EQ(slow.latency.total_ms(), 2.8);
  auto planner = Planner::create(in.profile, in.table, {0.25});
  const auto r = planner->plan(q);
  ASSERT_EQ(r->alternatives.front().label(), "c disc:bits=2");
  EXPECT_DOUBLE_EQ(r->alternatives.front().latency.head_ms, 1.0);
  EXPECT_DOUBLE_EQ(r->alternatives.front().latency.encode_ms, 1.0);
  EXPECT_DOUBLE_EQ(r->alternatives.front().latency.tail_ms, 0.25);
}

TEST(Planner, BurstBytesCrossTheLinkWithoutTransferTime) {
  // 1 Mbit/s: 1000 bytes of a 3000-byte request beyond the burst take 8 ms.
  auto in = one_cut({{"c", "disc:bits=2", 3000 - kStreamRequest, 0.5, 0, 0}});
  PlanQuery q = query(1e6, 2);
  q.link.burst_bytes = 2000;
  const Plan p = best_plan(in, q);
  EXPECT_EQ(p.label(), "c disc:bits=2");
  EXPECT_DOUBLE_EQ(p.latency.transfer_ms, 8);
  EXPECT_DOUBLE_EQ(p.latency.total_ms(), 1 + 8 + 2 + 1);
  q.link.burst_bytes = 5000;  // the whole request fits the bucket: only the RTT remains
  EXPECT_DOUBLE_EQ(best_plan(in, q).latency.transfer_ms, 0);
  EXPECT_DOUBLE_EQ(best_plan(in, q).latency.total_ms(), 4);
}

TEST(Planner, ComputeScalesMultiplyEachSidesStages) {
  // At 1 Mbit/s: c disc = (0.25 head + 0.25 encode) * edge + 1 transfer (125 bytes) + (0.5 decode +
  // 0.25 tail) * server; edge-only = 2 * edge; server-only = 0.8 upload + 2 * server.
  auto in = fast_small_model({"c", "disc:bits=2", 125 - kSmallStreamRequest, 0.5, 0.25, 0.5});
  PlanQuery q = query(1e6);
  EXPECT_EQ(best_plan(in, q).kind, Plan::Kind::kEdgeOnly);  // 2 against c disc 2.25 and server-only 2.8
  q.scale = {2, 1};  // slower edge: c disc 1 + 1 + 0.75 = 2.75, edge-only 4, server-only 2.8
  Plan p = best_plan(in, q);
  EXPECT_EQ(p.label(), "c disc:bits=2");
  EXPECT_DOUBLE_EQ(p.latency.head_ms, 0.5);
  EXPECT_DOUBLE_EQ(p.latency.encode_ms, 0.5);
  EXPECT_DOUBLE_EQ(p.latency.decode_ms, 0.5);
  EXPECT_DOUBLE_EQ(p.latency.tail_ms, 0.25);
  EXPECT_DOUBLE_EQ(p.latency.total_ms(), 2.75);
  q.scale = {2, 4};  // and a slower server: c disc 1 + 1 + 3 = 5, edge-only 4, server-only 8.8
  EXPECT_EQ(best_plan(in, q).kind, Plan::Kind::kEdgeOnly);
  EXPECT_DOUBLE_EQ(best_plan(in, q).latency.total_ms(), 4);
}

TEST(Planner, ServerProfileSuppliesServerSideTimes) {
  auto in = one_cut({});
  Profile server = in.profile;
  server.full_ms = 7;
  server.cuts[0].tail_ms = 0.5;
  server.cuts[0].head_ms = 99;  // head times of the server profile are not used
  auto planner = Planner::create(in.profile, in.table, {1.0, &server});
  ASSERT_TRUE(planner.ok());
  auto r = planner->plan(query(std::numeric_limits<double>::infinity(), 0, 1.0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->best.label(), "c raw");
  EXPECT_DOUBLE_EQ(r->best.latency.total_ms(), 1.5);
  ASSERT_EQ(r->alternatives.size(), 3u);
  EXPECT_EQ(r->alternatives[0].label(), "d raw");
  EXPECT_EQ(r->alternatives[1].label(), "server-only");
  EXPECT_DOUBLE_EQ(r->alternatives[1].latency.tail_ms, 7);

  server.cuts.pop_back();
  auto missing = Planner::create(in.profile, in.table, {1.0, &server});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "server profile has no cut 'd'");
  server = in.profile;
  server.model = "other";
  EXPECT_FALSE(Planner::create(in.profile, in.table, {1.0, &server}).ok());
}

TEST(Planner, MeasuredRawRowReplacesTheBuiltInOne) {
  for (const char* spelling : {" raw", "raw "}) {  // an in-memory table's text, however spaced
    auto in = one_cut({{"c", spelling, 5000, 0, 0.5, 0.5}});
    auto planner = Planner::create(in.profile, in.table);
    ASSERT_TRUE(planner.ok()) << planner.error().message();
    EXPECT_EQ(planner->candidate_count(), 4u) << spelling;
  }
  auto in = one_cut({{"c", "raw", 5000, 0, 0.5, 0.5}});
  auto planner = Planner::create(in.profile, in.table);
  ASSERT_TRUE(planner.ok());
  EXPECT_EQ(planner->candidate_count(), 4u);  // edge-only, server-only, c raw (measured), d raw
  auto r = planner->plan(query(1e9));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->best.label(), "c raw");
  EXPECT_DOUBLE_EQ(r->best.bytes, 5000 + kStreamRequest);  // the measured stream, in its request
  EXPECT_DOUBLE_EQ(r->best.latency.encode_ms, 0.5);
}

TEST(Planner, RawStreamSizeIsWhatTheRawCodecWrites) {
  auto codec = make_codec("raw");
  ASSERT_TRUE(codec.ok());
  for (const Shape& shape : {Shape{7}, Shape{1, 16, 5, 3}, Shape{2, 1, 3, 1, 4}}) {
    auto stream = compress(Tensor(shape), **codec);
    ASSERT_TRUE(stream.ok());
    ProfiledCut cut;
    cut.shape = shape;
    cut.elements = element_count(shape).value();
    cut.fp32_bytes = 4 * cut.elements;
    EXPECT_EQ(plan_internal::raw_stream_bytes(cut), static_cast<double>(stream->size())) << shape_to_string(shape);
  }
}

TEST(Planner, RejectsInvalidQueriesAndMachines) {
  auto in = one_cut({});
  auto planner = Planner::create(in.profile, in.table);
  ASSERT_TRUE(planner.ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(planner->plan(query(-1)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(planner->plan(query(nan)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(planner->plan(query(1e6, -1)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(planner->plan(query(1e6, nan)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(planner->plan(query(1e6, inf)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(planner->plan(query(1e6, 0, -0.5)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(planner->plan(query(1e6, 0, nan)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(planner->plan(query(1e6, 0, inf)).ok());
  for (double burst : {-1.0, nan, inf}) {
    PlanQuery q = query(1e6);
    q.link.burst_bytes = burst;
    EXPECT_EQ(planner->plan(q).error().code(), ErrorCode::kInvalidArgument) << burst;
  }
  for (double scale : {0.0, -1.0, nan, inf}) {
    PlanQuery q = query(1e6);
    q.scale = {scale, 1};
    EXPECT_EQ(planner->plan(q).error().code(), ErrorCode::kInvalidArgument) << scale;
    q.scale = {1, scale};
    EXPECT_EQ(planner->plan(q).error().code(), ErrorCode::kInvalidArgument) << scale;
  }
  for (double speed : {0.0, -1.0, nan, inf})
    EXPECT_EQ(Planner::create(in.profile, in.table, {speed}).error().code(), ErrorCode::kInvalidArgument) << speed;
}

TEST(Planner, RejectsTablesThatDoNotMatchTheProfile) {
  auto in = one_cut({{"c", "disc:bits=2", 100, 0, 0, 0}, {"x", "disc:bits=2", 100, 0, 0, 0}});
  auto planner = Planner::create(in.profile, in.table);
  ASSERT_FALSE(planner.ok());
  EXPECT_EQ(planner.error().message(), "rate table rows[1]: cut 'x' is not in the profile");
  EXPECT_EQ(planner.error().code(), ErrorCode::kInvalidArgument);
  in.table.rows.pop_back();
  in.table.model = "other";
  ASSERT_FALSE(Planner::create(in.profile, in.table).ok());
  EXPECT_NE(Planner::create(in.profile, in.table).error().message().find("'other'"), std::string::npos);
}

// Inputs built in memory rather than parsed: what parsing would refuse, Planner::create refuses.
TEST(Planner, RejectsInputsBuiltInMemoryThatParsingWouldRefuse) {
  const auto refusal = [](const std::function<void(SyntheticInputs&)>& edit) {
    auto in = one_cut({{"c", "disc:bits=2", 100, 0.5, 1, 1}});
    edit(in);
    auto planner = Planner::create(in.profile, in.table);
    return planner.ok() ? std::string("(created)") : planner.error().message();
  };
  EXPECT_EQ(refusal([](SyntheticInputs&) {}), "(created)");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.table.rows[0].mean_bytes = -5; }),
            "rate table: row (c, disc:bits=2): mean_bytes must be finite and > 0");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.table.rows[0].encode_ms = std::nan(""); }),
            "rate table: row (c, disc:bits=2): encode_ms and decode_ms must be finite and >= 0");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.table.rows[0].codec = "disc:bits=99"; }),
            "rate table: row (c, disc:bits=99): codec 'disc' parameter bits=99 is outside [0, 8]");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.table.rows.push_back(in.table.rows[0]); in.table.rows[1].codec = "disc:bits=2,clip=6"; }),
            "rate table: row (c, disc:bits=2,clip=6): listed twice");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.profile.cuts[0].head_ms = -100; }),
            "profile: cut 'c': head_ms and tail_ms must be finite and >= 0");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.profile.full_ms = std::nan(""); }), "profile: full_ms must be finite and >= 0");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.profile.upload_bytes = -1; }),
            "profile: upload_bytes must be finite and > 0");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.profile.cuts[1].tensor = "c"; }), "profile: cut 'c' is listed twice");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in.profile.cuts[0].elements = 7; }),
            "profile: cut 'c': elements and fp32_bytes must be the shape's 1048576 and 4 times that");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { in = SyntheticInputs(); }), "profile: input shape: tensor rank 0 is outside 1..8");
  EXPECT_EQ(refusal([](SyntheticInputs& in) { std::swap(in.profile.cuts[0], in.profile.cuts[1]); }),
            "profile: cuts must be sorted by position ('c' comes after a later one)");
}

TEST(Planner, AlternativesAreDistinctAndCappedByTheFeasibleSet) {
  const auto in = make_synthetic_inputs(5, {.cuts = 4, .settings_per_cut = 10});
  auto planner = Planner::create(in.profile, in.table);
  ASSERT_TRUE(planner.ok());
  PlanQuery q = query(5e6, 10, 100);
  q.alternatives = 1000;
  auto r = planner->plan(q);
  ASSERT_TRUE(r.ok());
  auto all = labels(*r);
  EXPECT_EQ(all.size(), planner->candidate_count());
  for (size_t i = 1; i < all.size(); ++i) {
    const Plan& prev = i == 1 ? r->best : r->alternatives[i - 2];
    EXPECT_LE(prev.latency.total_ms(), r->alternatives[i - 1].latency.total_ms());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  q.alternatives = std::numeric_limits<size_t>::max();
  EXPECT_EQ(planner->plan(q)->best.label(), r->best.label());
  EXPECT_EQ(planner->plan(q)->alternatives.size(), planner->candidate_count() - 1);
  q.alternatives = 0;
  EXPECT_TRUE(planner->plan(q)->alternatives.empty());
}

}  // namespace
}  // namespace disc
