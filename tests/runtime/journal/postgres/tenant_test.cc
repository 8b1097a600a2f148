// Tenant budgets across processes on a real PostgreSQL (docs/budgets.md#tenant-budgets): two
// engines, each on its own journal object (as two workers are), never overspend a tenant's cap
// together; concurrent reservations from many threads grant exactly what fits; a reservation a
// dead worker left open is charged its worst case once, by whoever takes its run over.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/journal.h"
#include "runtime/replay/verify.h"
#include "runtime/worker/worker.h"
#include "tests/support/journal_records.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/tenant_runs.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<Journal> pt_open(const std::string& url) {
  auto j = open_postgres_journal(url, {});
  EXPECT_TRUE(j.ok()) << j.status().to_string();
  return j.ok() ? std::move(*j) : nullptr;
}

// S -> Pay (priced 0.03, answering after 30 ms) -> Done, or S -> Free -> Done.
graph::LoadResult pt_workflow() {
  return graph::load(
      R"({"format": "switchyard.workflow/v1", "name": "pgtenant", "start": "S", "goal": "Done",
    "tools": {"Pay": {"kind": "mock", "price_usd": 0.03, "latency_ms": 30},
              "Free": {"kind": "mock", "idempotent": true},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["S", "Pay", 1], ["S", "Free", 5], ["Pay", "Done", 1], ["Free", "Done", 1]]})",
      "pgtenant.json");
}

TEST(PostgresTenant, EightRunsOnTwoEnginesNeverOverspendTheTenant) {
  const std::string url = testing::fresh_location("tenant");
  // Pay's reservations are in flight together (30 ms each). The cap fits three.
  auto loaded = pt_workflow();
  ASSERT_TRUE(loaded.ok());
  auto tools = tools::make_tool_set(*loaded.workflow);
  ASSERT_TRUE(tools.ok());
  auto a = pt_open(url);
  auto b = pt_open(url);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(testing::pg_query(url, "SELECT version FROM schema_version"), "6");
  ASSERT_TRUE(a->tenant_ledger().set_cap("acme", usd_micros(0.10)).ok());
  testing::check_two_engines_share_a_tenant(*a, *b, loaded.workflow, *tools, 0.10, 3);
  EXPECT_EQ(testing::pg_query(url, "SELECT count(*) FROM tenant_reservations"), "0");
}

TEST(PostgresTenant, AQueuedRunKeepsItsTenantForTheWorkerThatClaimsIt) {
  const std::string url = testing::fresh_location("tenant");
  auto loaded = pt_workflow();
  ASSERT_TRUE(loaded.ok());
  auto tools = tools::make_tool_set(*loaded.workflow);
  ASSERT_TRUE(tools.ok());
  auto journal = pt_open(url);
  ASSERT_TRUE(journal);
  ASSERT_TRUE(journal->tenant_ledger().set_cap("acme", usd_micros(0.01)).ok());  // Pay: refused
  SystemClock clock;
  auto bad = enqueue_run(*journal->run_queue(), *loaded.workflow, nlohmann::json::object(), clock,
                         "", "a\tb");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto id = enqueue_run(*journal->run_queue(), *loaded.workflow, nlohmann::json::object(), clock,
                        "q1", "acme");
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(journal->get_run("q1")->tenant, "acme");
  monitors::HealthTable health(clock);
  Engine engine(*journal, clock, health, {.threads = 1, .probe_interval = milliseconds(0)});
  auto worker = Worker::create(*journal, engine, clock, {{loaded.workflow, *tools}},
                               {.name = "w1", .poll = milliseconds(2)});
  ASSERT_TRUE(worker.ok()) << worker.status().message();
  std::thread t([&] { (*worker)->run(); });
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*worker)->stats().finished < 1 && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  (*worker)->stop();
  t.join();
  auto events = journal->events("q1");
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().payload.value("tenant", ""), "acme");
  bool refused = false;
  for (const Event& e : *events) {
    refused |= e.type == "step_failed" && e.payload["failure"] == "budget_exhausted";
  }
  EXPECT_TRUE(refused) << "the worker ran it as acme's";
  EXPECT_EQ(journal->get_run("q1")->status, "completed");
}

TEST(PostgresTenant, ConcurrentReservationsFromTwoProcessesGrantExactlyWhatFits) {
  const std::string url = testing::fresh_location("tenant");
  auto a = pt_open(url);
  auto b = pt_open(url);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->tenant_ledger().set_cap("t", 50 * 1000).ok());
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      TenantLedger& ledger = (t % 2 == 0 ? a : b)->tenant_ledger();
      for (int i = 0; i < 20; ++i) {
        auto d = ledger.reserve("t", "r" + std::to_string(t), i + 1, 1000);
        ASSERT_TRUE(d.ok()) << d.status().message();
        if (d->granted) ++granted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 50) << "80 asked, the cap fits 50";
  const TenantBudget row = testing::tenant_row(a->tenant_ledger(), "t");
  EXPECT_EQ(row.reserved, 50 * 1000);
  EXPECT_EQ(row.spent, 0);
}

TEST(PostgresTenant, AReservationADeadWorkerLeftOpenIsChargedItsWorstCaseOnce) {
  const std::string url = testing::fresh_location("tenant");
  auto dead = pt_open(url);
  auto taker = pt_open(url);
  ASSERT_TRUE(dead && taker);
  ASSERT_TRUE(dead->tenant_ledger().set_cap("acme", 100000).ok());
  ASSERT_TRUE(dead->tenant_ledger().reserve("acme", "r1", 1, 40000)->granted);
  ASSERT_TRUE(dead->tenant_ledger().reserve("acme", "r2", 1, 10000)->granted);
  // The worker taking r1 over settles what r1's previous holder left open: its worst case.
  auto left = taker->tenant_ledger().settle_abandoned("r1");
  ASSERT_TRUE(left.ok()) << left.status().message();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].call, 1);
  EXPECT_EQ((*left)[0].usd, 40000);
  // The stale worker's late settlement charges nothing again.
  auto late = dead->tenant_ledger().settle("r1", 1, 5000);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(*late);
  const TenantBudget row = testing::tenant_row(taker->tenant_ledger(), "acme");
  EXPECT_EQ(row.spent, 40000);
  EXPECT_EQ(row.reserved, 10000) << "r2's call is still in flight";
  // What is left: 100000 - 40000 - 10000.
  EXPECT_FALSE(taker->tenant_ledger().reserve("acme", "r3", 1, 50001)->granted);
  EXPECT_TRUE(taker->tenant_ledger().reserve("acme", "r3", 1, 50000)->granted);
}

}  // namespace
}  // namespace switchyard::runtime
