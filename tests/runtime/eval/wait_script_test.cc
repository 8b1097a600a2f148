// Scenarios that script their waits (docs/eval.md#scripting-waits): approvals, rejections,
// signals, timer firings and timeouts, resolved on the scenario's simulated clock and journaled
// as the engine journals them; bad scripts are load errors with their pointers.

#include <gtest/gtest.h>

#include "graph/load.h"
#include "runtime/base/workflow_file.h"
#include "runtime/eval/eval.h"
#include "runtime/journal/journal.h"
#include "tests/support/run_command.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> load_wait_scenario(const std::string& id) {
  auto text = read_file(testing::source_path("tests/scenarios/waits/" + id + ".json"));
  EXPECT_TRUE(text.ok());
  auto r = graph::load(*text, id + ".json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.errors[0].to_string());
  return r.workflow;
}

std::vector<Event> scripted_events(Journal& journal, const std::string& run,
                                   const std::string& type) {
  std::vector<Event> out;
  auto events = journal.events(run);
  if (!events.ok()) return out;
  for (Event e : *events) {
    if (e.type != type) continue;
    // The runner seals what it journals: the payload may be in its serialized form only.
    if (e.payload.is_null() && !e.payload_json.empty()) {
      e.payload = nlohmann::json::parse(e.payload_json);
    }
    out.push_back(e);
  }
  return out;
}

TEST(WaitScript, EveryWaitScenarioIsCorrectAndReplays) {
  auto report = evaluate({testing::source_path("tests/scenarios/waits")}, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->totals.scenarios, 4);
  EXPECT_EQ(report->totals.correct, 4);
  EXPECT_EQ(report->totals.silent_failures, 0);
  for (const auto& s : report->scenarios) {
    EXPECT_TRUE(s.correct) << s.id << ": " << s.status << " " << s.to_json().dump();
    EXPECT_TRUE(s.replay_ok) << s.id;
  }
}

TEST(WaitScript, AnApprovalIsJournaledWithItsDataAfterItsScriptedTime) {
  auto w = load_wait_scenario("WT-1");
  ASSERT_NE(w, nullptr);
  auto journal = make_memory_journal();
  ScenarioResult r = evaluate_scenario(*w, "WT-1.json", journal.get());
  EXPECT_TRUE(r.correct) << r.to_json().dump();
  const auto started = scripted_events(*journal, "eval-WT-1", "wait_started");
  const auto resolved = scripted_events(*journal, "eval-WT-1", "wait_resolved");
  ASSERT_EQ(started.size(), 1u);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(started[0].payload["wait"], "Refund:approval#1");
  EXPECT_EQ(resolved[0].payload["decision"], "approved");
  EXPECT_EQ(resolved[0].payload["by"], "scenario");
  // An hour passed on the simulated clock, and nothing slept.
  EXPECT_EQ(resolved[0].time_ms - started[0].time_ms, 3600000);
  const auto succeeded = scripted_events(*journal, "eval-WT-1", "step_succeeded");
  ASSERT_FALSE(succeeded.empty());
  EXPECT_EQ(succeeded[0].payload["tool"], "Refund:approval");
  EXPECT_EQ(succeeded[0].payload["output"]["data"]["vip"], true);
}

TEST(WaitScript, ARejectionATimeoutAndATimerAreJournaledAsTheEngineDoes) {
  auto journal = make_memory_journal();
  auto wt2 = load_wait_scenario("WT-2");
  ASSERT_NE(wt2, nullptr);
  EXPECT_TRUE(evaluate_scenario(*wt2, "WT-2.json", journal.get()).correct);
  auto rejected = scripted_events(*journal, "eval-WT-2", "wait_resolved");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].payload["decision"], "rejected");
  EXPECT_EQ(rejected[0].payload["reason"], "looks like fraud");
  EXPECT_EQ(scripted_events(*journal, "eval-WT-2", "step_failed").at(0).payload["failure"],
            "rejected");

  auto wt3 = load_wait_scenario("WT-3");
  ASSERT_NE(wt3, nullptr);
  EXPECT_TRUE(evaluate_scenario(*wt3, "WT-3.json", journal.get()).correct);
  auto timed_out = scripted_events(*journal, "eval-WT-3", "wait_resolved");
  ASSERT_EQ(timed_out.size(), 1u);
  EXPECT_EQ(timed_out[0].payload["decision"], "timed_out");
  EXPECT_EQ(scripted_events(*journal, "eval-WT-3", "escalated").at(0).payload["reason"],
            "wait_timeout");

  auto wt4 = load_wait_scenario("WT-4");
  ASSERT_NE(wt4, nullptr);
  EXPECT_TRUE(evaluate_scenario(*wt4, "WT-4.json", journal.get()).correct);
  auto waits = scripted_events(*journal, "eval-WT-4", "wait_resolved");
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0].payload["decision"], "signalled");
  EXPECT_EQ(waits[1].payload["decision"], "fired");
  EXPECT_EQ(waits[1].payload["by"], "timer");
  auto started = scripted_events(*journal, "eval-WT-4", "wait_started");
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(waits[1].time_ms - started[1].time_ms, 3600000);
}

TEST(WaitScript, AnUnscriptedWaitResolvesAtOnceAndEveryBadScriptIsAnErrorWithItsPointer) {
  auto text = read_file(testing::source_path("tests/scenarios/waits/WT-2.json"));
  ASSERT_TRUE(text.ok());
  const auto doc = nlohmann::json::parse(*text);
  auto with_script = [&](const nlohmann::json& waits) {
    auto edited = doc;
    edited["scenario"]["waits"] = waits;
    return graph::load(edited.dump(), "WT-2.json");
  };
  // Without a script the approval is granted at once: the refund goes through.
  auto unscripted = with_script(nlohmann::json::object());
  ASSERT_TRUE(unscripted.ok());
  ScenarioResult r = evaluate_scenario(*unscripted.workflow, "WT-2.json", nullptr);
  EXPECT_EQ(r.path, (std::vector<std::string>{"Start", "Refund:approval", "Refund", "Done"}));

  auto first_error = [&](const nlohmann::json& waits) {
    auto loaded = with_script(waits);
    EXPECT_FALSE(loaded.ok()) << waits.dump();
    return loaded.ok() ? std::string() : loaded.errors[0].pointer + ": " + loaded.errors[0].message;
  };
  EXPECT_EQ(first_error({{"Refund", {"approve"}}}),
            "/scenario/waits/Refund: tool 'Refund' is not a wait (nor an approval gate)");
  EXPECT_EQ(first_error({{"Nope", {"approve"}}}),
            "/scenario/waits/Nope: unknown wait 'Nope': expected a wait tool or an approval gate "
            "(\"<tool>:approval\")");
  EXPECT_EQ(first_error({{"Refund:approval", {"maybe"}}}),
            "/scenario/waits/Refund:approval/0/decision: expected approve, reject, signal, fire "
            "or timeout, got \"maybe\"");
  EXPECT_EQ(first_error({{"Refund:approval", {"approve", "signal"}}}),
            "/scenario/waits/Refund:approval/1/decision: wait 'Refund:approval' (approval) cannot "
            "be resolved with \"signal\"");
  EXPECT_EQ(first_error({{"Refund:approval", {"timeout"}}}),
            "/scenario/waits/Refund:approval/0/decision: 'Refund:approval' has no timeout_ms: it "
            "cannot time out");
  EXPECT_EQ(first_error({{"Refund:approval", {{{"decision", "approve"}, {"reason", "x"}}}}}),
            "/scenario/waits/Refund:approval/0/reason: only reject carries a reason");
  EXPECT_EQ(first_error({{"Refund:approval", {5}}}),
            "/scenario/waits/Refund:approval/0: expected a decision (\"approve\", \"reject\", "
            "\"signal\", \"fire\", \"timeout\") or an object {\"decision\", ...}, got number 5");
}

}  // namespace
}  // namespace switchyard::runtime
