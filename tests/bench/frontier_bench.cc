// The cost-quality frontier of the budget controller's strategies, on a synthetic task set served
// by the fake chat API (tests/programs/fault_server.cc, real HTTP on loopback).
//   build/tests/bench/frontier_bench
//
// 200 tasks, in a fixed shuffled order: 150 of workflow "classify" (easy) and 50 of "analyze"
// (hard: "[hard]" in the prompt). The cheap tier answers usably 92% of easy and 5% of hard tasks;
// the strong tier 99% and 95%; the strong tier costs 5x the cheap one. A task succeeds when its
// run completes (a schema-valid answer at some tier). Strategies: always-cheap (one tier),
// always-strong (one tier), cascade (cheap, escalate on failure), learned (cascade until each
// tier has 5 samples on a step, then start where the expected total cost is lowest). Counters:
// success_rate, usd_per_task, llm_calls_per_task.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/llm_history.h"
#include "runtime/runner.h"
#include "runtime/system_clock.h"
#include "tests/support/fault_server.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace {

using namespace switchyard;

testing::FaultServer& provider() {
  static testing::FaultServer s;
  return s;
}

std::shared_ptr<const graph::Workflow> task_workflow(const std::string& name) {
  auto loaded = graph::load(nlohmann::json{
      {"format", "switchyard.workflow/v1"}, {"name", name}, {"start", "Start"}, {"goal", "Solve"},
      {"tools", {{"Solve", {{"kind", "llm"}, {"prompt", "{{input.task}}"}, {"max_tokens", 256},
                            {"output_schema", {{"type", "object"}, {"required", {"answer"}}}}}}}},
      {"edges", {{"Start", "Solve", 1.0}}}}.dump(), name + ".json");
  return loaded.workflow;
}

tools::ModelTier tier(const std::string& name, const std::string& model, double in, double out) {
  return {name, model, provider().url("/v1"), "", in, out, 0, {}};
}

void BM_Frontier(benchmark::State& state, const char* strategy) {
  const std::string s = strategy;
  const auto cheap = tier("cheap", "quality:0.92:0.05", 1.0, 4.0);
  const auto strong = tier("strong", "quality:0.99:0.95", 5.0, 20.0);
  tools::Models models;
  if (s == "always-cheap") models.tiers = {cheap};
  else if (s == "always-strong") models.tiers = {strong};
  else models.tiers = {cheap, strong};
  auto classify = task_workflow("classify"), analyze = task_workflow("analyze");
  auto classify_tools = *tools::make_tool_set(*classify, {.models = &models});
  auto analyze_tools = *tools::make_tool_set(*analyze, {.models = &models});
  std::vector<int> order(200);
  for (int i = 0; i < 200; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
  for (auto _ : state) {
    auto journal = runtime::make_memory_journal();
    runtime::SystemClock clock;
    monitors::HealthTable health(clock);
    runtime::LlmHistory history;
    runtime::RunnerOptions options{.simulate_latency = false, .models = &models,
                                   .history = s == "learned" ? &history : nullptr};
    runtime::Runner easy(classify, classify_tools, *journal, clock, health, options);
    runtime::Runner hard(analyze, analyze_tools, *journal, clock, health, options);
    int succeeded = 0, llm_calls = 0;
    double spent = 0;
    for (int task : order) {
      const bool is_hard = task >= 150;
      runtime::RunRequest request;
      request.input = {{"task", "Task " + std::to_string(task) + (is_hard ? " [hard]" : "")}};
      auto report = (is_hard ? hard : easy).run(request);
      if (!report.ok()) {
        state.SkipWithError("a run failed to journal");
        return;
      }
      succeeded += report->result.status == runtime::RunStatus::kCompleted;
      llm_calls += report->result.llm_calls;
      spent += report->result.spent_usd;
    }
    state.counters["success_rate"] = succeeded / 200.0;
    state.counters["usd_per_task"] = spent / 200.0;
    state.counters["llm_calls_per_task"] = llm_calls / 200.0;
  }
}
BENCHMARK_CAPTURE(BM_Frontier, always_cheap, "always-cheap")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Frontier, always_strong, "always-strong")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Frontier, cascade, "cascade")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Frontier, learned, "learned")->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
