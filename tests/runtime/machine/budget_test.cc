// The budget controller: llm steps start on the cheapest tier that fits, hard steps on the
// strongest that fits (downgrading to fit), escalate after unusable answers or provider failures,
// never make a call whose worst case the budget cannot cover. Against the fake chat API over HTTP.

#include <gtest/gtest.h>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/run_setup.h"
#include "runtime/engine/runner.h"
#include "tests/support/fault_server.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using testing::FaultServer;

tools::Models tiers(const FaultServer& server, const std::string& cheap_model,
                    const std::string& strong_model) {
  tools::Models m;
  m.tiers.push_back({"cheap", cheap_model, server.url("/v1"), "", 1000, 2000, 0, {}});
  m.tiers.push_back({"strong", strong_model, server.url("/v1"), "", 10000, 20000, 0, {}});
  return m;
}

// Start -> Summarize (llm) -> Done, or Start -> Manual (mock) -> Done at a higher cost.
std::shared_ptr<const graph::Workflow> summarize_workflow(const std::string& difficulty,
                                                          const std::string& budget = "") {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "b", "start": "Start",
    "goal": "Done", "tools": {
      "Summarize": {"kind": "llm", "prompt": "Summarize {{input.text}}", "max_tokens": 64,
                    "difficulty": ")" +
                                difficulty + R"(",
                    "output_schema": {"type": "object", "required": ["answer"]}},
      "Manual": {"kind": "mock"}, "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Summarize", 1], ["Summarize", "Done", 0], ["Start", "Manual", 5],
              ["Manual", "Done", 0]])" +
                                budget + "}",
                            "b.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

struct BudgetRun {
  RunReport report;
  std::vector<Event> events;
  std::vector<nlohmann::json> of(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : events) {
      if (e.type == type) out.push_back(e.payload);
    }
    return out;
  }
};

// One run of `w` with the process's `clock` and `health` (shared by the runs of a test).
BudgetRun run_in(const std::shared_ptr<const graph::Workflow>& w, const tools::Models& models,
                 Clock& clock, monitors::HealthTable& health) {
  auto tool_set = tools::make_tool_set(*w, {.models = &models});
  EXPECT_TRUE(tool_set.ok()) << tool_set.status().message();
  auto journal = make_memory_journal();
  Runner runner(w, *tool_set, *journal, clock, health, {.models = &models});
  RunRequest request;
  request.run_id = "r1";
  request.input = {{"text", "the quarterly report"}};
  auto report = runner.run(request);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return {*report, *journal->events("r1")};
}

BudgetRun run_budgeted(const std::shared_ptr<const graph::Workflow>& w,
                       const tools::Models& models) {
  SystemClock clock;
  monitors::HealthTable health(clock);
  return run_in(w, models, clock, health);
}

TEST(Budget, StartsCheapAndEscalatesWhenTheAnswerFailsValidation) {
  FaultServer provider;
  auto models = tiers(provider, "wrong-shape", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("easy"), models);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Summarize", "Done"}));
  auto decisions = ran.of("llm_decision");
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[0]["tier"], "cheap");
  EXPECT_EQ(decisions[0]["reason"], "the cheapest tier that fits");
  EXPECT_EQ(decisions[1]["tier"], "strong");
  EXPECT_EQ(decisions[1]["reason"], "escalate after schema_invalid on cheap");
  auto settled = ran.of("llm_settled");
  ASSERT_EQ(settled.size(), 2u);
  EXPECT_FALSE(settled[0]["ok"].get<bool>());
  EXPECT_TRUE(settled[1]["ok"].get<bool>());
  EXPECT_EQ(ran.report.result.llm_calls, 2);
  EXPECT_NEAR(ran.report.result.spent_usd,
              settled[0]["cost_usd"].get<double>() + settled[1]["cost_usd"].get<double>(), 1e-12);
  EXPECT_EQ(ran.report.result.reroutes, 0);
}

TEST(Budget, HardStepsStartOnTheStrongestTierThatFits) {
  FaultServer provider;
  auto models = tiers(provider, "ok", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("hard"), models);
  auto decisions = ran.of("llm_decision");
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0]["tier"], "strong");
}

TEST(Budget, AHardStepDowngradesWhenTheStrongTierDoesNotFit) {
  // Worst cases: cheap ~0.28 USD, strong ~2.8 USD (prompt bound x input price + 64 x output).
  FaultServer provider;
  auto models = tiers(provider, "ok", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("hard", R"(, "budget": {"usd": 1.0})"), models);
  auto decisions = ran.of("llm_decision");
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0]["tier"], "cheap");
  EXPECT_LE(ran.report.result.spent_usd, 1.0);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Summarize", "Done"}));
}

TEST(Budget, ACallNoTierCanAffordIsNotMadeAndTheRunRoutesAround) {
  FaultServer provider;
  auto models = tiers(provider, "ok", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("easy", R"(, "budget": {"usd": 0.05})"), models);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Manual", "Done"}));
  EXPECT_EQ(provider.stats()["requests"], 0);  // nothing was sent
  auto failed = ran.of("step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["failure"], "budget_exhausted");
  EXPECT_EQ(ran.report.result.spent_usd, 0.0);
}

TEST(Budget, EscalationStopsWhereTheBudgetEnds) {
  // Cheap answers badly; the strong tier would fix it but does not fit: the step fails for good.
  FaultServer provider;
  auto models = tiers(provider, "wrong-shape", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("easy", R"(, "budget": {"usd": 1.0})"), models);
  EXPECT_EQ(ran.of("llm_decision").size(), 1u);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Manual", "Done"}));
  EXPECT_LE(ran.report.result.spent_usd, 1.0);
}

TEST(Budget, AProviderFailingOnEveryTierFailsTheStepIntoAReroute) {
  FaultServer provider;
  auto models = tiers(provider, "status-500", "status-500");
  BudgetRun ran = run_budgeted(summarize_workflow("easy"), models);
  EXPECT_EQ(ran.of("llm_decision").size(), 2u);
  EXPECT_EQ(provider.stats()["by_path"]["/v1/chat/completions"], 2);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Manual", "Done"}));
  EXPECT_EQ(ran.report.result.reroutes, 1);
}

TEST(Budget, ABudgetThatRunsOutMidRunEscalatesWithNothingSpentPastTheCap) {
  // Two llm steps in a row, no way around them; the budget covers the first call's worst case
  // (~$0.237) but not, after its actual cost (~$0.016), the second's (~$0.238).
  FaultServer provider;
  auto models = tiers(provider, "ok", "ok");
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "two", "start": "Start",
    "goal": "Second", "tools": {
      "First": {"kind": "llm", "prompt": "First on {{input.text}}", "max_tokens": 64},
      "Second": {"kind": "llm", "prompt": "Second on {{input.text}}", "max_tokens": 64}},
    "edges": [["Start", "First", 1], ["First", "Second", 1]],
    "budget": {"usd": 0.24}})",
                            "two.json");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  BudgetRun ran = run_budgeted(loaded.workflow, models);
  EXPECT_EQ(ran.report.result.status, RunStatus::kEscalated);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "First"}));
  EXPECT_LE(ran.report.result.spent_usd, 0.24);
  auto escalated = ran.of("escalated");
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0]["reason"], "budget_exhausted");
  EXPECT_EQ(provider.stats()["by_path"]["/v1/chat/completions"], 1);  // Second was never sent
}

TEST(Budget, ARateLimitedCheapTierDoesNotBlockEscalationToTheStrongTier) {
  FaultServer provider;
  auto models = tiers(provider, "ratelimit", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("easy"), models);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Summarize", "Done"}));
  auto decisions = ran.of("llm_decision");
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["reason"], "escalate after rate_limited on cheap");
}

TEST(Budget, ATierTheMonitorHoldsDownIsSkippedWithoutASettlement) {
  // Run 1's 429 puts the cheap tier on Retry-After (the clock stands still): run 2's cheap call
  // is refused before it is sent, has no llm_settled, and the step escalates to the strong tier.
  FaultServer provider;
  auto models = tiers(provider, "ratelimit", "ok");
  ManualClock clock;
  monitors::HealthTable health(clock);
  run_in(summarize_workflow("easy"), models, clock, health);
  BudgetRun second = run_in(summarize_workflow("easy"), models, clock, health);
  EXPECT_EQ(second.report.result.path, (std::vector<std::string>{"Start", "Summarize", "Done"}));
  auto decisions = second.of("llm_decision");
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["reason"], "escalate after unavailable on cheap");
  auto settled = second.of("llm_settled");
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled[0]["tier"], "strong");
  EXPECT_EQ(second.report.result.llm_calls, 1);
  EXPECT_EQ(provider.stats()["by_path"]["/v1/chat/completions"], 3);
}

TEST(Budget, UsageAboveTheReservationIsChargedAsReportedAndJournaled) {
  FaultServer provider;
  auto models = tiers(provider, "ok+usage:5000:10", "ok");
  BudgetRun ran = run_budgeted(summarize_workflow("easy"), models);
  auto settled = ran.of("llm_settled");
  ASSERT_EQ(settled.size(), 1u);
  ASSERT_TRUE(settled[0].contains("over_reservation")) << settled[0];
  EXPECT_EQ(ran.report.result.tokens, 5010);
  EXPECT_NEAR(ran.report.result.spent_usd, (5000 * 1000.0 + 10 * 2000.0) / 1e6, 1e-12);
}

TEST(Budget, AProviderThatHangsTimesOutAndEscalates) {
  FaultServer provider;
  auto models = tiers(provider, "hang", "ok");
  models.tiers[0].timeout = std::chrono::milliseconds(200);
  BudgetRun ran = run_budgeted(summarize_workflow("easy"), models);
  auto decisions = ran.of("llm_decision");
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["reason"], "escalate after timeout on cheap");
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Summarize", "Done"}));
}

TEST(Budget, LearnedEscalationGoesStraightToTheStrongTierWhereTheCheapOneUsuallyFails) {
  // The cheap tier answers usably 1 time in 10 on this step; after 5 runs of evidence, paying for
  // cheap-then-strong costs more than strong alone, so runs start on strong.
  FaultServer provider;
  auto models = tiers(provider, "quality:0.1:0.1", "ok");
  auto w = summarize_workflow("easy");
  auto tool_set = tools::make_tool_set(*w, {.models = &models});
  auto journal = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  LlmHistory history;
  Runner runner(w, *tool_set, *journal, clock, health, {.models = &models, .history = &history});
  std::vector<std::string> first_tiers;
  for (int i = 0; i < 8; ++i) {
    RunRequest request;
    request.run_id = "r" + std::to_string(i);
    request.input = {{"text", "report " + std::to_string(i)}};
    ASSERT_TRUE(runner.run(request).ok());
    auto events = journal->events(request.run_id);
    ASSERT_TRUE(events.ok());
    for (const auto& e : *events) {
      if (e.type == "llm_decision") {
        first_tiers.push_back(e.payload["tier"]);
        if (i >= 6) {
          EXPECT_EQ(e.payload["reason"].get<std::string>().rfind("learned: ", 0), 0u);
        }
        break;
      }
    }
  }
  ASSERT_EQ(first_tiers.size(), 8u);
  EXPECT_EQ(first_tiers[0], "cheap");   // learning: cascade
  EXPECT_EQ(first_tiers[7], "strong");  // learned
  EXPECT_GE(history.stats("b", "Summarize", "cheap").calls, LlmHistory::kMinSamples);
  // Another process learns it again from the journal.
  LlmHistory rebuilt;
  ASSERT_TRUE(rebuilt.rebuild(*journal).ok());
  std::string why;
  EXPECT_EQ(rebuilt.start_tier("b", "Summarize", tier_prices(&models), &why), 1);
}

}  // namespace
}  // namespace switchyard::runtime
