#pragma once
// The journal's contract, one set of tests for every implementation (journal_contract.cc): each
// test program instantiates the suites with the journals it has. The runtime tests: memory and
// SQLite (journal_test.cc); the PostgreSQL tests: PostgreSQL (postgres/postgres_journal_test.cc),
// against a real server.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "runtime/journal/journal.h"
#include "tests/support/run_command.h"

namespace switchyard::runtime {

// Makes journals of one implementation.
struct JournalFactory {
  std::string name;
  // Where a new empty journal lives (a file in `dir`, a new database; "" in memory).
  std::function<std::string(const testing::TempDir& dir)> fresh;
  // Opens the journal at `location` (again: a second connection to the same journal).
  std::function<Result<std::unique_ptr<Journal>>(const std::string& location,
                                                 const JournalOptions& options)>
      open;
};

inline void PrintTo(const JournalFactory& f, std::ostream* os) { *os << f.name; }

// Every implementation, the one in memory included.
class JournalContract : public ::testing::TestWithParam<JournalFactory> {
 protected:
  void SetUp() override {
    location_ = GetParam().fresh(dir_);
    auto journal = GetParam().open(location_, {});
    ASSERT_TRUE(journal.ok()) << journal.status().to_string();
    journal_ = std::move(*journal);
  }
  testing::TempDir dir_;
  std::string location_;
  std::unique_ptr<Journal> journal_;
};

// The durable ones (SQLite, PostgreSQL): what a second connection, a reopen or group commit see.
class DurableJournalContract : public JournalContract {};

}  // namespace switchyard::runtime
