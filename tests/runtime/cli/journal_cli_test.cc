// The journal's housekeeping commands as users meet them (real subprocess, real SQLite file):
// `gc` removes old finished runs, `runs` filters. The journals are written through the journal
// API, so the runs' times are whatever the test needs; the program reads the real clock.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/journal/journal.h"
#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::TempDir;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct SeedRun {
  std::string id;
  std::string workflow;
  std::string status;  // "running": never finished
  std::int64_t started_ms;
  std::int64_t finished_ms = 0;
};

// Writes `runs` to a new journal at `path`, each with two events and its workflow's source.
void seed(const std::string& path, const std::vector<SeedRun>& runs) {
  auto journal = runtime::open_sqlite_journal(path);
  ASSERT_TRUE(journal.ok()) << journal.status().message();
  for (const auto& s : runs) {
    runtime::RunRecord r;
    r.run_id = s.id;
    r.workflow = s.workflow;
    r.workflow_hash = "hash-of-" + s.workflow;
    r.status = "running";
    r.started_ms = s.started_ms;
    r.input = nlohmann::json::object();
    r.workflow_source = std::make_shared<const std::string>("{\"name\":\"" + s.workflow + "\"}");
    ASSERT_TRUE((*journal)->begin_run(r).ok());
    std::vector<runtime::Event> events;
    for (std::int64_t seq : {1, 2}) {
      events.push_back({s.id, seq, s.started_ms + seq, "plan", {{"seq", seq}}, "", "", ""});
    }
    ASSERT_TRUE((*journal)->append(events).ok());
    if (s.status != "running") {
      ASSERT_TRUE(
          (*journal)->finish_run(s.id, s.status, {{"status", s.status}}, s.finished_ms).ok());
    }
  }
}

std::vector<std::string> run_ids(const nlohmann::json& runs) {
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r["run_id"]);
  return ids;
}

// Three runs: one finished 40 days ago, one an hour ago, one started 90 days ago still running.
class GcCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::int64_t now = now_ms();
    seed(journal(), {{"r-old", "billing", "completed", now - 41 * kDayMs, now - 40 * kDayMs},
                     {"r-recent", "support", "escalated", now - 2 * 3600 * 1000, now - 3600 * 1000},
                     {"r-stuck", "support", "running", now - 90 * kDayMs}});
  }
  std::string journal() const { return dir_.file("j.db"); }
  std::vector<std::string> remaining() const {
    auto r = testing::switchyard({"runs", "--journal", journal(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return run_ids(testing::parse_json(r.out)["runs"]);
  }
  TempDir dir_;
};

TEST_F(GcCli, RemovesOnlyRunsThatFinishedBeforeTheCutoff) {
  auto r = testing::switchyard({"gc", "--journal", journal(), "--older-than", "30d", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["removed"]["runs"], 1);
  EXPECT_EQ(j["removed"]["events"], 2);
  EXPECT_EQ(j["removed"]["workflows"], 1);  // billing's: no run refers to it any more
  EXPECT_EQ(run_ids(j["runs"]), std::vector<std::string>{"r-old"});
  EXPECT_EQ(remaining(), (std::vector<std::string>{"r-recent", "r-stuck"}));
}

TEST_F(GcCli, NeverRemovesARunningRun) {
  auto r = testing::switchyard({"gc", "--journal", journal(), "--older-than", "0ms", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::parse_json(r.out)["removed"]["runs"], 2);
  EXPECT_EQ(remaining(), std::vector<std::string>{"r-stuck"});
}

TEST_F(GcCli, SaysWhatItRemoved) {
  auto r = testing::switchyard({"gc", "--journal", journal(), "--older-than", "12h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r-old"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("r-recent"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("removed 1 run(s), 2 event(s) and 1 workflow(s)"), std::string::npos)
      << r.out;
}

TEST_F(GcCli, AnInvalidDurationIsUsageErrorAndRemovesNothing) {
  for (const char* bad : {"30", "30 days", "1d2h", "1.5h", "soon"}) {
    auto r = testing::switchyard({"gc", "--journal", journal(), "--older-than", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find(std::string("--older-than ") + bad), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("500ms, 45s, 10m, 2h or 7d"), std::string::npos) << r.err;
  }
  EXPECT_EQ(remaining().size(), 3u);
}

TEST(GcCliWithoutJournal, AMissingJournalIsUsageErrorAndIsNotCreated) {
  TempDir dir;
  auto r = testing::switchyard({"gc", "--journal", dir.file("none.db"), "--older-than", "1d"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("journal not found"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));
}

// Runs started on three consecutive days of 2026 (UTC), of two workflows.
class RunsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::int64_t jan1 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
    seed(journal(), {{"r-1", "billing", "completed", jan1 + 3600 * 1000, jan1 + 3601 * 1000},
                     {"r-2", "support", "escalated", jan1 + kDayMs, jan1 + kDayMs + 5},
                     {"r-3", "support", "completed", jan1 + 2 * kDayMs, jan1 + 2 * kDayMs + 5}});
  }
  std::vector<std::string> listed(std::vector<std::string> args) const {
    args.insert(args.begin(), {"runs", "--journal", journal(), "--json"});
    auto r = testing::switchyard(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return run_ids(testing::parse_json(r.out)["runs"]);
  }
  std::string journal() const { return dir_.file("j.db"); }
  TempDir dir_;
};

TEST_F(RunsCli, FiltersByStartTime) {
  EXPECT_EQ(listed({"--since", "2026-01-02"}), (std::vector<std::string>{"r-3", "r-2"}));
  EXPECT_EQ(listed({"--until", "2026-01-02"}), std::vector<std::string>{"r-1"});
  EXPECT_EQ(listed({"--since", "2026-01-02", "--until", "2026-01-02T12:00:00Z"}),
            std::vector<std::string>{"r-2"});
}

TEST_F(RunsCli, CombinesStatusAndWorkflowFilters) {
  EXPECT_EQ(listed({"--status", "completed"}), (std::vector<std::string>{"r-3", "r-1"}));
  EXPECT_EQ(listed({"--name", "support", "--status", "completed"}),
            std::vector<std::string>{"r-3"});
  EXPECT_EQ(listed({"--name", "nobody"}), std::vector<std::string>{});
}

TEST_F(RunsCli, AnUnknownStatusIsUsageError) {
  auto r = testing::switchyard({"runs", "--journal", journal(), "--status", "done"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace switchyard
