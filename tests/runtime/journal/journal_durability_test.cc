// The SQLite journal under trouble: locks held by others, a full disk, a corrupt file, an old
// schema, group commit. Each failure is a clear error and loses nothing committed before it.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "runtime/engine/reenact.h"
#include "runtime/journal/forwarding_journal.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/schema.h"
#include "runtime/journal/wal_checkpointer.h"
#include "runtime/journal/writer.h"
#include "tests/support/journal_records.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::exec_sql;
using testing::journal_event;
using testing::query_text;
using testing::read_text;
using testing::run_record;
using testing::TempDir;

TEST(JournalDurability, ALockHeldByAnotherWriterIsAClearErrorAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  auto journal = open_sqlite_journal(path, {.busy_timeout = std::chrono::milliseconds(20)});
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
  ASSERT_TRUE((*journal)->append({journal_event("r1", 1)}).ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Status s = (*journal)->append({journal_event("r1", 2)});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.to_string();
  EXPECT_NE(s.message().find("locked by another process"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path), std::string::npos);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  // Nothing was half-written: the same event goes in once the lock is gone.
  EXPECT_TRUE((*journal)->append({journal_event("r1", 2)}).ok());
  EXPECT_EQ((*journal)->events("r1")->size(), 2u);
}

TEST(JournalDurability, AFullDiskFailsTheWriteClearlyAndKeepsWhatWasCommitted) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  std::int64_t committed = 0;
  {
    auto journal = open_sqlite_journal(path, {.max_bytes = 96 * 1024});
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
    const nlohmann::json big = {{"blob", std::string(2000, 'x')}};
    Status s;
    for (std::int64_t seq = 1; seq < 1000 && s.ok(); ++seq) {
      s = (*journal)->append({journal_event("r1", seq, "", big)});
      if (s.ok()) committed = seq;
    }
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.to_string();
    EXPECT_NE(s.message().find("is full"), std::string::npos) << s.message();
    EXPECT_GT(committed, 5);
  }
  auto reopened = open_sqlite_journal(path);
  ASSERT_TRUE(reopened.ok());
  auto events = (*reopened)->events("r1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(static_cast<std::int64_t>(events->size()), committed);
  auto run = (*reopened)->get_run("r1");
  EXPECT_TRUE(verify_chain(*run, *events).ok());
}

TEST(JournalDurability, ACorruptFileIsAClearErrorAndIsLeftUntouched) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  {
    auto journal = open_sqlite_journal(path);
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
  }
  ASSERT_EQ(exec_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << std::string(200, '\x5a');  // the header and the start of the schema page
  }
  const std::string before = read_text(path);
  auto journal = open_sqlite_journal(path);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), StatusCode::kIo);
  EXPECT_NE(journal.status().message().find("corrupt or not a journal"), std::string::npos)
      << journal.status().message();
  EXPECT_EQ(read_text(path), before);
}

TEST(JournalDurability, RunningRunsAreFoundThroughTheirPartialIndex) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  {
    auto journal = open_sqlite_journal(path);
    ASSERT_TRUE(journal.ok());
    for (const char* id : {"a", "b", "c"}) ASSERT_TRUE((*journal)->begin_run(run_record(id)).ok());
    ASSERT_TRUE((*journal)->finish_run("b", "completed", {}, 5).ok());
    RunFilter filter;
    filter.status = "running";
    auto running = (*journal)->list_runs(filter);
    ASSERT_TRUE(running.ok());
    ASSERT_EQ(running->size(), 2u);
    for (const RunRecord& r : *running) EXPECT_NE(r.run_id, "b");
    filter.status = "completed";
    auto completed = (*journal)->list_runs(filter);
    ASSERT_TRUE(completed.ok());
    ASSERT_EQ(completed->size(), 1u);
    EXPECT_EQ(completed->front().run_id, "b");
  }
  // Only running runs are in the index, and the query for them uses it.
  EXPECT_EQ(query_text(path,
                       "SELECT count(*) FROM runs INDEXED BY runs_running "
                       "WHERE status = 'running'"),
            "2");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* plan = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT run_id FROM runs WHERE 1=1 AND status = "
                               "'running' ORDER BY started_ms DESC, run_id DESC LIMIT 5",
                               -1, &plan, nullptr),
            SQLITE_OK);
  std::string details;
  while (sqlite3_step(plan) == SQLITE_ROW) {
    details += reinterpret_cast<const char*>(sqlite3_column_text(plan, 3));
    details += "; ";
  }
  sqlite3_finalize(plan);
  sqlite3_close(db);
  EXPECT_NE(details.find("runs_running"), std::string::npos) << details;
  EXPECT_EQ(query_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_by_status'"),
            "0");
}

TEST(JournalDurability, AVersionOneJournalIsUpgradedToTheLatestAndItsEventsChained) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  ASSERT_EQ(exec_sql(path, R"sql(
    CREATE TABLE runs (run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, workflow_hash TEXT NOT NULL,
      status TEXT NOT NULL, started_ms INTEGER NOT NULL, finished_ms INTEGER, input TEXT NOT NULL,
      result TEXT);
    CREATE INDEX runs_by_status ON runs(status);
    CREATE INDEX runs_by_workflow ON runs(workflow);
    CREATE INDEX runs_by_start ON runs(started_ms);
    CREATE TABLE events (run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
      seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
    INSERT INTO runs VALUES ('old', 'w', 'h', 'completed', 1, 2, '{}', '{}');
    INSERT INTO events VALUES ('old', 1, 10, 'run_started', '{"a":1}');
    INSERT INTO events VALUES ('old', 2, 11, 'run_finished', '{"status":"completed"}');
    PRAGMA user_version = 1;)sql"),
            "");
  auto journal = open_sqlite_journal(path);
  ASSERT_TRUE(journal.ok()) << journal.status().to_string();
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), std::to_string(journal_schema_version()));
  auto run = (*journal)->get_run("old");
  auto events = (*journal)->events("old");
  ASSERT_TRUE(run.ok() && events.ok());
  EXPECT_EQ(events->size(), 2u);
  EXPECT_EQ(run->head_seq, 2);
  EXPECT_TRUE(verify_chain(*run, *events).ok());
  // Its workflow was never stored: replay says so instead of guessing.
  EXPECT_EQ((*journal)->workflow_source("h").status().code(), StatusCode::kNotFound);
}

TEST(JournalDurability, TheLogIsCheckpointedOffTheWriterThread) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  std::mutex mu;
  std::condition_variable done;
  std::thread::id checkpointer;
  int checkpointed = 0;
  auto journal = open_sqlite_journal(path, {.on_checkpoint = [&](int, int pages) {
                                       std::lock_guard lock(mu);
                                       checkpointer = std::this_thread::get_id();
                                       checkpointed = std::max(checkpointed, pages);
                                       done.notify_all();
                                     }});
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
  const std::uintmax_t before = std::filesystem::file_size(path);
  // Past the checkpointer's threshold: commits of ~8 KiB, each at least 2 pages of log.
  const nlohmann::json big = {{"text", std::string(8000, 'x')}};
  const int commits = WalCheckpointer::kBackgroundPages / 2 + 100;
  for (int seq = 1; seq <= commits; ++seq) {
    ASSERT_TRUE((*journal)->append({journal_event("r1", seq, "", big)}).ok());
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(30),
                            [&] { return checkpointed >= WalCheckpointer::kBackgroundPages; }));
  EXPECT_NE(checkpointer, std::this_thread::get_id());
  lock.unlock();
  // What it copied is in the database file itself (before, the file held a few pages; the log
  // held all the rest), and every event reads back. A PASSIVE checkpoint copies the log as it
  // stood when it began, which is at least kBackgroundPages frames. A commit writes about 6 of
  // them (the event's leaf and its 2 overflow pages, the index, the run's row, the header), 2
  // of which are pages of its own: so the file grew by well over kBackgroundPages / 8 * 2 pages,
  // whatever the writer committed while the checkpoint ran.
  EXPECT_LT(before, static_cast<std::uintmax_t>(64 * 4096));
  EXPECT_GT(std::filesystem::file_size(path),
            static_cast<std::uintmax_t>(WalCheckpointer::kBackgroundPages / 8 * 2) * 4096u);
  EXPECT_EQ((*journal)->events("r1")->size(), static_cast<std::size_t>(commits));
}

}  // namespace
}  // namespace switchyard::runtime
