// The one startup sequence (runtime/engine/startup.h) on a poisoned journal: it starts, skips
// the row (or run, or workflow copy) that cannot be decoded, names it once, and rebuilds health
// from every other run; only a journal that cannot be opened or read stops it.

#include "runtime/engine/startup.h"

#include <gtest/gtest.h>

#include "runtime/base/system_clock.h"
#include "tests/support/poisoned_journal.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::exec_sql;
using testing::TempDir;

using testing::count_of;

TEST(Startup, APoisonedJournalStartsSkippingTheBadItemOnceAndRebuildsHealthFromTheOthers) {
  for (const std::string& name : testing::poison_names()) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string path = dir.file("j.db");
    const auto [runs, poison] = testing::write_poisoned_journal(path, name);
    SystemClock clock;
    auto started = start_up(clock, {.journal_path = path, .rebuild_history = true});
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    const StartupReport& report = started->report;
    // Health and history both read the poisoned run: it is named once.
    ASSERT_EQ(report.skipped.size(), 1u) << report.skipped.front();
    EXPECT_NE(report.skipped[0].find(poison.named), std::string::npos) << report.skipped[0];
    // The clean run's A failed and B and Goal succeeded: its outcomes are rebuilt (and the
    // poisoned run's too when only its workflow copy is bad).
    EXPECT_GE(report.outcomes, 3);
    bool a_failed = false;
    for (const auto& h : started->health->snapshot()) {
      if (h.tool == "A") a_failed = h.consecutive_failures > 0;
    }
    EXPECT_TRUE(a_failed);
    const std::string summary = report.summary(path);
    EXPECT_EQ(count_of(summary, poison.named), 1) << summary;
    EXPECT_NE(summary.find("skipped 1 item(s)"), std::string::npos) << summary;
    EXPECT_NE(summary.find("`switchyard journal check --journal " + path + "`"), std::string::npos)
        << summary;
    EXPECT_EQ(report.to_json()["count"], 1);
  }
}

TEST(Startup, ACleanJournalSkipsNothingAndSaysNothing) {
  TempDir dir;
  testing::write_two_runs(dir.file("j.db"));
  SystemClock clock;
  auto started = start_up(clock, {.journal_path = dir.file("j.db"), .rebuild_history = true});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  EXPECT_TRUE(started->report.skipped.empty());
  EXPECT_EQ(started->report.summary(dir.file("j.db")), "");
  EXPECT_EQ(started->report.outcomes, 6);  // per run: A failed, B and Goal succeeded
  auto engine = build_engine(*started, *started->journal, clock, {.threads = 1});
  EXPECT_EQ(engine->in_flight(), 0u);
}

TEST(Startup, AJournalThatCannotBeOpenedStopsIt) {
  TempDir dir;
  SystemClock clock;
  auto missing = start_up(
      clock, {.journal_path = dir.file("missing.db"), .journal = {.create_if_missing = false}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const std::string text = dir.write("text.db", "not a database, not at all, not one page\n");
  auto garbage = start_up(clock, {.journal_path = text});
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kIo);
}

TEST(Startup, ASummaryListsAtMostTenItemsThenHowManyMore) {
  std::vector<std::string> skipped;
  for (int i = 1; i <= 12; ++i) skipped.push_back("run r-" + std::to_string(i) + ": bad");
  const std::string summary = skipped_summary(skipped, "j.db");
  EXPECT_NE(summary.find("skipped 12 item(s)"), std::string::npos);
  EXPECT_NE(summary.find("run r-10: bad"), std::string::npos);
  EXPECT_EQ(summary.find("run r-11: bad"), std::string::npos);
  EXPECT_NE(summary.find("... and 2 more"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::runtime
