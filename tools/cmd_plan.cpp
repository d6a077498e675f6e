// `disc plan`: the AGLOP decision for one link condition, from a profile and a rate table.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "disc/plan.hpp"
#include "loss_option.hpp"

namespace disc::cli {
namespace {

nlohmann::json plan_json(const Plan& p) {
  const LatencyBreakdown& l = p.latency;
  nlohmann::json j{{"kind", plan_kind_name(p.kind)},
                   {"bytes", p.bytes},
                   {"top1_loss_pp", p.top1_loss_pp},
                   {"latency_ms",
                    {{"head", l.head_ms},
                     {"encode", l.encode_ms},
                     {"transfer", l.transfer_ms},
                     {"rtt", l.rtt_ms},
                     {"decode", l.decode_ms},
                     {"tail", l.tail_ms},
                     {"total", l.total_ms()}}}};
  if (p.kind == Plan::Kind::kSplit) {
    j["cut"] = p.cut;
    j["codec"] = p.codec;
  }
  return j;
}

// `width`: of the plan column, the longest label's (full disc specs run past 100 characters).
std::string table_row(size_t rank, const Plan& p, size_t width) {
  const LatencyBreakdown& l = p.latency;
  return fmt::format(
      "{:>3}  {:<{}} {:>12.0f} {:>8.2f} {:>9.3f} {:>8.3f} {:>9.3f} {:>8.3f} {:>8.3f} {:>9.3f} {:>9.3f}\n", rank,
      p.label(), width, p.bytes, p.top1_loss_pp, l.head_ms, l.encode_ms, l.transfer_ms, l.rtt_ms, l.decode_ms, l.tail_ms,
      l.total_ms());
}

const CommandRegistration plan_command{{
    "plan", "choose the cut and codec setting of least predicted latency within an accuracy budget",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        std::string profile, table, server_profile, bandwidth, rtt = "0ms";
        double burst = 0;
        double budget = 1.0;
        double edge_speed = 1.0;
        size_t top = 5;
        bool json = false;
        LossBasis loss = LossBasis::kLabels;
      };
      auto o = std::make_shared<Opts>();
      app.add_option("--profile", o->profile, "profile JSON from `disc profile` (edge side)")->required();
      app.add_option("--table", o->table, "rate-accuracy table JSON from `disc eval`")->required();
      app.add_option("--bandwidth", o->bandwidth, "uplink bandwidth, e.g. 5Mbit, 500kbit, 1.5Gbit, 10MB/s")
          ->required();
      app.add_option("--rtt", o->rtt, "round-trip time, e.g. 20ms, 0.5s, 300us")->capture_default_str();
      app.add_option("--burst", o->burst, "bytes per request the link passes before its rate applies (shaper bucket)")
          ->check(kFiniteNotNegative)->check(CLI::Range(0.0, 1e12))
          ->capture_default_str();
      app.add_option("--budget", o->budget, "largest acceptable top-1 loss, percentage points")
          ->check(kBudget)
          ->capture_default_str();
      app.add_option("--edge-speed", o->edge_speed, "edge speed relative to the profiling machine (0.25 = 4x slower)")
          ->capture_default_str();
      add_loss_option(app, o->loss, "");
      app.add_option("--server-profile", o->server_profile, "profile JSON measured on the server");
      app.add_option("--top", o->top, "number of alternatives to list after the chosen plan")
          ->check(kNotNegative)
          ->capture_default_str();
      app.add_flag("--json", o->json, "print JSON instead of a table");
      return [o] {
        auto profile = load_profile(o->profile);
        if (!profile.ok()) return fail(profile.error());
        auto table = load_rate_table(o->table, o->loss);
        if (!table.ok()) return fail(table.error());
        std::optional<Profile> server;
        if (!o->server_profile.empty()) {
          auto loaded = load_profile(o->server_profile);
          if (!loaded.ok()) return fail(loaded.error());
          server = std::move(loaded).value();
        }
        const Machines machines{o->edge_speed, server ? &*server : nullptr};
        auto bandwidth = parse_bandwidth(o->bandwidth);
        if (!bandwidth.ok()) return fail(bandwidth.error());
        auto rtt = parse_duration_ms(o->rtt);
        if (!rtt.ok()) return fail(rtt.error());
        auto planner = Planner::create(*profile, *table, machines);
        if (!planner.ok()) return fail(planner.error());
        auto result = planner->plan({{*bandwidth, *rtt, o->burst}, o->budget, o->top, {}});
        if (!result.ok()) return fail(result.error());

        if (o->json) {
          nlohmann::json alternatives = nlohmann::json::array();
          for (const Plan& p : result->alternatives) alternatives.push_back(plan_json(p));
          const nlohmann::json out{{"model", profile->model},
                                   {"bandwidth_bps", *bandwidth},
                                   {"rtt_ms", *rtt},
                                   {"burst_bytes", o->burst},
                                   {"budget_pp", o->budget},
                                   {"loss", loss_basis_name(o->loss)},
                                   {"edge_speed", o->edge_speed},
                                   {"candidates", planner->candidate_count()},
                                   {"best", plan_json(result->best)},
                                   {"alternatives", alternatives}};
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        const Plan& best = result->best;
        const LatencyBreakdown& l = best.latency;
        std::cout << fmt::format(
            "{}: {} candidates at {:.6g} Mbit/s, RTT {:.6g} ms, top-1 budget {:.6g} pp{}, edge speed {:.6g}\n"
            "chosen: {}  ({:.3f} ms predicted, top-1 loss {:.2f} pp, {:.0f} bytes)\n"
            "  head {:.3f} + encode {:.3f} + transfer {:.3f} + rtt {:.3f} + decode {:.3f} + tail {:.3f} ms\n\n",
            profile->model, planner->candidate_count(), *bandwidth / 1e6, *rtt, o->budget,
            o->loss == LossBasis::kLabels ? "" : " (estimated loss + 1 SE)", o->edge_speed,
            best.label(), l.total_ms(), best.top1_loss_pp, best.bytes, l.head_ms, l.encode_ms, l.transfer_ms,
            l.rtt_ms, l.decode_ms, l.tail_ms);
        size_t width = best.label().size();
        for (const Plan& p : result->alternatives) width = std::max(width, p.label().size());
        std::cout << fmt::format("{:>3}  {:<{}} {:>12} {:>8} {:>9} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9}\n", "#",
                                 "plan", width, "bytes", "loss_pp", "head_ms", "enc_ms", "xfer_ms", "rtt_ms",
                                 "dec_ms", "tail_ms", "total_ms");
        std::cout << table_row(1, best, width);
        for (size_t i = 0; i < result->alternatives.size(); ++i)
          std::cout << table_row(i + 2, result->alternatives[i], width);
        return 0;
      };
    }}};

}  // namespace
}  // namespace disc::cli
