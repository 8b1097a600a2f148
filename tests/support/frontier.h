#pragma once
// The cost-quality frontier of the budget controller's strategies (docs/benchmarks.md), on a
// synthetic task set served by the fake chat API (tests/programs/fault_server.cc, real HTTP on
// loopback). Shared by the benchmark (tests/bench/frontier_bench.cc) and the test that holds
// the goal (tests/runtime/machine/frontier_test.cc), so both measure the same thing.
//
// 200 tasks, in a fixed shuffled order: 150 of workflow "classify" (easy) and 50 of "analyze"
// (hard: "[hard]" in the prompt). The cheap tier answers usably 92% of easy and 5% of hard tasks;
// the strong tier 99% and 95%; the strong tier costs 5x the cheap one. A task succeeds when its
// run completes (a schema-valid answer at some tier). Deterministic: the fake decides by a hash
// of the model and the prompt.

#include <string>

#include "graph/status.h"
#include "tests/support/fault_server.h"

namespace switchyard::testing {

enum class Strategy {
  kAlwaysCheap,   // one tier: the cheap one
  kAlwaysStrong,  // one tier: the strong one
  kCascade,       // cheap, escalate on failure
  kLearned,       // cascade until each tier has 5 samples on a step, then the cheapest expected
};

struct FrontierResult {
  double success_rate = 0;
  double usd_per_task = 0;
  double llm_calls_per_task = 0;
};

// Runs the 200 tasks under `strategy` against `provider`. Error: a run failed to journal.
Result<FrontierResult> run_frontier(const FaultServer& provider, Strategy strategy);

}  // namespace switchyard::testing
