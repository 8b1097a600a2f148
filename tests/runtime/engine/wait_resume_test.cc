// Timers and timeouts of waits survive kill -9 (docs/waits.md#surviving-a-restart): a real
// process holding a run at a wait (tests/programs/wait_holder.cc, on the system clock) is killed
// with SIGKILL; Engine::resume over the same SQLite journal, on a manual clock set to when the
// process "comes back", counts the wait's timer or timeout from its journaled start: a time that
// passed while the process was down is due at once (the clock is not moved), one still ahead
// fires after what is left. `switchyard resume` continues a held run on an engine, and resolutions
// queued in the journal's wait inbox while the process was down resolve its waits. Every resumed
// run re-verifies with `switchyard replay --verify`.

#include <gtest/gtest.h>

#include <csignal>
#include <future>

#include "graph/load.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/run_setup.h"
#include "runtime/replay/wait_inbox.h"
#include "tests/support/run_command.h"
#include "tests/support/subprocess.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// Prep has a side effect (not idempotent) and runs before the wait; a failed wait goes to Other.
std::string resume_gated(const std::string& wait_fields) {
  return R"({"format": "switchyard.workflow/v1", "name": "resume-gated", "start": "Start",
    "goal": "Done",
    "tools": {"Prep": {"kind": "builtin", "name": "prep"},
      "Ask": {"kind": "wait", )" +
         wait_fields + R"(},
      "Do": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Other": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Prep", 1], ["Prep", "Ask", 1], ["Ask", "Do", 1], ["Do", "Done", 1],
              ["Prep", "Other", 9], ["Other", "Done", 1]]})";
}

constexpr auto kResumeWaitLimit = std::chrono::seconds(30);

class WaitResumeTest : public ::testing::Test {
 protected:
  WaitResumeTest() {
    builtins_.add("prep", [this](const nlohmann::json&) -> Result<nlohmann::json> {
      return nlohmann::json{{"prepared", ++prepared_}};
    });
    builtins_.add("echo", [](const nlohmann::json&) -> Result<nlohmann::json> {
      return nlohmann::json{{"echo", true}};
    });
  }

  // Runs `workflow` as `run_id` in a wait holder until its wait is durable, then SIGKILLs it;
  // returns the journaled start of wait `wait` (Unix ms).
  std::int64_t hold_then_kill(const std::string& workflow, const std::string& run_id,
                              const std::string& wait = "Ask#1") {
    const std::string file = dir_.write(run_id + ".json", workflow);
    {
      testing::Subprocess holder({SWITCHYARD_WAIT_HOLDER, journal_path_, file, run_id, "1"});
      EXPECT_EQ(holder.read_line(kResumeWaitLimit), std::optional<std::string>("held"));
      holder.signal(SIGKILL);
      EXPECT_EQ(holder.wait(kResumeWaitLimit), std::optional<int>(128 + SIGKILL));
    }
    auto journal = open_journal(journal_path_);
    EXPECT_TRUE(journal.ok());
    if (!journal.ok()) return -1;
    auto events = (*journal)->events(run_id);
    EXPECT_TRUE(events.ok());
    if (!events.ok()) return -1;
    for (const Event& e : *events) {
      if (e.type == "wait_started" && e.payload.contains("wait") && e.payload["wait"] == wait) {
        return e.time_ms;
      }
    }
    ADD_FAILURE() << "no wait_started for " << wait;
    return -1;
  }

  // Resumes `run_id` on an engine whose clock reads `now_ms`, and returns its end.
  Result<RunReport> resume_at(const std::string& workflow, const std::string& run_id,
                              std::int64_t now_ms, ManualClock*& clock_out) {
    clock_.emplace(Clock::TimePoint(std::chrono::milliseconds(now_ms)));
    clock_out = &*clock_;
    auto journal = open_journal(journal_path_);
    if (!journal.ok()) return journal.status();
    journal_ = std::move(*journal);
    auto loaded = graph::load(workflow, "resume.json");
    EXPECT_TRUE(loaded.ok());
    std::shared_ptr<const graph::Workflow> w = loaded.workflow;
    auto tools = tools::make_tool_set(*w, {.builtins = &builtins_});
    if (!tools.ok()) return tools.status();
    monitors::HealthTable health(*clock_);
    Engine engine(*journal_, *clock_, health, {.threads = 1});
    std::promise<Result<RunReport>> ended;
    auto end = ended.get_future();
    Status s = engine.resume(w, *tools, run_id,
                             [&ended](Result<RunReport> r) { ended.set_value(std::move(r)); });
    if (!s.ok()) return s;
    EXPECT_EQ(end.wait_for(kResumeWaitLimit), std::future_status::ready);
    return end.get();
  }

  const Event* find(const std::string& run_id, const std::string& type) {
    events_ = *journal_->events(run_id);
    for (const auto& e : events_) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }

  void expect_verifies(const std::string& run_id) {
    auto verify = testing::switchyard({"replay", run_id, "--journal", journal_path_, "--verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }

  testing::TempDir dir_;
  std::string journal_path_ = dir_.file("runs.db");
  tools::BuiltinRegistry builtins_;
  std::atomic<int> prepared_{0};
  std::optional<ManualClock> clock_;
  std::unique_ptr<Journal> journal_;
  std::vector<Event> events_;
};

TEST_F(WaitResumeTest, ATimerDueWhileTheProcessWasDownFiresAtOnceOnResume) {
  const std::string w = resume_gated(R"("timer_ms": 3600000)");
  const std::int64_t started = hold_then_kill(w, "timer-1");
  ASSERT_GT(started, 0);
  // The process comes back 5 s after the timer was due.
  const std::int64_t back = started + 3600000 + 5000;
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "timer-1", back, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Prep", "Ask", "Do", "Done"}));
  // Fired at once: no time was waited (or skipped) on resume.
  EXPECT_EQ(r->result.outputs["Ask"]["fired_at_ms"], back);
  EXPECT_EQ(unix_ms(*clock), back);
  EXPECT_EQ(prepared_.load(), 0);  // Prep ran once, before the kill
  const Event* resolved = find("timer-1", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "fired");
  EXPECT_EQ(find("timer-1", "resumed")->payload["waits"], nlohmann::json::array({"Ask#1"}));
  expect_verifies("timer-1");
}

TEST_F(WaitResumeTest, ATimerNotYetDueOnResumeFiresWhenItsOriginalDueTimeComes) {
  const std::string w = resume_gated(R"("timer_ms": 3600000)");
  const std::int64_t started = hold_then_kill(w, "timer-2");
  ASSERT_GT(started, 0);
  // Back after 10 minutes: 50 are left, not a fresh hour (the manual clock skips what it waits).
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "timer-2", started + 600000, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.outputs["Ask"]["fired_at_ms"], started + 3600000);
  expect_verifies("timer-2");
}

TEST_F(WaitResumeTest, ATimeoutThatPassedWhileTheProcessWasDownFailsTheStepAndTheRunReroutes) {
  const std::string w = resume_gated(R"("approval": "refund", "timeout_ms": 600000)");
  const std::int64_t started = hold_then_kill(w, "timeout-1");
  ASSERT_GT(started, 0);
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "timeout-1", started + 600000 + 1, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Prep", "Other", "Done"}));
  const Event* failed = find("timeout-1", "step_failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->payload["tool"], "Ask");
  EXPECT_EQ(failed->payload["failure"], "timeout");
  EXPECT_EQ(failed->payload["reason"], "no approval 'refund' within 600000 ms");
  EXPECT_EQ(find("timeout-1", "wait_resolved")->payload["decision"], "timed_out");
  EXPECT_EQ(prepared_.load(), 0);
  expect_verifies("timeout-1");
}

TEST_F(WaitResumeTest,
       AnApprovalGateWhoseTimeoutPassedWhileDownEscalatesOnResumeAndItsToolNeverRuns) {
  // Do needs approval (docs/waits.md#approval-before-a-tool), and nobody answering within ten
  // minutes is for a person to look at (on_timeout: escalate), not a reason to reroute.
  const std::string w = R"({"format": "switchyard.workflow/v1", "name": "resume-gate",
    "start": "Start", "goal": "Done",
    "tools": {"Prep": {"kind": "builtin", "name": "prep", "idempotent": true},
      "Do": {"kind": "builtin", "name": "prep",
             "approval": {"name": "refund", "timeout_ms": 600000, "on_timeout": "escalate"}},
      "Other": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Prep", 1], ["Prep", "Do", 1], ["Do", "Done", 1],
              ["Prep", "Other", 9], ["Other", "Done", 1]]})";
  const std::int64_t started = hold_then_kill(w, "gate-1", "Do:approval#1");
  ASSERT_GT(started, 0);
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "gate-1", started + 600000 + 1, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kEscalated);
  const Event* escalated = find("gate-1", "escalated");
  ASSERT_NE(escalated, nullptr);
  EXPECT_EQ(escalated->payload["reason"], "wait_timeout");
  EXPECT_EQ(escalated->payload["message"],
            "wait Do:approval#1 (approval 'refund') was not resolved within 600000 ms "
            "(on_timeout: escalate)");
  EXPECT_EQ(find("gate-1", "wait_resolved")->payload["decision"], "timed_out");
  EXPECT_EQ(prepared_.load(), 0) << "Prep ran in the killed process; Do never ran";
  expect_verifies("gate-1");
}

// The wait inbox (docs/waits.md#while-no-process-holds-the-run): a signal sent while no process
// holds the run is checked against its journal, queued there, and resolves the held wait when the
// run is resumed; the same signal again (same key) is queued once.
TEST_F(WaitResumeTest, ASignalQueuedWhileTheProcessWasDownResolvesTheHeldWaitOnResume) {
  const std::string w = resume_gated(R"("signal": "confirmed", "timeout_ms": 600000)");
  const std::int64_t started = hold_then_kill(w, "inbox-1");
  ASSERT_GT(started, 0);
  {
    auto journal = open_journal(journal_path_);
    ASSERT_TRUE(journal.ok());
    WaitAnswer answer{.decision = WaitAnswer::Decision::kSignal,
                      .data = {{"seat", "12A"}},
                      .by = "sms-webhook",
                      .key = "msg-8812"};
    auto queued = queue_wait_answer(**journal, "inbox-1", "confirmed", answer, started + 1000);
    ASSERT_TRUE(queued.ok()) << queued.status().to_string();
    EXPECT_EQ(queued->wait_id, "Ask#1");
    EXPECT_FALSE(queued->duplicate);
    auto again = queue_wait_answer(**journal, "inbox-1", "confirmed", answer, started + 2000);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate);
    // Another signal of that name (another key): the only wait for it has one queued.
    answer.key = "msg-9999";
    EXPECT_EQ(queue_wait_answer(**journal, "inbox-1", "confirmed", answer, started + 2000)
                  .status()
                  .code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(queue_wait_answer(**journal, "inbox-1", "cancelled", answer, started + 2000)
                  .status()
                  .code(),
              StatusCode::kNotFound);
    EXPECT_EQ((*journal)->queued_resolutions("inbox-1")->size(), 1u);
  }
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "inbox-1", started + 5000, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Prep", "Ask", "Do", "Done"}));
  EXPECT_EQ(r->result.outputs["Ask"], (nlohmann::json{{"seat", "12A"}}));
  const Event* resolved = find("inbox-1", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "signalled");
  EXPECT_EQ(resolved->payload["by"], "sms-webhook");
  EXPECT_EQ(resolved->payload["key"], "msg-8812");
  EXPECT_EQ(prepared_.load(), 0);
  expect_verifies("inbox-1");
}

TEST_F(WaitResumeTest, AQueuedApprovalIsCheckedAgainstTheJournalAndAppliedOnceOnResume) {
  const std::string w = resume_gated(R"("approval": "refund", "timeout_ms": 600000)");
  const std::int64_t started = hold_then_kill(w, "inbox-2");
  ASSERT_GT(started, 0);
  {
    auto journal = open_journal(journal_path_);
    ASSERT_TRUE(journal.ok());
    const std::int64_t now = started + 1000;
    using D = WaitAnswer::Decision;
    auto code = [&](const std::string& wait, WaitAnswer a, std::int64_t at) {
      return queue_wait_answer(**journal, "inbox-2", wait, std::move(a), at).status().code();
    };
    EXPECT_EQ(code("Ask#9", {.decision = D::kApprove}, now), StatusCode::kNotFound);
    EXPECT_EQ(code("refund", {.decision = D::kSignal}, now), StatusCode::kNotFound);
    EXPECT_EQ(queue_wait_answer(**journal, "ghost", "Ask#1", {.decision = D::kApprove}, now)
                  .status()
                  .code(),
              StatusCode::kNotFound);
    // Its timeout passed: the timeout decides it on resume.
    EXPECT_EQ(code("Ask#1", {.decision = D::kApprove}, started + 600000),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(code("Ask#1", {.decision = D::kApprove, .data = {{"note", "VIP"}}, .by = "ana"}, now),
              StatusCode::kOk);
    EXPECT_EQ(code("Ask#1", {.decision = D::kReject, .by = "bo"}, now),
              StatusCode::kFailedPrecondition);
  }
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "inbox-2", started + 5000, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Prep", "Ask", "Do", "Done"}));
  EXPECT_EQ(r->result.outputs["Ask"]["data"], (nlohmann::json{{"note", "VIP"}}));
  const Event* resolved = find("inbox-2", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "approved");
  EXPECT_EQ(resolved->payload["by"], "ana");
  expect_verifies("inbox-2");
  // The run has finished: its waits are gone.
  EXPECT_EQ(queue_wait_answer(*journal_, "inbox-2", "Ask#1",
                              {.decision = WaitAnswer::Decision::kApprove}, started + 6000)
                .status()
                .code(),
            StatusCode::kNotFound);
}

// A cancellation sent while no process held the run (`switchyard cancel --journal`) is kept in the
// journal's inbox (docs/scale-out.md#cancelling-and-resolving-runs-that-workers-run): the run is
// no longer "stuck" at its approval, and resuming it cancels it before it takes another step.
TEST_F(WaitResumeTest, ACancelQueuedWhileTheProcessWasDownCancelsTheRunOnResumeWithoutAStep) {
  const std::string w = resume_gated(R"("approval": "refund")");
  const std::int64_t started = hold_then_kill(w, "inbox-c");
  ASSERT_GT(started, 0);
  auto cli = testing::switchyard({"cancel", "inbox-c", "--journal", journal_path_, "--reason",
                                  "customer left", "--by", "ana", "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  auto printed = nlohmann::json::parse(cli.out);
  EXPECT_EQ(printed["queued"], true);
  EXPECT_EQ(printed["duplicate"], false);
  {
    auto journal = open_journal(journal_path_);
    ASSERT_TRUE(journal.ok());
    // Sent again: applied once.
    auto again = queue_cancel(**journal, "inbox-c", "bo", "twice", started + 2000);
    ASSERT_TRUE(again.ok()) << again.status().to_string();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(queue_cancel(**journal, "ghost", "bo", "x", started).status().code(),
              StatusCode::kNotFound);
    // Held at an approval nothing answers, but a cancellation is queued: resume must run it.
    auto stuck = stuck_at_waits(**journal, "inbox-c", started + 2000);
    ASSERT_TRUE(stuck.ok()) << stuck.status().to_string();
    EXPECT_TRUE(stuck->empty());
  }
  ManualClock* clock = nullptr;
  auto r = resume_at(w, "inbox-c", started + 5000, clock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_EQ(r->result.message, "cancelled: customer left");
  EXPECT_EQ(prepared_.load(), 0);  // nothing ran again here
  EXPECT_EQ(find("inbox-c", "wait_resolved"), nullptr);
  EXPECT_NE(find("inbox-c", "cancelled"), nullptr);
  expect_verifies("inbox-c");
  // Finished: a cancellation is refused, saying so.
  auto late = queue_cancel(*journal_, "inbox-c", "bo", "late", started + 6000);
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("has finished (failed)"), std::string::npos)
      << late.status().message();
}

// `switchyard resume` continues a held run on an engine
// (docs/waits.md#switchyard-resume-and-waits). A run held at an approval nothing there can give is
// left as it is (exit 4, nothing journaled); approved with `approve --journal` (queued in the wait
// inbox), the next resume applies it and goes on to the second approval, where it is interrupted
// (exit 4, run_interrupted, still running); approved too, the third resume finishes it, and the run
// re-verifies.
TEST_F(WaitResumeTest, ResumeLeavesARunHeldAtAnApprovalThenFinishesItOnceApprovedInTheJournal) {
  // Mocks: the CLI registers no builtins.
  const std::string w = R"({"format": "switchyard.workflow/v1", "name": "resume-cli",
    "start": "Start", "goal": "Done",
    "tools": {"Prep": {"kind": "mock"}, "Ask": {"kind": "wait", "approval": "refund"},
              "Check": {"kind": "wait", "approval": "second look"},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Prep", 1], ["Prep", "Ask", 1], ["Ask", "Check", 1],
              ["Check", "Done", 1]]})";
  ASSERT_GT(hold_then_kill(w, "cli-1"), 0);
  auto last_event = [this](const std::string& run) {
    auto journal = open_journal(journal_path_);
    EXPECT_TRUE(journal.ok());
    if (!journal.ok()) return std::string();
    EXPECT_EQ((*journal)->get_run(run)->status, "running");
    auto events = (*journal)->events(run);
    return events.ok() && !events->empty() ? events->back().type : std::string();
  };
  auto held = testing::switchyard({"resume", "cli-1", "--journal", journal_path_, "--json"});
  EXPECT_EQ(held.exit_code, 4) << held.out << held.err;
  auto doc = nlohmann::json::parse(held.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << held.out;
  EXPECT_EQ(doc["held"], true);
  EXPECT_EQ(doc["status"], "running");
  EXPECT_EQ(doc["waits"][0]["wait_id"], "Ask#1");
  EXPECT_EQ(last_event("cli-1"), "wait_started");  // left as it was

  auto approved = testing::switchyard({"approve", "cli-1", "Ask#1", "--data", R"({"note": "ok"})",
                                       "--by", "ana", "--journal", journal_path_});
  EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
  EXPECT_NE(approved.out.find("queued"), std::string::npos) << approved.out;
  auto unknown = testing::switchyard({"approve", "cli-1", "Ask#9", "--journal", journal_path_});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("has no open wait 'Ask#9'"), std::string::npos) << unknown.err;

  auto second = testing::switchyard({"resume", "cli-1", "--journal", journal_path_});
  EXPECT_EQ(second.exit_code, 4) << second.out << second.err;
  EXPECT_NE(second.out.find("held at wait Check#1 (approval 'second look')"), std::string::npos)
      << second.out;
  EXPECT_EQ(last_event("cli-1"), "run_interrupted");

  auto check = testing::switchyard({"approve", "cli-1", "Check#1", "--journal", journal_path_});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  auto done = testing::switchyard({"resume", "cli-1", "--journal", journal_path_, "--json"});
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  auto journal = open_journal(journal_path_);
  ASSERT_TRUE(journal.ok());
  journal_ = std::move(*journal);
  EXPECT_EQ(journal_->get_run("cli-1")->status, "completed");
  const Event* resolved = find("cli-1", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "approved");
  EXPECT_EQ(resolved->payload["by"], "ana");
  expect_verifies("cli-1");
}

// A run held at an approval whose process died, read from the journal alone
// (docs/waits.md#waiting-runs, #listing-the-waits-of-a-journal): `runs` lists it `waiting` (and
// `--status waiting` finds it, `--status running` does not), `waits --journal` lists its wait in
// the service's shape, with `queued` once an approval waits in the inbox, and `journal check`
// reads that inbox row.
TEST_F(WaitResumeTest, RunsAndWaitsReadFromTheJournalShowAHeldRunItsWaitAndItsQueuedApproval) {
  const std::string w = R"({"format": "switchyard.workflow/v1", "name": "list-held",
    "start": "Start", "goal": "Done",
    "tools": {"Prep": {"kind": "mock"}, "Ask": {"kind": "wait", "approval": "refund"},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Prep", 1], ["Prep", "Ask", 1], ["Ask", "Done", 1]]})";
  const std::int64_t started = hold_then_kill(w, "list-1");
  ASSERT_GT(started, 0);
  auto json_of = [](const testing::CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  auto statuses = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"runs", "--journal", journal_path_, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string> out;
    const nlohmann::json doc = json_of(testing::switchyard(args));
    for (const auto& r : doc.value("runs", nlohmann::json::array())) {
      out.push_back(r.value("run_id", "") + ":" + r.value("status", ""));
    }
    return out;
  };
  EXPECT_EQ(statuses({}), (std::vector<std::string>{"list-1:waiting"}));
  EXPECT_EQ(statuses({"--status", "waiting"}), (std::vector<std::string>{"list-1:waiting"}));
  EXPECT_TRUE(statuses({"--status", "running"}).empty());
  auto text = testing::switchyard({"runs", "--journal", journal_path_});
  EXPECT_NE(text.out.find("waiting"), std::string::npos) << text.out;

  const nlohmann::json expected = {
      {"run_id", "list-1"}, {"wait_id", "Ask#1"}, {"kind", "approval"}, {"name", "refund"},
      {"tool", "Ask"},      {"node", "Ask"},      {"branch", -1},       {"started_ms", started},
      {"due_ms", nullptr},  {"queued", false}};
  nlohmann::json waits =
      json_of(testing::switchyard({"waits", "--journal", journal_path_, "--json"}));
  ASSERT_EQ(waits["waits"].size(), 1u) << waits.dump();
  EXPECT_EQ(waits["waits"][0], expected);

  ASSERT_EQ(
      testing::switchyard({"approve", "list-1", "Ask#1", "--journal", journal_path_}).exit_code, 0);
  waits = json_of(
      testing::switchyard({"waits", "--journal", journal_path_, "--run", "list-1", "--json"}));
  ASSERT_EQ(waits["waits"].size(), 1u) << waits.dump();
  EXPECT_EQ(waits["waits"][0]["queued"], true);
  auto table = testing::switchyard({"waits", "--journal", journal_path_});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("approval 'refund'"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("yes"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1 open wait(s) in "), std::string::npos) << table.out;
  auto unknown = testing::switchyard({"waits", "--journal", journal_path_, "--run", "ghost"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("ghost"), std::string::npos) << unknown.err;

  const nlohmann::json check =
      json_of(testing::switchyard({"journal", "check", "--journal", journal_path_, "--json"}));
  EXPECT_EQ(check["ok"], true) << check.dump();
  EXPECT_EQ(check["queued_resolutions"], 1);
}

// A signal sent with `signal --journal` while the process is down, then `switchyard resume`:
// the run finishes with the signal's data as the step's output.
TEST_F(WaitResumeTest, SignalInTheJournalThenResumeFinishesTheRun) {
  const std::string w = R"({"format": "switchyard.workflow/v1", "name": "resume-signal",
    "start": "Start", "goal": "Done",
    "tools": {"Prep": {"kind": "mock"}, "Confirm": {"kind": "wait", "signal": "confirmed"},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Prep", 1], ["Prep", "Confirm", 1], ["Confirm", "Done", 1]]})";
  ASSERT_GT(hold_then_kill(w, "cli-2", "Confirm#1"), 0);
  auto sent = testing::switchyard({"signal", "--journal", journal_path_, "cli-2", "confirmed",
                                   "--data", R"({"seat": "12A"})", "--key", "m-1", "--json"});
  EXPECT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  auto queued = nlohmann::json::parse(sent.out, nullptr, false);
  ASSERT_TRUE(queued.is_object()) << sent.out;
  EXPECT_EQ(queued["wait_id"], "Confirm#1");
  EXPECT_EQ(queued["queued"], true);
  auto done = testing::switchyard({"resume", "cli-2", "--journal", journal_path_, "--json"});
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  auto report = nlohmann::json::parse(done.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << done.out;
  EXPECT_EQ(report["status"], "completed");
  EXPECT_EQ(report["outputs"]["Confirm"], (nlohmann::json{{"seat", "12A"}}));
  expect_verifies("cli-2");
}

// A timer is fired by `switchyard resume` itself: it waits for what is left of it.
TEST_F(WaitResumeTest, ResumeWaitsForATimerThatFallsDueAndFinishesTheRun) {
  const std::string w = R"({"format": "switchyard.workflow/v1", "name": "resume-timer",
    "start": "Start", "goal": "Done",
    "tools": {"Prep": {"kind": "mock"}, "Later": {"kind": "wait", "timer_ms": 1500},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Prep", 1], ["Prep", "Later", 1], ["Later", "Done", 1]]})";
  ASSERT_GT(hold_then_kill(w, "cli-3", "Later#1"), 0);
  auto done = testing::switchyard({"resume", "--all", "--journal", journal_path_, "--json"});
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  auto journal = open_journal(journal_path_);
  ASSERT_TRUE(journal.ok());
  journal_ = std::move(*journal);
  EXPECT_EQ(journal_->get_run("cli-3")->status, "completed");
  const Event* resolved = find("cli-3", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "fired");
  expect_verifies("cli-3");
}

}  // namespace
}  // namespace switchyard::runtime
