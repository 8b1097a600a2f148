// replay --verify on a poisoned journal: a row that cannot be decoded is a verification failure
// naming run and seq, never an abort, and every other run still verifies; the pictures of the
// poisoned run are an error. verify_event_rows, the decoding and re-enactment path a fuzzer
// drives, turns any rows into a verdict.

#include <gtest/gtest.h>

#include "graph/json_read.h"
#include "graph/load.h"
#include "runtime/base/hash.h"
#include "runtime/journal/journal.h"
#include "runtime/replay/verify.h"
#include "tests/support/poisoned_journal.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::exec_sql;
using testing::TempDir;

TEST(PoisonedVerify, APoisonedRunFailsVerificationNamingItsRowAndTheOtherRunVerifies) {
  for (const std::string& name : testing::poison_names()) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string path = dir.file("j.db");
    const auto [runs, poison] = testing::write_poisoned_journal(path, name);
    auto journal = testing::reopen_journal(path);

    auto bad = verify_run(*journal, runs.poisoned);
    ASSERT_TRUE(bad.ok()) << bad.status().to_string();
    EXPECT_FALSE(bad->ok());
    const std::string said = bad->rows.message() + "\n" + bad->decisions.message();
    const std::string& expected = poison.verify_named.empty() ? poison.named : poison.verify_named;
    EXPECT_NE(said.find(expected), std::string::npos) << said;
    if (poison.rows) {
      EXPECT_FALSE(bad->rows.ok());
      EXPECT_EQ(bad->to_json()["rows"]["error"], bad->rows.message());
    }

    auto good = verify_run(*journal, runs.clean);
    ASSERT_TRUE(good.ok()) << good.status().to_string();
    EXPECT_TRUE(good->ok()) << good->to_json().dump();
    EXPECT_GT(good->verified, 0);
  }
}

// The rows of a recorded run, as text.
std::vector<EventRow> rows_of(const std::vector<Event>& events) {
  std::vector<EventRow> rows;
  for (const Event& e : events) rows.push_back({e.type, canonical_json(e.payload), e.time_ms});
  return rows;
}

class EventRows : public ::testing::Test {
 protected:
  void SetUp() override {
    runs_ = testing::write_two_runs(dir_.file("j.db"));
    journal_ = testing::reopen_journal(dir_.file("j.db"));
    auto events = journal_->events(runs_.clean);
    ASSERT_TRUE(events.ok());
    rows_ = rows_of(*events);
    auto loaded = graph::load(testing::clean_workflow_json(), "clean.json");
    ASSERT_TRUE(loaded.ok());
    workflow_ = loaded.workflow;
  }
  TempDir dir_;
  testing::TwoRuns runs_;
  std::unique_ptr<Journal> journal_;
  std::vector<EventRow> rows_;
  std::shared_ptr<const graph::Workflow> workflow_;
};

TEST_F(EventRows, ARecordedRunsRowsVerifyAndSoDoesEachPrefixForResume) {
  auto verified = verify_event_rows(*workflow_, rows_, /*complete=*/true);
  ASSERT_TRUE(verified.ok()) << verified.status().to_string();
  EXPECT_GT(*verified, 0);
  for (std::size_t n = 1; n < rows_.size(); ++n) {
    std::vector<EventRow> prefix(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_TRUE(verify_event_rows(*workflow_, prefix, /*complete=*/false).ok()) << n;
  }
}

// Found by the journal fuzzer: an event type with a byte that is not UTF-8 was quoted as it is
// in the verdict ("event #4 (step_s\x8Bcceeded): ..."), which `replay --verify --json` could not
// print (nlohmann's dump throws on invalid UTF-8). Every verdict is valid UTF-8.
TEST_F(EventRows, AnEventTypeThatIsNotUtf8IsQuotedAsValidUtf8) {
  for (std::size_t at = 1; at < rows_.size(); ++at) {
    std::vector<EventRow> rows = rows_;
    rows[at].type =
        "step_s\x8b\xff"
        "cceeded";
    auto verified = verify_event_rows(*workflow_, rows, /*complete=*/true);
    ASSERT_FALSE(verified.ok()) << at;
    const std::string said = verified.status().message();
    EXPECT_EQ(said, valid_utf8(said)) << at;
    EXPECT_NO_THROW((void)nlohmann::json(said).dump()) << at;
  }
}

TEST_F(EventRows, MutatedRowsAreAVerdictNamingTheRowNeverACrash) {
  const std::vector<std::string> payloads = {
      "[]",
      "null",
      "7",
      "\"text\"",
      "{",
      "",
      std::string(5000, '[') + std::string(5000, ']'),
      R"({"tool": {"a": 1}})",
      R"({"output": [[[[[]]]]], "latency_us": -1})",
      R"({"branch": 4294967297})",
      R"({"branch": 3, "fanout": "nowhere"})",
      R"({"route": ["Start", "Nowhere", "Goal"], "cost": -1})",
      R"({"tokens": 9007199254740993, "cost_usd": 1e308})",
      R"({"seed": 18446744073709551615, "known_down": ["Nobody"]})",
      R"({"tiers": [{"name": "x", "input_usd_per_mtok": -1}], "budget": {"usd": -5}})",
      R"({"retry_after_ms": 8796093022208, "retry_at_ms": -8796093022208})",
      R"({"reason": "in_doubt", "message": "x"})",
      "{\"\xff\": 1}"};
  int verdicts = 0;
  for (std::size_t at = 0; at < rows_.size(); ++at) {
    for (const std::string& payload : payloads) {
      std::vector<EventRow> rows = rows_;
      rows[at].payload = payload;
      auto verified = verify_event_rows(*workflow_, rows, /*complete=*/at % 2 == 0);
      if (!verified.ok()) {
        ++verdicts;
        EXPECT_TRUE(verified.status().code() == StatusCode::kInvalidArgument ||
                    verified.status().code() == StatusCode::kFailedPrecondition)
            << verified.status().to_string();
      }
    }
    // Types swapped, rows dropped and repeated.
    std::vector<EventRow> rows = rows_;
    std::swap(rows[at].type, rows[(at + 1) % rows.size()].type);
    (void)verify_event_rows(*workflow_, rows, true);
    rows = rows_;
    rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(at));
    (void)verify_event_rows(*workflow_, rows, true);
    rows = rows_;
    rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(at), rows_[at]);
    (void)verify_event_rows(*workflow_, rows, false);
  }
  EXPECT_GT(verdicts, static_cast<int>(rows_.size()));
  EXPECT_FALSE(verify_event_rows(*workflow_, {}, true).ok());
  auto named = verify_event_rows(*workflow_, {{"run_started", "[]", 1}}, true, "r-x");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().message(),
            "run r-x seq 1 (run_started): /payload: expected an object, got an array");
}

TEST_F(EventRows, LinesOfTypeAndPayloadAreRowsAsAFuzzInputGivesThem) {
  std::string text;
  for (const EventRow& row : rows_) text += row.type + " " + row.payload + "\n";
  const std::vector<EventRow> rows = event_rows_from_lines(text);
  ASSERT_EQ(rows.size(), rows_.size());
  EXPECT_EQ(rows[1].type, rows_[1].type);
  EXPECT_EQ(rows[1].payload, rows_[1].payload);
  EXPECT_EQ(rows[1].time_ms, 2000);
  EXPECT_TRUE(verify_event_rows(*workflow_, rows, true).ok());
  EXPECT_EQ(event_rows_from_lines("plan").front().payload, "");
  EXPECT_TRUE(event_rows_from_lines("").empty());
}

}  // namespace
}  // namespace switchyard::runtime
