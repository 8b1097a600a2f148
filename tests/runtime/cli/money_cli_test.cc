// Every command prints money one way (runtime/base/money.h): the cents always, sub-cent digits
// when there are any. Real subprocess, real SQLite journal written through the journal API.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/journal/journal.h"
#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::TempDir;

// One finished run of workflow "spend" that spent $0.03, $0.0125 of it on one LLM call.
void seed_money_journal(const std::string& path) {
  auto journal = runtime::open_sqlite_journal(path);
  ASSERT_TRUE(journal.ok()) << journal.status().message();
  runtime::RunRecord r;
  r.run_id = "r-money";
  r.workflow = "spend";
  r.workflow_hash = "hash-of-spend";
  r.status = "running";
  r.started_ms = 1767225600000;
  r.input = nlohmann::json::object();
  r.workflow_source = std::make_shared<const std::string>(R"({"name":"spend"})");
  ASSERT_TRUE((*journal)->begin_run(r).ok());
  std::vector<runtime::Event> events;
  events.push_back({r.run_id,
                    1,
                    r.started_ms + 1,
                    "llm_settled",
                    {{"tool", "Summarize"},
                     {"tier", "cheap"},
                     {"tokens", 10},
                     {"cost_usd", 0.0125},
                     {"ok", true}},
                    "",
                    "",
                    ""});
  ASSERT_TRUE((*journal)->append(events).ok());
  const nlohmann::json result = {{"status", "completed"},
                                 {"spent_usd", 0.03},
                                 {"tokens", 10},
                                 {"llm_calls", 1},
                                 {"path", {"Start", "Summarize"}}};
  ASSERT_TRUE((*journal)->finish_run(r.run_id, "completed", result, r.started_ms + 9).ok());
}

TEST(MoneyCli, RunsAndBudgetPrintTheCentsAndAnySubCentDigits) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  seed_money_journal(journal);

  auto runs = testing::switchyard({"runs", "--journal", journal});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find(" $0.03 "), std::string::npos) << runs.out;
  EXPECT_EQ(runs.out.find("0.030000"), std::string::npos) << runs.out;

  auto budget = testing::switchyard({"budget", "--journal", journal});
  ASSERT_EQ(budget.exit_code, 0) << budget.err;
  EXPECT_NE(budget.out.find(" $0.03 "), std::string::npos) << budget.out;     // the workflow
  EXPECT_NE(budget.out.find(" $0.0125\n"), std::string::npos) << budget.out;  // step and tier
}

}  // namespace
}  // namespace switchyard
