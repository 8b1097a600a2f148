// replay --verify and the run's outputs in run_finished: a run journaled before results carried
// them still verifies, and one whose journaled outputs were rewritten (the chain resealed) does
// not.

#include <gtest/gtest.h>

#include "runtime/base/hash.h"
#include "runtime/base/workflow_file.h"
#include "runtime/eval/eval.h"
#include "runtime/journal/journal.h"
#include "runtime/replay/verify.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::exec_sql;
using testing::TempDir;

// CS-2 (Stripe down, the run reroutes through Razorpay) journaled at `path`; returns its run id.
std::string journal_cs2(const std::string& path) {
  auto journal = open_sqlite_journal(path);
  EXPECT_TRUE(journal.ok()) << journal.status().to_string();
  const std::string file = std::string(SWITCHYARD_PAPER_DIR) + "/CS-2.json";
  auto loaded = load_workflow_file(file);
  EXPECT_TRUE(loaded.ok()) << file;
  EXPECT_TRUE(evaluate_scenario(*loaded.workflow, file, journal->get()).correct);
  return "eval-" + loaded.workflow->scenario()->id;
}

// Rewrites run `id`'s run_finished payload with `sql_expression` (of `payload`) and reseals the
// hash chain, as a build that journaled another payload would have chained it.
void rewrite_run_finished(const std::string& path, const std::string& id,
                          const std::string& sql_expression) {
  ASSERT_EQ(exec_sql(path, "UPDATE events SET payload = " + sql_expression + " WHERE run_id = '" +
                               id + "' AND type = 'run_finished'"),
            "");
  auto journal = open_sqlite_journal(path, {.create_if_missing = false});
  ASSERT_TRUE(journal.ok());
  auto events = (*journal)->events(id);
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  std::string link;
  for (const Event& e : *events) {
    link = event_link(link, e.run_id, e.seq, e.time_ms, e.type, canonical_json(e.payload));
    ASSERT_EQ(exec_sql(path, "UPDATE events SET hash = '" + link + "' WHERE run_id = '" + id +
                                 "' AND seq = " + std::to_string(e.seq)),
              "");
  }
  ASSERT_EQ(
      exec_sql(path, "UPDATE runs SET head_hash = '" + link + "' WHERE run_id = '" + id + "'"), "");
}

VerifyReport verified(const std::string& path, const std::string& id) {
  auto journal = open_sqlite_journal(path, {.create_if_missing = false});
  EXPECT_TRUE(journal.ok());
  auto report = verify_run(**journal, id);
  EXPECT_TRUE(report.ok()) << report.status().to_string();
  return report.ok() ? *report : VerifyReport{};
}

TEST(ReplayVerifyOutputs, ARunFinishedBeforeResultsCarriedOutputsStillVerifies) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const std::string id = journal_cs2(path);
  ASSERT_TRUE(verified(path, id).ok());
  rewrite_run_finished(path, id,
                       "json_remove(payload, '$.output', '$.output_truncated', '$.outputs', "
                       "'$.outputs_dropped', '$.outputs_truncated')");
  const VerifyReport old = verified(path, id);
  EXPECT_TRUE(old.chain.ok()) << old.chain.message();
  EXPECT_TRUE(old.decisions.ok()) << old.decisions.message();
  // And through the program, as users run it.
  auto cli = testing::switchyard({"replay", id, "--journal", path, "--verify"});
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
}

TEST(ReplayVerifyOutputs, ARewrittenOutputWithAResealedChainIsCaughtAtRunFinished) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const std::string id = journal_cs2(path);
  rewrite_run_finished(path, id,
                       "json_set(payload, '$.outputs.Razorpay', json('{\"forged\": 1}'))");
  const VerifyReport forged = verified(path, id);
  EXPECT_TRUE(forged.chain.ok()) << forged.chain.message();
  EXPECT_FALSE(forged.decisions.ok());
  EXPECT_NE(forged.decisions.message().find("(run_finished)"), std::string::npos)
      << forged.decisions.message();
}

}  // namespace
}  // namespace switchyard::runtime
