// Fan-out nodes: branches run concurrently, each routed and healed by its own Dijkstra; joins
// all / any / quorum; losers cancelled once the join is decided; a failed join is routed around.

#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/runner.h"
#include "runtime/eval/audit.h"
#include "tests/support/run_command.h"
#include "tests/support/watched_tool.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> load_fan(const std::string& text) {
  auto loaded = graph::load(text, "fanout.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// Start -> Fan -> Goal, or the dearer Start -> Alt -> Goal. Fan's branches are given by `branches`
// and `join`; `tools` adds tools to the common ones.
std::string fan_workflow(const std::string& join, const std::string& branches,
                         const std::string& tools) {
  return R"({"format": "switchyard.workflow/v1", "name": "fan", "start": "Start", "goal": "Goal",
    "tools": {)" +
         tools + R"(
      "Alt": {"kind": "mock", "output": {"alt": true}},
      "Goal": {"kind": "mock", "idempotent": true, "output": {"done": true}}},
    "nodes": {"Fan": {"fanout": {"join": )" +
         join + R"(, "branches": [)" + branches + R"(]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Goal", 1], ["Start", "Alt", 50], ["Alt", "Goal", 1]]})";
}

std::string branch(const std::string& start, const std::string& goal, const std::string& edges) {
  return R"({"start": ")" + start + R"(", "goal": ")" + goal + R"(", "edges": [)" + edges + "]}";
}

struct FanRun {
  RunReport report;
  std::vector<Event> events;
  std::vector<Event> of(const std::string& type) const {
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
};

FanRun run_fanout(const std::shared_ptr<const graph::Workflow>& w,
                  std::shared_ptr<tools::ToolSet> tool_set = nullptr) {
  if (!tool_set) tool_set = *tools::make_tool_set(*w);
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, tool_set, *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  request.input = {{"q", 1}};
  auto report = runner.run(request);
  EXPECT_TRUE(report.ok()) << report.status().message();
  auto events = journal->events("r1");
  EXPECT_TRUE(events.ok());
  FanRun ran{*report, events.ok() ? *events : std::vector<Event>{}};
  const AuditReport audit = audit_run(*w, ran.events);
  EXPECT_EQ(audit.silent_failures, 0) << (audit.findings.empty() ? "" : audit.findings[0]);
  EXPECT_EQ(audit.side_effects_abandoned, 0) << (audit.findings.empty() ? "" : audit.findings[0]);
  return ran;
}

TEST(Fanout, JoinAllRunsEveryBranchAndOutputsTheirResultsByIndex) {
  auto w =
      load_fan(fan_workflow(R"("all")",
                            branch("T0", "T9", R"(["T0", "Text", 1], ["Text", "T9", 0])") + "," +
                                branch("I0", "I9", R"(["I0", "Image", 1], ["Image", "I9", 0])"),
                            R"("Text": {"kind": "mock", "output": {"text": "ok"}},
                                 "Image": {"kind": "mock", "output": {"image": "ok"}},)"));
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Fan", "Goal"}));
  auto joined = ran.of("fanout_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_TRUE(joined[0].payload["ok"].get<bool>());
  EXPECT_EQ(joined[0].payload["succeeded"], nlohmann::json({0, 1}));
  EXPECT_EQ(joined[0].payload["kept"], nlohmann::json({"Image", "Text"}));
  // Each branch's events name the fan-out node and the branch.
  int tagged = 0;
  for (const auto& e : ran.of("step_succeeded")) {
    if (e.payload.contains("branch")) {
      ++tagged;
      EXPECT_EQ(e.payload["fanout"], "Fan");
      EXPECT_EQ(e.payload["tool"], e.payload["branch"] == 0 ? "Text" : "Image");
    }
  }
  EXPECT_EQ(tagged, 2);
  // Both branches' calls were started before either answered: they ran concurrently.
  std::vector<std::string> order;
  for (const auto& e : ran.events) {
    if (e.payload.contains("branch") && (e.type == "step_started" || e.type == "step_succeeded")) {
      order.push_back(e.type);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"step_started", "step_started", "step_succeeded",
                                             "step_succeeded"}));
}

// Fan (two mock branches) placed as `start`, `goal` or a fallback goal by `outer`: the workflow's
// start/goal/demote_to/edges, with Pay failing always and Sum and Done plain mocks.
std::shared_ptr<const graph::Workflow> fan_placed(const std::string& outer) {
  return load_fan(R"({"format": "switchyard.workflow/v1", "name": "placed", )" + outer + R"(,
    "tools": {"Text": {"kind": "mock", "output": {"text": "ok"}},
      "Image": {"kind": "mock", "output": {"image": "fine"}},
      "Pay": {"kind": "mock", "fail": "always"}, "Sum": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "nodes": {"Fan": {"fanout": {"branches": [
      {"start": "T0", "goal": "Text", "edges": [["T0", "Text", 1]]},
      {"start": "I0", "goal": "Image", "edges": [["I0", "Image", 1]]}]}}}})");
}

// The fan-out ran once, as a whole: started, both branches' tools succeeded, joined ok.
void expect_fanout_ran(const FanRun& ran) {
  EXPECT_EQ(ran.of("fanout_started").size(), 1u);
  auto joined = ran.of("fanout_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_TRUE(joined[0].payload["ok"].get<bool>());
  EXPECT_EQ(joined[0].payload["succeeded"], nlohmann::json({0, 1}));
}

TEST(Fanout, AFanoutAtTheStartRunsItsBranchesBeforeTheRunGoesOn) {
  FanRun ran = run_fanout(fan_placed(R"("start": "Fan", "goal": "Sum",
    "edges": [["Fan", "Sum", 1]])"));
  ASSERT_EQ(ran.report.result.status, RunStatus::kCompleted) << ran.report.result.message;
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Fan", "Sum"}));
  expect_fanout_ran(ran);
  EXPECT_EQ(ran.of("plan")[0].payload["route"], nlohmann::json({"Fan", "Sum"}));
}

TEST(Fanout, AFanoutAtTheStartWhoseJoinFailsEscalatesAndNeverCompletes) {
  auto w = load_fan(R"({"format": "switchyard.workflow/v1", "name": "placed", "start": "Fan",
    "goal": "Sum", "tools": {"Text": {"kind": "mock", "compensate": "Untext"},
      "Untext": {"kind": "mock"}, "Sum": {"kind": "mock"},
      "Broken": {"kind": "mock", "fail": "always"}},
    "nodes": {"Fan": {"fanout": {"branches": [
      {"start": "T0", "goal": "Text", "edges": [["T0", "Text", 1]]},
      {"start": "B0", "goal": "Broken", "edges": [["B0", "Broken", 1]]}]}}},
    "edges": [["Fan", "Sum", 1]]})");
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kEscalated) << ran.report.result.message;
  EXPECT_TRUE(ran.of("step_succeeded").size() == 1u &&
              ran.of("step_succeeded")[0].payload["tool"] == "Text");
  EXPECT_EQ(ran.of("fanout_joined").size(), 1u);
  // The branch that failed escalated inside; then the run, which has no other way to start.
  auto escalated = ran.of("escalated");
  ASSERT_EQ(escalated.size(), 2u);
  EXPECT_TRUE(escalated[0].payload.contains("fanout"));
  EXPECT_FALSE(escalated[1].payload.contains("fanout"));
  // The branch that succeeded is undone: the join did not use it.
  auto compensations = ran.of("compensation");
  ASSERT_EQ(compensations.size(), 1u);
  EXPECT_EQ(compensations[0].payload["for_tool"], "Text");
  // Sum never ran: nothing after a start that failed.
  for (const auto& e : ran.of("step_started")) EXPECT_NE(e.payload["tool"], "Sum");
}

TEST(Fanout, AFanoutAsTheGoalRunsBeforeTheRunCompletes) {
  FanRun ran = run_fanout(fan_placed(R"("start": "Start", "goal": "Fan",
    "edges": [["Start", "Sum", 1], ["Sum", "Fan", 1]])"));
  ASSERT_EQ(ran.report.result.status, RunStatus::kCompleted) << ran.report.result.message;
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Sum", "Fan"}));
  expect_fanout_ran(ran);
}

TEST(Fanout, AFanoutAsAFallbackGoalRunsBeforeTheRunIsDemoted) {
  FanRun ran = run_fanout(fan_placed(R"("start": "Start", "goal": "Done", "demote_to": ["Fan"],
    "edges": [["Start", "Pay", 1], ["Pay", "Done", 1], ["Start", "Fan", 5]])"));
  ASSERT_EQ(ran.report.result.status, RunStatus::kDemoted) << ran.report.result.message;
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Fan"}));
  expect_fanout_ran(ran);
}

TEST(Fanout, AToolAtTheStartRunsAsTheFirstStep) {
  FanRun ran = run_fanout(fan_placed(R"("start": "Sum", "goal": "Done",
    "edges": [["Sum", "Done", 1], ["Sum", "Fan", 9], ["Fan", "Done", 9]])"));
  ASSERT_EQ(ran.report.result.status, RunStatus::kCompleted) << ran.report.result.message;
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Sum", "Done"}));
  auto steps = ran.of("step_succeeded");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].payload["tool"], "Sum");
}

TEST(Fanout, LaterStepsSeeTheFanoutOutputByBranchIndex) {
  auto w = load_fan(R"({"format": "switchyard.workflow/v1", "name": "fan", "start": "Start",
    "goal": "Use", "tools": {
      "Text": {"kind": "mock", "output": {"text": "ok"}},
      "Image": {"kind": "mock", "output": {"image": "fine"}},
      "Use": {"kind": "command", "argv": [")" SWITCHYARD_FAKE_COMMAND R"(", "echo",
                                          "{{steps.Fan.output.1.image}}", "{{steps.Text.output.text}}"]}},
    "nodes": {"Fan": {"fanout": {"branches": [
      {"start": "T0", "goal": "Text", "edges": [["T0", "Text", 1]]},
      {"start": "I0", "goal": "Image", "edges": [["I0", "Image", 1]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Use", 1]]})");
  FanRun ran = run_fanout(w);
  ASSERT_EQ(ran.report.result.status, RunStatus::kCompleted) << ran.report.result.message;
  auto done = ran.of("step_succeeded").back();
  EXPECT_EQ(done.payload["tool"], "Use");
  EXPECT_EQ(done.payload["output"]["args"], nlohmann::json({"fine", "ok"}));
}

TEST(Fanout, JoinAnyTakesTheFirstBranchToFinishCancelsTheOthersAndUndoesTheirSteps) {
  // Branch 0: Hold (fast, compensated by Release) then Slow (80 ms). Branch 1: Quick (20 ms).
  auto w = load_fan(fan_workflow(
      R"("any")",
      branch("A0", "A9", R"(["A0", "Hold", 1], ["Hold", "Slow", 1], ["Slow", "A9", 0])") + "," +
          branch("B0", "B9", R"(["B0", "Quick", 1], ["Quick", "B9", 0])"),
      R"("Hold": {"kind": "mock", "latency_ms": 5, "compensate": "Release"},
         "Release": {"kind": "mock"},
         "Slow": {"kind": "mock", "latency_ms": 80},
         "Quick": {"kind": "mock", "latency_ms": 20},)"));
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  auto joined = ran.of("fanout_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].payload["succeeded"], nlohmann::json({1}));
  EXPECT_EQ(joined[0].payload["cancelled"], nlohmann::json({0}));
  auto cancelled = ran.of("cancelled");
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].payload["branch"], 0);
  EXPECT_EQ(cancelled[0].payload["in_flight"], "Slow");
  auto compensations = ran.of("compensation");
  ASSERT_EQ(compensations.size(), 1u);
  EXPECT_EQ(compensations[0].payload["for_tool"], "Hold");
  EXPECT_EQ(compensations[0].payload["tool"], "Release");
  for (const auto& e : ran.of("step_succeeded")) EXPECT_NE(e.payload["tool"], "Slow");
}

TEST(Fanout, QuorumIsMetWithABranchDown) {
  auto w = load_fan(fan_workflow(
      R"({"quorum": 2})",
      branch("A0", "A9", R"(["A0", "P", 1], ["P", "A9", 0])") + "," +
          branch("B0", "B9", R"(["B0", "Q", 1], ["Q", "B9", 0])") + "," +
          branch("C0", "C9", R"(["C0", "R", 1], ["R", "C9", 0])"),
      R"("P": {"kind": "mock"}, "Q": {"kind": "mock", "fail": "always"}, "R": {"kind": "mock"},)"));
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  auto joined = ran.of("fanout_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_TRUE(joined[0].payload["ok"].get<bool>());
  EXPECT_EQ(joined[0].payload["succeeded"], nlohmann::json({0, 2}));
  EXPECT_EQ(joined[0].payload["failed"], nlohmann::json({1}));
}

// The run's one fanout_joined event says the join is `ok` with these branch indices.
void expect_join(const FanRun& ran, bool ok, const nlohmann::json& succeeded,
                 const nlohmann::json& failed, const nlohmann::json& cancelled) {
  auto joined = ran.of("fanout_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].payload["ok"], ok);
  EXPECT_EQ(joined[0].payload["succeeded"], succeeded);
  EXPECT_EQ(joined[0].payload["failed"], failed);
  EXPECT_EQ(joined[0].payload["cancelled"], cancelled);
}

// A quorum of 2 over three one-tool branches, P, Q and R, described by `tools`.
std::shared_ptr<const graph::Workflow> quorum_of_three(const std::string& tools) {
  return load_fan(fan_workflow(R"({"quorum": 2})",
                               branch("A0", "A9", R"(["A0", "P", 1], ["P", "A9", 0])") + "," +
                                   branch("B0", "B9", R"(["B0", "Q", 1], ["Q", "B9", 0])") + "," +
                                   branch("C0", "C9", R"(["C0", "R", 1], ["R", "C9", 0])"),
                               tools));
}

TEST(Fanout, AQuorumOnceMetCancelsTheBranchesStillRunning) {
  auto w = quorum_of_three(
      R"("P": {"kind": "mock", "latency_ms": 5}, "Q": {"kind": "mock", "latency_ms": 10},
         "R": {"kind": "mock", "latency_ms": 80},)");
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Fan", "Goal"}));
  expect_join(ran, true, {0, 1}, nlohmann::json::array(), {2});
  auto cancelled = ran.of("cancelled");
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].payload["branch"], 2);
  EXPECT_EQ(cancelled[0].payload["in_flight"], "R");
  for (const auto& e : ran.of("step_succeeded")) EXPECT_NE(e.payload["tool"], "R");
}

// Two of three branches fail a quorum of 2: it can no longer be met, so the third is cancelled
// without waiting for it and the run routes around the fan-out node.
TEST(Fanout, AQuorumThatCanNoLongerBeMetFailsTheNodeAtOnce) {
  auto w = quorum_of_three(
      R"("P": {"kind": "mock", "fail": "always"}, "Q": {"kind": "mock", "fail": "always"},
         "R": {"kind": "mock", "latency_ms": 80},)");
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Alt", "Goal"}));
  expect_join(ran, false, nlohmann::json::array(), {0, 1}, {2});
  auto reroutes = ran.of("reroute");
  ASSERT_EQ(reroutes.size(), 1u);
  EXPECT_EQ(reroutes[0].payload["failed_node"], "Fan");
  for (const auto& e : ran.of("step_succeeded")) EXPECT_NE(e.payload["tool"], "R");
}

TEST(Fanout, ABranchHealsInsideItselfFromWhereItStands) {
  // Branch 0 prefers Cheap (down) and reroutes to Dear without leaving the branch.
  auto w = load_fan(fan_workflow(
      R"("all")",
      branch("A0", "A9",
             R"(["A0", "Cheap", 1], ["A0", "Dear", 5], ["Cheap", "A9", 0], ["Dear", "A9", 0])") +
          "," + branch("B0", "B9", R"(["B0", "Other", 1], ["Other", "B9", 0])"),
      R"("Cheap": {"kind": "mock", "fail": "always"}, "Dear": {"kind": "mock"},
         "Other": {"kind": "mock"},)"));
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Fan", "Goal"}));
  auto reroutes = ran.of("reroute");
  ASSERT_EQ(reroutes.size(), 1u);
  EXPECT_EQ(reroutes[0].payload["branch"], 0);
  EXPECT_EQ(reroutes[0].payload["failed_tool"], "Cheap");
  EXPECT_EQ(reroutes[0].payload["new_route"], nlohmann::json({"A0", "Dear", "A9"}));
  EXPECT_EQ(ran.report.result.reroutes, 1);
}

TEST(Fanout, ABranchThatCannotReachItsGoalFailsTheNodeAndTheRunRoutesAroundIt) {
  auto w =
      load_fan(fan_workflow(R"("all")",
                            branch("A0", "A9", R"(["A0", "Book", 1], ["Book", "A9", 0])") + "," +
                                branch("B0", "B9", R"(["B0", "Broken", 1], ["Broken", "B9", 0])"),
                            R"("Book": {"kind": "mock", "latency_ms": 1, "compensate": "Unbook"},
         "Unbook": {"kind": "mock"},
         "Broken": {"kind": "mock", "latency_ms": 5, "fail": "always"},)"));
  FanRun ran = run_fanout(w);
  EXPECT_EQ(ran.report.result.status, RunStatus::kCompleted);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Alt", "Goal"}));
  auto joined = ran.of("fanout_joined");
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_FALSE(joined[0].payload["ok"].get<bool>());
  EXPECT_EQ(joined[0].payload["failed"], nlohmann::json({1}));
  // The branch escalated inside, then the outer run routed around the fan-out node.
  auto reroutes = ran.of("reroute");
  ASSERT_EQ(reroutes.size(), 1u);
  EXPECT_EQ(reroutes[0].payload["failed_node"], "Fan");
  EXPECT_EQ(reroutes[0].payload["new_route"], nlohmann::json({"Start", "Alt", "Goal"}));
  // The branch that had succeeded is undone: the join did not use it.
  auto compensations = ran.of("compensation");
  ASSERT_EQ(compensations.size(), 1u);
  EXPECT_EQ(compensations[0].payload["for_tool"], "Book");
}

TEST(Fanout, AFanoutWhoseBranchIsKnownDownIsAvoidedBeforeAnyStep) {
  auto w =
      load_fan(fan_workflow(R"("all")",
                            branch("A0", "A9", R"(["A0", "Book", 1], ["Book", "A9", 0])") + "," +
                                branch("B0", "B9", R"(["B0", "Broken", 1], ["Broken", "B9", 0])"),
                            R"("Book": {"kind": "mock"}, "Broken": {"kind": "mock"},)"));
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  health.mark_down("Broken", "breaker open");
  Runner runner(w, *tools::make_tool_set(*w), *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  auto report = runner.run(request);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->result.path, (std::vector<std::string>{"Start", "Alt", "Goal"}));
  auto events = journal->events("r1");
  ASSERT_TRUE(events.ok());
  for (const auto& e : *events) EXPECT_NE(e.type, "fanout_started");
}

TEST(Fanout, BranchesShareTheRunsBudget) {
  // $1 covers one of the two $0.6 branch steps, never both, even though they run concurrently.
  std::string w = fan_workflow(R"("all")",
                               branch("A0", "A9", R"(["A0", "P", 1], ["P", "A9", 0])") + "," +
                                   branch("B0", "B9", R"(["B0", "Q", 1], ["Q", "B9", 0])"),
                               R"("P": {"kind": "mock", "price_usd": 0.6, "compensate": "Refund"},
                              "Q": {"kind": "mock", "price_usd": 0.6}, "Refund": {"kind": "mock"},)");
  w.insert(w.rfind('}'), R"(, "budget": {"usd": 1.0})");
  FanRun ran = run_fanout(load_fan(w));
  EXPECT_LE(ran.report.result.spent_usd, 1.0);
  EXPECT_EQ(ran.report.result.path, (std::vector<std::string>{"Start", "Alt", "Goal"}));
  bool refused = false;
  for (const auto& e : ran.of("step_failed"))
    refused = refused || e.payload["failure"] == "budget_exhausted";
  EXPECT_TRUE(refused);
}

// Exited (a zombie or reaped), waiting for it on a pidfd: SIGKILL is not instantaneous.
bool dead(pid_t pid) { return switchyard::testing::wait_exited(pid); }

TEST(Fanout, TheEngineAbortsALosingBranchsRealSubprocess) {
  testing::TempDir dir;
  const std::string pidfile = dir.file("loser.pid");
  auto w = load_fan(fan_workflow(
      R"("any")",
      branch("A0", "A9", R"(["A0", "Hang", 1], ["Hang", "A9", 0])") + "," +
          branch("B0", "B9", R"(["B0", "Gate", 1], ["Gate", "B9", 0])"),
      R"("Hang": {"kind": "command", "argv": [")" SWITCHYARD_FAKE_COMMAND R"(", "hang", ")" +
          pidfile + R"("], "timeout_ms": 60000},
         "Gate": {"kind": "command", "argv": [")" SWITCHYARD_FAKE_COMMAND R"(", "after", ")" +
          pidfile + R"("]},)"));
  testing::WatchedToolSet watched = testing::watch_tool(*w, "Hang");
  ASSERT_NE(watched.watched, nullptr);
  auto seen = watched.watched->seen.get_future();
  auto journal = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine engine(*journal, clock, health, {.threads = 1});
  RunRequest request;
  request.run_id = "r1";
  // Held by the test: the aborted call answers after the run (and the engine's hold) ended.
  auto tool_set = watched.tools;
  auto report = engine.submit(w, tool_set, request).get();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->result.status, RunStatus::kCompleted);
  // The losing call was aborted, not left to its 60 s timeout: the tool reports kCancelled...
  tools::Outcome aborted = seen.get();
  EXPECT_EQ(aborted.failure, tools::FailureKind::kCancelled);
  // ...after killing the whole process group.
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(dead(grandchild));
  auto events = journal->events("r1");
  ASSERT_TRUE(events.ok());
  bool cancelled = false;
  for (const auto& e : *events) {
    cancelled = cancelled || (e.type == "cancelled" && e.payload["in_flight"] == "Hang");
  }
  EXPECT_TRUE(cancelled);
}

}  // namespace
}  // namespace switchyard::runtime
