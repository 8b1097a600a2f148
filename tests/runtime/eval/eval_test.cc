// Scenario evaluation: Switchyard against the paper's bar, the baselines against the paper's
// figures for them, and the journal audit that measures silent failures.

#include "runtime/eval/eval.h"

#include <gtest/gtest.h>

#include <map>

#include "graph/load.h"
#include "runtime/base/workflow_file.h"
#include "runtime/eval/audit.h"
#include "runtime/eval/baselines.h"
#include "tests/support/run_command.h"

namespace switchyard::runtime {
namespace {

using testing::paper_scenario;

std::string paper_dir() { return std::string(SWITCHYARD_PAPER_DIR); }

std::shared_ptr<const graph::Workflow> load_variant(
    const std::string& id, const std::function<void(nlohmann::json&)>& edit) {
  auto text = read_file(paper_scenario(id));
  EXPECT_TRUE(text.ok());
  auto doc = nlohmann::json::parse(*text);
  edit(doc);
  auto loaded = graph::load(doc.dump(), id + "-variant.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

TEST(Eval, PaperSuiteIsAllCorrectWithNoSilentFailures) {
  auto report = evaluate({paper_dir()}, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->totals.scenarios, 19);
  EXPECT_EQ(report->totals.correct, 19);
  EXPECT_EQ(report->totals.silent_failures, 0);
  EXPECT_EQ(report->totals.side_effects_abandoned, 0);
  EXPECT_LE(report->totals.llm_calls, 7);
}

TEST(Eval, FanoutScenariosHealInsideBranchesAndAroundFailedJoins) {
  // tests/scenarios: the paper's format, with a fan-out node (FO-1 .. FO-4).
  auto report = evaluate({testing::source_path("tests/scenarios")}, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->totals.scenarios, 4);
  EXPECT_EQ(report->totals.correct, 4);
  EXPECT_EQ(report->totals.silent_failures, 0);
  EXPECT_EQ(report->totals.side_effects_abandoned, 0);
  EXPECT_EQ(report->totals.llm_calls, 0);
}

TEST(Eval, ConditionScenariosTakeTheBranchTheirConditionsChooseAndNeverSkipSilently) {
  // tests/scenarios/conditions: CD-1 .. CD-3 (docs/eval.md).
  auto report = evaluate({testing::source_path("tests/scenarios/conditions")}, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->totals.scenarios, 3);
  EXPECT_EQ(report->totals.correct, 3);
  EXPECT_EQ(report->totals.silent_failures, 0);
  EXPECT_EQ(report->totals.side_effects_abandoned, 0);
  EXPECT_EQ(report->totals.llm_calls, 0);
  for (const auto& r : report->scenarios) {
    EXPECT_TRUE(r.replay_ok) << r.id;
    EXPECT_TRUE(r.findings.empty()) << r.id << ": " << r.findings.front();
  }
}

TEST(Audit, AKnownDownToolBehindAnEdgeItsConditionClosedIsNoSilentFailure) {
  // Fast is the cheapest way, but only for VIPs; this run's input is not one, and Fast is down.
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "vip",
      "start": "Start", "goal": "Done",
      "tools": {"Slow": {"kind": "mock"}, "Fast": {"kind": "mock"}, "Done": {"kind": "mock"}},
      "edges": [["Start", "Slow", 1.0], ["Slow", "Done", 0.1],
                ["Start", "Fast", 0.1, {"ptr": "/input/vip", "eq": true}], ["Fast", "Done", 0.1]],
      "scenario": {"id": "VIP", "down": ["Fast"], "known": true,
                   "expect": {"status": "completed", "path": ["Start", "Slow", "Done"]}}})",
                            "vip.json");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  auto r = evaluate_scenario(*loaded.workflow, "vip.json");
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.silent_failures, 0) << (r.findings.empty() ? "" : r.findings.front());
  // The same known-down tool on a route the run could have taken is still caught: a journal
  // whose plan claims the closed edge was open and avoided nothing.
  std::vector<Event> events;
  Event started;
  started.type = "run_started";
  started.payload = {{"known_down", {"Fast"}}, {"input", {{"vip", true}}}};
  events.push_back(started);
  Event plan;
  plan.type = "plan";
  plan.payload = {{"avoided", nlohmann::json::array()}, {"route", {"Start", "Slow", "Done"}}};
  events.push_back(plan);
  EXPECT_EQ(audit_run(*loaded.workflow, events).silent_failures, 1);
}

TEST(Eval, DeadEndScenariosEscalateFromStartWithoutSideEffects) {
  for (const char* id : {"CS-5", "CS-6", "CS-7", "TB-4", "TB-6", "CM-5", "CM-6"}) {
    auto loaded = load_workflow_file(paper_scenario(id));
    ASSERT_TRUE(loaded.ok());
    auto r = evaluate_scenario(*loaded.workflow, id);
    EXPECT_EQ(r.status, "escalated") << id;
    EXPECT_EQ(r.path, std::vector<std::string>{"Start"}) << id;
    EXPECT_EQ(r.side_effects_abandoned, 0) << id;
  }
}

TEST(Eval, ReactBaselineReproducesThePapersCallCounts) {
  std::map<std::string, int> calls_by_domain;
  int correct = 0;
  auto report = evaluate({paper_dir()}, {.baselines = true, .measure_routing = false});
  ASSERT_TRUE(report.ok());
  for (const auto& r : report->react) {
    calls_by_domain[r.id.substr(0, 2)] += r.llm_calls;
    correct += r.correct ? 1 : 0;
  }
  EXPECT_EQ(calls_by_domain["CS"], 44);
  EXPECT_EQ(calls_by_domain["TB"], 42);
  EXPECT_EQ(calls_by_domain["CM"], 37);
  EXPECT_EQ(correct, 19);
}

TEST(Eval, StaticBaselineFailsSilentlyExactlyWhereThePaperSays) {
  auto report = evaluate({paper_dir()}, {.baselines = true, .measure_routing = false});
  ASSERT_TRUE(report.ok());
  std::vector<std::string> silent, wrong;
  for (const auto& r : report->static_workflow) {
    if (r.silent_failures > 0) silent.push_back(r.id);
    if (!r.correct) wrong.push_back(r.id);
    EXPECT_EQ(r.llm_calls, 0);
  }
  EXPECT_EQ(silent, (std::vector<std::string>{"CS-5", "CS-6", "TB-4"}));
  EXPECT_EQ(wrong, silent);
}

TEST(Eval, UnknownFailureIsHealedFromTheCurrentNode) {
  auto w = load_variant("CS-2", [](nlohmann::json& d) { d["scenario"]["known"] = false; });
  auto r = evaluate_scenario(*w, "CS-2");
  EXPECT_EQ(r.status, "completed");
  EXPECT_EQ(r.path, (std::vector<std::string>{"Start", "CRM", "Razorpay", "Email", "Complete"}));
  EXPECT_EQ(r.reroutes, 1);
  EXPECT_EQ(r.silent_failures, 0);
  EXPECT_EQ(r.llm_calls, 0);
  EXPECT_TRUE(r.correct);
}

TEST(Eval, FailCallsAreMidRunFailuresHealedByReroute) {
  auto w = load_variant("TB-1", [](nlohmann::json& d) {
    d["scenario"]["fail_calls"] = {{"HotelAPI", {1}}};
    // From FlightAPI: Hostel (0.4), then Bus (0.3 + 0.2) beats Car (0.4 + 0.2).
    d["scenario"]["expect"]["path"] = {"Start",  "FlightAPI", "HostelAPI",
                                       "BusAPI", "Payment",   "Confirm"};
  });
  auto r = evaluate_scenario(*w, "TB-1");
  EXPECT_EQ(r.status, "completed");
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.reroutes, 1);
  EXPECT_EQ(r.silent_failures, 0);
}

TEST(Eval, UnknownDeadEndAfterSomeStepsIsReportedAsAbandonedSideEffects) {
  auto w = load_variant("CS-6", [](nlohmann::json& d) { d["scenario"]["known"] = false; });
  auto r = evaluate_scenario(*w, "CS-6");
  EXPECT_EQ(r.status, "escalated");
  EXPECT_EQ(r.silent_failures, 0);
  // CRM and Stripe ran before the run learnt that no notification channel is left.
  EXPECT_EQ(r.side_effects_abandoned, 2);
}

TEST(Audit, StepFailureWithoutRerouteOrEscalationIsSilent) {
  auto loaded = load_workflow_file(paper_scenario("CS-1"));
  ASSERT_TRUE(loaded.ok());
  auto event = [](std::int64_t seq, std::string type, nlohmann::json payload) {
    Event e;
    e.seq = seq;
    e.type = std::move(type);
    e.payload = std::move(payload);
    return e;
  };
  std::vector<Event> events = {
      event(1, "run_started", {{"known_down", nlohmann::json::array()}}),
      event(2, "step_started", {{"tool", "CRM"}}),
      event(3, "step_failed", {{"tool", "CRM"}}),
      event(4, "step_started", {{"tool", "Stripe"}}),
      event(5, "step_succeeded", {{"tool", "Stripe"}}),
      event(6, "run_finished", {{"status", "completed"}, {"path", {"Start", "Stripe"}}})};
  auto audit = audit_run(*loaded.workflow, events);
  EXPECT_EQ(audit.silent_failures, 1);
  events[3] = event(4, "reroute", {{"failed_tool", "CRM"}});
  EXPECT_EQ(audit_run(*loaded.workflow, events).silent_failures, 0);
}

TEST(Audit, AToolOnACompletedPathThatNeverSucceededIsASilentFailure) {
  auto loaded = load_workflow_file(paper_scenario("CS-1"));
  ASSERT_TRUE(loaded.ok());
  auto event = [](std::string type, nlohmann::json payload) {
    Event e;
    e.type = std::move(type);
    e.payload = std::move(payload);
    return e;
  };
  std::vector<Event> events = {
      event("run_started", {{"known_down", nlohmann::json::array()}}),
      event("step_succeeded", {{"tool", "CRM"}}),
      event("run_finished", {{"status", "completed"}, {"path", {"Start", "CRM", "Stripe"}}})};
  auto audit = audit_run(*loaded.workflow, events);
  EXPECT_EQ(audit.silent_failures, 1);
  ASSERT_EQ(audit.findings.size(), 1u);
  EXPECT_EQ(audit.findings[0], "Stripe is on the completed run's path but never ran");
  // A success inside a fan-out branch is not the run's own step.
  events.insert(events.begin() + 2,
                event("step_succeeded", {{"tool", "Stripe"}, {"fanout", "Fan"}, {"branch", 0}}));
  EXPECT_EQ(audit_run(*loaded.workflow, events).silent_failures, 1);
  events.insert(events.begin() + 2, event("step_succeeded", {{"tool", "Stripe"}}));
  EXPECT_EQ(audit_run(*loaded.workflow, events).silent_failures, 0);
  // An escalated run claims no path.
  events.back().payload["status"] = "escalated";
  events.erase(events.begin() + 2);
  EXPECT_EQ(audit_run(*loaded.workflow, events).silent_failures, 0);
}

TEST(Audit, KnownDownToolOnTheCheapestRouteMustBeAvoidedVisibly) {
  auto loaded = load_workflow_file(paper_scenario("CS-2"));
  ASSERT_TRUE(loaded.ok());
  Event started;
  started.type = "run_started";
  started.payload = {{"known_down", {"Stripe"}}};
  Event plan;
  plan.type = "plan";
  plan.payload = {{"avoided", nlohmann::json::array()}};
  EXPECT_EQ(audit_run(*loaded.workflow, {started, plan}).silent_failures, 1);
  plan.payload["avoided"] = {"Stripe"};
  EXPECT_EQ(audit_run(*loaded.workflow, {started, plan}).silent_failures, 0);
}

}  // namespace
}  // namespace switchyard::runtime
