// The embedding API's queue calls on a real PostgreSQL journal, as an embedding program meets
// them: one Runtime admits runs (enqueue), another one runs them as a worker (start_worker) with
// its own builtins. Compiled outside the unity batch: it includes the public header, beside the
// internal ones of the other files of this program.

#include <gtest/gtest.h>
#include <switchyard/switchyard.h>

#include <chrono>
#include <thread>

#include "tests/support/postgres_cluster.h"

namespace {

using namespace switchyard;

constexpr const char* kDoubler = R"({
  "format": "switchyard.workflow/v1",
  "name": "doubler",
  "start": "Start",
  "goal": "Done",
  "tools": {"Double": {"kind": "builtin", "name": "double", "idempotent": true}},
  "edges": [["Start", "Double", 1], ["Double", "Done", 1]]
})";

api::Result<nlohmann::json> double_it(const nlohmann::json& context) {
  const auto& n = context["input"]["n"];
  if (!n.is_number_integer()) return api::Status(api::StatusCode::kInvalidArgument, "no n");
  return nlohmann::json{{"n", n.get<int>() * 2}};
}

TEST(ApiWorker, ARunEnqueuedByOneRuntimeIsRunByAnotherRuntimesWorkerWithItsBuiltins) {
  ::switchyard::testing::PostgresCluster& cluster =
      ::switchyard::testing::PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh("api_worker");
  auto workflow = api::Workflow::from_json(kDoubler);
  ASSERT_TRUE(workflow.ok()) << workflow.status().message();

  auto front = api::Runtime::open({.journal_path = url, .threads = 1});
  ASSERT_TRUE(front.ok()) << front.status().message();
  auto id = (*front)->enqueue(*workflow, {.input = {{"n", 21}}, .run_id = "api-q1"});
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, "api-q1");
  // Listed and read as queued until a worker claims it.
  auto row = (*front)->get_run("api-q1");
  ASSERT_TRUE(row.ok()) << row.status().message();
  EXPECT_EQ(row->status, api::RunStatus::kQueued);
  EXPECT_EQ(api::to_string(row->status), "queued");
  auto queued = (*front)->list_runs({.status = api::RunStatus::kQueued});
  ASSERT_TRUE(queued.ok()) << queued.status().message();
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ(queued->front().run_id, "api-q1");
  // What a queued run cannot carry to its worker is refused, as is an id already used.
  auto budget = (*front)->enqueue(*workflow, {.budget = {.usd = 1.0}});
  EXPECT_EQ(budget.status().code(), api::StatusCode::kInvalidArgument);
  auto again = (*front)->enqueue(*workflow, {.run_id = "api-q1"});
  EXPECT_EQ(again.status().code(), api::StatusCode::kInvalidArgument);

  auto back = api::Runtime::open({.journal_path = url, .threads = 1});
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE((*back)->add_tool("double", double_it).ok());
  api::Status started =
      (*back)->start_worker({*workflow}, {.name = "api-w", .poll = std::chrono::milliseconds(5)});
  ASSERT_TRUE(started.ok()) << started.message();
  EXPECT_EQ((*back)->start_worker({*workflow}).code(), api::StatusCode::kInvalidArgument)
      << "one worker per Runtime";

  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto run = (*front)->get_run("api-q1");
  while (run.ok() &&
         (run->status == api::RunStatus::kQueued || run->status == api::RunStatus::kRunning) &&
         std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // another Runtime's worker runs it
    run = (*front)->get_run("api-q1");
  }
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->status, api::RunStatus::kCompleted) << run->result.dump();
  EXPECT_EQ(run->result["output"]["n"], 42) << run->result.dump();
  (*back)->stop_worker();
  const api::WorkerStats stats = (*back)->worker_stats();
  EXPECT_EQ(stats.claimed, 1);
  EXPECT_EQ(stats.finished, 1);
  EXPECT_EQ(stats.failed, 0);
  auto verify = (*front)->verify("api-q1");
  ASSERT_TRUE(verify.ok()) << verify.status().message();
  EXPECT_TRUE(verify->ok()) << verify->decisions.message();
}

TEST(ApiWorker, EnqueueAndWorkersNeedAPostgresJournal) {
  auto rt = api::Runtime::open({.threads = 1});  // a journal in memory
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  auto workflow = api::Workflow::from_json(kDoubler);
  ASSERT_TRUE(workflow.ok());
  EXPECT_EQ((*rt)->enqueue(*workflow).status().code(), api::StatusCode::kInvalidArgument);
  EXPECT_EQ((*rt)->start_worker({*workflow}).code(), api::StatusCode::kInvalidArgument);
  EXPECT_EQ((*rt)->worker_stats().claimed, 0);
}

}  // namespace
