// The journal: the contract (journal_contract.cc) for the SQLite file and the in-memory
// implementation, and the SQLite file's own guarantees (WAL, versioning, refusing what is not a
// journal).

#include "runtime/journal/journal.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/journal/schema.h"
#include "tests/runtime/journal/journal_contract.h"
#include "tests/support/journal_records.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::journal_event;
using testing::run_record;
using testing::TempDir;

JournalFactory memory_journals() {
  return {"memory", [](const TempDir&) { return std::string(); },
          [](const std::string&, const JournalOptions&) -> Result<std::unique_ptr<Journal>> {
            return make_memory_journal();
          }};
}

JournalFactory sqlite_journals() {
  return {"sqlite",
          [](const TempDir& dir) {
            static int made = 0;  // a new file each time
            return dir.file("journal" + std::to_string(++made) + ".db");
          },
          [](const std::string& path, const JournalOptions& options) {
            return open_sqlite_journal(path, options);
          }};
}

INSTANTIATE_TEST_SUITE_P(Implementations, JournalContract,
                         ::testing::Values(memory_journals(), sqlite_journals()),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Implementations, DurableJournalContract,
                         ::testing::Values(sqlite_journals()),
                         [](const auto& info) { return info.param.name; });

// ---- the SQLite file ----

using testing::read_text;

using testing::query_text;

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
