// Wait steps (docs/waits.md): approvals, signals and timers hold a run in the engine until they
// are resolved; every resolution is journaled, a rejection or a timeout heals like any failure,
// and waits in fan-out branches are independent. Nothing sleeps: tests wait for the engine to
// report the open wait, then resolve it.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "graph/load.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/reenact.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/forwarding_journal.h"
#include "tests/support/gate.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> load_wait_workflow(const std::string& text) {
  auto r = graph::load(text, "wait.json");
  EXPECT_TRUE(r.ok()) << (r.errors.empty()
                              ? ""
                              : r.errors.front().pointer + ": " + r.errors.front().message);
  return r.workflow;
}

// Start -> Ask (a wait) -> Do; a cheaper-looking route through Ask, a dearer one through Other.
std::string gated(const std::string& wait_fields) {
  return R"({"format": "switchyard.workflow/v1", "name": "gated", "start": "Start", "goal": "Done",
    "tools": {
      "Ask": {"kind": "wait", )" +
         wait_fields + R"(},
      "Do": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Other": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Ask", 1], ["Ask", "Do", 1], ["Do", "Done", 1],
              ["Start", "Other", 5], ["Other", "Done", 1]]})";
}

RunRequest wait_request(const std::string& id) {
  RunRequest r;
  r.run_id = id;
  return r;
}

class WaitTest : public ::testing::Test {
 protected:
  WaitTest() {
    builtins_.add("echo", [](const nlohmann::json& ctx) -> Result<nlohmann::json> {
      return nlohmann::json{{"saw", ctx["steps"]}};
    });
  }
  std::shared_ptr<tools::ToolSet> tools_for(const graph::Workflow& w) {
    auto set = tools::make_tool_set(w, {.builtins = &builtins_});
    EXPECT_TRUE(set.ok()) << set.status().message();
    return *set;
  }
  // Blocks until `n` waits are open (the engine reports them as soon as a run is held).
  std::vector<OpenWait> await_waits(Engine& engine, std::size_t n) {
    for (;;) {
      auto w = engine.waits();
      if (w.size() >= n) return w;
      std::this_thread::yield();
    }
  }
  const Event* find(const std::string& run_id, const std::string& type) {
    events_ = *journal_->events(run_id);
    for (const auto& e : events_) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }

  tools::BuiltinRegistry builtins_;
  std::unique_ptr<Journal> journal_ = make_memory_journal();
  ManualClock clock_;
  monitors::HealthTable health_{clock_};
  std::vector<Event> events_;
};

TEST_F(WaitTest, AnApprovedStepContinuesTheRunWithTheApprovalAsItsOutput) {
  auto w = load_wait_workflow(gated(R"("approval": "refund")"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, tools_for(*w), wait_request("r1"));
  auto open = await_waits(engine, 1);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].run_id, "r1");
  EXPECT_EQ(open[0].wait_id, "Ask#1");
  EXPECT_EQ(open[0].kind, "approval");
  EXPECT_EQ(open[0].name, "refund");
  // Held means journaled: the wait's start is written before anyone can resolve it.
  ASSERT_NE(find("r1", "wait_started"), nullptr);
  EXPECT_EQ(find("r1", "wait_started")->payload["wait"], "Ask#1");

  ASSERT_TRUE(
      engine
          .resolve_wait(
              "r1", "Ask#1",
              {.decision = WaitAnswer::Decision::kApprove, .data = {{"limit", 250}}, .by = "ana"})
          .ok());
  auto r = future.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Ask", "Do", "Done"}));
  EXPECT_EQ(r->result.outputs["Ask"]["data"]["limit"], 250);
  EXPECT_EQ(r->result.outputs["Ask"]["by"], "ana");
  const Event* resolved = find("r1", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "approved");
  EXPECT_EQ(resolved->payload["by"], "ana");
  EXPECT_TRUE(engine.waits().empty());
}

TEST_F(WaitTest, ARejectionIsAFailedStepThatTheRouterHealsAroundWithoutCountingAgainstHealth) {
  auto w = load_wait_workflow(gated(R"("approval": "refund")"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, tools_for(*w), wait_request("r1"));
  await_waits(engine, 1);
  ASSERT_TRUE(
      engine
          .resolve_wait(
              "r1", "Ask#1",
              {.decision = WaitAnswer::Decision::kReject, .reason = "over the limit", .by = "ana"})
          .ok());
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Other", "Done"}));
  EXPECT_EQ(r->result.reroutes, 1);
  const Event* failed = find("r1", "step_failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->payload["failure"], "rejected");
  EXPECT_EQ(failed->payload["reason"], "rejected by ana: over the limit");
  // A person's no is not an outage: the wait's "tool" is not marked down for later runs.
  EXPECT_FALSE(health_.is_down("Ask"));
  for (const auto& t : health_.snapshot()) {
    if (t.tool != "Ask") continue;
    EXPECT_EQ(t.samples, 0) << "a rejection is no outage";
    EXPECT_TRUE(t.failures.empty());
    EXPECT_EQ(t.breaker, monitors::BreakerState::kClosed);
  }
}

TEST_F(WaitTest, ASignalsDataBecomesTheStepsOutputForLaterSteps) {
  auto w = load_wait_workflow(gated(R"("signal": "confirmed")"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, tools_for(*w), wait_request("r1"));
  await_waits(engine, 1);
  ASSERT_TRUE(engine.signal("r1", "confirmed", {.data = {{"seat", "12A"}}, .by = "webhook"}).ok());
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.outputs["Do"]["saw"]["Ask"]["output"]["seat"], "12A");
}

TEST_F(WaitTest, ResolvingTwiceWithTheSameKeyIsAppliedOnceAndOtherwiseRefused) {
  auto w = load_wait_workflow(gated(R"("signal": "confirmed")"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  // The run is held at a second wait so that it stays in flight after the first is resolved.
  auto twice =
      load_wait_workflow(R"({"format": "switchyard.workflow/v1", "name": "two", "start": "Start",
    "goal": "B", "tools": {"A": {"kind": "wait", "signal": "first"},
                           "B": {"kind": "wait", "signal": "second"}},
    "edges": [["Start", "A", 1], ["A", "B", 1]]})");
  auto future = engine.submit(twice, tools_for(*twice), wait_request("r1"));
  await_waits(engine, 1);
  ASSERT_TRUE(engine.signal("r1", "first", {.data = 1, .key = "k-1"}).ok());
  // Until B opens, A's resolution is what the engine knows; the duplicate is accepted.
  EXPECT_TRUE(engine.signal("r1", "first", {.data = 2, .key = "k-1"}).ok());
  EXPECT_TRUE(engine.resolve_wait("r1", "A#1", {.data = 2, .key = "k-1"}).ok());
  const Status again = engine.resolve_wait("r1", "A#1", {.data = 3, .key = "k-2"});
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("already resolved"), std::string::npos);
  const Status unknown = engine.resolve_wait("r1", "Nope#1", {.data = 3});
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(engine.signal("r1", "never", {.data = 1}).code(), StatusCode::kNotFound);
  // An approval's decision on a signal wait is refused, naming what fits.
  for (;;) {
    auto open = engine.waits();
    if (!open.empty() && open[0].wait_id == "B#1") break;
    std::this_thread::yield();
  }
  const Status wrong = engine.resolve_wait(
      "r1", "B#1", {.decision = WaitAnswer::Decision::kApprove, .data = nullptr});
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("send it a signal"), std::string::npos);
  ASSERT_TRUE(engine.signal("r1", "second", {.data = "ok"}).ok());
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.outputs["A"], 1);  // the first signal's data: the duplicate changed nothing
  int resolved = 0;
  auto events = journal_->events("r1");
  ASSERT_TRUE(events.ok());
  for (const auto& e : *events) resolved += e.type == "wait_resolved";
  EXPECT_EQ(resolved, 2);
}

TEST_F(WaitTest, ATimerFiresOnTheClockAndTheRunGoesOn) {
  auto w = load_wait_workflow(gated(R"("timer_ms": 86400000)"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  const auto before = clock_.now();
  auto r = engine.submit(w, tools_for(*w), wait_request("r1")).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Ask", "Do", "Done"}));
  // The manual clock was moved a day on, not waited for.
  EXPECT_GE(clock_.now() - before, std::chrono::hours(24));
  const Event* resolved = find("r1", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "fired");
  // A timer is resolved by time alone.
}

TEST_F(WaitTest, AnUnansweredSignalTimesOutAsAFailedStepAndTheRunReroutes) {
  SystemClock clock;
  monitors::HealthTable health(clock);
  auto w = load_wait_workflow(gated(R"("signal": "confirmed", "timeout_ms": 20)"));
  Engine engine(*journal_, clock, health, {.threads = 1});
  auto r = engine.submit(w, tools_for(*w), wait_request("r1")).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Other", "Done"}));
  const Event* failed = find("r1", "step_failed");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->payload["failure"], "timeout");
  EXPECT_EQ(failed->payload["reason"], "no signal 'confirmed' within 20 ms");
  EXPECT_EQ(find("r1", "wait_resolved")->payload["decision"], "timed_out");
}

TEST_F(WaitTest, ACancelledRunLeavesNoOpenWaitAndEndsFailed) {
  auto w = load_wait_workflow(gated(R"("approval": "refund")"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, tools_for(*w), wait_request("r1"));
  await_waits(engine, 1);
  ASSERT_TRUE(engine.cancel("r1", "customer left"));
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_TRUE(engine.waits().empty());
  EXPECT_EQ(find("r1", "cancelled")->payload["in_flight"], "Ask");
  EXPECT_EQ(engine.resolve_wait("r1", "Ask#1", {.decision = WaitAnswer::Decision::kApprove}).code(),
            StatusCode::kNotFound);
}

// A journal whose append of a wait_started event waits until the test lets it go on: the run
// is then between announcing its wait and being held there.
class HeldAtWaitStarted final : public ForwardingJournal {
 public:
  using ForwardingJournal::ForwardingJournal;
  bool writes_inline() const override { return false; }  // written by the engine's writer
  using ForwardingJournal::append;
  Status append(const std::vector<Event>& events) override {
    const bool starts_wait = std::any_of(events.begin(), events.end(),
                                         [](const Event& e) { return e.type == "wait_started"; });
    if (starts_wait) gate_.arrive_and_wait();
    return ForwardingJournal::append(events);
  }
  Status append(std::vector<Event>&& events) override { return append(events); }
  void await_writing() { gate_.await_arrival(); }
  void release() { gate_.open(); }

 private:
  testing::Gate gate_;
};

// The wait is open as soon as its wait_started is handed to the journal: an approval sent while
// the event is being written (a client that reacted to it at once) is accepted, kept, and applied
// when the run holds the wait; it is not refused as unknown.
TEST_F(WaitTest, AnApprovalSentWhileWaitStartedIsBeingWrittenIsKeptAndApplied) {
  auto w = load_wait_workflow(gated(R"("approval": "refund")"));
  HeldAtWaitStarted journal(*journal_);
  Engine engine(journal, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, tools_for(*w), wait_request("r1"));
  journal.await_writing();
  auto open = engine.waits();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].wait_id, "Ask#1");
  EXPECT_TRUE(
      engine
          .resolve_wait("r1", "Ask#1", {.decision = WaitAnswer::Decision::kApprove, .by = "early"})
          .ok());
  journal.release();
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Ask", "Do", "Done"}));
  EXPECT_EQ(r->result.outputs["Ask"]["by"], "early");
  const Event* resolved = find("r1", "wait_resolved");
  ASSERT_NE(resolved, nullptr);
  EXPECT_EQ(resolved->payload["decision"], "approved");
}

// A timer branch whose due time is reached (on the manual clock, at once: its firing is queued)
// while the other branch decides an `any` join and the run ends: the queued firing must find the
// run gone and do nothing (it once ran on the freed run: a use after free under ASan).
TEST_F(WaitTest, ATimerDueAfterItsBranchWasDroppedAndTheRunEndedTouchesNothing) {
  auto w =
      load_wait_workflow(R"({"format": "switchyard.workflow/v1", "name": "race", "start": "Start",
    "goal": "Done",
    "tools": {"T": {"kind": "wait", "timer_ms": 60000},
              "Quick": {"kind": "builtin", "name": "echo", "idempotent": true},
              "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "nodes": {"Fan": {"fanout": {"join": "any", "branches": [
      {"start": "Q0", "goal": "Quick", "edges": [["Q0", "Quick", 1]]},
      {"start": "T0", "goal": "T", "edges": [["T0", "T", 1]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Done", 1]]})");
  for (int i = 0; i < 20; ++i) {
    const std::string id = "race" + std::to_string(i);
    Engine engine(*journal_, clock_, health_, {.threads = 1});
    auto r = engine.submit(w, tools_for(*w), wait_request(id)).get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->result.status, RunStatus::kCompleted) << id;
    EXPECT_TRUE(engine.waits().empty());
  }
}

// Three branches each wait for their own approval; any order of approvals resumes each branch
// alone and the join (all) completes once the last one is approved.
TEST_F(WaitTest, WaitsInFanoutBranchesAreResolvedIndependentlyInEveryOrder) {
  auto w =
      load_wait_workflow(R"({"format": "switchyard.workflow/v1", "name": "three", "start": "Start",
    "goal": "Done",
    "tools": {"A": {"kind": "wait", "approval": "a"}, "B": {"kind": "wait", "approval": "b"},
              "C": {"kind": "wait", "approval": "c"},
              "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "nodes": {"Fan": {"fanout": {"join": "all", "branches": [
      {"start": "A0", "goal": "A", "edges": [["A0", "A", 1]]},
      {"start": "B0", "goal": "B", "edges": [["B0", "B", 1]]},
      {"start": "C0", "goal": "C", "edges": [["C0", "C", 1]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Done", 1]]})");
  std::vector<std::string> order = {"A#1", "B#1", "C#1"};
  int run = 0;
  do {
    const std::string id = "r" + std::to_string(run++);
    Engine engine(*journal_, clock_, health_, {.threads = 2});
    auto future = engine.submit(w, tools_for(*w), wait_request(id));
    auto open = await_waits(engine, 3);
    std::set<std::int64_t> branches;
    for (const auto& o : open) branches.insert(o.branch);
    EXPECT_EQ(branches, (std::set<std::int64_t>{0, 1, 2}));
    for (std::size_t i = 0; i < order.size(); ++i) {
      ASSERT_TRUE(engine
                      .resolve_wait(
                          id, order[i],
                          {.decision = WaitAnswer::Decision::kApprove, .data = static_cast<int>(i)})
                      .ok());
      if (i + 1 < order.size()) {
        // The others still wait: approving one branch resumes that branch only.
        for (;;) {
          auto left = engine.waits();
          if (left.size() == order.size() - i - 1) break;
          std::this_thread::yield();
        }
      }
    }
    auto r = future.get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->result.status, RunStatus::kCompleted) << id;
    const auto& fan = r->result.outputs["Fan"];
    for (std::size_t i = 0; i < order.size(); ++i) {
      const std::string branch = std::to_string(order[i][0] - 'A');
      EXPECT_EQ(fan[branch]["data"], static_cast<int>(i)) << id << " " << order[i];
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(run, 6);
}

TEST_F(WaitTest, ARunThatWaitedReplaysAndVerifiesFromItsJournal) {
  auto w = load_wait_workflow(gated(R"("signal": "confirmed")"));
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, tools_for(*w), wait_request("r1"));
  await_waits(engine, 1);
  ASSERT_TRUE(engine.signal("r1", "confirmed", {.data = {{"ok", true}}}).ok());
  ASSERT_TRUE(future.get().ok());
  auto events = journal_->events("r1");
  ASSERT_TRUE(events.ok());
  auto again = reenact(*w, *events, /*complete=*/true);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_GT((*again)->verified(), 0);
}

TEST(WaitLoad, EveryBadWaitFieldIsAnErrorWithItsPointer) {
  auto bad = [](const std::string& fields) {
    auto r = graph::load(
        R"({"format": "switchyard.workflow/v1", "name": "w", "start": "S", "goal": "W",
            "tools": {"W": {"kind": "wait", )" +
            fields + R"(}}, "edges": [["S", "W", 1]]})",
        "w.json");
    EXPECT_FALSE(r.ok()) << fields;
    return r.errors.empty() ? std::string() : r.errors[0].pointer + ": " + r.errors[0].message;
  };
  EXPECT_EQ(bad(R"("name": "x")"),
            "/tools/W: a wait tool needs one of approval, signal or timer_ms");
  EXPECT_EQ(bad(R"("signal": "x", "timer_ms": 5)"),
            "/tools/W: a wait tool takes only one of approval, signal and timer_ms");
  EXPECT_NE(bad(R"("signal": 5)").find("/tools/W/signal"), std::string::npos);
  EXPECT_EQ(bad(R"("signal": "")"), "/tools/W/signal: expected a non-empty string");
  EXPECT_EQ(bad(R"("approval": ")" + std::string(201, 'x') + "\""),
            "/tools/W/approval: expected a name of 1 to 200 characters");
  EXPECT_NE(bad(R"("timer_ms": -1)").find("/tools/W/timer_ms"), std::string::npos);
  EXPECT_EQ(bad(R"("timer_ms": 5, "timeout_ms": 9)"),
            "/tools/W/timeout_ms: a timer has no timeout: it fires after timer_ms");
  EXPECT_NE(bad(R"("approval": "x", "timeout_ms": 0)").find("/tools/W/timeout_ms"),
            std::string::npos);
  EXPECT_EQ(bad(R"("approval": "x", "idempotent": false)"),
            "/tools/W/idempotent: a wait tool is always idempotent");
}

}  // namespace
}  // namespace switchyard::runtime
