#include "runtime/machine/run_machine.h"

#include <gtest/gtest.h>

#include "tests/support/graph_builder.h"
#include "tests/support/machine_driver.h"

namespace switchyard::runtime {
namespace {

using testing::build_workflow;
using testing::customer_support_graph;
using testing::drive;
using testing::Script;
using testing::TestGraphSpec;
using testing::VectorSink;
using Names = std::vector<std::string>;

// Start -> A -> B -> C -> Goal is cheap; Start -> D -> Goal is the only other way.
TestGraphSpec deep_dead_end() {
  TestGraphSpec spec;
  spec.edges = {{"Start", "A", 0.1}, {"A", "B", 0.1},     {"B", "C", 0.1},
                {"C", "Goal", 0.1},  {"Start", "D", 5.0}, {"D", "Goal", 0.1}};
  spec.extra_tools = {"UndoA", "UndoB"};
  spec.compensate = {{"A", "UndoA"}, {"B", "UndoB"}};
  return spec;
}

// deep_dead_end() without the way through D: C failing leaves no route at all.
TestGraphSpec no_way_around() {
  TestGraphSpec spec = deep_dead_end();
  spec.edges.pop_back();
  spec.edges.pop_back();
  return spec;
}

// Runs `spec` with `down` failing on every call (unknown before the run).
RunResult drive_with_down(const TestGraphSpec& spec, std::set<std::string> down, VectorSink& sink) {
  auto w = build_workflow(spec);
  Script script;
  script.down = std::move(down);
  return drive(*w, script, sink);
}

Names strings(const nlohmann::json& array) { return array.get<Names>(); }

TEST(RunMachine, CompletesTheCheapestRouteWhenEverythingIsHealthy) {
  auto w = build_workflow(customer_support_graph());
  VectorSink sink;
  RunResult r = drive(*w, {}, sink);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.path, (Names{"Start", "CRM", "Stripe", "Email", "Complete"}));
  EXPECT_EQ(r.reroutes, 0);
  EXPECT_EQ(r.llm_calls, 0);
}

TEST(RunMachine, ExcludesKnownDownToolsBeforeTheFirstStep) {
  auto w = build_workflow(customer_support_graph());
  VectorSink sink;
  RunResult r = drive(*w, {}, sink, {"Stripe"});
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.path, (Names{"Start", "CRM", "Razorpay", "Email", "Complete"}));
  EXPECT_EQ(sink.started(), (Names{"CRM", "Razorpay", "Email", "Complete"}));
  const auto plan = sink.of("plan").at(0);
  EXPECT_EQ(strings(plan["avoided"]), (Names{"Stripe"}));
  EXPECT_EQ(r.reroutes, 0);
}

TEST(RunMachine, UnreachableGoalEscalatesWithoutRunningAnyTool) {
  auto w = build_workflow(customer_support_graph());
  VectorSink sink;
  RunResult r = drive(*w, {}, sink, {"Stripe", "Razorpay"});
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_EQ(r.path, (Names{"Start"}));
  EXPECT_TRUE(sink.started().empty());
  EXPECT_EQ(r.blocked, (Names{"Razorpay", "Stripe"}));
  EXPECT_EQ(strings(sink.of("escalated").at(0)["blocked"]), (Names{"Razorpay", "Stripe"}));
}

TEST(RunMachine, MidRunFailureReroutesFromTheCurrentNode) {
  auto w = build_workflow(customer_support_graph());
  VectorSink sink;
  Script script;
  script.down = {"Stripe"};  // unknown before the run
  RunResult r = drive(*w, script, sink);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.path, (Names{"Start", "CRM", "Razorpay", "Email", "Complete"}));
  EXPECT_EQ(sink.started(), (Names{"CRM", "Stripe", "Razorpay", "Email", "Complete"}));
  ASSERT_EQ(sink.of("reroute").size(), 1u);
  const auto reroute = sink.of("reroute")[0];
  EXPECT_EQ(reroute["at"], "CRM");
  EXPECT_EQ(reroute["failed_tool"], "Stripe");
  EXPECT_EQ(strings(reroute["old_route"]), (Names{"CRM", "Stripe", "Email", "Complete"}));
  EXPECT_EQ(strings(reroute["new_route"]), (Names{"CRM", "Razorpay", "Email", "Complete"}));
  EXPECT_EQ(r.reroutes, 1);
  EXPECT_EQ(r.llm_calls, 0);
}

TEST(RunMachine, FailedToolStaysExcludedForTheRestOfTheRun) {
  // Email fails on its first call; the run must not try Email again after rerouting.
  auto w = build_workflow(customer_support_graph());
  VectorSink sink;
  Script script;
  script.fail_calls = {{"Email", {1}}};
  RunResult r = drive(*w, script, sink);
  EXPECT_EQ(r.path, (Names{"Start", "CRM", "Stripe", "SMS", "Complete"}));
}

TEST(RunMachine, BacktracksAndCompensatesAbandonedStepsInReverseOrder) {
  VectorSink sink;
  RunResult r = drive_with_down(deep_dead_end(), {"C"}, sink);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.path, (Names{"Start", "D", "Goal"}));
  ASSERT_EQ(sink.of("backtrack").size(), 1u);
  const auto backtrack = sink.of("backtrack")[0];
  EXPECT_EQ(backtrack["from"], "B");
  EXPECT_EQ(backtrack["to"], "Start");
  EXPECT_EQ(strings(backtrack["abandoned"]), (Names{"A", "B"}));
  const auto compensations = sink.of("compensation");
  ASSERT_EQ(compensations.size(), 2u);
  EXPECT_EQ(compensations[0]["for_tool"], "B");
  EXPECT_EQ(compensations[0]["tool"], "UndoB");
  EXPECT_EQ(compensations[1]["for_tool"], "A");
  EXPECT_EQ(r.backtracks, 1);
  // Compensations run before the run moves on.
  const auto types = sink.types();
  const auto last_comp = std::find(types.rbegin(), types.rend(), "compensation");
  const auto d_start = std::find_if(sink.events.begin(), sink.events.end(), [](const auto& e) {
    return e.type == "step_started" && e.payload["tool"] == "D";
  });
  EXPECT_LT(std::distance(types.begin(), last_comp.base()) - 1,
            std::distance(sink.events.begin(), d_start));
}

TEST(RunMachine, FailedCompensationEscalates) {
  VectorSink sink;
  RunResult r = drive_with_down(deep_dead_end(), {"C", "UndoB"}, sink);
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  const auto compensations = sink.of("compensation");
  ASSERT_EQ(compensations.size(), 1u);  // UndoA is left for a human, not attempted blindly
  EXPECT_FALSE(compensations[0]["ok"].get<bool>());
  EXPECT_EQ(sink.of("escalated").at(0)["reason"], "compensation_failed");
}

TEST(RunMachine, DeadEndAfterSomeStepsLeavesThemForAHumanByDefault) {
  VectorSink sink;
  RunResult r = drive_with_down(no_way_around(), {"C"}, sink);
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_TRUE(sink.of("compensation").empty());
  EXPECT_EQ(r.blocked, (Names{"C"}));
}

TEST(RunMachine, DeadEndAfterSomeStepsIsCompensatedWhenPolicyAsks) {
  TestGraphSpec spec = no_way_around();
  spec.compensate_on_escalation = true;
  VectorSink sink;
  RunResult r = drive_with_down(spec, {"C"}, sink);
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  const auto compensations = sink.of("compensation");
  ASSERT_EQ(compensations.size(), 2u);
  EXPECT_EQ(compensations[0]["for_tool"], "B");
  EXPECT_EQ(compensations[1]["for_tool"], "A");
}

TestGraphSpec with_fallback_goals() {
  TestGraphSpec spec = customer_support_graph();
  spec.edges.push_back({"CRM", "Queue", 1.0});
  spec.edges.push_back({"CRM", "Ticket", 1.0});
  spec.demote_to = {"Queue", "Ticket"};
  return spec;
}

TestGraphSpec with_fallback_goals_and_advisor() {
  TestGraphSpec spec = with_fallback_goals();
  spec.advisor = "Advisor";
  return spec;
}

TEST(RunMachine, DemotesToTheFirstReachableFallbackWithoutAnAdvisor) {
  auto w = build_workflow(with_fallback_goals());
  VectorSink sink;
  RunResult r = drive(*w, {}, sink, {"Stripe", "Razorpay"});
  EXPECT_EQ(r.status, RunStatus::kDemoted);
  EXPECT_EQ(r.goal, "Queue");
  EXPECT_EQ(r.path, (Names{"Start", "CRM", "Queue"}));
  EXPECT_EQ(r.llm_calls, 0);
  const auto demoted = sink.of("goal_demoted").at(0);
  EXPECT_EQ(demoted["decided_by"], "rule");
  EXPECT_EQ(strings(demoted["blocked"]), (Names{"Razorpay", "Stripe"}));
}

TEST(RunMachine, AdvisorChoosesAmongReachableFallbacks) {
  auto w = build_workflow(with_fallback_goals_and_advisor());
  VectorSink sink;
  Script script;
  nlohmann::json offered;
  script.advisor = [&](const nlohmann::json& context) {
    offered = context["options"];
    return nlohmann::json{{"action", "demote"}, {"goal", "Ticket"}};
  };
  RunResult r = drive(*w, script, sink, {"Stripe", "Razorpay"});
  EXPECT_EQ(offered, (nlohmann::json{"Queue", "Ticket"}));
  EXPECT_EQ(r.status, RunStatus::kDemoted);
  EXPECT_EQ(r.goal, "Ticket");
  EXPECT_EQ(r.llm_calls, 1);
  EXPECT_EQ(sink.of("goal_demoted").at(0)["decided_by"], "advisor");
}

TEST(RunMachine, AdvisorAnswerNamingNoOptionEscalates) {
  auto w = build_workflow(with_fallback_goals_and_advisor());
  VectorSink sink;
  Script script;
  script.advisor = [](const nlohmann::json&) {
    return nlohmann::json{{"action", "demote"}, {"goal", "Complete"}};
  };
  RunResult r = drive(*w, script, sink, {"Stripe", "Razorpay"});
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_EQ(r.llm_calls, 1);
}

TEST(RunMachine, AdvisorIsNotCalledWhenThereIsNoChoiceToMake) {
  TestGraphSpec spec = customer_support_graph();
  spec.advisor = "Advisor";
  auto w = build_workflow(spec);
  VectorSink sink;
  Script script;
  bool called = false;
  script.advisor = [&](const nlohmann::json&) {
    called = true;
    return nlohmann::json{{"action", "escalate"}};
  };
  RunResult r = drive(*w, script, sink, {"Stripe", "Razorpay"});
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_FALSE(called);
  EXPECT_EQ(r.llm_calls, 0);
}

TEST(RunMachine, MaxReroutesBoundsHealing) {
  TestGraphSpec spec = customer_support_graph();
  spec.max_reroutes = 1;
  VectorSink sink;
  RunResult r = drive_with_down(spec, {"Stripe", "Email"}, sink);
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_EQ(r.reroutes, 1);
  EXPECT_EQ(sink.of("escalated").at(0)["reason"], "max_reroutes");
}

TEST(RunMachine, RetriesTheSameToolBeforeTheFailureCounts) {
  TestGraphSpec spec = customer_support_graph();
  spec.retries = {{"Stripe", 2}};
  auto w = build_workflow(spec);
  VectorSink sink;
  Script script;
  script.fail_calls = {{"Stripe", {1, 2}}};
  RunResult r = drive(*w, script, sink);
  EXPECT_EQ(r.path, (Names{"Start", "CRM", "Stripe", "Email", "Complete"}));
  EXPECT_EQ(sink.of("step_retry").size(), 2u);
  EXPECT_TRUE(sink.of("reroute").empty());
}

TEST(RunMachine, RetriesExhaustedThenReroutes) {
  TestGraphSpec spec = customer_support_graph();
  spec.retries = {{"Stripe", 1}};
  VectorSink sink;
  RunResult r = drive_with_down(spec, {"Stripe"}, sink);
  EXPECT_EQ(sink.of("step_retry").size(), 1u);
  EXPECT_EQ(sink.of("step_failed").size(), 1u);
  EXPECT_EQ(r.path[2], "Razorpay");
}

TEST(RunMachine, CyclesTerminateUnderRepeatedFailures) {
  TestGraphSpec spec;
  spec.edges = {{"Start", "A", 0.1}, {"A", "B", 0.1}, {"B", "A", 0.1},
                {"B", "Goal", 0.1},  {"A", "C", 1.0}, {"C", "Goal", 0.1}};
  VectorSink sink;
  RunResult r = drive_with_down(spec, {"Goal"}, sink);
  EXPECT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_LE(sink.started().size(), 6u);
}

TEST(RunMachine, SameOutcomesGiveTheSameEvents) {
  auto w = build_workflow(deep_dead_end());
  Script script;
  script.down = {"C"};
  VectorSink first, second;
  drive(*w, script, first);
  drive(*w, script, second);
  ASSERT_EQ(first.events.size(), second.events.size());
  for (std::size_t i = 0; i < first.events.size(); ++i) {
    EXPECT_EQ(first.events[i].type, second.events[i].type);
    EXPECT_EQ(first.events[i].payload, second.events[i].payload);
  }
}

TEST(RunMachine, LlmCallBudgetSkipsTheAdvisorAndFallsBackToTheRule) {
  auto w = build_workflow(with_fallback_goals_and_advisor());
  VectorSink sink;
  RunMachineOptions options;
  options.budget.llm_calls = 0;
  RunResult r = drive(*w, {}, sink, {"Stripe", "Razorpay"}, options);
  EXPECT_EQ(r.status, RunStatus::kDemoted);
  EXPECT_EQ(r.goal, "Queue");
  EXPECT_EQ(r.llm_calls, 0);
  EXPECT_EQ(sink.of("advisor_skipped").size(), 1u);
}

}  // namespace
}  // namespace switchyard::runtime
