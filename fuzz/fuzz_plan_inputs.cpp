// Builds profile and rate-table documents from fuzz data (fields dropped, mistyped or
// extreme), then parses them (the table on either loss basis) and plans with them: every
// outcome must be an Error or a plan that honours the budget, never a crash.
#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <limits>
#include <string>

#include "disc/plan.hpp"

namespace {

using nlohmann::json;

json fuzzed_number(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      return in.ConsumeIntegral<int64_t>();
    case 1:
      return in.ConsumeIntegral<uint64_t>();
    case 2:
      return in.ConsumeFloatingPoint<double>();
    case 3:
      return in.ConsumeProbability<double>() * 100;
    case 4:
      return in.ConsumeRandomLengthString(8);
    default:
      return nullptr;
  }
}

// Sets `key` to a plausible value, or (when the data says so) drops or mangles it.
void put(json& object, const char* key, json plausible, FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0:
      return;
    case 1:
      object[key] = fuzzed_number(in);
      return;
    default:
      object[key] = std::move(plausible);
  }
}

json fuzzed_shape(FuzzedDataProvider& in) {
  json shape = json::array();
  const int rank = in.ConsumeIntegralInRange(0, 9);
  for (int i = 0; i < rank; ++i) shape.push_back(in.ConsumeIntegralInRange<int64_t>(-1, 64));
  return shape;
}

std::string cut_name(FuzzedDataProvider& in) { return "c" + std::to_string(in.ConsumeIntegralInRange(0, 4)); }

json fuzzed_profile(FuzzedDataProvider& in) {
  json p = json::object();
  put(p, "model", "m", in);
  json input = json::object();
  put(input, "name", "x", in);
  put(input, "shape", json::array({1, 3, 4, 4}), in);
  put(input, "fp32_bytes", 192, in);
  put(input, "upload_bytes", in.ConsumeFloatingPointInRange<double>(-1, 1e6), in);
  put(p, "input", input, in);
  put(p, "full_ms", in.ConsumeFloatingPointInRange<double>(-1, 1e3), in);
  json cuts = json::array();
  const int count = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < count; ++i) {
    json c = json::object();
    json shape = fuzzed_shape(in);
    size_t elements = 1;
    for (const json& d : shape) elements *= static_cast<size_t>(std::max<int64_t>(d.get<int64_t>(), 0));
    put(c, "tensor", cut_name(in), in);
    put(c, "node", "n", in);
    put(c, "op_type", "Relu", in);
    put(c, "position", in.ConsumeIntegralInRange(0, 100), in);
    put(c, "shape", shape, in);
    put(c, "elements", elements, in);
    put(c, "fp32_bytes", 4 * elements, in);
    put(c, "head_ms", in.ConsumeFloatingPointInRange<double>(-1, 1e3), in);
    put(c, "tail_ms", in.ConsumeFloatingPointInRange<double>(-1, 1e3), in);
    cuts.push_back(c);
  }
  put(p, "cuts", cuts, in);
  return p;
}

json fuzzed_table(FuzzedDataProvider& in) {
  json t = json::object();
  put(t, "model", "m", in);
  json rows = json::array();
  const int count = in.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < count; ++i) {
    json r = json::object();
    put(r, "cut", cut_name(in), in);
    put(r, "codec", in.ConsumeBool() ? "raw" : "disc:bits=" + std::to_string(in.ConsumeIntegralInRange(1, 8)), in);
    put(r, "mean_bytes", in.ConsumeFloatingPointInRange<double>(-1, 1e7), in);
    put(r, "top1_loss_pp", in.ConsumeFloatingPointInRange<double>(-5, 5), in);
    put(r, "estimated_loss_pp", in.ConsumeFloatingPointInRange<double>(-5, 5), in);
    put(r, "estimated_loss_se_pp", in.ConsumeFloatingPointInRange<double>(-1, 5), in);
    put(r, "encode_ms", in.ConsumeFloatingPointInRange<double>(-1, 10), in);
    put(r, "decode_ms", in.ConsumeFloatingPointInRange<double>(-1, 10), in);
    rows.push_back(r);
  }
  put(t, "rows", rows, in);
  if (in.ConsumeBool()) put(t, "labelled", in.ConsumeBool(), in);  // absent: measured with labels
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // Invalid UTF-8 from the fuzzed strings is written as U+FFFD rather than throwing.
  auto text = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  // Which loss of the rows the budget applies to: the measured one or the label-free estimate.
  const disc::LossBasis basis = in.ConsumeBool() ? disc::LossBasis::kEstimate : disc::LossBasis::kLabels;
  auto profile = disc::parse_profile(text(fuzzed_profile(in)));
  auto table = disc::parse_rate_table(text(fuzzed_table(in)), basis);
  if (!profile.ok() || !table.ok()) return 0;
  const double edge_speed = in.ConsumeFloatingPoint<double>();
  auto planner = disc::Planner::create(*profile, *table, {edge_speed});
  if (!planner.ok()) return 0;
  disc::PlanQuery query;
  query.link.bandwidth_bps =
      in.ConsumeBool() ? std::numeric_limits<double>::infinity() : in.ConsumeFloatingPoint<double>();
  query.link.rtt_ms = in.ConsumeFloatingPoint<double>();
  if (in.ConsumeBool()) query.link.burst_bytes = in.ConsumeFloatingPoint<double>();
  if (in.ConsumeBool()) query.scale = {in.ConsumeFloatingPoint<double>(), in.ConsumeFloatingPoint<double>()};
  query.top1_budget_pp = in.ConsumeFloatingPoint<double>();
  query.alternatives = in.ConsumeIntegral<size_t>();
  auto result = planner->plan(query);
  if (!result.ok()) return 0;
  if (result->best.top1_loss_pp > query.top1_budget_pp || result->alternatives.size() >= planner->candidate_count())
    std::abort();
  // Totals re-summed from the breakdown may differ from the ranked ones by rounding.
  const double best_ms = result->best.latency.total_ms();
  for (const disc::Plan& p : result->alternatives)
    if (p.top1_loss_pp > query.top1_budget_pp || p.latency.total_ms() < best_ms - 1e-9 * best_ms) std::abort();
  return 0;
}
