// Edge conditions in the run loop: a condition chooses the branch where it is decided, conditions
// and health compose (a guarded route whose tool is down is routed around), and when every route
// is closed or down the run demotes or escalates, saying which edges were closed.

#include <gtest/gtest.h>

#include "graph/load.h"
#include "runtime/machine/run_machine.h"
#include "tests/support/machine_driver.h"

// A namespace of its own: the unity build compiles this file with the other runtime tests.
namespace switchyard::runtime::conditions_test {
namespace {

using testing::drive_calls;
using testing::VectorSink;
using Names = std::vector<std::string>;

// Start -> Fraud -> Review (score > 0.8, cost 1) | Auto (score <= 0.8, cost 0.2) -> Done, and
// Fraud -> Review2 (score > 0.8, cost 2); Hold is the fallback goal (Fraud -> Hold, cost 5).
nlohmann::json fraud_doc() {
  return nlohmann::json::parse(R"({
    "format": "switchyard.workflow/v1", "name": "fraud", "start": "Start", "goal": "Done",
    "tools": {"Fraud": {"kind": "mock"}, "Review": {"kind": "mock"}, "Review2": {"kind": "mock"},
              "Auto": {"kind": "mock"}, "Done": {"kind": "mock"}, "Hold": {"kind": "mock"}},
    "edges": [["Start", "Fraud", 0.1],
              ["Fraud", "Review", 1.0, {"ptr": "/steps/Fraud/output/score", "gt": 0.8}],
              ["Fraud", "Review2", 2.0, {"ptr": "/steps/Fraud/output/score", "gt": 0.8}],
              {"from": "Fraud", "to": "Auto", "cost": 0.2,
               "when": {"ptr": "/steps/Fraud/output/score", "le": 0.8}},
              ["Review", "Done", 0.1], ["Review2", "Done", 0.1], ["Auto", "Done", 0.1],
              ["Fraud", "Hold", 5.0]]
  })");
}

std::shared_ptr<const graph::Workflow> load_doc(const nlohmann::json& doc) {
  graph::LoadResult r = graph::load(doc.dump(), "wf.json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.errors.front().to_string());
  return r.workflow;
}

struct Run {
  RunResult result;
  VectorSink sink;
  Names called;
};

// Runs `w` on `input`: each tool returns outputs[id] (default {"tool": id}); tools in `down`
// fail when called, tools in `known_down` are known down before the run (and fail too).
std::unique_ptr<Run> run(const graph::Workflow& w, const nlohmann::json& outputs,
                         const std::set<std::string>& down = {},
                         const std::set<std::string>& known_down = {},
                         nlohmann::json input = nlohmann::json::object()) {
  auto out = std::make_unique<Run>();
  graph::FixedHealth known(w.tools().size());
  for (const auto& id : known_down) known.exclude(w.find_tool(id));
  RunMachine machine(w, std::move(input), known, out->sink);
  drive_calls(w, machine, [&](const Action& a) {
    const std::string& id = w.tool(a.tool).id;
    out->called.push_back(id);
    if (down.count(id) || known_down.count(id)) {
      return tools::Outcome::failed(tools::FailureKind::kInjected, id + " is down");
    }
    return tools::Outcome::success(outputs.contains(id) ? outputs[id]
                                                        : nlohmann::json{{"tool", id}});
  });
  out->result = machine.result();
  return out;
}

Names strings(const nlohmann::json& array) { return array.get<Names>(); }

nlohmann::json value(const nlohmann::json& conditions, const std::string& to) {
  for (const auto& c : conditions) {
    if (c["to"] == to) return c["value"];
  }
  return "absent";
}

TEST(RunConditions, AHighScoreTakesTheGuardedReviewBranchOverTheCheaperOne) {
  auto w = load_doc(fraud_doc());
  auto r = run(*w, {{"Fraud", {{"score", 0.93}}}});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (Names{"Start", "Fraud", "Review", "Done"}));
  EXPECT_EQ(r->called, (Names{"Fraud", "Review", "Done"}));
  EXPECT_EQ(r->result.reroutes, 0);
  const auto plans = r->sink.of("plan");
  ASSERT_EQ(plans.size(), 2u);
  // At the start, Fraud has not run: its edges are undecided (null) and the cheap route is planned.
  EXPECT_EQ(plans[0]["at"], "Start");
  EXPECT_EQ(strings(plans[0]["route"]), (Names{"Start", "Fraud", "Auto", "Done"}));
  EXPECT_TRUE(value(plans[0]["conditions"], "Review").is_null());
  // At Fraud the conditions are decided and the run re-plans.
  EXPECT_EQ(plans[1]["at"], "Fraud");
  EXPECT_EQ(strings(plans[1]["route"]), (Names{"Fraud", "Review", "Done"}));
  EXPECT_EQ(value(plans[1]["conditions"], "Review"), true);
  EXPECT_EQ(value(plans[1]["conditions"], "Review2"), true);
  EXPECT_EQ(value(plans[1]["conditions"], "Auto"), false);
  EXPECT_DOUBLE_EQ(plans[1]["cost"].get<double>(), 1.1);
}

TEST(RunConditions, ALowScoreTakesTheAutoBranch) {
  auto w = load_doc(fraud_doc());
  auto r = run(*w, {{"Fraud", {{"score", 0.3}}}});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (Names{"Start", "Fraud", "Auto", "Done"}));
  const auto plans = r->sink.of("plan");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(value(plans[1]["conditions"], "Auto"), true);
  EXPECT_EQ(value(plans[1]["conditions"], "Review"), false);
}

TEST(RunConditions, AGuardedRouteWhoseToolFailsReroutesToTheOtherOpenRoute) {
  auto w = load_doc(fraud_doc());
  auto r = run(*w, {{"Fraud", {{"score", 0.93}}}}, /*down=*/{"Review"});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (Names{"Start", "Fraud", "Review2", "Done"}));
  EXPECT_EQ(r->called, (Names{"Fraud", "Review", "Review2", "Done"}));
  ASSERT_EQ(r->sink.of("reroute").size(), 1u);
  const auto reroute = r->sink.of("reroute")[0];
  EXPECT_EQ(reroute["failed_tool"], "Review");
  EXPECT_EQ(strings(reroute["new_route"]), (Names{"Fraud", "Review2", "Done"}));
  // The reroute never takes the closed edge to Auto, though Auto is healthy and cheaper.
  EXPECT_EQ(value(reroute["conditions"], "Auto"), false);
  EXPECT_EQ(r->result.reroutes, 1);
}

TEST(RunConditions, AGuardedRouteWhoseToolIsKnownDownIsAvoidedWhenDecided) {
  auto w = load_doc(fraud_doc());
  auto r = run(*w, {{"Fraud", {{"score", 0.93}}}}, {}, /*known_down=*/{"Review"});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (Names{"Start", "Fraud", "Review2", "Done"}));
  EXPECT_EQ(r->called, (Names{"Fraud", "Review2", "Done"}));
  EXPECT_EQ(r->result.reroutes, 0);
  EXPECT_EQ(strings(r->sink.of("plan").at(1)["excluded"]), (Names{"Review"}));
}

TEST(RunConditions, EveryOpenRouteDownDemotesToTheFallbackGoalNeverSkipping) {
  auto doc = fraud_doc();
  doc["demote_to"] = {"Hold"};
  auto w = load_doc(doc);
  auto r = run(*w, {{"Fraud", {{"score", 0.93}}}}, {}, /*known_down=*/{"Review", "Review2"});
  EXPECT_EQ(r->result.status, RunStatus::kDemoted);
  EXPECT_EQ(r->result.path, (Names{"Start", "Fraud", "Hold"}));
  EXPECT_EQ(r->called, (Names{"Fraud", "Hold"}));  // Auto, open by health, is never called
  const auto plans = r->sink.of("plan");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_TRUE(plans[1]["route"].empty());
  EXPECT_TRUE(plans[1]["cost"].is_null());
  const auto demoted = r->sink.of("goal_demoted").at(0);
  EXPECT_EQ(demoted["to_goal"], "Hold");
  EXPECT_EQ(strings(demoted["blocked"]), (Names{"Review", "Review2"}));
}

TEST(RunConditions, EveryOpenRouteDownEscalatesNamingTheClosedEdgesWithoutAFallback) {
  auto w = load_doc(fraud_doc());
  auto r = run(*w, {{"Fraud", {{"score", 0.93}}}}, {}, /*known_down=*/{"Review", "Review2"});
  EXPECT_EQ(r->result.status, RunStatus::kEscalated);
  EXPECT_EQ(r->result.path, (Names{"Start", "Fraud"}));
  EXPECT_EQ(r->result.blocked, (Names{"Review", "Review2"}));  // not Auto: a condition closed it
  const auto escalated = r->sink.of("escalated").at(0);
  EXPECT_EQ(escalated["reason"], "no_route");
  EXPECT_NE(r->result.message.find("closed by their conditions: Fraud -> Auto"), std::string::npos)
      << r->result.message;
}

TEST(RunConditions, AnOutputWithoutTheValueClosesEveryGuardedEdgeAndTheRunEscalates) {
  auto w = load_doc(fraud_doc());
  auto r = run(*w, {{"Fraud", {{"risk", "high"}}}});  // no `score`: every comparison is false
  EXPECT_EQ(r->result.status, RunStatus::kEscalated);
  EXPECT_TRUE(r->result.blocked.empty());
  EXPECT_EQ(r->called, (Names{"Fraud"}));
  const auto plan = r->sink.of("plan").at(1);
  EXPECT_EQ(value(plan["conditions"], "Review"), false);
  EXPECT_EQ(value(plan["conditions"], "Auto"), false);
  EXPECT_NE(r->result.message.find("Fraud -> Review, Fraud -> Review2, Fraud -> Auto"),
            std::string::npos)
      << r->result.message;
}

TEST(RunConditions, AnInputConditionDecidesTheRouteFromTheStart) {
  auto doc = fraud_doc();
  // VIPs skip the fraud check (a cheap fast lane), everyone else is checked.
  doc["tools"]["Fast"] = {{"kind", "mock"}};
  doc["edges"].push_back(
      nlohmann::json::parse(R"(["Start", "Fast", 0.01, {"ptr": "/input/vip", "eq": true}])"));
  doc["edges"].push_back(nlohmann::json::parse(R"(["Fast", "Done", 0.01])"));
  auto w = load_doc(doc);
  auto vip = run(*w, {}, {}, {}, {{"vip", true}});
  EXPECT_EQ(vip->result.path, (Names{"Start", "Fast", "Done"}));
  EXPECT_EQ(vip->sink.of("plan").size(), 1u);  // nothing guarded on the way after the start
  auto regular = run(*w, {{"Fraud", {{"score", 0.1}}}}, {}, {}, {{"vip", false}});
  EXPECT_EQ(regular->result.path, (Names{"Start", "Fraud", "Auto", "Done"}));
  EXPECT_EQ(value(regular->sink.of("plan").at(0)["conditions"], "Fast"), false);
}

TEST(RunConditions, AVerdictThatChangesOnTheWayReplansBeforeTheRunWalksIntoIt) {
  // Lookup's answer decides an edge two steps further on (X -> Y): the run re-plans when Lookup
  // returns, not when it stands at X with nowhere to go.
  auto w = load_doc(nlohmann::json::parse(R"({
    "format": "switchyard.workflow/v1", "name": "ahead", "start": "Start", "goal": "Done",
    "tools": {"Lookup": {"kind": "mock"}, "X": {"kind": "mock"}, "Y": {"kind": "mock"},
              "Z": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "edges": [["Start", "Lookup", 0.1], ["Lookup", "X", 0.1], ["Lookup", "Z", 1.0],
              ["X", "Y", 0.1, {"ptr": "/steps/Lookup/output/ok", "eq": true}],
              ["Y", "Done", 0.1], ["Z", "Done", 0.1]]
  })"));
  auto r = run(*w, {{"Lookup", {{"ok", false}}}});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (Names{"Start", "Lookup", "Z", "Done"}));
  EXPECT_EQ(r->called, (Names{"Lookup", "Z", "Done"}));
  const auto plans = r->sink.of("plan");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[1]["at"], "Lookup");
  EXPECT_EQ(value(plans[1]["conditions"], "Y"), false);
  // With ok = true nothing closes on the way: the next plan is X's own, where its edge is decided.
  auto fine = run(*w, {{"Lookup", {{"ok", true}}}});
  EXPECT_EQ(fine->result.path, (Names{"Start", "Lookup", "X", "Y", "Done"}));
  const auto fine_plans = fine->sink.of("plan");
  ASSERT_EQ(fine_plans.size(), 2u);
  EXPECT_EQ(fine_plans[1]["at"], "X");
  EXPECT_EQ(value(fine_plans[1]["conditions"], "Y"), true);
}

TEST(RunConditions, AWorkflowWithoutConditionsJournalsNoConditionsField) {
  auto doc = fraud_doc();
  for (auto& e : doc["edges"]) {
    if (e.is_array() && e.size() == 4) e.erase(3);
    if (e.is_object()) e.erase("when");
  }
  auto w = load_doc(doc);
  auto r = run(*w, {});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  ASSERT_EQ(r->sink.of("plan").size(), 1u);
  EXPECT_FALSE(r->sink.of("plan")[0].contains("conditions"));
}

TEST(RunConditions, ABranchEdgeConditionChoosesInsideItsFanout) {
  auto w = load_doc(nlohmann::json::parse(R"({
    "format": "switchyard.workflow/v1", "name": "fan", "start": "Start", "goal": "Done",
    "tools": {"Scan": {"kind": "mock"}, "Deep": {"kind": "mock"}, "Quick": {"kind": "mock"},
              "Other": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "nodes": {"Fan": {"fanout": {"branches": [
      {"start": "B0", "goal": "B9", "edges": [["B0", "Scan", 0.1],
        ["Scan", "Deep", 0.5, {"ptr": "/steps/Scan/output/flag", "eq": true}],
        ["Scan", "Quick", 0.1, {"not": {"ptr": "/steps/Scan/output/flag", "eq": true}}],
        ["Deep", "B9", 0], ["Quick", "B9", 0]]},
      {"start": "C0", "goal": "C9", "edges": [["C0", "Other", 0.1], ["Other", "C9", 0]]}]}}},
    "edges": [["Start", "Fan", 0.1], ["Fan", "Done", 0.1]]
  })"));
  auto r = run(*w, {{"Scan", {{"flag", true}}}});
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_NE(std::find(r->called.begin(), r->called.end(), "Deep"), r->called.end());
  EXPECT_EQ(std::find(r->called.begin(), r->called.end(), "Quick"), r->called.end());
  bool branch_plan = false;
  for (const auto& p : r->sink.of("plan")) {
    if (p.contains("fanout") && p["at"] == "Scan") {
      branch_plan = true;
      EXPECT_EQ(value(p["conditions"], "Deep"), true);
      EXPECT_EQ(p["branch"], 0);
    }
  }
  EXPECT_TRUE(branch_plan);
}

}  // namespace
}  // namespace switchyard::runtime::conditions_test
