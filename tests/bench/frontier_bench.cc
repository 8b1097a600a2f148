// The cost-quality frontier of the budget controller's strategies (tests/support/frontier.h: the
// task set, tiers and strategies; tests/runtime/machine/frontier_test.cc holds the goal in
// scripts/test).
//   build/tests/bench/frontier_bench
//
// Counters: success_rate, usd_per_task, llm_calls_per_task.

#include <benchmark/benchmark.h>

#include "tests/support/frontier.h"

namespace {

using switchyard::testing::Strategy;

switchyard::testing::FaultServer& provider() {
  static switchyard::testing::FaultServer s;
  return s;
}

void BM_Frontier(benchmark::State& state, Strategy strategy) {
  for (auto _ : state) {
    auto result = switchyard::testing::run_frontier(provider(), strategy);
    if (!result.ok()) {
      state.SkipWithError(result.status().message().c_str());
      return;
    }
    state.counters["success_rate"] = result->success_rate;
    state.counters["usd_per_task"] = result->usd_per_task;
    state.counters["llm_calls_per_task"] = result->llm_calls_per_task;
  }
}
BENCHMARK_CAPTURE(BM_Frontier, always_cheap, Strategy::kAlwaysCheap)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Frontier, always_strong, Strategy::kAlwaysStrong)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Frontier, cascade, Strategy::kCascade)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Frontier, learned, Strategy::kLearned)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
