// Workers on a real PostgreSQL (docs/scale-out.md#workers): the run queue (claims that skip
// locked rows, leases, fencing epochs) and Worker over it: claim exclusivity with two workers,
// a lease that expires taken over with a higher epoch without re-running a completed step, a
// stale worker's writes refused, and a `switchyard worker` process SIGKILLed mid-run whose runs
// another worker finishes without repeating a non-idempotent request.

#include "runtime/worker/worker.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "runtime/base/system_clock.h"
#include "runtime/base/workflow_file.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/journal.h"
#include "runtime/replay/verify.h"
#include "runtime/replay/wait_inbox.h"
#include "tests/support/fault_server.h"
#include "tests/support/forwarding_run_queue.h"
#include "tests/support/journal_records.h"
#include "tests/support/otlp_receiver.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/run_command.h"
#include "tests/support/subprocess.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"
#include "tools/trace_context.h"

namespace switchyard::runtime {
namespace {

using testing::FaultServer;
using testing::fresh_location;
using testing::journal_event;
using testing::pg_query;
using testing::run_record;
using testing::Subprocess;
using testing::TempDir;

constexpr std::int64_t kWkLeaseMs = 10000;

std::unique_ptr<Journal> wk_open(const std::string& url) {
  auto j = open_postgres_journal(url);
  EXPECT_TRUE(j.ok()) << j.status().to_string();
  return j.ok() ? std::move(*j) : nullptr;
}

std::int64_t wk_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

// Whether run `id` re-verifies from `journal` (replay --verify), saying why not.
::testing::AssertionResult wk_verifies(const Journal& journal, const std::string& id) {
  auto v = verify_run(journal, id);
  if (!v.ok()) return ::testing::AssertionFailure() << id << ": " << v.status().to_string();
  if (!v->ok()) return ::testing::AssertionFailure() << id << " does not verify";
  return ::testing::AssertionSuccess();
}

// A queued run's row, as enqueue_run makes it (its workflow need not be a real one here).
RunRecord wk_queued(const std::string& id, std::int64_t started_ms) {
  RunRecord r = run_record(id, started_ms);
  r.workflow_hash = "h-queue";
  r.status = "queued";
  return r;
}

TEST(RunQueue, AdmitsQueuedRunsThatOnlyAClaimStarts) {
  const std::string url = fresh_location("worker");
  auto j = wk_open(url);
  ASSERT_TRUE(j);
  RunQueue* queue = j->run_queue();
  ASSERT_NE(queue, nullptr);
  ASSERT_TRUE(queue->enqueue(wk_queued("r-1", 1000)).ok());
  EXPECT_EQ(queue->enqueue(wk_queued("r-1", 1000)).code(), StatusCode::kInvalidArgument);
  auto row = j->get_run("r-1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "queued");
  EXPECT_EQ(row->epoch, 0);
  EXPECT_EQ(row->owner, "");
  // A worker only claims the workflows it knows.
  auto none = queue->claim("w1", {"h-other"}, 5000, kWkLeaseMs);
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_FALSE(none->has_value());
  auto claimed = queue->claim("w1", {"h-other", "h-queue"}, 5000, kWkLeaseMs);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->run_id, "r-1");
  EXPECT_EQ((*claimed)->epoch, 1);
  EXPECT_FALSE((*claimed)->taken_over);
  row = j->get_run("r-1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "running");
  EXPECT_EQ(row->owner, "w1");
  EXPECT_EQ(row->lease_expires_ms, 5000 + kWkLeaseMs);
  auto stats = queue->stats(5000);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, 0);
  EXPECT_EQ(stats->leased, 1);
  // Held and not expired: nobody else gets it.
  auto again = queue->claim("w2", {"h-queue"}, 5000 + kWkLeaseMs - 1, kWkLeaseMs);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST(RunQueue, AVersionOneJournalIsUpgradedWithTheQueueIndexesAndTheWaitInbox) {
  const std::string url = fresh_location("worker");
  ASSERT_TRUE(wk_open(url));
  // What version 1 was: the same tables, without the queue's indexes (version 2), the wait
  // inbox (version 3), the shared health's columns and index (version 4), the throttles' tables
  // (version 5) and the tenants' budgets (version 6).
  ASSERT_EQ(
      testing::pg_exec(url,
                       "DROP INDEX runs_queued; DROP INDEX runs_leases; DROP INDEX "
                       "runs_by_owner; DROP TABLE wait_inbox; DROP INDEX events_outcomes; "
                       "ALTER TABLE events DROP COLUMN xid; ALTER TABLE events DROP COLUMN "
                       "origin; DROP TABLE throttle_keys; DROP TABLE throttle_leases; "
                       "DROP FUNCTION switchyard_throttle_acquire; DROP TABLE "
                       "tenant_budgets; DROP TABLE tenant_reservations; DROP FUNCTION "
                       "switchyard_tenant_reserve; ALTER TABLE runs DROP COLUMN tenant; UPDATE "
                       "schema_version SET version = 1"),
      "");
  ASSERT_TRUE(wk_open(url));
  EXPECT_EQ(pg_query(url, "SELECT version FROM schema_version"), "6");
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM wait_inbox"), "0");
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM throttle_leases"), "0");      // version 5
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM tenant_reservations"), "0");  // version 6
  EXPECT_EQ(pg_query(url,
                     "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
                     "indexname IN ('runs_queued', 'runs_leases', 'runs_by_owner')"),
            "3");
}

TEST(RunQueue, TwoWorkersClaimingAtOnceNeverGetTheSameRun) {
  const std::string url = fresh_location("worker");
  auto admin = wk_open(url);
  ASSERT_TRUE(admin);
  constexpr int kRuns = 60;
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(admin->run_queue()->enqueue(wk_queued("r-" + std::to_string(i), 1000 + i)).ok());
  }
  std::vector<std::string> got[2];
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      auto j = wk_open(url);
      if (!j) return;
      for (;;) {
        auto c = j->run_queue()->claim("w" + std::to_string(w), {"h-queue"}, 5000, kWkLeaseMs);
        if (!c.ok()) {
          ADD_FAILURE() << c.status().to_string();
          return;
        }
        if (!c->has_value()) return;
        EXPECT_EQ((*c)->epoch, 1);
        got[w].push_back((*c)->run_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all(got[0].begin(), got[0].end());
  all.insert(got[1].begin(), got[1].end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kRuns));
  EXPECT_EQ(got[0].size() + got[1].size(), static_cast<std::size_t>(kRuns));  // none twice
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM runs WHERE status = 'running' AND epoch = 1"),
            std::to_string(kRuns));
}

TEST(RunQueue, AStaleWorkersWritesAreRefusedOnceAnotherTookTheRunOver) {
  const std::string url = fresh_location("worker");
  auto a = wk_open(url);
  auto b = wk_open(url);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->run_queue()->enqueue(wk_queued("r-1", 1000)).ok());
  auto ca = a->run_queue()->claim("a", {"h-queue"}, 5000, kWkLeaseMs);
  ASSERT_TRUE(ca.ok() && ca->has_value());
  a->run_queue()->fence("r-1", (*ca)->epoch);
  ASSERT_TRUE(a->append({journal_event("r-1", 1, "run_started")}).ok());
  // a's lease expires (a paused, partitioned): b takes the run over with a higher epoch.
  auto cb = b->run_queue()->claim("b", {"h-queue"}, 5000 + kWkLeaseMs + 1, kWkLeaseMs);
  ASSERT_TRUE(cb.ok() && cb->has_value());
  EXPECT_TRUE((*cb)->taken_over);
  EXPECT_EQ((*cb)->previous_owner, "a");
  EXPECT_EQ((*cb)->epoch, 2);
  b->run_queue()->fence("r-1", 2);
  // a's next writes, alone or in a group, and its finish are refused, naming the takeover.
  Status s = a->append({journal_event("r-1", 2, "plan")});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("taken over (epoch 2, held by b)"), std::string::npos) << s.message();
  std::vector<Journal::Write> group = {
      [](Journal& j) { return j.append({journal_event("r-1", 2, "plan")}); }};
  auto statuses = a->write_group(group);
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(a->finish_run("r-1", "completed", nullptr, 9000).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(a->claim_run("r-1").code(), StatusCode::kFailedPrecondition);
  // a's renewal no longer returns it; b's does.
  auto renewed = a->run_queue()->renew("a", {"r-1"}, 9000, kWkLeaseMs);
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(renewed->empty());
  // b continues the run where its journal ends, and finishes it.
  ASSERT_TRUE(b->append({journal_event("r-1", 2, "plan")}).ok());
  ASSERT_TRUE(b->finish_run("r-1", "completed", nlohmann::json{{"ok", true}}, 9000).ok());
  auto events = b->events("r-1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);
  auto check = b->check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

// A group's statements are sent at once, without a row lock per run (docs/scale-out.md): a run
// taken over by another worker after its events were sent and before the group's end is caught
// by the group's update of the heads, and the group is performed again write by write, so that
// the stale run's write is refused and the others of the same group still commit.
// Queued runs r-1 and r-2, both claimed by worker "a" (r-1 at 5000, r-2 a lease later: r-1's
// lease expires first) and fenced at their epochs on a's journal.
::testing::AssertionResult wk_two_claimed_by_a(Journal& a) {
  if (!a.run_queue()->enqueue(wk_queued("r-1", 1000)).ok() ||
      !a.run_queue()->enqueue(wk_queued("r-2", 2000)).ok()) {
    return ::testing::AssertionFailure() << "cannot enqueue r-1 and r-2";
  }
  auto c1 = a.run_queue()->claim("a", {"h-queue"}, 5000, kWkLeaseMs);
  auto c2 = a.run_queue()->claim("a", {"h-queue"}, 5000 + kWkLeaseMs, kWkLeaseMs);
  if (!c1.ok() || !c1->has_value() || !c2.ok() || !c2->has_value() || (*c1)->run_id != "r-1") {
    return ::testing::AssertionFailure() << "a did not claim r-1, then r-2";
  }
  a.run_queue()->fence_unstarted("r-1", (*c1)->epoch);
  a.run_queue()->fence_unstarted("r-2", (*c2)->epoch);
  return ::testing::AssertionSuccess();
}

TEST(RunQueue, ARunTakenOverWhileItsGroupIsInFlightIsRefusedAndTheGroupsOtherRunsCommit) {
  const std::string url = fresh_location("worker");
  auto a = wk_open(url);
  auto b = wk_open(url);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(wk_two_claimed_by_a(*a));
  int takeovers = 0;
  std::vector<Journal::Write> group = {
      [](Journal& j) { return j.append({journal_event("r-1", 1, "run_started")}); },
      // Meanwhile r-1's lease (not r-2's) has expired and b takes it over, once.
      [&](Journal&) -> Status {
        if (takeovers++ > 0) return Status();
        auto taken = b->run_queue()->claim("b", {"h-queue"}, 5000 + kWkLeaseMs + 1, kWkLeaseMs);
        if (!taken.ok()) return taken.status();
        EXPECT_TRUE(taken->has_value() && (*taken)->run_id == "r-1" && (*taken)->taken_over);
        return Status();
      },
      [](Journal& j) {
        if (Status s = j.append({journal_event("r-2", 1, "run_started")}); !s.ok()) return s;
        return j.append({journal_event("r-2", 2, "plan")});
      }};
  auto statuses = a->write_group(group);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kFailedPrecondition) << statuses[0].to_string();
  EXPECT_NE(statuses[0].message().find("refused (fenced)"), std::string::npos)
      << statuses[0].message();
  EXPECT_TRUE(statuses[1].ok()) << statuses[1].to_string();
  EXPECT_TRUE(statuses[2].ok()) << statuses[2].to_string();
  EXPECT_EQ(takeovers, 2);  // performed at once, then again write by write
  EXPECT_TRUE(b->events("r-1")->empty());
  EXPECT_EQ(b->events("r-2")->size(), 2u);
  EXPECT_EQ(b->get_run("r-2")->head_seq, 2);
  auto check = b->check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

// A group sent at once is one round trip (its COMMIT in the same pipeline): a run's finish
// whose run was taken over changes no row, which fails the statement on the server, so that the
// COMMIT is skipped; performed again write by write, the finish is refused and nothing of the
// write is kept, while the group's other write commits.
TEST(RunQueue, AFinishOfARunTakenOverIsRefusedInAGroupOfOneRoundTripAndNothingOfItIsKept) {
  const std::string url = fresh_location("worker");
  auto a = wk_open(url);
  auto b = wk_open(url);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(wk_two_claimed_by_a(*a));
  // r-1's lease expired and b took it over before the group: a's epoch for it is stale.
  auto taken = b->run_queue()->claim("b", {"h-queue"}, 5000 + kWkLeaseMs + 1, kWkLeaseMs);
  ASSERT_TRUE(taken.ok() && taken->has_value() && (*taken)->run_id == "r-1");
  int performed = 0;
  std::vector<Journal::Write> group = {
      [&](Journal& j) {
        ++performed;
        if (Status s = j.append({journal_event("r-1", 1, "run_started")}); !s.ok()) return s;
        return j.finish_run("r-1", "completed", nlohmann::json{{"status", "completed"}}, 6000);
      },
      [](Journal& j) { return j.append({journal_event("r-2", 1, "run_started")}); }};
  auto statuses = a->write_group(group);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kFailedPrecondition) << statuses[0].to_string();
  EXPECT_NE(statuses[0].message().find("refused (fenced)"), std::string::npos)
      << statuses[0].message();
  EXPECT_TRUE(statuses[1].ok()) << statuses[1].to_string();
  EXPECT_EQ(performed, 2);  // at once (nothing of it committed), then on its own
  EXPECT_TRUE(b->events("r-1")->empty());
  auto r1 = b->get_run("r-1");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->status, "running");
  EXPECT_EQ(r1->owner, "b");
  EXPECT_EQ(r1->head_seq, 0);
  EXPECT_EQ(b->events("r-2")->size(), 1u);
  auto check = b->check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

// One claim statement takes up to `limit` runs, oldest first; another worker's gets the rest.
TEST(RunQueue, ClaimManyTakesUpToItsLimitOldestFirst) {
  const std::string url = fresh_location("worker");
  auto a = wk_open(url);
  auto b = wk_open(url);
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        a->run_queue()->enqueue(wk_queued("r-" + std::to_string(i), 1000 + (4 - i) * 10)).ok());
  }
  auto first = a->run_queue()->claim_many("a", {"h-queue"}, 5000, kWkLeaseMs, 3);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].run_id, "r-4");
  EXPECT_EQ((*first)[1].run_id, "r-3");
  EXPECT_EQ((*first)[2].run_id, "r-2");
  for (const ClaimedRun& c : *first) {
    EXPECT_EQ(c.epoch, 1);
    EXPECT_FALSE(c.taken_over);
    EXPECT_TRUE(c.fresh_input.has_value());
  }
  auto rest = b->run_queue()->claim_many("b", {"h-queue"}, 5000, kWkLeaseMs, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].run_id, "r-1");
  EXPECT_EQ((*rest)[1].run_id, "r-0");
  EXPECT_TRUE(a->run_queue()->claim_many("a", {"h-queue"}, 5000, kWkLeaseMs, 4)->empty());
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM runs WHERE status = 'running' AND owner = 'a'"),
            "3");
}

// ---- Worker over engines ----

// Start -> One -> Two -> Done, both builtins. One is not idempotent, so its outcome is durable
// before Two is called (docs/journal.md): a takeover while Two is in flight finds One completed.
constexpr const char* kWkTwoSteps = R"({
  "format": "switchyard.workflow/v1",
  "name": "worker-two-steps",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "One": {"kind": "builtin", "name": "one", "idempotent": false},
    "Two": {"kind": "builtin", "name": "two", "idempotent": true}
  },
  "edges": [["Start", "One", 1], ["One", "Two", 1], ["Two", "Done", 1]]
})";

// One worker process's parts: its own journal connection, health, engine, builtins.
struct WkNode {
  std::unique_ptr<Journal> journal;
  monitors::HealthTable health;
  tools::BuiltinRegistry builtins;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Worker> worker;

  WkNode(const std::string& url, Clock& engine_clock) : health(engine_clock) {
    journal = wk_open(url);
    engine = std::make_unique<Engine>(*journal, engine_clock, health, EngineOptions{.threads = 1});
  }
  void start_worker(std::shared_ptr<const graph::Workflow> w, Clock& clock, WorkerOptions o) {
    auto tools = tools::make_tool_set(*w, {.builtins = &builtins});
    ASSERT_TRUE(tools.ok()) << tools.status().to_string();
    auto made = Worker::create(*journal, *engine, clock, {{w, *tools}}, std::move(o));
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    worker = std::move(*made);
  }
  ~WkNode() {
    worker.reset();
    engine.reset();
  }
};

std::shared_ptr<const graph::Workflow> wk_workflow(const TempDir& dir, const char* text) {
  auto loaded = load_workflow_file(dir.write("wf.json", text));
  EXPECT_TRUE(loaded.ok());
  return loaded.workflow;
}

TEST(Worker, NeedsAJournalWithARunQueue) {
  auto memory = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine engine(*memory, clock, health, {.threads = 1});
  TempDir dir;
  auto w = wk_workflow(dir, kWkTwoSteps);
  auto made = Worker::create(*memory, engine, clock, {{w, nullptr}});
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("workers need a PostgreSQL journal"), std::string::npos);
}

TEST(Worker, TwoWorkersRunEveryQueuedRunExactlyOnce) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkTwoSteps);
  SystemClock clock;
  std::mutex mu;
  std::map<std::string, int> calls;  // "<run>/<step>" -> calls
  auto count = [&](const std::string& step) {
    return [&, step](const nlohmann::json& ctx) -> Result<nlohmann::json> {
      std::lock_guard lock(mu);
      ++calls[ctx["input"]["n"].get<std::string>() + "/" + step];
      return nlohmann::json{{"ok", true}};
    };
  };
  WkNode n1(url, clock), n2(url, clock);
  for (WkNode* n : {&n1, &n2}) {
    n->builtins.add("one", count("one"));
    n->builtins.add("two", count("two"));
  }
  n1.start_worker(w, clock, {.name = "w1", .poll = std::chrono::milliseconds(2)});
  n2.start_worker(w, clock, {.name = "w2", .poll = std::chrono::milliseconds(2)});
  constexpr int kRuns = 24;
  std::vector<std::string> ids;
  for (int i = 0; i < kRuns; ++i) {
    auto id = enqueue_run(*n1.journal->run_queue(), *w, {{"n", std::to_string(i)}}, clock);
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    ids.push_back(*id);
  }
  std::thread t1([&] { n1.worker->run(); }), t2([&] { n2.worker->run(); });
  // Every run ends (the workers run on their own threads; their counts are polled, bounded).
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (n1.worker->stats().finished + n2.worker->stats().finished < kRuns &&
         std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  n1.worker->stop();
  n2.worker->stop();
  t1.join();
  t2.join();
  const WorkerStats s1 = n1.worker->stats(), s2 = n2.worker->stats();
  EXPECT_EQ(s1.claimed + s2.claimed, kRuns);
  EXPECT_EQ(s1.finished + s2.finished, kRuns);
  EXPECT_EQ(s1.taken_over + s2.taken_over + s1.lost + s2.lost + s1.failed + s2.failed, 0);
  for (int i = 0; i < kRuns; ++i) {
    EXPECT_EQ(calls[std::to_string(i) + "/one"], 1) << i;
    EXPECT_EQ(calls[std::to_string(i) + "/two"], 1) << i;
  }
  for (const auto& id : ids) {
    auto run = n1.journal->get_run(id);
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->epoch, 1);
    EXPECT_TRUE(run->owner == "w1" || run->owner == "w2") << run->owner;
    EXPECT_TRUE(wk_verifies(*n1.journal, id));
  }
}

// Start -> One -> Done, One idempotent: the engine has no commit point before the run's end
// (docs/journal.md's rule 3).
constexpr const char* kWkIdempotentStep = R"({
  "format": "switchyard.workflow/v1",
  "name": "worker-idempotent-step",
  "start": "Start",
  "goal": "Done",
  "tools": {"One": {"kind": "builtin", "name": "one", "idempotent": true}},
  "edges": [["Start", "One", 1], ["One", "Done", 1]]
})";

// A claimed run's run_started goes to the journal writer as the run is started: committed by the
// next group while its first step runs, not with the run's end. The step waits (bounded) until
// the feed says run_started is committed; without the early write it would wait in vain, since
// nothing of the run is written before the step's outcome.
TEST(Worker, AClaimedRunsStartIsCommittedBeforeItsFirstStepEndsEvenWhenEveryStepIsIdempotent) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkIdempotentStep);
  SystemClock clock;
  auto journal = wk_open(url);
  ASSERT_TRUE(journal);
  EventFeed feed(*journal);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> committed;  // event types of the run, in commit order
  auto sub = feed.subscribe([&](const Event& e) {
    std::lock_guard lock(mu);
    committed.push_back(e.type);
    cv.notify_all();
  });
  bool started_before_step_ended = false;
  tools::BuiltinRegistry builtins;
  builtins.add("one", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    std::unique_lock lock(mu);
    started_before_step_ended = cv.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::find(committed.begin(), committed.end(), "run_started") != committed.end();
    });
    return nlohmann::json{{"ok", true}};
  });
  auto tools = tools::make_tool_set(*w, {.builtins = &builtins});
  ASSERT_TRUE(tools.ok());
  monitors::HealthTable health(clock);
  Engine engine(feed, clock, health, EngineOptions{.threads = 1});
  auto worker = Worker::create(feed, engine, clock, {{w, *tools}}, {.name = "w1"});
  ASSERT_TRUE(worker.ok()) << worker.status().to_string();
  auto id = enqueue_run(*journal->run_queue(), *w, nlohmann::json::object(), clock);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  auto started = (*worker)->poll_once();
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  ASSERT_EQ(*started, 1);
  engine.wait_idle();
  EXPECT_TRUE(started_before_step_ended);
  EXPECT_EQ((*worker)->stats().finished, 1);
  {
    std::lock_guard lock(mu);
    ASSERT_FALSE(committed.empty());
    EXPECT_EQ(committed.front(), "run_started");
    EXPECT_EQ(committed.back(), "run_finished");
  }
  EXPECT_EQ(journal->get_run(*id)->status, "completed");
  EXPECT_TRUE(wk_verifies(*journal, *id));
}

// A claims queue that, right after each claim, has another journal adopt the runs it claimed
// (`switchyard resume` taking them out of the workers' hands): the claimant's epoch is stale
// before it writes anything.
class WkAdoptedAfterClaim final : public testing::ForwardingRunQueue {
 public:
  WkAdoptedAfterClaim(RunQueue& inner, RunQueue& other)
      : ForwardingRunQueue(inner), other_(other) {}
  Result<std::vector<ClaimedRun>> claim_many(const std::string& owner,
                                             const std::vector<std::string>& hashes,
                                             std::int64_t now_ms, std::int64_t lease_ms,
                                             int limit) override {
    auto claimed = inner().claim_many(owner, hashes, now_ms, lease_ms, limit);
    if (claimed.ok()) {
      for (const ClaimedRun& c : *claimed) {
        auto adopted = other_.adopt(c.run_id, now_ms + lease_ms + 1);
        EXPECT_TRUE(adopted.ok()) << adopted.status().to_string();
      }
    }
    return claimed;
  }

 private:
  RunQueue& other_;
};

// With a claims connection of its own (as `switchyard worker` has), the runs a worker claims
// fresh have their run_started committed on that connection, those of one claim in one
// transaction, before the engine runs them; the engine's journal continues their chains (the
// step sees the start committed, in the database, before it is called; the feed over the
// engine's journal still delivers run_started first; the runs verify).
TEST(Worker, FreshlyClaimedRunsHaveTheirStartsCommittedOnTheClaimsConnectionBeforeTheyRun) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkIdempotentStep);
  SystemClock clock;
  auto journal = wk_open(url);
  auto claims = wk_open(url);
  ASSERT_TRUE(journal && claims);
  EventFeed feed(*journal);
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> delivered;  // run -> event types, in order
  auto sub = feed.subscribe([&](const Event& e) {
    std::lock_guard lock(mu);
    delivered[e.run_id].push_back(e.type);
  });
  std::vector<std::string> seen_at_step;  // run_started events committed when a step ran
  tools::BuiltinRegistry builtins;
  builtins.add("one", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    std::string starts = pg_query(url, "SELECT count(*) FROM events WHERE type = 'run_started'");
    std::lock_guard lock(mu);
    seen_at_step.push_back(starts);
    return nlohmann::json{{"ok", true}};
  });
  auto tools = tools::make_tool_set(*w, {.builtins = &builtins});
  ASSERT_TRUE(tools.ok());
  monitors::HealthTable health(clock);
  Engine engine(feed, clock, health, EngineOptions{.threads = 1});
  auto worker =
      Worker::create(feed, engine, clock, {{w, *tools}}, {.name = "w1"}, claims->run_queue());
  ASSERT_TRUE(worker.ok()) << worker.status().to_string();
  auto a = enqueue_run(*journal->run_queue(), *w, nlohmann::json::object(), clock, "r-a");
  auto b = enqueue_run(*journal->run_queue(), *w, nlohmann::json::object(), clock, "r-b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto started = (*worker)->poll_once();
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  ASSERT_EQ(*started, 2);
  engine.wait_idle();
  EXPECT_EQ((*worker)->stats().finished, 2);
  {
    std::lock_guard lock(mu);
    // The first step ran once both starts were committed (claimed together, started together).
    ASSERT_EQ(seen_at_step.size(), 2u);
    EXPECT_EQ(seen_at_step.front(), "2");
    for (const std::string& id : {*a, *b}) {
      ASSERT_FALSE(delivered[id].empty()) << id;
      EXPECT_EQ(delivered[id].front(), "run_started");
      EXPECT_EQ(delivered[id].back(), "run_finished");
    }
  }
  // Both starts in one transaction, on another connection than the rest of the runs.
  EXPECT_EQ(pg_query(url,
                     "SELECT count(DISTINCT xid) || ' ' || count(DISTINCT origin) FROM "
                     "events WHERE type = 'run_started'"),
            "1 1");
  EXPECT_EQ(pg_query(url,
                     "SELECT count(*) FROM events s JOIN events f ON f.run_id = s.run_id "
                     "AND f.type = 'run_finished' WHERE s.type = 'run_started' AND "
                     "s.origin <> f.origin"),
            "2");
  for (const std::string& id : {*a, *b}) {
    EXPECT_EQ(journal->get_run(id)->status, "completed");
    EXPECT_TRUE(wk_verifies(*journal, id));
  }
}

// A run taken out of the worker's hands between its claim and its start (adopted, epoch 2): its
// start, written on the claims connection at epoch 1, is refused and nothing of it is kept; the
// engine never runs it and the worker counts it lost.
TEST(Worker, AStartOfARunTakenOverBetweenItsClaimAndItsStartIsRefusedAndTheRunNotRun) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkIdempotentStep);
  SystemClock clock;
  auto journal = wk_open(url);
  auto claims = wk_open(url);
  auto other = wk_open(url);
  ASSERT_TRUE(journal && claims && other);
  std::atomic<int> steps{0};
  tools::BuiltinRegistry builtins;
  builtins.add("one", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    steps.fetch_add(1);
    return nlohmann::json{{"ok", true}};
  });
  auto tools = tools::make_tool_set(*w, {.builtins = &builtins});
  ASSERT_TRUE(tools.ok());
  monitors::HealthTable health(clock);
  Engine engine(*journal, clock, health, EngineOptions{.threads = 1});
  WkAdoptedAfterClaim queue(*claims->run_queue(), *other->run_queue());
  auto worker = Worker::create(*journal, engine, clock, {{w, *tools}}, {.name = "w1"}, &queue);
  ASSERT_TRUE(worker.ok()) << worker.status().to_string();
  auto id = enqueue_run(*journal->run_queue(), *w, nlohmann::json::object(), clock);
  ASSERT_TRUE(id.ok());
  auto started = (*worker)->poll_once();
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  engine.wait_idle();
  EXPECT_EQ(steps.load(), 0);
  EXPECT_EQ((*worker)->stats().lost, 1);
  EXPECT_EQ((*worker)->stats().finished, 0);
  EXPECT_TRUE((*worker)->held().empty());
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM events"), "0");
  EXPECT_EQ(pg_query(url,
                     "SELECT status || ' ' || epoch || ' ' || head_seq || ' ' || "
                     "coalesce(owner, '-') FROM runs"),
            "running 2 0 -");
}

TEST(Worker, AnExpiredLeaseIsTakenOverWithAHigherEpochAndTheStaleWorkerStops) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkTwoSteps);
  SystemClock engine_clock;
  ManualClock clock;  // the workers' lease clock: moved by hand, nobody sleeps
  std::atomic<int> one_calls{0}, two_calls_a{0}, two_calls_b{0};
  std::mutex mu;
  std::condition_variable cv;
  tools::BuiltinDone held;  // worker a's call of Two, answered when the test says
  WkNode a(url, engine_clock), b(url, engine_clock);
  for (WkNode* n : {&a, &b}) {
    n->builtins.add("one", [&](const nlohmann::json&) -> Result<nlohmann::json> {
      ++one_calls;
      return nlohmann::json{{"one", true}};
    });
  }
  a.builtins.add_async("two", [&](const nlohmann::json&, tools::BuiltinDone done) {
    ++two_calls_a;
    std::lock_guard lock(mu);
    held = std::move(done);
    cv.notify_all();
  });
  b.builtins.add("two", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    ++two_calls_b;
    return nlohmann::json{{"two", "b"}};
  });
  const WorkerOptions o{.lease = std::chrono::milliseconds(kWkLeaseMs),
                        .heartbeat = std::chrono::milliseconds(1000)};
  WorkerOptions oa = o, ob = o;
  oa.name = "a";
  ob.name = "b";
  a.start_worker(w, clock, oa);
  b.start_worker(w, clock, ob);
  auto id = enqueue_run(*a.journal->run_queue(), *w, {{"n", "1"}}, clock);
  ASSERT_TRUE(id.ok());

  auto claimed = a.worker->poll_once();
  ASSERT_TRUE(claimed.ok() && *claimed == 1);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return held != nullptr; }));
  }
  // b finds nothing while a's lease runs; a heartbeat keeps it.
  clock.advance(std::chrono::milliseconds(kWkLeaseMs - 1000));
  auto renewed = a.worker->poll_once();
  ASSERT_TRUE(renewed.ok()) << renewed.status().to_string();
  clock.advance(std::chrono::milliseconds(kWkLeaseMs - 1000));
  auto nothing = b.worker->poll_once();
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(*nothing, 0);
  // a stops heartbeating (stuck in Two); its lease expires and b takes the run over.
  clock.advance(std::chrono::milliseconds(kWkLeaseMs));
  auto taken = b.worker->poll_once();
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(*taken, 1);
  b.engine->wait_idle();
  EXPECT_EQ(b.worker->stats().taken_over, 1);
  EXPECT_EQ(b.worker->stats().finished, 1);
  auto run = b.journal->get_run(*id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "completed");
  EXPECT_EQ(run->epoch, 2);
  EXPECT_EQ(run->owner, "b");
  // The completed step One was not run again; Two, in flight and idempotent, was repeated.
  EXPECT_EQ(one_calls.load(), 1);
  EXPECT_EQ(two_calls_a.load(), 1);
  EXPECT_EQ(two_calls_b.load(), 1);
  auto events = b.journal->events(*id);
  ASSERT_TRUE(events.ok());
  const std::size_t written = events->size();

  // a's call answers now: its write is refused (fenced), it stops the run and says so.
  held(nlohmann::json{{"two", "a"}});
  a.engine->wait_idle();
  EXPECT_EQ(a.worker->stats().lost, 1);
  EXPECT_TRUE(a.worker->held().empty());
  events = b.journal->events(*id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), written);  // nothing of a's after the takeover
  bool resumed = false;
  for (const auto& e : *events) resumed |= e.type == "resumed";
  EXPECT_TRUE(resumed);
  EXPECT_TRUE(wk_verifies(*b.journal, *id));
}

// Start -> Ask (an approval) -> One -> Done: held at Ask until someone decides.
constexpr const char* kWkGated = R"({
  "format": "switchyard.workflow/v1",
  "name": "worker-gated",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "Ask": {"kind": "wait", "approval": "refund"},
    "One": {"kind": "builtin", "name": "one", "idempotent": false}
  },
  "edges": [["Start", "Ask", 1], ["Ask", "One", 1], ["One", "Done", 1]]
})";

// Polls (bounded) until `journal` holds an event of `type` for `run_id`.
bool wk_journaled(const Journal& journal, const std::string& run_id, const std::string& type) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < limit) {
    auto events = journal.events(run_id);
    if (events.ok()) {
      for (const Event& e : *events) {
        if (e.type == type) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// Resolutions and cancellations sent for runs a worker holds
// (docs/scale-out.md#cancelling-and-resolving-runs-that-workers-run) are queued in the journal by
// another process and applied by the worker at its next poll: the approved run finishes with
// the approver journaled, the cancelled one ends "cancelled: <reason>" without its next step.
TEST(WorkerInbox, AnApprovalAndACancelQueuedForRunsAWorkerHoldsAreAppliedAtItsNextPoll) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkGated);
  SystemClock clock;
  std::mutex mu;
  std::map<std::string, int> calls;  // run input n -> calls of One
  WkNode n(url, clock);
  n.builtins.add("one", [&](const nlohmann::json& ctx) -> Result<nlohmann::json> {
    std::lock_guard lock(mu);
    ++calls[ctx["input"]["n"].get<std::string>()];
    return nlohmann::json{{"one", true}};
  });
  n.start_worker(w, clock, {.name = "w1"});
  auto approved = enqueue_run(*n.journal->run_queue(), *w, {{"n", "a"}}, clock);
  auto cancelled = enqueue_run(*n.journal->run_queue(), *w, {{"n", "c"}}, clock);
  ASSERT_TRUE(approved.ok() && cancelled.ok());
  auto started = n.worker->poll_once();
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  ASSERT_EQ(*started, 2);
  auto client = wk_open(url);  // another process's connection (a service, the CLI)
  ASSERT_TRUE(wk_journaled(*client, *approved, "wait_started"));
  ASSERT_TRUE(wk_journaled(*client, *cancelled, "wait_started"));

  auto queued =
      queue_wait_answer(*client, *approved, "Ask#1",
                        {.decision = WaitAnswer::Decision::kApprove, .by = "ana"}, wk_ms(clock));
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  auto cancel = queue_cancel(*client, *cancelled, "bo", "no longer needed", wk_ms(clock));
  ASSERT_TRUE(cancel.ok()) << cancel.status().to_string();
  EXPECT_FALSE(cancel->duplicate);
  EXPECT_EQ(n.worker->held().size(), 2u);  // nothing applied before the worker's poll

  ASSERT_TRUE(n.worker->poll_once().ok());
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (n.worker->stats().finished < 2 && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(n.worker->stats().finished, 2);
  auto a = client->get_run(*approved);
  auto c = client->get_run(*cancelled);
  ASSERT_TRUE(a.ok() && c.ok());
  EXPECT_EQ(a->status, "completed");
  EXPECT_EQ(c->status, "failed");
  EXPECT_EQ(c->result["escalation"].value("message", ""), "cancelled: no longer needed")
      << c->result.dump();
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(calls["a"], 1);
    EXPECT_EQ(calls["c"], 0);
  }
  auto events = client->events(*approved);
  ASSERT_TRUE(events.ok());
  bool by_ana = false;
  for (const Event& e : *events) {
    by_ana |= e.type == "wait_resolved" && e.payload.value("by", "") == "ana";
  }
  EXPECT_TRUE(by_ana);
  for (const auto& id : {*approved, *cancelled}) {
    EXPECT_TRUE(wk_verifies(*client, id));
  }
}

// A cancellation queued for a run still in the queue is applied by the worker that claims it,
// before the run's first step.
TEST(WorkerInbox, ACancelQueuedBeforeAnyWorkerClaimedTheRunEndsItBeforeItsFirstStep) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkTwoSteps);
  SystemClock clock;
  std::atomic<int> steps{0};
  WkNode n(url, clock);
  for (const char* name : {"one", "two"}) {
    n.builtins.add(name, [&](const nlohmann::json&) -> Result<nlohmann::json> {
      ++steps;
      return nlohmann::json{{"ok", true}};
    });
  }
  n.start_worker(w, clock, {.name = "w1"});
  auto id = enqueue_run(*n.journal->run_queue(), *w, {{"n", "1"}}, clock);
  ASSERT_TRUE(id.ok());
  auto client = wk_open(url);
  auto cancel = queue_cancel(*client, *id, "ops", "request", wk_ms(clock));
  ASSERT_TRUE(cancel.ok()) << cancel.status().to_string();
  auto started = n.worker->poll_once();
  ASSERT_TRUE(started.ok());
  ASSERT_EQ(*started, 1);
  n.engine->wait_idle();
  EXPECT_EQ(steps.load(), 0);
  auto run = client->get_run(*id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "failed");
  EXPECT_EQ(run->result["escalation"].value("message", ""), "cancelled: request")
      << run->result.dump();
  EXPECT_TRUE(wk_verifies(*client, *id));
  // Finished: refused.
  EXPECT_EQ(queue_cancel(*client, *id, "ops", "again", wk_ms(clock)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(Worker, ALostLeaseFoundAtAHeartbeatCancelsTheRunHereWithoutWritingToIt) {
  const std::string url = fresh_location("worker");
  TempDir dir;
  auto w = wk_workflow(dir, kWkTwoSteps);
  SystemClock engine_clock;
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool called = false;
  WkNode a(url, engine_clock);
  a.builtins.add("one", [](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json::object();
  });
  // Two never answers by itself: it answers `cancelled` when the run is cancelled.
  a.builtins.add_async(
      "two", [&](const nlohmann::json&, const std::shared_ptr<tools::CallCancel>& cancel,
                 tools::BuiltinDone done) {
        auto shared = std::make_shared<tools::BuiltinDone>(std::move(done));
        cancel->on_cancel([shared] { (*shared)(Status(StatusCode::kCancelled, "cancelled")); });
        std::lock_guard lock(mu);
        called = true;
        cv.notify_all();
      });
  a.start_worker(w, clock,
                 {.name = "a",
                  .lease = std::chrono::milliseconds(kWkLeaseMs),
                  .heartbeat = std::chrono::milliseconds(1000)});
  auto id = enqueue_run(*a.journal->run_queue(), *w, {{"n", "1"}}, clock);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(a.worker->poll_once().ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return called; }));
  }
  // Another process adopts the run (as `switchyard resume` does once the lease expired).
  auto other = wk_open(url);
  ASSERT_TRUE(other);
  clock.advance(std::chrono::milliseconds(2 * kWkLeaseMs));
  auto epoch = other->run_queue()->adopt(*id, wk_ms(clock));
  ASSERT_TRUE(epoch.ok()) << epoch.status().to_string();
  EXPECT_EQ(*epoch, 2);
  auto before = other->events(*id);
  ASSERT_TRUE(before.ok());
  // a's next heartbeat finds it lost and cancels it; the cancellation is not journaled.
  ASSERT_TRUE(a.worker->poll_once().ok());
  a.engine->wait_idle();
  EXPECT_EQ(a.worker->stats().lost, 1);
  auto after = other->events(*id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());
  auto run = other->get_run(*id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "running");
  EXPECT_EQ(run->owner, "");
}

// ---- A worker process killed mid-run ----

// Charge has a side effect and no idempotency key; Hold (slow) and Ship are idempotent.
constexpr const char* kWkSafe = R"({
  "format": "switchyard.workflow/v1",
  "name": "worker-kill-safe",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "Charge": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/charge-safe"},
    "Hold":   {"kind": "http", "method": "GET", "url": "{{input.base}}/slow/1200", "idempotent": true},
    "Ship":   {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/ship", "idempotent": true}
  },
  "edges": [["Start", "Charge", 1], ["Charge", "Hold", 1], ["Hold", "Ship", 1], ["Ship", "Done", 1]]
})";

// Notify is slow, has a side effect and no idempotency key: in doubt when its caller dies.
constexpr const char* kWkDoubt = R"({
  "format": "switchyard.workflow/v1",
  "name": "worker-kill-doubt",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "Charge": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/charge-doubt"},
    "Notify": {"kind": "http", "method": "POST", "url": "{{input.base}}/slow/1300"}
  },
  "edges": [["Start", "Charge", 1], ["Charge", "Notify", 1], ["Notify", "Done", 1]]
})";

long wk_count(const nlohmann::json& stats, const std::string& path) {
  const auto& by = stats["by_path"];
  return by.contains(path) ? by[path].get<long>() : 0;
}

TEST(Worker, AWorkerProcessKilledMidRunHasItsRunsFinishedByAnotherWithoutRepeatingASideEffect) {
  const std::string url = fresh_location("worker");
  FaultServer server;
  TempDir dir;
  const std::string safe_file = dir.write("safe.json", kWkSafe);
  const std::string doubt_file = dir.write("doubt.json", kWkDoubt);
  auto safe = load_workflow_file(safe_file).workflow;
  auto doubt = load_workflow_file(doubt_file).workflow;
  ASSERT_TRUE(safe && doubt);
  SystemClock system;
  auto admin = wk_open(url);
  ASSERT_TRUE(admin);
  const nlohmann::json input{{"base", server.url("")}};
  auto safe_id = enqueue_run(*admin->run_queue(), *safe, input, system, "r-safe");
  auto doubt_id = enqueue_run(*admin->run_queue(), *doubt, input, system, "r-doubt");
  ASSERT_TRUE(safe_id.ok() && doubt_id.ok());

  // Worker a, a real `switchyard worker` process, claims both and is killed while Hold and
  // Notify are in flight (both charges done: 4 requests arrived).
  Subprocess a(
      {SWITCHYARD_BINARY, "worker", "--journal", url, "--workflow", safe_file, "--workflow",
       doubt_file, "--name", "a", "--lease", "2s", "--heartbeat", "500ms", "--poll", "10ms"},
      {}, dir.file("worker-a.log"));
  auto line = a.read_line();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("worker a on ", 0), 0u) << *line;
  server.wait_for_requests(4);
  a.signal(SIGKILL);
  ASSERT_EQ(a.wait(std::chrono::seconds(10)), 128 + SIGKILL);
  for (const auto& id : {"r-safe", "r-doubt"}) {
    auto run = admin->get_run(id);
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->owner, "a");
    EXPECT_EQ(run->status, "running");
  }

  // Worker b, in this process, whose clock is past a's lease: it takes both over.
  ManualClock clock(system.now() + std::chrono::minutes(1));
  WkNode b(url, system);
  auto safe_tools = tools::make_tool_set(*safe);
  auto doubt_tools = tools::make_tool_set(*doubt);
  ASSERT_TRUE(safe_tools.ok() && doubt_tools.ok());
  auto made = Worker::create(*b.journal, *b.engine, clock,
                             {{safe, *safe_tools}, {doubt, *doubt_tools}}, {.name = "b"});
  ASSERT_TRUE(made.ok()) << made.status().to_string();
  b.worker = std::move(*made);
  auto taken = b.worker->poll_once();
  ASSERT_TRUE(taken.ok()) << taken.status().to_string();
  EXPECT_EQ(*taken, 2);
  b.engine->wait_idle();
  EXPECT_EQ(b.worker->stats().taken_over, 2);

  const nlohmann::json stats = server.stats();
  // The safe run completed: Charge was not sent again; Hold, idempotent, was.
  auto run = admin->get_run("r-safe");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "completed");
  EXPECT_EQ(run->epoch, 2);
  EXPECT_EQ(run->owner, "b");
  EXPECT_EQ(wk_count(stats, "/ok/charge-safe"), 1) << stats.dump();
  EXPECT_EQ(wk_count(stats, "/slow/1200"), 2) << stats.dump();
  EXPECT_EQ(wk_count(stats, "/ok/ship"), 1) << stats.dump();
  // The other ended escalated, in doubt, naming Notify, which was not sent again.
  run = admin->get_run("r-doubt");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "escalated");
  EXPECT_EQ(wk_count(stats, "/ok/charge-doubt"), 1) << stats.dump();
  EXPECT_EQ(wk_count(stats, "/slow/1300"), 1) << stats.dump();
  auto events = admin->events("r-doubt");
  ASSERT_TRUE(events.ok());
  bool named = false;
  for (const auto& e : *events) {
    if (e.type == "escalated") {
      EXPECT_EQ(e.payload["reason"], "in_doubt") << e.payload.dump();
      named = e.payload["message"].get<std::string>().find("Notify") != std::string::npos;
    }
  }
  EXPECT_TRUE(named);
  for (const auto& id : {"r-safe", "r-doubt"}) {
    EXPECT_TRUE(wk_verifies(*admin, id));
  }
}

// ---- The commands ----

TEST(WorkerCli, EnqueueAdmitsARunAndResumeAllJudgesAWorkersRunByItsLease) {
  const std::string url = fresh_location("worker");
  auto enq = testing::switchyard({"enqueue", testing::source_path("examples/customer-support.json"),
                                  "--journal", url, "--input", R"({"customer": "ada"})", "--json"});
  ASSERT_EQ(enq.exit_code, 0) << enq.err << enq.out;
  const auto admitted = testing::parse_json(enq.out);
  EXPECT_EQ(admitted["status"], "queued");
  const std::string id = admitted["run_id"].get<std::string>();
  auto j = wk_open(url);
  ASSERT_TRUE(j);
  auto row = j->get_run(id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "queued");
  // A worker (on some other machine) holds it, its lease an hour long.
  SystemClock clock;
  auto c = j->run_queue()->claim("w-far", {row->workflow_hash}, wk_ms(clock), 3600 * 1000);
  ASSERT_TRUE(c.ok() && c->has_value());

  auto held = testing::switchyard({"resume", "--all", "--journal", url, "--json"});
  ASSERT_EQ(held.exit_code, 0) << held.err << held.out;
  const auto skipped = testing::parse_json(held.out)["skipped"];
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0]["reason"].get<std::string>().find("held by worker w-far"), std::string::npos)
      << skipped.dump();
  auto one = testing::switchyard({"resume", id, "--journal", url});
  EXPECT_NE(one.exit_code, 0);
  EXPECT_NE(one.err.find("held by worker w-far"), std::string::npos) << one.err;

  // Its lease expires (the worker died): resume takes it over with a higher epoch and ends it.
  ASSERT_EQ(testing::pg_exec(url, "UPDATE runs SET lease_expires_ms = 1"), "");
  auto resumed = testing::switchyard({"resume", "--all", "--journal", url, "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  EXPECT_EQ(testing::parse_json(resumed.out)["resumed"].size(), 1u) << resumed.out;
  row = j->get_run(id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "completed");
  EXPECT_EQ(row->epoch, 2);
  EXPECT_EQ(row->owner, "");
}

TEST(WorkerCli, AWorkerNeedsAPostgresJournal) {
  TempDir dir;
  auto r = testing::switchyard({"worker", "--journal", dir.file("j.db"), "--workflow",
                                testing::source_path("examples/customer-support.json")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("worker needs a PostgreSQL journal"), std::string::npos) << r.err;
}

// A worker started with --otlp-endpoint exports the runs it claims as traces (docs/tracing.md):
// the run's span (no parent, the run's trace id) and its steps' spans under it reach the
// collector, at the latest when the worker stops.
TEST(WorkerCli, AWorkerWithAnOtlpEndpointExportsTheTraceOfTheRunsItRuns) {
  const std::string url = fresh_location("worker");
  const std::string workflow = testing::source_path("examples/customer-support.json");
  auto enq = testing::switchyard({"enqueue", workflow, "--journal", url, "--input",
                                  R"({"customer": "ada"})", "--run-id", "wk-traced"});
  ASSERT_EQ(enq.exit_code, 0) << enq.err << enq.out;
  testing::OtlpReceiver receiver;
  TempDir dir;
  Subprocess worker({SWITCHYARD_BINARY, "worker", "--journal", url, "--workflow", workflow,
                     "--poll", "5ms", "--otlp-endpoint", receiver.url()},
                    {}, dir.file("worker.log"));
  ASSERT_TRUE(worker.read_line().has_value());
  testing::pg_wait_for(url, "SELECT status FROM runs WHERE run_id = 'wk-traced'", "completed",
                       std::chrono::seconds(30));
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(std::chrono::seconds(20)), 0);
  const std::string trace = tools::trace_id_hex("wk-traced");
  auto is_run_span = [&](const nlohmann::json& s) {
    return s.value("traceId", "") == trace && !s.contains("parentSpanId");
  };
  const auto spans = receiver.wait_for([&](const std::vector<nlohmann::json>& got) {
    return std::any_of(got.begin(), got.end(), is_run_span);
  });
  int steps = 0;
  for (const auto& s : spans) {
    if (s.value("traceId", "") == trace &&
        s.value("parentSpanId", "") == tools::run_span_id_hex("wk-traced")) {
      ++steps;
    }
  }
  EXPECT_TRUE(std::any_of(spans.begin(), spans.end(), is_run_span)) << nlohmann::json(spans).dump();
  EXPECT_GE(steps, 2) << nlohmann::json(spans).dump();
}

// ---- The crash harness: several worker processes, killed at random points ----

// Lookup, Hold and Ship are idempotent; Charge sends an idempotency key; Notify has neither (in
// doubt when its worker dies with it in flight). Paths carry the run's number, so the server's
// request log tells each run's effects apart.
constexpr const char* kWkCheckout = R"({
  "format": "switchyard.workflow/v1",
  "name": "worker-crash-checkout",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "Lookup": {"kind": "http", "method": "GET", "url": "{{input.base}}/ok/lookup/{{input.n}}", "idempotent": true},
    "Charge": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/charge/{{input.n}}",
               "idempotency_key": "{{run.id}}-charge"},
    "Hold":   {"kind": "http", "method": "GET", "url": "{{input.base}}/slow/120", "idempotent": true},
    "Notify": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/notify/{{input.n}}"},
    "Ship":   {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/ship/{{input.n}}", "idempotent": true}
  },
  "edges": [["Start", "Lookup", 1], ["Lookup", "Charge", 1], ["Charge", "Hold", 1],
            ["Hold", "Notify", 1], ["Notify", "Ship", 1], ["Ship", "Done", 1]]
})";

int wk_env(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

long wk_effects(const nlohmann::json& stats, const std::string& path) {
  const auto& by = stats["effects_by_path"];
  return by.contains(path) ? by[path].get<long>() : 0;
}

// SWITCHYARD_WORKER_CRASH_TRIALS trials (default 3, 1 under ThreadSanitizer;
// scripts/worker-crash-harness N runs more):
// 3 `switchyard worker` processes share 6 queued runs; one of them, chosen at random, is
// SIGKILLed once a random number of requests arrived (before a call, during one, between steps,
// holding leases); the survivors take its runs over once its lease expired. Every run ends in a
// final status and verifies; no completed step is lost; no non-idempotent request was sent twice.
TEST(WorkerCrashHarness, WorkersKilledAtRandomLoseNoStepAndRepeatNoSideEffect) {
#if defined(__SANITIZE_THREAD__)
  constexpr int kDefaultTrials = 1;  // ThreadSanitizer: one (the worker processes run slowly)
#else
  constexpr int kDefaultTrials = 3;
#endif
  const int trials = wk_env("SWITCHYARD_WORKER_CRASH_TRIALS", kDefaultTrials);
  std::mt19937 rng(static_cast<unsigned>(wk_env("SWITCHYARD_WORKER_CRASH_SEED", 2020)));
  constexpr int kRuns = 6, kWorkers = 3, kRequestsPerRun = 5;
  FaultServer server;
  TempDir dir;
  const std::string file = dir.write("checkout.json", kWkCheckout);
  auto workflow = load_workflow_file(file).workflow;
  ASSERT_TRUE(workflow);
  SystemClock clock;
  int escalated = 0, taken_over_runs = 0;
  for (int t = 0; t < trials; ++t) {
    const int after = 1 + static_cast<int>(rng() % (kRuns * kRequestsPerRun - 2));
    const int victim = static_cast<int>(rng() % kWorkers);
    SCOPED_TRACE("trial " + std::to_string(t) + ": kill worker " + std::to_string(victim) +
                 " after " + std::to_string(after) + " requests");
    server.reset();
    const std::string url = fresh_location("worker");
    auto j = wk_open(url);
    ASSERT_TRUE(j);
    for (int n = 0; n < kRuns; ++n) {
      ASSERT_TRUE(enqueue_run(*j->run_queue(), *workflow, {{"base", server.url("")}, {"n", n}},
                              clock, "r-" + std::to_string(n))
                      .ok());
    }
    std::vector<std::unique_ptr<Subprocess>> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.push_back(std::make_unique<Subprocess>(
          std::vector<std::string>{SWITCHYARD_BINARY, "worker", "--journal", url, "--workflow",
                                   file, "--name", "w" + std::to_string(w), "--lease", "600ms",
                                   "--heartbeat", "100ms", "--poll", "5ms", "--max-runs", "2"},
          std::vector<std::string>{}, dir.file("w" + std::to_string(w) + ".log")));
      ASSERT_TRUE(workers.back()->read_line().has_value());
    }
    server.wait_for_requests(after);
    workers[static_cast<std::size_t>(victim)]->signal(SIGKILL);
    ASSERT_EQ(workers[static_cast<std::size_t>(victim)]->wait(std::chrono::seconds(10)),
              128 + SIGKILL);
    // The survivors finish every run (bounded; they take the victim's over after its lease).
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (pg_query(url, "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')") !=
               "0" &&
           std::chrono::steady_clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (int w = 0; w < kWorkers; ++w) {
      if (w == victim) continue;
      workers[static_cast<std::size_t>(w)]->signal(SIGTERM);
      EXPECT_EQ(workers[static_cast<std::size_t>(w)]->wait(std::chrono::seconds(20)), 0);
    }
    const nlohmann::json stats = server.stats();
    for (int n = 0; n < kRuns; ++n) {
      const std::string id = "r-" + std::to_string(n), num = std::to_string(n);
      auto run = j->get_run(id);
      ASSERT_TRUE(run.ok());
      ASSERT_TRUE(run->status == "completed" || run->status == "escalated")
          << id << ": " << run->status;
      taken_over_runs += run->epoch > 1;
      // No non-idempotent request took effect twice.
      EXPECT_LE(wk_effects(stats, "/ok/charge/" + num), 1) << id << stats.dump();
      EXPECT_LE(wk_count(stats, "/ok/notify/" + num), 1) << id << stats.dump();
      if (run->status == "completed") {
        EXPECT_EQ(wk_effects(stats, "/ok/charge/" + num), 1) << id;
        EXPECT_EQ(wk_count(stats, "/ok/notify/" + num), 1) << id;
        EXPECT_GE(wk_count(stats, "/ok/ship/" + num), 1) << id;
      }
      auto events = j->events(id);
      ASSERT_TRUE(events.ok());
      for (const auto& e : *events) {
        // No completed step lost: what the journal says succeeded reached the server.
        if (e.type == "step_succeeded") {
          const std::string tool = e.payload["tool"].get<std::string>();
          if (tool == "Charge") {
            EXPECT_EQ(wk_effects(stats, "/ok/charge/" + num), 1) << id;
          }
          if (tool == "Notify") {
            EXPECT_EQ(wk_count(stats, "/ok/notify/" + num), 1) << id;
          }
        }
        if (e.type == "escalated") {
          ++escalated;
          EXPECT_EQ(e.payload["reason"], "in_doubt") << e.payload.dump();
          EXPECT_NE(e.payload["message"].get<std::string>().find("Notify"), std::string::npos);
        }
      }
      EXPECT_TRUE(wk_verifies(*j, id));
    }
  }
  std::printf("[ harness  ] %d trial(s): %d run(s) taken over, %d escalated in doubt\n", trials,
              taken_over_runs, escalated);
}

}  // namespace
}  // namespace switchyard::runtime
