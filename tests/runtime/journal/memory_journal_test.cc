// The journal in memory keeps a bounded window of finished runs: the oldest finished run is
// forgotten as another finishes, runs in flight never are, and a workflow's copy goes with the
// last run that used it.

#include <gtest/gtest.h>

#include <string>

#include "runtime/journal/journal.h"
#include "tests/support/journal_records.h"

namespace switchyard::runtime {
namespace {

using testing::journal_event;
using testing::run_record;

// Begins run `id` (of a workflow whose hash is `hash`, its copy journaled), journals its start
// and, unless `finish` is false, its end.
void journal_run(Journal& journal, const std::string& id, bool finish = true,
                 const std::string& hash = "abc123") {
  RunRecord run = run_record(id);
  run.workflow_hash = hash;
  run.workflow_source = std::make_shared<const std::string>("{\"name\": \"" + hash + "\"}");
  ASSERT_TRUE(journal.begin_run(run).ok());
  ASSERT_TRUE(journal.append({journal_event(id, 1, "run_started")}).ok());
  if (!finish) return;
  ASSERT_TRUE(journal.append({journal_event(id, 2, "run_finished")}).ok());
  ASSERT_TRUE(journal.finish_run(id, "completed", {{"path", {"Start"}}}, 100).ok());
}

std::size_t runs_listed(const Journal& journal) {
  RunFilter all;
  all.limit = 1000;
  auto runs = journal.list_runs(all);
  EXPECT_TRUE(runs.ok());
  return runs.ok() ? runs->size() : 0;
}

TEST(MemoryJournal, KeepsTheLastFinishedRunsAndForgetsTheOldestFirst) {
  auto journal = make_memory_journal({.keep_finished_runs = 3});
  for (int i = 1; i <= 5; ++i) journal_run(*journal, "r" + std::to_string(i));
  EXPECT_EQ(runs_listed(*journal), 3u);
  for (const char* gone : {"r1", "r2"}) {
    EXPECT_EQ(journal->get_run(gone).status().code(), StatusCode::kNotFound) << gone;
    EXPECT_EQ(journal->events(gone).status().code(), StatusCode::kNotFound) << gone;
  }
  for (const char* kept : {"r3", "r4", "r5"}) {
    auto run = journal->get_run(kept);
    ASSERT_TRUE(run.ok()) << kept;
    EXPECT_EQ(run->status, "completed");
    EXPECT_EQ(journal->events(kept)->size(), 2u);
  }
  // A forgotten run's id may be used again.
  journal_run(*journal, "r1");
  EXPECT_TRUE(journal->get_run("r1").ok());
  EXPECT_EQ(journal->get_run("r3").status().code(), StatusCode::kNotFound);
}

TEST(MemoryJournal, RunsInFlightAreNeverForgotten) {
  auto journal = make_memory_journal({.keep_finished_runs = 1});
  journal_run(*journal, "slow", /*finish=*/false);
  for (int i = 0; i < 4; ++i) journal_run(*journal, "fast" + std::to_string(i));
  ASSERT_TRUE(journal->get_run("slow").ok());
  EXPECT_EQ(journal->get_run("slow")->status, "running");
  EXPECT_TRUE(journal->claim_run("slow").ok());
  EXPECT_EQ(runs_listed(*journal), 2u);  // slow and fast3
  // Finishing it makes it the newest finished run; the one before goes.
  ASSERT_TRUE(journal->append({journal_event("slow", 2, "run_finished")}).ok());
  ASSERT_TRUE(journal->finish_run("slow", "completed", {{"path", {"Start"}}}, 200).ok());
  EXPECT_TRUE(journal->get_run("slow").ok());
  EXPECT_EQ(journal->get_run("fast3").status().code(), StatusCode::kNotFound);
}

TEST(MemoryJournal, KeepingNoneForgetsARunAsItFinishes) {
  auto journal = make_memory_journal({.keep_finished_runs = 0});
  journal_run(*journal, "r1", /*finish=*/false);
  EXPECT_TRUE(journal->get_run("r1").ok());
  ASSERT_TRUE(journal->append({journal_event("r1", 2, "run_finished")}).ok());
  ASSERT_TRUE(journal->finish_run("r1", "completed", {{"path", {"Start"}}}, 100).ok());
  EXPECT_EQ(journal->get_run("r1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(runs_listed(*journal), 0u);
}

TEST(MemoryJournal, AWorkflowCopyIsForgottenWithTheLastRunThatUsedIt) {
  auto journal = make_memory_journal({.keep_finished_runs = 2});
  journal_run(*journal, "a1", true, "hash-a");
  journal_run(*journal, "b1", true, "hash-b");
  journal_run(*journal, "a2", true, "hash-a");  // forgets a1; a2 still uses hash-a
  EXPECT_TRUE(journal->workflow_source("hash-a").ok());
  EXPECT_TRUE(journal->workflow_source("hash-b").ok());
  journal_run(*journal, "a3", true, "hash-a");  // forgets b1, the last run of hash-b
  EXPECT_TRUE(journal->workflow_source("hash-a").ok());
  EXPECT_EQ(journal->workflow_source("hash-b").status().code(), StatusCode::kNotFound);
}

TEST(MemoryJournal, AWorkflowCopyStaysWhileARunJournaledWithoutItIsForgotten) {
  auto journal = make_memory_journal({.keep_finished_runs = 1});
  journal_run(*journal, "with-copy", /*finish=*/false, "hash-a");
  // A run of the same workflow that journals no copy of its own, begun and forgotten.
  RunRecord bare = run_record("bare");
  bare.workflow_hash = "hash-a";
  ASSERT_TRUE(journal->begin_run(bare).ok());
  ASSERT_TRUE(journal->append({journal_event("bare", 1, "run_started")}).ok());
  ASSERT_TRUE(journal->finish_run("bare", "completed", {{"path", {"Start"}}}, 100).ok());
  journal_run(*journal, "other", true, "hash-b");  // forgets bare
  EXPECT_EQ(journal->get_run("bare").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(journal->workflow_source("hash-a").ok());  // with-copy still uses it
}

TEST(MemoryJournal, GcForgetsFinishedRunsBeforeTheCutoffAndTheirWorkflows) {
  auto journal = make_memory_journal();
  journal_run(*journal, "old", true, "hash-old");
  journal_run(*journal, "live", /*finish=*/false, "hash-live");
  auto stats = journal->gc(/*finished_before_ms=*/101);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->runs, 1);
  EXPECT_EQ(stats->events, 2);
  EXPECT_EQ(stats->workflows, 1);
  EXPECT_EQ(journal->get_run("old").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(journal->get_run("live").ok());
  EXPECT_TRUE(journal->workflow_source("hash-live").ok());
}

}  // namespace
}  // namespace switchyard::runtime
