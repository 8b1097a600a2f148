// Throttled tools (docs/workflow-format.md#throttle) in one process: the limiter's turns on an
// injected clock (slots, the rate), a call that gets no turn in time failing `throttled` (not
// sent, not charged, healed around) with the engine and the runner, and two engines on one
// SQLite journal never exceeding max_in_flight together against a real HTTP server.

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/call_limiter.h"
#include "tests/support/counting_server.h"
#include "tests/support/run_command.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using std::chrono::milliseconds;

TEST(InProcessLimiter, GrantsAtMostMaxInFlightSlotsUntilOneIsGivenBack) {
  ManualClock clock;
  InProcessLimiter limiter(clock);
  const ThrottleRequest two{.key = "p", .max_in_flight = 2};
  auto a = limiter.try_acquire(two);
  auto b = limiter.try_acquire(two);
  auto c = limiter.try_acquire(two);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(a->granted);
  EXPECT_TRUE(b->granted);
  EXPECT_FALSE(c->granted);
  EXPECT_EQ(c->retry_after, kThrottlePoll);
  // Another key is not limited by this one.
  EXPECT_TRUE(limiter.try_acquire({.key = "q", .max_in_flight = 1})->granted);
  limiter.release(a->permit);
  EXPECT_EQ(limiter.in_flight("p"), 1);
  EXPECT_TRUE(limiter.try_acquire(two)->granted);
  EXPECT_EQ(limiter.in_flight("p"), 2);
}

TEST(InProcessLimiter, SpacesStartsOneOverPerSecondApart) {
  ManualClock clock;
  InProcessLimiter limiter(clock);
  const ThrottleRequest four{.key = "r", .per_second = 4};  // one start per 250 ms
  auto first = limiter.try_acquire(four);
  ASSERT_TRUE(first.ok() && first->granted);
  limiter.release(first->permit);
  auto early = limiter.try_acquire(four);
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->granted);
  EXPECT_EQ(early->retry_after, milliseconds(250));
  clock.advance(milliseconds(249));
  auto still = limiter.try_acquire(four);
  EXPECT_FALSE(still->granted);
  EXPECT_EQ(still->retry_after, milliseconds(1));
  clock.advance(milliseconds(1));
  EXPECT_TRUE(limiter.try_acquire(four)->granted);
}

// S -> Busy (throttled, priced) -> Done, or S -> Other -> Done at a higher cost.
std::string throttled_workflow(const std::string& busy) {
  return R"({"format": "switchyard.workflow/v1", "name": "th", "start": "S", "goal": "Done",
    "tools": {"Busy": )" +
         busy + R"(,
              "Other": {"kind": "mock", "idempotent": true},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["S", "Busy", 1], ["S", "Other", 5], ["Busy", "Done", 1], ["Other", "Done", 1]]})";
}

const Event* failed_step(const std::vector<Event>& events, const std::string& tool) {
  for (const auto& e : events) {
    if (e.type == "step_failed" && e.payload.value("tool", "") == tool) return &e;
  }
  return nullptr;
}

TEST(ThrottledRuns, NoTurnWithinMaxWaitFailsTheStepThrottledUnchargedAndTheRunHeals) {
  ManualClock clock;
  InProcessLimiter limiter(clock);
  auto held = limiter.try_acquire({.key = "provider-x", .max_in_flight = 1});  // never given back
  ASSERT_TRUE(held.ok() && held->granted);
  auto loaded = graph::load(throttled_workflow(R"({"kind": "mock", "idempotent": true,
      "price_usd": 2, "throttle": {"max_in_flight": 1, "key": "provider-x", "max_wait_ms": 300}})"),
                            "th.json");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  auto tools = tools::make_tool_set(*loaded.workflow);
  ASSERT_TRUE(tools.ok());
  monitors::HealthTable health(clock);
  auto journal = make_memory_journal();
  const auto before = clock.now();
  {
    Engine engine(*journal, clock, health, {.threads = 1, .limiter = &limiter});
    auto report = engine.run(loaded.workflow, *tools, {.run_id = "e1"});
    ASSERT_TRUE(report.ok()) << report.status().message();
    EXPECT_EQ(report->result.status, RunStatus::kCompleted);
    EXPECT_EQ(report->result.path, (std::vector<std::string>{"S", "Other", "Done"}));
    EXPECT_EQ(report->result.spent_usd, 0) << "a call never sent is not charged";
  }
  // The wait was spent on the injected clock (nothing slept), max_wait_ms and no more.
  EXPECT_EQ(clock.now() - before, milliseconds(300));
  Runner runner(loaded.workflow, *tools, *journal, clock, health, {.limiter = &limiter});
  auto sync = runner.run({.run_id = "r1"});
  ASSERT_TRUE(sync.ok()) << sync.status().message();
  EXPECT_EQ(sync->result.status, RunStatus::kCompleted);
  EXPECT_EQ(sync->result.spent_usd, 0);
  for (const char* run : {"e1", "r1"}) {
    auto events = journal->events(run);
    ASSERT_TRUE(events.ok());
    const Event* failed = failed_step(*events, "Busy");
    ASSERT_NE(failed, nullptr) << run;
    EXPECT_EQ(failed->payload["failure"], "throttled") << run;
    EXPECT_EQ(failed->payload["reason"],
              "Busy: throttle 'provider-x' (max_in_flight 1): no turn within 300 ms "
              "(max_wait_ms)")
        << run;
  }
  EXPECT_EQ(limiter.in_flight("provider-x"), 1) << "only the test's own slot";
}

TEST(ThrottledRuns, TwoEnginesOnOneSqliteJournalNeverExceedMaxInFlightTogether) {
  testing::CountingServer server(milliseconds(40));
  testing::TempDir dir;
  auto journal = open_sqlite_journal(dir.path() + "/j.db");
  ASSERT_TRUE(journal.ok()) << journal.status().message();
  const std::string key = "inproc-" + std::to_string(::getpid());
  auto loaded = graph::load(
      throttled_workflow(R"({"kind": "http", "method": "GET", "idempotent": true, "url": ")" +
                         server.url("/call") + R"(", "throttle": {"max_in_flight": 2, "key": ")" +
                         key + R"("}})"),
      "th.json");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  auto tools = tools::make_tool_set(*loaded.workflow);
  ASSERT_TRUE(tools.ok());
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine one(**journal, clock, health, {.threads = 2});
  Engine two(**journal, clock, health, {.threads = 2});
  std::vector<std::future<Result<RunReport>>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(one.submit(loaded.workflow, *tools, {}));
    runs.push_back(two.submit(loaded.workflow, *tools, {}));
  }
  for (auto& f : runs) {
    auto report = f.get();
    ASSERT_TRUE(report.ok()) << report.status().message();
    EXPECT_EQ(report->result.path, (std::vector<std::string>{"S", "Busy", "Done"}));
  }
  EXPECT_EQ(server.requests(), 8);
  EXPECT_EQ(server.max_in_flight(), 2);
}

}  // namespace
}  // namespace switchyard::runtime
