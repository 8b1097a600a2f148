#include "tests/support/frontier.h"

#include <algorithm>
#include <random>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/runner.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::testing {
namespace {

constexpr int kTasks = 200;
constexpr int kEasyTasks = 150;

std::shared_ptr<const graph::Workflow> task_workflow(const std::string& name) {
  auto loaded = graph::load(
      nlohmann::json{{"format", "switchyard.workflow/v1"},
                     {"name", name},
                     {"start", "Start"},
                     {"goal", "Solve"},
                     {"tools",
                      {{"Solve",
                        {{"kind", "llm"},
                         {"prompt", "{{input.task}}"},
                         {"max_tokens", 256},
                         {"output_schema", {{"type", "object"}, {"required", {"answer"}}}}}}}},
                     {"edges", {{"Start", "Solve", 1.0}}}}
          .dump(),
      name + ".json");
  return loaded.workflow;
}

}  // namespace

Result<FrontierResult> run_frontier(const FaultServer& provider, Strategy strategy) {
  auto tier = [&](const std::string& name, const std::string& model, double in, double out) {
    return tools::ModelTier{name, model, provider.url("/v1"), "", in, out, 0, {}};
  };
  const auto cheap = tier("cheap", "quality:0.92:0.05", 1.0, 4.0);
  const auto strong = tier("strong", "quality:0.99:0.95", 5.0, 20.0);
  tools::Models models;
  if (strategy == Strategy::kAlwaysCheap)
    models.tiers = {cheap};
  else if (strategy == Strategy::kAlwaysStrong)
    models.tiers = {strong};
  else
    models.tiers = {cheap, strong};
  auto classify = task_workflow("classify"), analyze = task_workflow("analyze");
  auto classify_tools = tools::make_tool_set(*classify, {.models = &models});
  auto analyze_tools = tools::make_tool_set(*analyze, {.models = &models});
  if (!classify_tools.ok()) return classify_tools.status();
  if (!analyze_tools.ok()) return analyze_tools.status();
  std::vector<int> order(kTasks);
  for (int i = 0; i < kTasks; ++i) order[static_cast<std::size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));

  auto journal = runtime::make_memory_journal();
  runtime::SystemClock clock;
  monitors::HealthTable health(clock);
  runtime::LlmHistory history;
  runtime::RunnerOptions options{.simulate_latency = false,
                                 .models = &models,
                                 .history = strategy == Strategy::kLearned ? &history : nullptr};
  runtime::Runner easy(classify, *classify_tools, *journal, clock, health, options);
  runtime::Runner hard(analyze, *analyze_tools, *journal, clock, health, options);
  int succeeded = 0, llm_calls = 0;
  double spent = 0;
  for (int task : order) {
    const bool is_hard = task >= kEasyTasks;
    runtime::RunRequest request;
    request.input = {{"task", "Task " + std::to_string(task) + (is_hard ? " [hard]" : "")}};
    auto report = (is_hard ? hard : easy).run(request);
    if (!report.ok()) return report.status();
    succeeded += report->result.status == runtime::RunStatus::kCompleted;
    llm_calls += report->result.llm_calls;
    spent += report->result.spent_usd;
  }
  return FrontierResult{succeeded / double{kTasks}, spent / kTasks, llm_calls / double{kTasks}};
}

}  // namespace switchyard::testing
