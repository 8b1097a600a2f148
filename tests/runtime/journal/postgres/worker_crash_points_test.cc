// A `switchyard worker` process killed (SIGKILL, by the crash points of runtime/base/crash_point.h)
// at the points of its own work: right after it claimed a run, right after its claims connection
// committed the claimed run's start, and right after it renewed the lease of a run in flight.
// Another worker takes the run over once the lease expired, with a higher epoch, and the run
// finishes and verifies. (The multi-worker crash harness of worker_test.cc kills at random request
// counts instead.)

#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <thread>

#include "tests/support/postgres_cluster.h"
#include "tests/support/run_command.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {
namespace {

// One idempotent mock step taking `latency_ms`.
std::string crash_point_workflow(int latency_ms) {
  return nlohmann::json{{"format", "switchyard.workflow/v1"},
                        {"name", "crash-points"},
                        {"start", "Start"},
                        {"goal", "Done"},
                        {"tools",
                         {{"Slow",
                           {{"kind", "mock"},
                            {"latency_ms", latency_ms},
                            {"idempotent", true},
                            {"output", {{"ok", true}}}}}}},
                        {"edges", {{"Start", "Slow", 1}, {"Slow", "Done", 1}}}}
      .dump();
}

std::vector<std::string> worker_argv(const std::string& url, const std::string& file,
                                     const std::string& name) {
  return {SWITCHYARD_BINARY, "worker", "--journal",   url,     "--workflow", file, "--name", name,
          "--lease",         "600ms",  "--heartbeat", "100ms", "--poll",     "5ms"};
}

// Kills worker `a` at `crash_at`, then lets worker `b` take run `run_id` over.
// `journaled_at_kill`: whether the run had journaled events when `a` died (nullopt: either).
void kill_then_take_over(const std::string& tag, const std::string& crash_at, int latency_ms,
                         std::optional<bool> journaled_at_kill) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh(tag);
  TempDir dir;
  const std::string file = dir.write("wf.json", crash_point_workflow(latency_ms));
  const std::string run_id = tag + "-run";
  auto enq = switchyard({"enqueue", file, "--journal", url, "--run-id", run_id});
  ASSERT_EQ(enq.exit_code, 0) << enq.err << enq.out;
  const std::string row =
      "SELECT status || ' ' || owner || ' ' || epoch FROM runs WHERE run_id = '" + run_id + "'";
  {
    Subprocess a(worker_argv(url, file, "a"), {"SWITCHYARD_CRASH_AT=" + crash_at},
                 dir.file("a.log"));
    EXPECT_EQ(a.wait(std::chrono::seconds(20)), 128 + SIGKILL) << "killed at " << crash_at;
  }
  EXPECT_EQ(pg_query(url, row), "running a 1");
  if (journaled_at_kill) {
    EXPECT_EQ(pg_query(url, "SELECT count(*) > 0 FROM events WHERE run_id = '" + run_id + "'"),
              *journaled_at_kill ? "t" : "f");
  }
  Subprocess b(worker_argv(url, file, "b"), {}, dir.file("b.log"));
  EXPECT_EQ(
      pg_wait_for(url, "SELECT status || ' ' || epoch FROM runs WHERE run_id = '" + run_id + "'",
                  "completed 2", std::chrono::seconds(20)),
      "completed 2");
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait(std::chrono::seconds(20)), 0);
  auto verify = switchyard({"replay", run_id, "--journal", url, "--verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
}

TEST(WorkerCrashPoints, AWorkerKilledRightAfterItsClaimLeavesTheRunToAnotherAfterTheLease) {
  // Killed before the run's first event: the run is claimed (epoch 1) and has no event.
  kill_then_take_over("cp_claim", "after_claim:1", 1, false);
}

TEST(WorkerCrashPoints,
     AWorkerKilledRightAfterItsClaimedRunsStartLeavesTheRunToAnotherAfterTheLease) {
  // Killed once its claims connection committed the run's start, before its engine ran it: the
  // run has its run_started (epoch 1) and nothing more; the next worker continues it.
  kill_then_take_over("cp_start", "after_claimed_start:1", 1, true);
}

TEST(WorkerCrashPoints, AWorkerKilledRightAfterRenewingItsLeaseLosesTheRunToAnotherAfterTheLease) {
  // Killed at its first renewal, 100 ms in, while the 1 s step is in flight: the step's answer is
  // never journaled (its start may not be: an idempotent step's events are committed in groups,
  // not before its call).
  kill_then_take_over("cp_renew", "after_renew:1", 1000, std::nullopt);
}

}  // namespace
}  // namespace switchyard::testing
