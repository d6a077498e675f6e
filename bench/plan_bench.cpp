// One planning call over a realistic candidate space: 30 cuts x 60 codec settings.
#include <benchmark/benchmark.h>

#include "disc/plan.hpp"
#include "plan/synthetic_plan_inputs.hpp"

namespace {

void BM_PlanOneQuery(benchmark::State& state) {
  const auto in = disc::testing::make_synthetic_inputs(1, {.cuts = 30, .settings_per_cut = 60});
  const auto planner = disc::Planner::create(in.profile, in.table).value();
  disc::PlanQuery query;
  query.link = {5e6, 20};
  query.top1_budget_pp = static_cast<double>(state.range(0));
  query.alternatives = 5;
  for (auto _ : state) {
    auto result = planner.plan(query);
    benchmark::DoNotOptimize(result);
  }
  state.counters["candidates"] = static_cast<double>(planner.candidate_count());
}
BENCHMARK(BM_PlanOneQuery)->Arg(1)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_CreatePlanner(benchmark::State& state) {
  const auto in = disc::testing::make_synthetic_inputs(1, {.cuts = 30, .settings_per_cut = 60});
  for (auto _ : state) {
    auto planner = disc::Planner::create(in.profile, in.table);
    benchmark::DoNotOptimize(planner);
  }
}
BENCHMARK(BM_CreatePlanner)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
