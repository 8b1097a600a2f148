// The hard cap holds for every LLM call: the advisor's, escalations, concurrent fan-out branches
// (a call slot is reserved like USD and tokens), calls aborted by a decided join (charged their
// worst case), and usage above the reservation (charged, journaled). The machine alone, with
// scripted answers: no tools, clocks or journal.

#include <gtest/gtest.h>

#include <functional>

#include "graph/load.h"
#include "runtime/machine/run_machine.h"
#include "tests/support/machine_driver.h"

namespace switchyard::runtime {
namespace {

using testing::drive_calls;
using testing::VectorSink;

// A run of `w` on two tiers (cheap, strong), each call answered by `answer`.
struct CapRun {
  VectorSink sink;
  RunResult result;
  testing::Driven driven;
};

CapRun run_capped(const graph::Workflow& w,
                  const std::function<tools::Outcome(const Action&)>& answer) {
  CapRun ran;
  RunMachineOptions options;
  options.tiers = {{"cheap", 1000, 2000}, {"strong", 10000, 20000}};
  RunMachine machine(w, nlohmann::json::object(), graph::FixedHealth(w.tools().size()), ran.sink,
                     options);
  ran.driven = drive_calls(w, machine, answer);
  ran.result = machine.result();
  return ran;
}

std::shared_ptr<const graph::Workflow> load(const std::string& doc) {
  auto loaded = graph::load(doc, "w.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// A model's answer: usage (in, out) priced at `tier` of run_capped().
tools::Outcome answer(bool ok, int tier, std::int64_t in, std::int64_t out) {
  const double prices[2][2] = {{1000, 2000}, {10000, 20000}};
  tools::Outcome o = ok ? tools::Outcome::success({{"answer", "ok"}})
                        : tools::Outcome::failed(tools::FailureKind::kSchemaInvalid, "bad");
  o.llm_call = true;
  o.tier = tier;
  o.tokens = in + out;
  o.cost_usd =
      (static_cast<double>(in) * prices[tier][0] + static_cast<double>(out) * prices[tier][1]) /
      1e6;
  return o;
}

// Start -> Pay -> Complete; fallback goals Queue and Ticket; an llm advisor chooses.
std::shared_ptr<const graph::Workflow> advised(const std::string& budget) {
  return load(R"({"format": "switchyard.workflow/v1", "name": "adv", "start": "Start",
    "goal": "Complete", "demote_to": ["Queue", "Ticket"], "escalation": {"advisor": "Advisor"},
    "tools": {"Pay": {"kind": "mock"}, "Complete": {"kind": "mock"}, "Queue": {"kind": "mock"},
      "Ticket": {"kind": "mock"},
      "Advisor": {"kind": "llm", "prompt": "Options: {{options}}", "max_tokens": 100}},
    "edges": [["Start", "Pay", 1], ["Pay", "Complete", 1], ["Start", "Queue", 2],
              ["Start", "Ticket", 3]], "budget": )" +
              budget + "}");
}

tools::Outcome step_answer(const graph::Workflow& w, const Action& a) {
  if (w.tool(a.tool).id == "Pay")
    return tools::Outcome::failed(tools::FailureKind::kInjected, "down");
  if (a.purpose == Action::Purpose::kAdvisor) {
    tools::Outcome o = answer(true, a.tier, 20, 10);
    o.output = {{"action", "demote"}, {"goal", "Ticket"}};
    return o;
  }
  return tools::Outcome::success({{"tool", w.tool(a.tool).id}});
}

TEST(BudgetCap, AnAdvisorWhoseWorstCaseDoesNotFitIsSkippedAndTheRuleDecides) {
  auto w = advised(R"({"usd": 0.000001})");
  CapRun ran = run_capped(*w, [&](const Action& a) { return step_answer(*w, a); });
  for (const auto& c : ran.driven.calls) EXPECT_NE(c.purpose, Action::Purpose::kAdvisor);
  EXPECT_EQ(ran.result.status, RunStatus::kDemoted);
  EXPECT_EQ(ran.result.goal, "Queue");
  ASSERT_EQ(ran.sink.of("advisor_skipped").size(), 1u);
  EXPECT_NE(ran.sink.of("advisor_skipped")[0]["reason"].get<std::string>().find("worst case"),
            std::string::npos);
  EXPECT_EQ(ran.result.spent_usd, 0);
}

TEST(BudgetCap, TheAdvisorCallIsReservedOnATierAndSettled) {
  auto w = advised(R"({"usd": 1})");
  CapRun ran = run_capped(*w, [&](const Action& a) { return step_answer(*w, a); });
  EXPECT_EQ(ran.result.goal, "Ticket");
  ASSERT_EQ(ran.sink.of("llm_decision").size(), 1u);
  EXPECT_EQ(ran.sink.of("llm_decision")[0]["purpose"], "advisor");
  EXPECT_EQ(ran.sink.of("llm_decision")[0]["tier"], "cheap");
  ASSERT_EQ(ran.sink.of("llm_settled").size(), 1u);
  EXPECT_EQ(ran.sink.of("llm_settled")[0]["purpose"], "advisor");
  EXPECT_DOUBLE_EQ(ran.result.spent_usd, answer(true, 0, 20, 10).cost_usd);
}

// Start -> Ask (llm) -> Done, or Start -> Manual -> Done at a higher cost.
std::shared_ptr<const graph::Workflow> one_llm_step(const std::string& budget) {
  return load(R"({"format": "switchyard.workflow/v1", "name": "one", "start": "Start",
    "goal": "Done", "tools": {"Ask": {"kind": "llm", "prompt": "Say ok", "max_tokens": 50},
      "Manual": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "edges": [["Start", "Ask", 1], ["Ask", "Done", 0], ["Start", "Manual", 5],
              ["Manual", "Done", 0]], "budget": )" +
              budget + "}");
}

TEST(BudgetCap, EscalationNeedsAFreeLlmCallSlot) {
  auto w = one_llm_step(R"({"llm_calls": 1})");
  CapRun ran = run_capped(*w, [&](const Action& a) {
    return a.tier >= 0 ? answer(false, a.tier, 10, 10) : tools::Outcome::success({});
  });
  EXPECT_EQ(ran.result.llm_calls, 1);
  ASSERT_EQ(ran.sink.of("step_failed").size(), 1u);
  EXPECT_EQ(ran.sink.of("step_failed")[0]["failure"], "budget_exhausted");
  EXPECT_EQ(ran.result.path.back(), "Done");  // routed around through Manual
}

TEST(BudgetCap, ABudgetThatBlocksTheOnlyEscalationEndsTheRunBudgetExhausted) {
  auto w = load(R"({"format": "switchyard.workflow/v1", "name": "one", "start": "Start",
    "goal": "Done", "tools": {"Ask": {"kind": "llm", "prompt": "Say ok", "max_tokens": 50},
      "Done": {"kind": "mock"}},
    "edges": [["Start", "Ask", 1], ["Ask", "Done", 0]], "budget": {"llm_calls": 1}})");
  CapRun ran = run_capped(*w, [&](const Action& a) { return answer(false, a.tier, 10, 10); });
  EXPECT_EQ(ran.result.status, RunStatus::kEscalated);
  ASSERT_EQ(ran.sink.of("escalated").size(), 1u);
  EXPECT_EQ(ran.sink.of("escalated")[0]["reason"], "budget_exhausted");
}

// Start -> Fan (two llm branches, joined by `join`) -> Done, or Start -> Manual -> Done.
std::shared_ptr<const graph::Workflow> two_branches(const std::string& join,
                                                    const std::string& budget) {
  return load(R"({"format": "switchyard.workflow/v1", "name": "fan", "start": "Start",
    "goal": "Done", "tools": {
      "A": {"kind": "llm", "prompt": "Task a", "max_tokens": 50},
      "B": {"kind": "llm", "prompt": "Task b", "max_tokens": 50},
      "Manual": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "nodes": {"Fan": {"fanout": {"join": ")" +
              join + R"(", "branches": [
      {"start": "As", "goal": "A", "edges": [["As", "A", 1]]},
      {"start": "Bs", "goal": "B", "edges": [["Bs", "B", 1]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Done", 0], ["Start", "Manual", 9],
              ["Manual", "Done", 0]], "budget": )" +
              budget + "}");
}

TEST(BudgetCap, ConcurrentBranchesShareTheLlmCallCap) {
  auto w = two_branches("all", R"({"llm_calls": 1})");
  CapRun ran = run_capped(*w, [&](const Action& a) {
    return a.tier >= 0 ? answer(true, a.tier, 10, 10) : tools::Outcome::success({});
  });
  int llm = 0;
  for (const auto& c : ran.driven.calls) llm += c.tier >= 0;
  EXPECT_EQ(llm, 1);
  EXPECT_EQ(ran.result.llm_calls, 1);
}

TEST(BudgetCap, ACallAbortedByADecidedJoinIsChargedItsWorstCase) {
  auto w = two_branches("any", R"({"usd": 1})");
  CapRun ran = run_capped(*w, [&](const Action& a) {
    return a.tier >= 0 ? answer(true, a.tier, 10, 10) : tools::Outcome::success({});
  });
  ASSERT_EQ(ran.driven.aborted.size(), 1u);
  EXPECT_EQ(ran.result.status, RunStatus::kCompleted);
  const auto decisions = ran.sink.of("llm_decision");
  ASSERT_EQ(decisions.size(), 2u);
  const double aborted_worst = decisions[1]["reserved_usd"].get<double>();
  EXPECT_DOUBLE_EQ(ran.result.spent_usd, answer(true, 0, 10, 10).cost_usd + aborted_worst);
  EXPECT_EQ(ran.result.llm_calls, 2);
  const auto settled = ran.sink.of("llm_settled");
  ASSERT_EQ(settled.size(), 2u);
  EXPECT_EQ(settled[1].value("aborted", false), true);
}

TEST(BudgetCap, UsageAboveTheReservationIsChargedAndJournaledAndStopsFurtherCalls) {
  auto w = one_llm_step(R"({"tokens": 400})");
  // A dishonest provider: 1,000 tokens for a call whose worst case is well under 400.
  CapRun ran = run_capped(*w, [&](const Action& a) {
    return a.tier >= 0 ? answer(false, a.tier, 900, 100) : tools::Outcome::success({});
  });
  EXPECT_EQ(ran.result.tokens, 1000);  // what the provider billed, not hidden
  const auto settled = ran.sink.of("llm_settled");
  ASSERT_EQ(settled.size(), 1u);
  ASSERT_TRUE(settled[0].contains("over_reservation"));
  EXPECT_GT(settled[0]["over_reservation"]["tokens"].get<std::int64_t>(), 0);
  int llm = 0;
  for (const auto& c : ran.driven.calls) llm += c.tier >= 0;
  EXPECT_EQ(llm, 1);  // no escalation once the cap is passed
}

TEST(BudgetCap, ACallTheMonitorRefusedIsNotSettledAndEscalates) {
  auto w = one_llm_step(R"({"usd": 5})");
  CapRun ran = run_capped(*w, [&](const Action& a) {
    if (a.tier < 0) return tools::Outcome::success({});
    if (a.tier == 0)
      return tools::Outcome::failed(tools::FailureKind::kUnavailable, "breaker open");
    return answer(true, a.tier, 10, 10);
  });
  EXPECT_EQ(ran.result.status, RunStatus::kCompleted);
  const auto settled = ran.sink.of("llm_settled");
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled[0]["tier"], "strong");
  EXPECT_EQ(ran.result.llm_calls, 1);
  EXPECT_DOUBLE_EQ(ran.result.spent_usd, answer(true, 1, 10, 10).cost_usd);
}

}  // namespace
}  // namespace switchyard::runtime
