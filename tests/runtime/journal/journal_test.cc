// The journal: the same behaviour from the SQLite file and the in-memory implementation, and the
// SQLite file's own guarantees (WAL, versioning, refusing what is not a journal).

#include "runtime/journal/journal.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/journal/schema.h"
#include "tests/support/journal_records.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::journal_event;
using testing::run_record;
using testing::TempDir;

// Makes a fresh journal of one implementation.
struct JournalFactory {
  std::string name;
  std::function<std::unique_ptr<Journal>(const TempDir&)> make;
};

void PrintTo(const JournalFactory& f, std::ostream* os) { *os << f.name; }

class JournalContract : public ::testing::TestWithParam<JournalFactory> {
 protected:
  void SetUp() override { journal_ = GetParam().make(dir_); }
  TempDir dir_;
  std::unique_ptr<Journal> journal_;
};

TEST_P(JournalContract, RoundTripsRunsAndEvents) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(
      journal_->append({journal_event("r1", 1, "run_started"), journal_event("r1", 2, "plan")})
          .ok());
  ASSERT_TRUE(journal_->append({journal_event("r1", 3, "run_finished")}).ok());
  ASSERT_TRUE(journal_->finish_run("r1", "completed", {{"path", {"Start"}}}, 250).ok());

  auto run = journal_->get_run("r1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "completed");
  EXPECT_EQ(run->workflow_hash, "abc123");
  EXPECT_EQ(run->input, (nlohmann::json{{"customer", "ada"}}));
  EXPECT_EQ(run->result["path"], (nlohmann::json{"Start"}));
  EXPECT_EQ(run->finished_ms, 250);

  auto events = journal_->events("r1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[1].type, "plan");
  EXPECT_EQ((*events)[1].time_ms, 1002);
  EXPECT_EQ((*events)[1].payload["text"], "événement");
}

// finish_run with a null result: the result is the run_finished event's payload with run_id.
TEST_P(JournalContract, ANullResultIsTheRunFinishedEventsPayloadWithTheRunId) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(
      journal_
          ->append({journal_event("r1", 1, "run_started"),
                    journal_event("r1", 2, "run_finished",
                                  nlohmann::json{{"status", "completed"}, {"path", {"A", "B"}}})})
          .ok());
  ASSERT_TRUE(journal_->finish_run("r1", "completed", nullptr, 250).ok());
  const nlohmann::json expected = {{"status", "completed"}, {"path", {"A", "B"}}, {"run_id", "r1"}};
  auto run = journal_->get_run("r1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->result, expected);
  auto listed = journal_->list_runs({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().result, expected);
}

TEST_P(JournalContract, ANullResultWithoutRunFinishedStaysNullAndAGivenResultWins) {
  ASSERT_TRUE(journal_->begin_run(run_record("plain", 100)).ok());
  ASSERT_TRUE(journal_->append({journal_event("plain", 1, "run_started")}).ok());
  ASSERT_TRUE(journal_->finish_run("plain", "failed", nullptr, 250).ok());
  EXPECT_TRUE(journal_->get_run("plain")->result.is_null());

  ASSERT_TRUE(journal_->begin_run(run_record("given", 100)).ok());
  ASSERT_TRUE(journal_
                  ->append({journal_event("given", 1, "run_finished",
                                          nlohmann::json{{"status", "completed"}})})
                  .ok());
  ASSERT_TRUE(journal_->finish_run("given", "completed", {{"probe", "A"}}, 250).ok());
  EXPECT_EQ(journal_->get_run("given")->result, (nlohmann::json{{"probe", "A"}}));
}

TEST_P(JournalContract, EnforcesDenseSequenceNumbers) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_EQ(journal_->append({journal_event("r1", 2, "plan")}).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(journal_->append({journal_event("r1", 1, "run_started")}).ok());
  EXPECT_EQ(journal_->append({journal_event("r1", 1, "again")}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal_->events("r1")->size(), 1u);
}

TEST_P(JournalContract, AppendIsAllOrNothing) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_FALSE(journal_->append({journal_event("r1", 1, "a"), journal_event("r1", 3, "gap")}).ok());
  EXPECT_TRUE(journal_->events("r1")->empty());
}

TEST_P(JournalContract, RejectsEventsOfUnknownRunsAndDuplicateRuns) {
  EXPECT_EQ(journal_->append({journal_event("ghost", 1, "a")}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_FALSE(journal_->begin_run(run_record("r1", 200)).ok());
  EXPECT_EQ(journal_->get_run("ghost").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(journal_->events("ghost").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(journal_->finish_run("ghost", "completed", nullptr, 1).code(), StatusCode::kNotFound);
}

TEST_P(JournalContract, ListsNewestFirstWithFilters) {
  ASSERT_TRUE(journal_->begin_run(run_record("old", 100, "a", "completed")).ok());
  ASSERT_TRUE(journal_->begin_run(run_record("mid", 200, "b", "escalated")).ok());
  ASSERT_TRUE(journal_->begin_run(run_record("new", 300, "a", "completed")).ok());
  auto ids = [&](const RunFilter& f) {
    std::vector<std::string> out;
    auto runs = journal_->list_runs(f);  // kept alive: ranging over *temporary would dangle
    EXPECT_TRUE(runs.ok());
    for (const auto& r : *runs) out.push_back(r.run_id);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{"new", "mid", "old"}));
  RunFilter by_status;
  by_status.status = "completed";
  EXPECT_EQ(ids(by_status), (std::vector<std::string>{"new", "old"}));
  RunFilter by_workflow;
  by_workflow.workflow = "b";
  EXPECT_EQ(ids(by_workflow), (std::vector<std::string>{"mid"}));
  RunFilter window;
  window.since_ms = 150;
  window.until_ms = 300;
  EXPECT_EQ(ids(window), (std::vector<std::string>{"mid"}));
  RunFilter limited;
  limited.limit = 1;
  EXPECT_EQ(ids(limited), (std::vector<std::string>{"new"}));
}

INSTANTIATE_TEST_SUITE_P(
    Implementations, JournalContract,
    ::testing::Values(JournalFactory{"memory",
                                     [](const TempDir&) { return make_memory_journal(); }},
                      JournalFactory{"sqlite",
                                     [](const TempDir& dir) {
                                       auto j = open_sqlite_journal(dir.file("journal.db"));
                                       EXPECT_TRUE(j.ok()) << j.status().message();
                                       return std::move(*j);
                                     }}),
    [](const auto& info) { return info.param.name; });

// ---- the SQLite file ----

using testing::read_text;

using testing::query_text;

TEST(SqliteJournal, KeepsEverythingAcrossReopen) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  {
    auto j = open_sqlite_journal(path);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->begin_run(run_record("r1", 100)).ok());
    ASSERT_TRUE((*j)->append({journal_event("r1", 1, "run_started")}).ok());
  }
  auto j = open_sqlite_journal(path);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->events("r1")->size(), 1u);
  // The sequence continues after a reopen (it is read back, not remembered).
  EXPECT_TRUE((*j)->append({journal_event("r1", 2, "plan")}).ok());
  EXPECT_EQ((*j)->location(), path);
}

TEST(SqliteJournal, UsesWalAndRecordsItsSchemaVersion) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  ASSERT_TRUE(open_sqlite_journal(path).ok());
  EXPECT_EQ(query_text(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), std::to_string(journal_schema_version()));
}

// Schema version 5: a run finished with a null result keeps no copy of it in its row (the
// writer's UPDATE no longer grows the row by the whole result); the result is read from the
// run_finished event, which the hash chain covers.
TEST(SqliteJournal, ARunFinishedWithANullResultKeepsItOnlyInItsRunFinishedEvent) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  {
    auto j = open_sqlite_journal(path);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->begin_run(run_record("r1", 100)).ok());
    ASSERT_TRUE((*j)->append({journal_event("r1", 1, "run_finished",
                                            nlohmann::json{{"status", "completed"}})})
                    .ok());
    ASSERT_TRUE((*j)->finish_run("r1", "completed", nullptr, 250).ok());
  }
  EXPECT_EQ(query_text(path, "SELECT result IS NULL FROM runs WHERE run_id = 'r1'"), "1");
  // The view for the sqlite3 shell finds it.
  EXPECT_EQ(query_text(path,
                       "SELECT json_extract(result, '$.status') FROM run_results "
                       "WHERE run_id = 'r1'"),
            "completed");
  auto reader = open_sqlite_journal(path, {.create_if_missing = false});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->get_run("r1")->result,
            (nlohmann::json{{"status", "completed"}, {"run_id", "r1"}}));
}

TEST(SqliteJournal, ASecondConnectionReadsWhatTheFirstWrote) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  auto writer = open_sqlite_journal(path);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE((*writer)->append({journal_event("r1", 1, "run_started")}).ok());
  auto reader = open_sqlite_journal(path, {.create_if_missing = false});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->events("r1")->size(), 1u);
}

TEST(SqliteJournal, MissingFileIsNotCreatedForReaders) {
  TempDir dir;
  auto j = open_sqlite_journal(dir.file("none.db"), {.create_if_missing = false});
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));
}

TEST(SqliteJournal, UnwritableLocationIsAnIoErrorNamingThePath) {
  TempDir dir;
  for (const std::string& path : {dir.file("no/such/dir/j.db"), dir.path()}) {
    auto j = open_sqlite_journal(path);
    ASSERT_FALSE(j.ok()) << path;
    EXPECT_EQ(j.status().code(), StatusCode::kIo);
    EXPECT_NE(j.status().message().find(path), std::string::npos) << j.status().message();
  }
}

TEST(SqliteJournal, RefusesAFileThatIsNotSqliteAndLeavesItUntouched) {
  TempDir dir;
  const std::string path = dir.write("notes.db", "these are my notes, not a database\n");
  const std::string before = read_text(path);
  auto j = open_sqlite_journal(path);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kIo);
  EXPECT_NE(j.status().message().find(path), std::string::npos);
  EXPECT_EQ(read_text(path), before);
}

TEST(SqliteJournal, RefusesANewerSchemaAndLeavesItUntouched) {
  TempDir dir;
  const std::string path = dir.file("future.db");
  ASSERT_TRUE(open_sqlite_journal(path).ok());
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  const std::string before = read_text(path);
  auto j = open_sqlite_journal(path);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("schema version 99"), std::string::npos);
  EXPECT_EQ(read_text(path), before);
}

TEST(SqliteJournal, RefusesAForeignDatabase) {
  TempDir dir;
  const std::string path = dir.file("app.db");
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE customers (id INTEGER)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto j = open_sqlite_journal(path);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("not a switchyard journal"), std::string::npos);
  EXPECT_EQ(query_text(path, "SELECT count(*) FROM sqlite_master"), "1");
}

}  // namespace
}  // namespace switchyard::runtime
