// Waits survive kill -9 (docs/waits.md#surviving-a-restart): a real process holding a run at its
// waits (tests/programs/wait_holder.cc) is killed with SIGKILL, then a fresh Runtime over the same
// SQLite journal resumes the run, which holds at the same waits again (same ids, branches and
// original start) until they are approved; the steps before the wait are not run again, and the
// finished run verifies. Nothing sleeps: the holder says when its waits are durable, and the
// resumed waits are listed as soon as start_resume returns.

#include <atomic>
#include <csignal>
#include <future>
#include <map>
#include <set>

#include "tests/runtime/api/api_test_support.h"
#include "tests/support/subprocess.h"

namespace switchyard::api_test {
namespace {

// Prep (a side effect: not idempotent) runs before the approval; a rejection goes to Other.
constexpr const char* kResumeApprovalWorkflow = R"({"format": "switchyard.workflow/v1",
  "name": "held-refund", "start": "Start", "goal": "Done",
  "tools": {"Prep": {"kind": "builtin", "name": "prep"},
            "Ask": {"kind": "wait", "approval": "refund over $100"},
            "Refund": {"kind": "builtin", "name": "echo", "idempotent": true},
            "Other": {"kind": "builtin", "name": "echo", "idempotent": true},
            "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
  "edges": [["Start", "Prep", 1], ["Prep", "Ask", 1], ["Ask", "Refund", 1], ["Refund", "Done", 1],
            ["Prep", "Other", 9], ["Other", "Done", 1]]})";

// Two fan-out branches, each running Prep then waiting for its own approval.
constexpr const char* kResumeFanoutWorkflow = R"({"format": "switchyard.workflow/v1",
  "name": "held-pair", "start": "Start", "goal": "Done",
  "tools": {"PrepA": {"kind": "builtin", "name": "prep"},
            "PrepB": {"kind": "builtin", "name": "prep"},
            "A": {"kind": "wait", "approval": "a"}, "B": {"kind": "wait", "approval": "b"},
            "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
  "nodes": {"Fan": {"fanout": {"join": "all", "branches": [
    {"start": "A0", "goal": "A", "edges": [["A0", "PrepA", 1], ["PrepA", "A", 1]]},
    {"start": "B0", "goal": "B", "edges": [["B0", "PrepB", 1], ["PrepB", "B", 1]]}]}}},
  "edges": [["Start", "Fan", 1], ["Fan", "Done", 1]]})";

// Runs `workflow` as run `run_id` in a wait holder over `journal` until `waits` waits are
// durable, then kills it with SIGKILL.
void hold_then_kill(const TempDir& dir, const std::string& journal, const char* workflow,
                    const std::string& run_id, int waits) {
  const std::string file = dir.file(run_id + ".json");
  write_file(file, workflow);
  testing::Subprocess holder(
      {SWITCHYARD_WAIT_HOLDER, journal, file, run_id, std::to_string(waits)});
  auto line = holder.read_line(kWait);
  ASSERT_EQ(line, std::optional<std::string>("held"));
  holder.signal(SIGKILL);
  ASSERT_EQ(holder.wait(kWait), std::optional<int>(128 + SIGKILL));
}

// Registers `prep` (counting its calls) and `echo`.
void add_resume_builtins(api::Runtime& rt, std::atomic<int>& prepared) {
  ASSERT_TRUE(rt.add_tool("prep", [&prepared](const json&) -> api::Result<json> {
                  return json{{"prepared", ++prepared}};
                }).ok());
  ASSERT_TRUE(add_echo(rt).ok());
}

// The time of run `run_id`'s journaled wait_started of wait `wait`, or -1.
std::int64_t started_ms_of(const api::Runtime& rt, const std::string& run_id,
                           const std::string& wait) {
  auto events = rt.events(run_id);
  EXPECT_TRUE(events.ok());
  if (!events.ok()) return -1;
  for (const auto& e : *events) {
    if (e.type == "wait_started" && e.payload.contains("wait") && e.payload["wait"] == wait) {
      return e.time_ms;
    }
  }
  return -1;
}

TEST(ApiWaitResume, AnApprovalHeldWhenItsProcessWasKilledIsHeldAgainOnResumeAndApproved) {
  TempDir dir;
  const std::string journal = dir.file("runs.db");
  hold_then_kill(dir, journal, kResumeApprovalWorkflow, "held-1", 1);

  auto rt = open_runtime({.journal_path = journal});
  ASSERT_TRUE(rt);
  std::atomic<int> prepared{0};
  add_resume_builtins(*rt, prepared);
  // Held at its wait in the journal: waiting (docs/waits.md#waiting-runs), and listed so.
  auto listed = rt->get_run("held-1");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->status, api::RunStatus::kWaiting);
  EXPECT_EQ(api::to_string(listed->status), "waiting");
  auto waiting = rt->list_runs({.status = api::RunStatus::kWaiting});
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].run_id, "held-1");
  EXPECT_TRUE(rt->list_runs({.status = api::RunStatus::kRunning})->empty());
  std::promise<api::Result<api::RunSummary>> ended;
  auto end = ended.get_future();
  ASSERT_TRUE(rt->start_resume("held-1", {}, [&ended](api::Result<api::RunSummary> r) {
                  ended.set_value(std::move(r));
                }).ok());
  // Listed at once, as it was when the process died: same id, kind and original start.
  auto open = rt->waits();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].run_id, "held-1");
  EXPECT_EQ(open[0].wait_id, "Ask#1");
  EXPECT_EQ(open[0].kind, "approval");
  EXPECT_EQ(open[0].name, "refund over $100");
  EXPECT_EQ(open[0].branch, -1);
  EXPECT_EQ(open[0].started_ms, started_ms_of(*rt, "held-1", "Ask#1"));
  EXPECT_EQ(end.wait_for(std::chrono::seconds(0)), std::future_status::timeout);  // held

  // Resuming it twice is refused while it is held here.
  EXPECT_EQ(rt->start_resume("held-1", {}, nullptr).code(), api::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(rt->approve("held-1", "Ask#1", {.data = {{"limit", 250}}, .by = "ana"}).ok());
  auto r = await(end);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  EXPECT_EQ(r->path, (std::vector<std::string>{"Start", "Prep", "Ask", "Refund", "Done"}));
  // Prep ran once, in the killed process: its outcome was journaled before the wait.
  EXPECT_EQ(prepared.load(), 0);
  EXPECT_EQ(payloads_of(*rt, "held-1", "step_started").size(), 4u);
  EXPECT_EQ(output_of(*rt, "held-1", "Prep")["prepared"], 1);
  EXPECT_EQ(output_of(*rt, "held-1", "Ask")["by"], "ana");
  auto resumed = payloads_of(*rt, "held-1", "resumed");
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0]["waits"], json::array({"Ask#1"}));
  EXPECT_EQ(resumed[0]["retried"], json::array());
  EXPECT_EQ(resumed[0]["in_doubt"], json::array());
  auto resolved = payloads_of(*rt, "held-1", "wait_resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["decision"], "approved");
  EXPECT_TRUE(rt->waits().empty());
  auto verify = rt->verify("held-1");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->chain.to_string() << " " << verify->decisions.to_string();
  EXPECT_GT(verify->verified, 0);
}

TEST(ApiWaitResume, WaitsInFanoutBranchesAreHeldAgainWithTheirBranchesAndApprovedInAnyOrder) {
  TempDir dir;
  const std::string journal = dir.file("runs.db");
  hold_then_kill(dir, journal, kResumeFanoutWorkflow, "pair-1", 2);

  auto rt = open_runtime({.journal_path = journal});
  ASSERT_TRUE(rt);
  std::atomic<int> prepared{0};
  add_resume_builtins(*rt, prepared);
  std::promise<api::Result<api::RunSummary>> ended;
  auto end = ended.get_future();
  ASSERT_TRUE(rt->start_resume("pair-1", {}, [&ended](api::Result<api::RunSummary> r) {
                  ended.set_value(std::move(r));
                }).ok());
  auto open = rt->waits();
  ASSERT_EQ(open.size(), 2u);
  std::map<std::string, std::int64_t> branches;
  for (const auto& w : open) branches[w.wait_id] = w.branch;
  EXPECT_EQ(branches, (std::map<std::string, std::int64_t>{{"A#1", 0}, {"B#1", 1}}));
  // The second branch first: the first still waits, alone.
  ASSERT_TRUE(rt->approve("pair-1", "B#1", {.data = "b-ok"}).ok());
  ASSERT_TRUE(rt->approve("pair-1", "A#1", {.data = "a-ok"}).ok());
  auto r = await(end);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  EXPECT_EQ(prepared.load(), 0);
  const json fan = r->outputs["Fan"];
  EXPECT_EQ(fan["0"]["data"], "a-ok") << fan.dump();
  EXPECT_EQ(fan["1"]["data"], "b-ok") << fan.dump();
  auto resumed = payloads_of(*rt, "pair-1", "resumed");
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(std::set<json>(resumed[0]["waits"].begin(), resumed[0]["waits"].end()),
            (std::set<json>{"A#1", "B#1"}));
  auto verify = rt->verify("pair-1");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->chain.to_string() << " " << verify->decisions.to_string();
}

// The wait inbox (docs/waits.md#while-no-process-holds-the-run): approvals of a run that no
// process holds are queued in the journal (kOk), checked against the waits it was held at, and
// resolve those waits, each in its own branch, when the run is resumed.
TEST(ApiWaitResume, ApprovalsSentWhileNoProcessHoldsTheRunAreQueuedAndAppliedOnResume) {
  TempDir dir;
  const std::string journal = dir.file("runs.db");
  hold_then_kill(dir, journal, kResumeFanoutWorkflow, "pair-2", 2);

  auto rt = open_runtime({.journal_path = journal});
  ASSERT_TRUE(rt);
  std::atomic<int> prepared{0};
  add_resume_builtins(*rt, prepared);
  // Out of order, before the run is resumed; the same approval again (same key) changes nothing.
  ASSERT_TRUE(rt->approve("pair-2", "B#1", {.data = "b-ok", .by = "bo", .key = "k-b"}).ok());
  ASSERT_TRUE(rt->approve("pair-2", "B#1", {.data = "b-ok", .by = "bo", .key = "k-b"}).ok());
  EXPECT_EQ(rt->reject("pair-2", "B#1", {.reason = "late"}).code(),
            api::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rt->approve("pair-2", "C#1", {}).code(), api::StatusCode::kNotFound);
  ASSERT_TRUE(rt->approve("pair-2", "A#1", {.data = "a-ok", .by = "ana"}).ok());
  EXPECT_TRUE(rt->waits().empty());  // nothing in flight here

  std::promise<api::Result<api::RunSummary>> ended;
  auto end = ended.get_future();
  ASSERT_TRUE(rt->start_resume("pair-2", {}, [&ended](api::Result<api::RunSummary> r) {
                  ended.set_value(std::move(r));
                }).ok());
  auto r = await(end);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  EXPECT_EQ(prepared.load(), 0);
  const json fan = r->outputs["Fan"];
  EXPECT_EQ(fan["0"]["data"], "a-ok") << fan.dump();
  EXPECT_EQ(fan["1"]["data"], "b-ok") << fan.dump();
  auto resolved = payloads_of(*rt, "pair-2", "wait_resolved");
  ASSERT_EQ(resolved.size(), 2u);
  std::map<std::string, std::string> by;
  for (const auto& p : resolved) by[p["wait"]] = p["by"];
  EXPECT_EQ(by, (std::map<std::string, std::string>{{"A#1", "ana"}, {"B#1", "bo"}}));
  auto verify = rt->verify("pair-2");
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok()) << verify->chain.to_string() << " " << verify->decisions.to_string();
}

}  // namespace
}  // namespace switchyard::api_test
