// Shared health on a real PostgreSQL (docs/scale-out.md#shared-health): two processes' health
// monitors over one journal, each with its own connection. The failures one of them journals
// open the breaker in the other at its next poll, whose router then goes around the tool without
// calling it; a process never counts its own outcomes twice; a poll the server refuses is retried
// from where the last good one stopped; a started share learns on its own thread.

#include "runtime/engine/health_share.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "graph/clock.h"
#include "graph/load.h"
#include "runtime/base/system_clock.h"
#include "runtime/base/workflow_file.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"
#include "runtime/worker/worker.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"
#include "tests/support/subprocess.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using testing::fresh_location;
using testing::pg_query;
using testing::ServeProcess;
using testing::Subprocess;
using testing::TempDir;

// Start -> Pay -> Goal, or Start -> Backup -> Goal (dearer). Pay's breaker opens after two
// failures.
constexpr const char* kHsTwoWays = R"({
  "format": "switchyard.workflow/v1", "name": "two-ways", "start": "Start", "goal": "Goal",
  "tools": {"Pay": {"kind": "builtin", "name": "pay"}, "Backup": {"kind": "builtin", "name":
            "backup"}, "Goal": {"kind": "mock"}},
  "edges": [["Start", "Pay", 1], ["Start", "Backup", 3], ["Pay", "Goal", 1], ["Backup", "Goal", 1]],
  "policy": {"breaker": {"failures": 2, "cooldown_ms": 60000}}
})";

// One process of the deployment: its journal connection, health monitor and tools, on a clock
// shared by the test (moved by hand).
struct HsProcess {
  std::unique_ptr<Journal> journal;
  monitors::HealthTable health;
  tools::BuiltinRegistry builtins;
  std::shared_ptr<const graph::Workflow> workflow;
  std::shared_ptr<tools::ToolSet> tools;
  std::atomic<int> pay_calls{0};
  ManualClock& clock;

  HsProcess(const std::string& url, ManualClock& c) : health(c), clock(c) {
    auto j = open_postgres_journal(url);
    EXPECT_TRUE(j.ok()) << j.status().to_string();
    if (j.ok()) journal = std::move(*j);
    builtins.add("pay", [this](const nlohmann::json&) -> Result<nlohmann::json> {
      ++pay_calls;
      return Status(StatusCode::kDeadlineExceeded, "payments timed out");
    });
    builtins.add("backup", [](const nlohmann::json&) -> Result<nlohmann::json> {
      return nlohmann::json{{"paid", "backup"}};
    });
    auto loaded = graph::load(kHsTwoWays, "two-ways.json");
    EXPECT_TRUE(loaded.ok());
    workflow = loaded.workflow;
    auto t = tools::make_tool_set(*workflow, {.builtins = &builtins});
    EXPECT_TRUE(t.ok());
    if (t.ok()) tools = *t;
  }

  // One run to its end; the path it took.
  std::vector<std::string> run() {
    Runner runner(workflow, tools, *journal, clock, health);
    auto report = runner.run({});
    EXPECT_TRUE(report.ok()) << report.status().to_string();
    return report.ok() ? report->result.path : std::vector<std::string>{};
  }

  monitors::ToolHealth of(const std::string& tool) const {
    for (const auto& h : health.snapshot()) {
      if (h.tool == tool) return h;
    }
    return {};
  }

  // Outcomes recorded, over every tool.
  int samples() const {
    int n = 0;
    for (const auto& h : health.snapshot()) n += h.samples;
    return n;
  }

  std::unique_ptr<HealthShare> share(HealthShareOptions options = {}) {
    auto s = HealthShare::create(*journal, health, options);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(*s) : nullptr;
  }
};

TEST(HealthShare, FailuresJournaledByOneProcessOpenTheBreakerInTheOtherWhichThenGoesAround) {
  const std::string url = fresh_location("health");
  ManualClock clock;
  HsProcess a(url, clock), b(url, clock);
  auto shared_b = b.share();
  ASSERT_TRUE(shared_b);
  // A's runs call Pay, which times out, and go on through Backup: two failures open A's breaker.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(a.run(), (std::vector<std::string>{"Start", "Backup", "Goal"}));
  }
  EXPECT_EQ(a.pay_calls.load(), 2);
  ASSERT_EQ(a.of("Pay").breaker, monitors::BreakerState::kOpen);
  EXPECT_EQ(b.of("Pay").breaker, monitors::BreakerState::kClosed);  // not yet polled
  auto learned = shared_b->poll_once();
  ASSERT_TRUE(learned.ok()) << learned.status().to_string();
  EXPECT_GT(*learned, 0);
  const monitors::ToolHealth pay = b.of("Pay");
  EXPECT_EQ(pay.breaker, monitors::BreakerState::kOpen);
  EXPECT_EQ(pay.samples, a.of("Pay").samples);
  EXPECT_EQ(pay.failures.at("timeout"), a.of("Pay").failures.at("timeout"));
  EXPECT_EQ(shared_b->stats().outcomes, a.samples());
  // B's run goes around Pay without calling it: its breaker is open there.
  EXPECT_EQ(b.run(), (std::vector<std::string>{"Start", "Backup", "Goal"}));
  EXPECT_EQ(b.pay_calls.load(), 0);
  // Nothing new since: a second poll applies nothing.
  auto again = shared_b->poll_once();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TEST(HealthShare, AProcessNeverCountsItsOwnOutcomesTwice) {
  const std::string url = fresh_location("health");
  ManualClock clock;
  HsProcess a(url, clock), b(url, clock);
  auto shared_a = a.share(), shared_b = b.share();
  ASSERT_TRUE(shared_a && shared_b);
  a.run();
  b.run();
  const int a_pay = a.of("Pay").samples, b_pay = b.of("Pay").samples;
  const int a_all = a.samples(), b_all = b.samples();
  ASSERT_GT(a_pay, 0);
  ASSERT_GT(b_pay, 0);
  ASSERT_TRUE(shared_a->poll_once().ok());
  ASSERT_TRUE(shared_b->poll_once().ok());
  // Each learned the other's outcomes only: both count every outcome once.
  EXPECT_EQ(a.of("Pay").samples, a_pay + b_pay);
  EXPECT_EQ(b.of("Pay").samples, a_pay + b_pay);
  EXPECT_EQ(a.of("Backup").samples, b.of("Backup").samples);
  EXPECT_EQ(shared_a->stats().outcomes, b_all);
  EXPECT_EQ(shared_b->stats().outcomes, a_all);
  EXPECT_EQ(a.samples(), a_all + b_all);
}

TEST(HealthShare, AnotherProcessesFailedTrialRestartsTheCooldownHere) {
  const std::string url = fresh_location("health");
  ManualClock clock;
  HsProcess a(url, clock), b(url, clock);
  auto shared_b = b.share();
  ASSERT_TRUE(shared_b);
  a.run();
  a.run();
  ASSERT_TRUE(shared_b->poll_once().ok());
  ASSERT_EQ(b.of("Pay").breaker, monitors::BreakerState::kOpen);
  // The cool-down passes; A's next run tries Pay (half-open), which fails again, and B learns
  // it: its breaker, which would be half-open by now, is open for a cool-down from the trial,
  // so B does not try Pay too.
  clock.advance(std::chrono::seconds(61));
  const int before = a.pay_calls.load();
  a.run();
  EXPECT_EQ(a.pay_calls.load(), before + 1);  // A's one trial call
  ASSERT_TRUE(shared_b->poll_once().ok());
  EXPECT_EQ(b.of("Pay").breaker, monitors::BreakerState::kOpen);
  EXPECT_EQ(b.run(), (std::vector<std::string>{"Start", "Backup", "Goal"}));
  EXPECT_EQ(b.pay_calls.load(), 0);
}

TEST(HealthShare, APollTheServerRefusesIsRetriedFromWhereTheLastGoodOneStopped) {
  const std::string url = fresh_location("health", /*own_database=*/true);
  ManualClock clock;
  HsProcess a(url, clock), b(url, clock);
  auto shared_b = b.share();
  ASSERT_TRUE(shared_b);
  a.run();
  // The server ends every session of the database (a restart, an administrator).
  ASSERT_NE(pg_query(url,
                     "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                     "datname = current_database() AND pid <> pg_backend_pid()"),
            "0");
  auto failed = shared_b->poll_once();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().to_string();
  EXPECT_EQ(shared_b->stats().errors, 1);
  EXPECT_NE(shared_b->stats().last_error.find("cannot read the outcomes of other processes"),
            std::string::npos)
      << shared_b->stats().last_error;
  // A's connection is gone too: its next call fails, and the one after connects again.
  EXPECT_FALSE(a.journal->get_run("none").ok());
  a.run();
  ASSERT_EQ(a.of("Pay").breaker, monitors::BreakerState::kOpen);
  auto learned = shared_b->poll_once();  // reconnects, and reads both runs' outcomes
  ASSERT_TRUE(learned.ok()) << learned.status().to_string();
  EXPECT_EQ(b.of("Pay").samples, a.of("Pay").samples);
  EXPECT_EQ(b.of("Pay").breaker, monitors::BreakerState::kOpen);
  EXPECT_TRUE(shared_b->stats().last_error.empty());
}

TEST(HealthShare, AStartedShareLearnsOnItsOwnThreadWithinItsPoll) {
  const std::string url = fresh_location("health");
  ManualClock clock;
  HsProcess a(url, clock), b(url, clock);
  auto shared_b = b.share({.poll = std::chrono::milliseconds(5)});
  ASSERT_TRUE(shared_b);
  shared_b->start();
  a.run();
  a.run();
  // Bounded wait for the share's thread (real time: it polls every 5 ms of the steady clock).
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (b.health.breaker(b.health.tool("Pay")) != monitors::BreakerState::kOpen &&
         std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(b.of("Pay").breaker, monitors::BreakerState::kOpen);
  shared_b->stop();
  EXPECT_GT(shared_b->stats().polls, 0);
  EXPECT_EQ(shared_b->stats().errors, 0);
}

TEST(HealthShare, NeedsAJournalSharedBetweenProcesses) {
  auto memory = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  auto s = HealthShare::create(*memory, health);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("shared health needs a PostgreSQL journal"),
            std::string::npos);
}

TEST(HealthShare, AVersionThreeJournalIsUpgradedWithTheOutcomeIndex) {
  const std::string url = fresh_location("health");
  {
    ManualClock clock;
    HsProcess a(url, clock);
    a.run();
  }
  ASSERT_EQ(
      testing::pg_exec(url,
                       "DROP INDEX events_outcomes; ALTER TABLE events DROP COLUMN xid; "
                       "ALTER TABLE events DROP COLUMN origin; DROP TABLE throttle_keys; "
                       "DROP TABLE throttle_leases; DROP FUNCTION "
                       "switchyard_throttle_acquire; DROP TABLE tenant_budgets; DROP TABLE "
                       "tenant_reservations; DROP FUNCTION switchyard_tenant_reserve; ALTER TABLE "
                       "runs DROP COLUMN tenant; "
                       "UPDATE schema_version SET version = 3"),
      "");
  ManualClock clock;
  HsProcess a(url, clock), b(url, clock);
  EXPECT_EQ(pg_query(url, "SELECT version FROM schema_version"), "6");  // and on to 6
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM events WHERE xid IS NOT NULL"), "0");
  auto shared_b = b.share();
  ASSERT_TRUE(shared_b);
  a.run();
  ASSERT_TRUE(shared_b->poll_once().ok());
  EXPECT_EQ(b.of("Pay").samples, a.of("Pay").samples);
  EXPECT_GT(b.of("Pay").samples, 0);
}

// Calls `get` until `done` holds for what it returns or 5 s passed (another process changes
// it); returns the last value.
template <typename Get, typename Done>
auto hs_poll_until(Get get, Done done) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto value = get();
  while (!done(value) && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    value = get();
  }
  return value;
}

// The breaker of `tool` in a GET /v1/health answer ("" when the tool is not listed).
std::string hs_breaker(const std::string& body, const std::string& tool) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("tools")) return "";
  for (const auto& t : doc["tools"]) {
    if (t.value("tool", "") == tool) return t.value("breaker", "");
  }
  return "";
}

TEST(HealthShareCli, AServiceOnTheJournalShowsTheBreakerAnotherProcessOpenedInHealthAndMetrics) {
  const std::string url = fresh_location("health");
  ServeProcess server(url, {"--health-poll", "10ms"}, {"SWITCHYARD_TOKENS=h-token"});
  ASSERT_FALSE(server.url().empty());
  ManualClock clock(SystemClock().now());  // the service judges cool-downs on its own clock
  HsProcess a(url, clock);
  a.run();
  a.run();
  ASSERT_EQ(a.of("Pay").breaker, monitors::BreakerState::kOpen);
  const std::string health =
      hs_poll_until([&] { return server.call("GET", "/v1/health", "h-token").body; },
                    [](const std::string& body) { return hs_breaker(body, "Pay") == "open"; });
  EXPECT_EQ(hs_breaker(health, "Pay"), "open") << health;
  // The breaker may open on the service's side before its poll read a's last outcomes (a's
  // writes commit in several groups): the count reaches a's within a poll or two.
  const std::string outcomes =
      "switchyard_health_share_outcomes_total " + std::to_string(a.samples()) + "\n";
  const std::string metrics = hs_poll_until(
      [&] { return server.call("GET", "/metrics", "h-token").body; },
      [&](const std::string& body) { return body.find(outcomes) != std::string::npos; });
  EXPECT_NE(metrics.find("switchyard_health_share_up 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find(outcomes), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("switchyard_breaker_state{tool=\"Pay\",state=\"open\"} 1"),
            std::string::npos);
}

// The same workflow with mocks, for a worker process (which has no builtins of the test's).
constexpr const char* kHsTwoWaysMock = R"({
  "format": "switchyard.workflow/v1", "name": "two-ways-mock", "start": "Start", "goal": "Goal",
  "tools": {"Pay": {"kind": "mock", "fail": "always"}, "Backup": {"kind": "mock"},
            "Goal": {"kind": "mock"}},
  "edges": [["Start", "Pay", 1], ["Start", "Backup", 3], ["Pay", "Goal", 1], ["Backup", "Goal", 1]],
  "policy": {"breaker": {"failures": 2, "cooldown_ms": 60000}}
})";

TEST(HealthShareCli, AWorkerProcessGoesAroundAToolWhoseBreakerAnotherProcessOpened) {
  const std::string url = fresh_location("health");
  TempDir dir;
  const std::string file = dir.write("two-ways-mock.json", kHsTwoWaysMock);
  const std::string log = dir.file("worker.log");
  Subprocess worker({SWITCHYARD_BINARY, "worker", "--journal", url, "--workflow", file, "--name",
                     "w-health", "--health-poll", "10ms", "--poll", "10ms"},
                    {}, log);
  ASSERT_TRUE(worker.read_line().has_value());  // "worker w-health on ..."
  // Another process (this test) runs the workflow twice: Pay fails, its breaker opens there.
  auto loaded = graph::load(kHsTwoWaysMock, "two-ways-mock.json");
  ASSERT_TRUE(loaded.ok());
  auto tools = tools::make_tool_set(*loaded.workflow);
  ASSERT_TRUE(tools.ok());
  auto journal = open_postgres_journal(url);
  ASSERT_TRUE(journal.ok());
  SystemClock clock;
  monitors::HealthTable health(clock);
  for (int i = 0; i < 2; ++i) {
    Runner runner(loaded.workflow, *tools, **journal, clock, health);
    ASSERT_TRUE(runner.run({}).ok());
  }
  // The worker says it learned it (its log), then runs a queued run around Pay.
  const std::string said = hs_poll_until(
      [&] {
        auto text = read_file(log);
        return text.ok() ? *text : std::string();
      },
      [](const std::string& text) {
        return text.find("Pay breaker closed -> open here, learned from another process") !=
               std::string::npos;
      });
  ASSERT_NE(said.find("learned from another process"), std::string::npos) << said;
  auto id = enqueue_run(*(*journal)->run_queue(), *loaded.workflow, nlohmann::json::object(), clock,
                        "after-open");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  const std::string status = hs_poll_until(
      [&] { return pg_query(url, "SELECT status FROM runs WHERE run_id = 'after-open'"); },
      [](const std::string& s) { return s == "completed"; });
  ASSERT_EQ(status, "completed");
  EXPECT_EQ(pg_query(url,
                     "SELECT count(*) FROM events WHERE run_id = 'after-open' AND type = "
                     "'step_started' AND payload::jsonb->>'tool' = 'Pay'"),
            "0");
  EXPECT_EQ(pg_query(url,
                     "SELECT payload::jsonb->'known_down' FROM events WHERE run_id = "
                     "'after-open' AND seq = 1"),
            "[\"Pay\"]");
}

}  // namespace
}  // namespace switchyard::runtime
