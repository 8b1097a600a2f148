// Throttled tools across processes on a real PostgreSQL (docs/scale-out.md#limits-across-
// workers): two engines, each on its own journal connection (as two workers are), never exceed
// max_in_flight together against a real HTTP server that counts the requests it holds at once;
// the rate holds across them; a slot whose holder died (never renewed) comes free when its lease
// expires; a database error while asking fails the step `throttled` and sends nothing.

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/journal.h"
#include "tests/support/counting_server.h"
#include "tests/support/postgres_cluster.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using std::chrono::milliseconds;

using testing::CountingServer;
using testing::fresh_location;

std::unique_ptr<Journal> th_open(const std::string& url, milliseconds lease = milliseconds(10000)) {
  JournalOptions options;
  options.throttle_lease = lease;
  auto j = open_postgres_journal(url, options);
  EXPECT_TRUE(j.ok()) << j.status().to_string();
  return j.ok() ? std::move(*j) : nullptr;
}

// S -> Call (http, throttled) -> Done; or S -> Other -> Done when Call fails.
std::shared_ptr<const graph::Workflow> th_workflow(const std::string& url,
                                                   const std::string& throttle) {
  auto loaded = graph::load(
      R"({"format": "switchyard.workflow/v1", "name": "pgth", "start": "S", "goal": "Done",
    "tools": {"Call": {"kind": "http", "method": "GET", "idempotent": true, "url": ")" +
          url + R"(", "throttle": )" + throttle + R"(},
              "Other": {"kind": "mock", "idempotent": true},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["S", "Call", 1], ["S", "Other", 5], ["Call", "Done", 1], ["Other", "Done", 1]]})",
      "pgth.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// `per_engine` runs on each of two engines, each engine on its own journal object (its own
// connections and lease holder) on `url`; every report.
std::vector<RunReport> th_run_on_two(const std::string& url,
                                     const std::shared_ptr<const graph::Workflow>& workflow,
                                     int per_engine) {
  auto tools = tools::make_tool_set(*workflow);
  EXPECT_TRUE(tools.ok());
  auto a = th_open(url);
  auto b = th_open(url);
  if (!a || !b || !tools.ok()) return {};
  SystemClock clock;
  monitors::HealthTable health_a(clock);
  monitors::HealthTable health_b(clock);
  std::vector<RunReport> reports;
  {
    Engine one(*a, clock, health_a, {.threads = 1, .probe_interval = milliseconds(0)});
    Engine two(*b, clock, health_b, {.threads = 1, .probe_interval = milliseconds(0)});
    std::vector<std::future<Result<RunReport>>> runs;
    for (int i = 0; i < per_engine; ++i) {
      runs.push_back(one.submit(workflow, *tools, {}));
      runs.push_back(two.submit(workflow, *tools, {}));
    }
    for (auto& f : runs) {
      auto report = f.get();
      EXPECT_TRUE(report.ok()) << report.status().message();
      if (report.ok()) reports.push_back(std::move(*report));
    }
  }
  return reports;
}

TEST(PostgresThrottle, TwoEnginesOnOneDatabaseNeverExceedMaxInFlightTogether) {
  const std::string url = fresh_location("throttle");
  CountingServer server(milliseconds(40));
  auto workflow = th_workflow(server.url("/c"), R"({"max_in_flight": 2, "key": "provider-x"})");
  ASSERT_TRUE(workflow);
  auto reports = th_run_on_two(url, workflow, 4);
  ASSERT_EQ(reports.size(), 8u);
  for (const auto& r : reports) {
    EXPECT_EQ(r.result.path, (std::vector<std::string>{"S", "Call", "Done"})) << r.run_id;
  }
  EXPECT_EQ(server.requests(), 8);
  EXPECT_EQ(server.max_in_flight(), 2);
  // Every slot was given back.
  EXPECT_EQ(testing::pg_query(url, "SELECT count(*) FROM throttle_leases"), "0");
}

TEST(PostgresThrottle, TheRateHoldsAcrossEngines) {
  const std::string url = fresh_location("throttle");
  CountingServer server(milliseconds(0));
  // One start per 100 ms at most, whichever engine starts it.
  auto workflow = th_workflow(server.url("/r"), R"({"per_second": 10})");
  ASSERT_TRUE(workflow);
  auto reports = th_run_on_two(url, workflow, 4);
  ASSERT_EQ(reports.size(), 8u);
  for (const auto& r : reports) {
    EXPECT_EQ(r.result.path, (std::vector<std::string>{"S", "Call", "Done"})) << r.run_id;
  }
  const auto arrivals = server.arrivals();
  ASSERT_EQ(arrivals.size(), 8u);
  // Starts are granted 100 ms apart on the database server's clock; between the grant and the
  // request's arrival lies a connection's setup or a loaded machine's scheduling (tens of ms), so
  // the arrivals are checked two grants apart: unthrottled, all eight arrive within a few ms.
  for (std::size_t i = 2; i < arrivals.size(); ++i) {
    EXPECT_GE(arrivals[i] - arrivals[i - 2], milliseconds(120))
        << "requests " << i - 2 << ", " << i;
  }
  EXPECT_GE(arrivals.back() - arrivals.front(), milliseconds(600));
}

TEST(PostgresThrottle, ADeadHoldersSlotComesFreeWhenItsLeaseExpires) {
  const std::string url = fresh_location("throttle");
  auto j = th_open(url);
  ASSERT_TRUE(j);
  // The slot of a worker that died holding it: never renewed, never given back.
  ASSERT_EQ(testing::pg_exec(url,
                             "INSERT INTO throttle_leases (key, holder, expires_ms) VALUES "
                             "('solo', 'dead:1:0', floor(extract(epoch FROM clock_timestamp()) "
                             "* 1000)::bigint + 300)"),
            "");
  const ThrottleRequest one{.key = "solo", .max_in_flight = 1};
  const auto start = std::chrono::steady_clock::now();
  auto refused = j->call_limiter().try_acquire(one);
  ASSERT_TRUE(refused.ok()) << refused.status().message();
  EXPECT_FALSE(refused->granted);
  Result<Turn> turn = refused;
  while (turn.ok() && !turn->granted &&
         std::chrono::steady_clock::now() - start < milliseconds(1500)) {
    std::this_thread::sleep_for(turn->retry_after);
    turn = j->call_limiter().try_acquire(one);
  }
  ASSERT_TRUE(turn.ok()) << turn.status().message();
  ASSERT_TRUE(turn->granted);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LT(waited, milliseconds(1000));
  EXPECT_EQ(testing::pg_query(url, "SELECT holder FROM throttle_leases WHERE key = 'solo'")
                .rfind("dead:", 0),
            std::string::npos)
      << "the dead holder's row is gone";
  j->call_limiter().release(turn->permit);
  EXPECT_EQ(testing::pg_query(url, "SELECT count(*) FROM throttle_leases"), "0");
}

TEST(PostgresThrottle, ASlotInFlightIsRenewedPastItsLease) {
  const std::string url = fresh_location("throttle");
  auto holder = th_open(url, milliseconds(300));
  auto other = th_open(url);
  ASSERT_TRUE(holder && other);
  const ThrottleRequest one{.key = "long", .max_in_flight = 1};
  auto held = holder->call_limiter().try_acquire(one);
  ASSERT_TRUE(held.ok() && held->granted);
  // A call running three leases long keeps its slot: its holder renews it.
  std::this_thread::sleep_for(milliseconds(900));
  auto refused = other->call_limiter().try_acquire(one);
  ASSERT_TRUE(refused.ok()) << refused.status().message();
  EXPECT_FALSE(refused->granted);
  holder->call_limiter().release(held->permit);
  auto granted = other->call_limiter().try_acquire(one);
  ASSERT_TRUE(granted.ok());
  EXPECT_TRUE(granted->granted);
  other->call_limiter().release(granted->permit);
}

TEST(PostgresThrottle, ADatabaseErrorWhileAskingFailsTheStepThrottledAndSendsNothing) {
  const std::string url = fresh_location("throttle");
  CountingServer server(milliseconds(0));
  auto workflow = th_workflow(server.url("/e"), R"({"max_in_flight": 1})");
  ASSERT_TRUE(workflow);
  auto j = th_open(url);
  ASSERT_TRUE(j);
  ASSERT_EQ(testing::pg_exec(url, "DROP FUNCTION switchyard_throttle_acquire"), "");
  auto tools = tools::make_tool_set(*workflow);
  ASSERT_TRUE(tools.ok());
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine engine(*j, clock, health, {.threads = 1, .probe_interval = milliseconds(0)});
  auto report = engine.run(workflow, *tools, {.run_id = "r-dberr"});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->result.path, (std::vector<std::string>{"S", "Other", "Done"}));
  EXPECT_EQ(server.requests(), 0);
  auto events = j->events("r-dberr");
  ASSERT_TRUE(events.ok());
  bool seen = false;
  for (const auto& e : *events) {
    if (e.type != "step_failed" || e.payload.value("tool", "") != "Call") continue;
    seen = true;
    EXPECT_EQ(e.payload["failure"], "throttled");
    EXPECT_NE(e.payload["reason"].get<std::string>().find(
                  "Call: throttle 'Call': cannot take a turn: journal "),
              std::string::npos)
        << e.payload.dump();
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace switchyard::runtime
