// A `switchyard worker` process killed (SIGKILL, by the crash points of runtime/base/crash_point.h)
// at the points of its own work: right after it claimed a run, right after its claims connection
// committed the claimed run's start, and right after it renewed the lease of a run in flight; and
// at two of its engine's: inside a group of writes (after its first statement), and between a
// non-idempotent step's start and its call. Another worker takes the run over once the lease
// expired, with a higher epoch, and the run ends as the resume rules say and verifies. (The
// multi-worker crash harness of worker_test.cc kills at random request counts instead.)

#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <thread>

#include "tests/support/postgres_cluster.h"
#include "tests/support/run_command.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {
namespace {

// One mock step taking `latency_ms`, idempotent unless `idempotent` is false.
std::string crash_point_workflow(int latency_ms, bool idempotent = true) {
  return nlohmann::json{{"format", "switchyard.workflow/v1"},
                        {"name", "crash-points"},
                        {"start", "Start"},
                        {"goal", "Done"},
                        {"tools",
                         {{"Slow",
                           {{"kind", "mock"},
                            {"latency_ms", latency_ms},
                            {"idempotent", idempotent},
                            {"output", {{"ok", true}}}}}}},
                        {"edges", {{"Start", "Slow", 1}, {"Slow", "Done", 1}}}}
      .dump();
}

std::vector<std::string> worker_argv(const std::string& url, const std::string& file,
                                     const std::string& name) {
  return {SWITCHYARD_BINARY, "worker", "--journal",   url,     "--workflow", file, "--name", name,
          "--lease",         "600ms",  "--heartbeat", "100ms", "--poll",     "5ms"};
}

// Kills worker `a` at `crash_at`, then lets worker `b` take run `run_id` over, which ends it
// `final_status` (at epoch 2).
// `journaled_at_kill`: the types of the run's journaled events when `a` died, in order and
// comma-separated ("" for none; nullopt: whatever they are).
// `journal`: set to the journal's URL.
void kill_then_take_over(const std::string& tag, const std::string& crash_at, int latency_ms,
                         std::optional<std::string> journaled_at_kill, bool idempotent = true,
                         const std::string& final_status = "completed",
                         std::string* journal = nullptr) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh(tag);
  if (journal) *journal = url;
  TempDir dir;
  const std::string file = dir.write("wf.json", crash_point_workflow(latency_ms, idempotent));
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
    EXPECT_EQ(pg_query(url,
                       "SELECT coalesce(string_agg(type, ',' ORDER BY seq), '') FROM events "
                       "WHERE run_id = '" +
                           run_id + "'"),
              *journaled_at_kill);
  }
  Subprocess b(worker_argv(url, file, "b"), {}, dir.file("b.log"));
  EXPECT_EQ(
      pg_wait_for(url, "SELECT status || ' ' || epoch FROM runs WHERE run_id = '" + run_id + "'",
                  final_status + " 2", std::chrono::seconds(20)),
      final_status + " 2");
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait(std::chrono::seconds(20)), 0);
  auto verify = switchyard({"replay", run_id, "--journal", url, "--verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
}

TEST(WorkerCrashPoints, AWorkerKilledRightAfterItsClaimLeavesTheRunToAnotherAfterTheLease) {
  // Killed before the run's first event: the run is claimed (epoch 1) and has no event.
  kill_then_take_over("cp_claim", "after_claim:1", 1, "");
}

TEST(WorkerCrashPoints,
     AWorkerKilledRightAfterItsClaimedRunsStartLeavesTheRunToAnotherAfterTheLease) {
  // Killed once its claims connection committed the run's start, before its engine ran it: the
  // run has its run_started (epoch 1) and nothing more; the next worker continues it.
  kill_then_take_over("cp_start", "after_claimed_start:1", 1, "run_started");
}

TEST(WorkerCrashPoints, AWorkerKilledRightAfterRenewingItsLeaseLosesTheRunToAnotherAfterTheLease) {
  // Killed at its first renewal, 100 ms in, while the 1 s step is in flight: the step's answer is
  // never journaled (its start may not be: an idempotent step's events are committed in groups,
  // not before its call).
  kill_then_take_over("cp_renew", "after_renew:1", 1000, std::nullopt);
}

TEST(WorkerCrashPoints, AWorkerKilledInsideAGroupOfWritesLeavesNoneOfItAndTheRunToAnother) {
  // Killed after the first statement of its first write of several events (after the run's
  // start, committed on its own on the claims connection as a claimed run's start is): the group's
  // transaction dies with the connection, so the run has its start and nothing of that write.
  kill_then_take_over("cp_group", "inside_append:1", 1, "run_started");
}

TEST(WorkerCrashPoints, AWorkerKilledBetweenAStepsStartAndItsNonIdempotentCallLeavesItInDoubt) {
  // The step's start is committed before its call; the call is never made. The worker taking the
  // run over cannot know that: it does not send the call and ends the run escalated, in doubt,
  // naming the step.
  std::string url;
  kill_then_take_over("cp_invoke", "before_invoke:1", 1, "run_started,plan,step_started",
                      /*idempotent=*/false, "escalated", &url);
  const std::string escalated = pg_query(
      url, "SELECT payload FROM events WHERE type = 'escalated' AND run_id = 'cp_invoke-run'");
  EXPECT_NE(escalated.find("\"reason\":\"in_doubt\""), std::string::npos) << escalated;
  EXPECT_NE(escalated.find("step Slow (call 1) was in flight"), std::string::npos) << escalated;
}

}  // namespace
}  // namespace switchyard::testing
