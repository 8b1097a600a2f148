// Rebuilding the health monitor from the journal after a restart: with each workflow's own
// breaker policy, only from runs inside the window, from the same outcomes live monitoring
// records (retried attempts with their latency), and with the transitions probes journaled.

#include "runtime/engine/health_rebuild.h"

#include <gtest/gtest.h>

#include <cmath>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/probe_record.h"
#include "runtime/engine/run_setup.h"
#include "runtime/engine/runner.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

// Start -> A -> Goal (cheap) or Start -> B -> Goal; A as given, with `policy`.
std::shared_ptr<const graph::Workflow> with_a(const std::string& a, const std::string& policy) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "rebuild",
    "start": "Start", "goal": "Goal", "tools": {"A": )" +
                                a + R"(, "B": {"kind": "mock"},
      "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "A", 1], ["A", "Goal", 0], ["Start", "B", 3], ["B", "Goal", 0]],
    "policy": )" + policy + "}",
                            "rebuild.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

constexpr const char* kAlwaysFails = R"({"kind": "mock", "fail": "always"})";

// What a new process learns from the journal about one tool.
struct Rebuilt {
  int outcomes = 0;
  monitors::ToolHealth tool;
};

class HealthRebuild : public ::testing::Test {
 protected:
  // A process that ran `runs` runs of `w` (a millisecond apart) into the journal.
  void run_times(const std::shared_ptr<const graph::Workflow>& w, int runs) {
    monitors::HealthTable live(clock_);
    Runner runner(w, *tools::make_tool_set(*w), *journal_, clock_, live);
    for (int i = 0; i < runs; ++i) {
      clock_.advance(milliseconds(1));
      ASSERT_TRUE(runner.run({}).ok());
    }
  }

  // A new process's monitor, rebuilt from the journal: what it knows of tool `id`.
  Rebuilt rebuilt(const std::string& id, milliseconds window = kDefaultHealthWindow) {
    monitors::HealthTable table(clock_);
    auto replayed = rebuild_health(*journal_, table, window);
    EXPECT_TRUE(replayed.ok()) << replayed.status().message();
    Rebuilt out;
    out.outcomes = replayed.ok() ? replayed->replayed : -1;
    for (const auto& h : table.snapshot()) {
      if (h.tool == id) out.tool = h;
    }
    return out;
  }

  // Begins run "r1", of a workflow the journal does not hold, now.
  void begin_hand_made_run() {
    RunRecord run;
    run.run_id = "r1";
    run.workflow = "hand-made";
    run.status = "running";
    run.started_ms = unix_ms(clock_);
    ASSERT_TRUE(journal_->begin_run(run).ok());
  }

  // A step_failed event of tool A in run r1, now.
  Event failed_event(std::int64_t seq, const std::string& kind, const std::string& reason) const {
    Event e;
    e.run_id = "r1";
    e.seq = seq;
    e.time_ms = unix_ms(clock_);
    e.type = "step_failed";
    e.payload = {{"tool", "A"}, {"failure", kind}, {"reason", reason}, {"latency_us", 1000}};
    return e;
  }

  std::unique_ptr<Journal> journal_ = make_memory_journal();
  ManualClock clock_;
};

TEST_F(HealthRebuild, OpensABreakerOnlyAfterTheWorkflowsPolicyFailures) {
  auto w = with_a(kAlwaysFails, R"({"breaker": {"failures": 5, "cooldown_ms": 60000}})");
  // Four processes, each calling A once (a process that had seen A fail thrice would weigh it
  // down by Eq. 1 and take B).
  for (int i = 0; i < 4; ++i) run_times(w, 1);
  Rebuilt four = rebuilt("A");
  EXPECT_EQ(four.tool.breaker, monitors::BreakerState::kClosed);  // the default 3 would open it
  EXPECT_EQ(four.tool.consecutive_failures, 4);
  run_times(w, 1);
  EXPECT_EQ(rebuilt("A").tool.breaker, monitors::BreakerState::kOpen);
}

TEST_F(HealthRebuild, UsesTheWorkflowsCooldown) {
  auto w = with_a(kAlwaysFails, R"({"breaker": {"failures": 1, "cooldown_ms": 1000}})");
  run_times(w, 1);
  EXPECT_EQ(rebuilt("A").tool.breaker, monitors::BreakerState::kOpen);
  clock_.advance(milliseconds(1000));  // the default cool-down (30 s) would still hold it open
  EXPECT_EQ(rebuilt("A").tool.breaker, monitors::BreakerState::kHalfOpen);
}

TEST_F(HealthRebuild, ReadsOnlyRunsStartedInsideTheWindow) {
  auto w = with_a(kAlwaysFails, R"({"breaker": {"failures": 1, "cooldown_ms": 3600000}})");
  run_times(w, 1);
  clock_.advance(minutes(20));
  Rebuilt outside = rebuilt("A", minutes(15));
  EXPECT_EQ(outside.outcomes, 0);
  EXPECT_EQ(outside.tool.samples, 0);
  Rebuilt inside = rebuilt("A", minutes(30));
  EXPECT_EQ(inside.tool.breaker, monitors::BreakerState::kOpen);
  EXPECT_EQ(inside.tool.failures.at("injected"), 1);
}

TEST_F(HealthRebuild, SkipsTheOutcomesLiveMonitoringSkips) {
  begin_hand_made_run();
  std::vector<Event> events;
  auto failed = [&](const std::string& kind, const std::string& reason) {
    events.push_back(failed_event(static_cast<std::int64_t>(events.size()) + 1, kind, reason));
  };
  for (int i = 0; i < 3; ++i) {
    failed("schema_invalid", "answer does not satisfy the schema");
    failed("refusal", "the model declined");
    failed("cancelled", "deadline");
    failed("unavailable", "A: not called: circuit breaker open or waiting for Retry-After");
  }
  ASSERT_TRUE(journal_->append(events).ok());
  Rebuilt r = rebuilt("A");
  EXPECT_EQ(r.outcomes, 0);
  EXPECT_EQ(r.tool.breaker, monitors::BreakerState::kClosed);
  EXPECT_TRUE(r.tool.failures.empty());
}

TEST_F(HealthRebuild, RestoresARetryAfterHold) {
  begin_hand_made_run();
  Event limited = failed_event(1, "rate_limited", "HTTP 429");
  limited.payload["retry_after_ms"] = 60000;
  ASSERT_TRUE(journal_->append(std::vector<Event>{limited}).ok());
  clock_.advance(milliseconds(1000));
  Rebuilt r = rebuilt("A");
  ASSERT_TRUE(r.tool.retry_after_until.has_value());
  EXPECT_EQ(*r.tool.retry_after_until - clock_.now(), milliseconds(59000));
  EXPECT_TRUE(std::isinf(r.tool.factor));
}

TEST_F(HealthRebuild, ReplaysRetriedAttemptsWithTheirLatency) {
  // A's first attempt fails, its retry succeeds; both took 200 ms.
  auto w =
      with_a(R"({"kind": "mock", "fail": {"calls": [1]}, "retries": 1, "latency_ms": 200})", "{}");
  run_times(w, 1);
  Rebuilt r = rebuilt("A");
  EXPECT_EQ(r.tool.samples, 2);
  EXPECT_DOUBLE_EQ(r.tool.latency_ms, 200.0);  // not an EWMA of 0 ms and 200 ms
  EXPECT_DOUBLE_EQ(r.tool.reliability, 0.5);
}

TEST_F(HealthRebuild, SeesTheBreakerAProbeClosed) {
  auto w = with_a(kAlwaysFails, R"({"breaker": {"failures": 1, "cooldown_ms": 60000}})");
  run_times(w, 1);
  clock_.advance(milliseconds(5));
  ASSERT_TRUE(journal_probe_transition(*journal_, clock_, "probe-1",
                                       {"A", monitors::BreakerState::kOpen,
                                        monitors::BreakerState::kClosed, "probe succeeded"})
                  .ok());
  EXPECT_EQ(rebuilt("A").tool.breaker, monitors::BreakerState::kClosed);
  auto record = journal_->get_run("probe-1");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->workflow, kMonitorWorkflow);
  EXPECT_EQ(record->status, "completed");
}

}  // namespace
}  // namespace switchyard::runtime
