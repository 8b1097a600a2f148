// replay --verify: the hash chain catches edited, deleted and reordered events; the decisions
// re-driven from the recorded outcomes are the journal's, and a changed decision is named.

#include "runtime/replay/verify.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/base/hash.h"
#include "runtime/base/workflow_file.h"
#include "runtime/eval/eval.h"
#include "runtime/journal/journal.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::exec_sql;
using testing::query_text;
using testing::TempDir;

std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  for (const std::string& dir :
       {std::string(SWITCHYARD_PAPER_DIR), std::string(SWITCHYARD_SOURCE_DIR) + "/tests/scenarios",
        std::string(SWITCHYARD_SOURCE_DIR) + "/tests/scenarios/conditions"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs scenario `file` into the SQLite journal at `path`; returns the run id.
std::string run_scenario(const std::string& path, const std::string& file) {
  auto journal = open_sqlite_journal(path);
  EXPECT_TRUE(journal.ok()) << journal.status().to_string();
  auto loaded = load_workflow_file(file);
  EXPECT_TRUE(loaded.ok()) << file;
  const ScenarioResult r = evaluate_scenario(*loaded.workflow, file, journal->get());
  EXPECT_TRUE(r.correct) << file;
  return "eval-" + loaded.workflow->scenario()->id;
}

VerifyReport verify(const std::string& path, const std::string& run_id) {
  auto journal = open_sqlite_journal(path, {.create_if_missing = false});
  EXPECT_TRUE(journal.ok());
  auto report = verify_run(**journal, run_id);
  EXPECT_TRUE(report.ok()) << report.status().to_string();
  return *report;
}

TEST(ReplayVerify, EveryPaperAndFanoutScenarioReDrivesToItsJournaledDecisions) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  int runs = 0;
  for (const auto& file : scenario_files()) {
    const std::string id = run_scenario(path, file);
    const VerifyReport report = verify(path, id);
    EXPECT_TRUE(report.chain.ok()) << file << ": " << report.chain.message();
    EXPECT_TRUE(report.decisions.ok()) << file << ": " << report.decisions.message();
    EXPECT_GT(report.verified, 0) << file;
    ++runs;
  }
  EXPECT_EQ(runs, 26);  // 19 paper scenarios + 4 fan-out scenarios + 3 condition scenarios
}

class Tampered : public ::testing::Test {
 protected:
  void SetUp() override {
    // CS-2: Stripe is down; the run reroutes at CRM through Razorpay.
    id_ = run_scenario(path_, std::string(SWITCHYARD_PAPER_DIR) + "/CS-2.json");
    ASSERT_TRUE(verify(path_, id_).ok());
  }
  std::string sql(const std::string& statement) { return exec_sql(path_, statement); }
  std::string seq_of(const std::string& type) {
    return query_text(path_, "SELECT seq FROM events WHERE run_id = '" + id_ + "' AND type = '" +
                                 type + "' ORDER BY seq LIMIT 1");
  }
  // Re-seals the chain after an edit, as a forger who knows the scheme would.
  void reseal() {
    auto journal = open_sqlite_journal(path_);
    ASSERT_TRUE(journal.ok());
    auto events = (*journal)->events(id_);
    ASSERT_TRUE(events.ok());
    std::string link;
    for (const Event& e : *events) {
      link = event_link(link, e.run_id, e.seq, e.time_ms, e.type, canonical_json(e.payload));
      ASSERT_EQ(sql("UPDATE events SET hash = '" + link + "' WHERE run_id = '" + id_ +
                    "' AND seq = " + std::to_string(e.seq)),
                "");
    }
    ASSERT_EQ(sql("UPDATE runs SET head_hash = '" + link + "' WHERE run_id = '" + id_ + "'"), "");
  }
  TempDir dir_;
  std::string path_ = dir_.file("j.db");
  std::string id_;
};

TEST_F(Tampered, AnEditedPayloadBreaksTheChainAtThatEvent) {
  const std::string seq = seq_of("plan");
  ASSERT_EQ(sql("UPDATE events SET payload = json_set(payload, '$.cost', 0.01) WHERE run_id = '" +
                id_ + "' AND seq = " + seq),
            "");
  const VerifyReport r = verify(path_, id_);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.chain.message().find("event #" + seq + " (plan) does not match its hash"),
            std::string::npos)
      << r.chain.message();
}

TEST_F(Tampered, ADeletedEventIsNamedAsMissing) {
  ASSERT_EQ(sql("DELETE FROM events WHERE run_id = '" + id_ + "' AND seq = 3"), "");
  const VerifyReport r = verify(path_, id_);
  EXPECT_NE(r.chain.message().find("event #3 is missing"), std::string::npos) << r.chain.message();
}

TEST_F(Tampered, ReorderedEventsBreakTheChainWhereTheOrderChanged) {
  // Swap events 3 and 4 (seq is the order).
  ASSERT_EQ(sql("UPDATE events SET seq = -1 WHERE run_id = '" + id_ +
                "' AND seq = 3;"
                "UPDATE events SET seq = 3 WHERE run_id = '" +
                id_ +
                "' AND seq = 4;"
                "UPDATE events SET seq = 4 WHERE run_id = '" +
                id_ + "' AND seq = -1;"),
            "");
  const VerifyReport r = verify(path_, id_);
  EXPECT_NE(r.chain.message().find("event #3 ("), std::string::npos) << r.chain.message();
}

TEST_F(Tampered, DroppingTheLastEventsIsCaughtByTheRunsHead) {
  const std::string last =
      query_text(path_, "SELECT max(seq) FROM events WHERE run_id = '" + id_ + "'");
  ASSERT_EQ(sql("DELETE FROM events WHERE run_id = '" + id_ + "' AND seq = " + last), "");
  const VerifyReport r = verify(path_, id_);
  EXPECT_NE(r.chain.message().find("head names event #" + last), std::string::npos)
      << r.chain.message();
}

TEST_F(Tampered, ARewrittenDecisionWithAResealedChainIsCaughtByReDrivingTheRouter) {
  const std::string seq = seq_of("plan");
  ASSERT_FALSE(seq.empty());
  // Claim the run planned through the provider that was down (the router avoids it).
  ASSERT_EQ(sql("UPDATE events SET payload = json_set(payload, '$.route[2]', 'Stripe') "
                "WHERE run_id = '" +
                id_ + "' AND seq = " + seq),
            "");
  reseal();
  const VerifyReport r = verify(path_, id_);
  EXPECT_TRUE(r.chain.ok()) << r.chain.message();
  EXPECT_FALSE(r.decisions.ok());
  EXPECT_NE(r.decisions.message().find("event #" + seq + " (plan)"), std::string::npos)
      << r.decisions.message();
}

// CD-1's run: the fraud score sends the payment to review; its plan at FraudCheck journals each
// condition's value.
class TamperedConditions : public Tampered {
 protected:
  void SetUp() override {
    id_ = run_scenario(
        path_, std::string(SWITCHYARD_SOURCE_DIR) + "/tests/scenarios/conditions/CD-1.json");
    ASSERT_TRUE(verify(path_, id_).ok());
  }
  std::string plan_at(const std::string& node) {
    return query_text(path_, "SELECT seq FROM events WHERE run_id = '" + id_ +
                                 "' AND type = 'plan' AND json_extract(payload, '$.at') = '" +
                                 node + "'");
  }
};

TEST_F(TamperedConditions, ARunWithConditionsVerifiesAndJournalsEachConditionsValue) {
  const VerifyReport r = verify(path_, id_);
  EXPECT_TRUE(r.ok()) << r.decisions.message();
  const std::string seq = plan_at("FraudCheck");
  ASSERT_FALSE(seq.empty());
  EXPECT_EQ(query_text(path_,
                       "SELECT json_extract(payload, '$.conditions') FROM events WHERE "
                       "run_id = '" +
                           id_ + "' AND seq = " + seq),
            R"([{"from":"FraudCheck","to":"HumanReview","value":true},)"
            R"({"from":"FraudCheck","to":"SeniorReview","value":true},)"
            R"({"from":"FraudCheck","to":"AutoApprove","value":false}])");
}

TEST_F(TamperedConditions, ATamperedConditionValueWithAResealedChainFailsVerification) {
  const std::string seq = plan_at("FraudCheck");
  ASSERT_FALSE(seq.empty());
  // Claim auto-approval was open too (a forger covering a payment that skipped review).
  ASSERT_EQ(sql("UPDATE events SET payload = json_set(payload, '$.conditions[2].value', "
                "json('true')) WHERE run_id = '" +
                id_ + "' AND seq = " + seq),
            "");
  reseal();
  const VerifyReport r = verify(path_, id_);
  EXPECT_TRUE(r.chain.ok()) << r.chain.message();
  EXPECT_FALSE(r.decisions.ok());
  EXPECT_NE(r.decisions.message().find("event #" + seq + " (plan)"), std::string::npos)
      << r.decisions.message();
}

TEST_F(TamperedConditions, ATamperedStepOutputChangesTheConditionsAndFailsVerification) {
  // The score the fraud check returned, lowered: re-driven, the router now decides auto-approval.
  const std::string seq = query_text(path_, "SELECT seq FROM events WHERE run_id = '" + id_ +
                                                "' AND type = 'step_succeeded' AND "
                                                "json_extract(payload, '$.tool') = 'FraudCheck'");
  ASSERT_EQ(sql("UPDATE events SET payload = json_set(payload, '$.output.score', 0.1) "
                "WHERE run_id = '" +
                id_ + "' AND seq = " + seq),
            "");
  reseal();
  const VerifyReport r = verify(path_, id_);
  EXPECT_TRUE(r.chain.ok());
  EXPECT_FALSE(r.decisions.ok());
  EXPECT_NE(r.decisions.message().find(" (plan)"), std::string::npos) << r.decisions.message();
  EXPECT_NE(r.decisions.message().find("AutoApprove"), std::string::npos) << r.decisions.message();
}

// CS-2's run, copied into run `id` of the journal at `to` as a run still `running` whose events
// stop after its second step_started, followed by run_interrupted when `interrupted` (what a
// `switchyard serve` shutdown leaves) or by nothing (what a crash leaves).
void copy_stopped_run(const std::string& from, const std::string& run_id, const std::string& to,
                      const std::string& id, bool interrupted) {
  auto source = open_sqlite_journal(from, {.create_if_missing = false});
  ASSERT_TRUE(source.ok());
  auto run = (*source)->get_run(run_id);
  auto events = (*source)->events(run_id);
  ASSERT_TRUE(run.ok() && events.ok());
  auto workflow = (*source)->workflow_source(run->workflow_hash);
  ASSERT_TRUE(workflow.ok());
  RunRecord record = *run;
  record.run_id = id;
  record.status = "running";
  record.finished_ms = 0;
  record.result = nullptr;
  record.workflow_source = std::make_shared<const std::string>(*workflow);
  std::vector<Event> kept;
  int started = 0;
  for (Event e : *events) {
    e.run_id = id;
    e.hash.clear();
    kept.push_back(e);
    if (e.type == "step_started" && ++started == 2) break;
  }
  ASSERT_EQ(started, 2);
  if (interrupted) {
    Event mark;
    mark.run_id = id;
    mark.seq = kept.back().seq + 1;
    mark.time_ms = kept.back().time_ms;
    mark.type = "run_interrupted";
    mark.payload = {
        {"reason", "shutdown"},
        {"message", "the service shut down before the run finished"},
        {"grace_ms", 10},
        {"in_flight", nlohmann::json::array({{{"tool", kept.back().payload["tool"]}}})}};
    kept.push_back(mark);
  }
  auto target = open_sqlite_journal(to);
  ASSERT_TRUE(target.ok());
  ASSERT_TRUE((*target)->begin_run(record).ok());
  ASSERT_TRUE((*target)->append(kept).ok());
}

TEST(ReplayVerify, ARunInterruptedByAShutdownReDrivesUpToRunInterrupted) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const std::string id = run_scenario(path, std::string(SWITCHYARD_PAPER_DIR) + "/CS-2.json");
  const std::string copy = dir.file("copy.db");
  copy_stopped_run(path, id, copy, "interrupted", /*interrupted=*/true);
  copy_stopped_run(path, id, copy, "crashed", /*interrupted=*/false);

  const VerifyReport interrupted = verify(copy, "interrupted");
  EXPECT_TRUE(interrupted.chain.ok()) << interrupted.chain.message();
  EXPECT_TRUE(interrupted.decisions.ok()) << interrupted.decisions.message();
  EXPECT_GT(interrupted.verified, 0);
  EXPECT_EQ(interrupted.interrupted_at, interrupted.events);
  EXPECT_EQ(interrupted.to_json()["interrupted_at"], interrupted.events);

  // Without run_interrupted the run just has not finished.
  const VerifyReport crashed = verify(copy, "crashed");
  EXPECT_TRUE(crashed.chain.ok());
  EXPECT_FALSE(crashed.decisions.ok());
  EXPECT_NE(crashed.decisions.message().find("has not finished"), std::string::npos);
  EXPECT_EQ(crashed.interrupted_at, 0);
  EXPECT_FALSE(crashed.to_json().contains("interrupted_at"));

  auto ok = testing::switchyard({"replay", "interrupted", "--journal", copy, "--verify"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("interrupted by a service shutdown at event #" +
                        std::to_string(interrupted.events)),
            std::string::npos)
      << ok.out;
  auto bad = testing::switchyard({"replay", "crashed", "--journal", copy, "--verify"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
}

TEST(ReplayVerifyCli, ExitsZeroWhenVerifiedAndOneNamingTheEventOtherwise) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const std::string id = run_scenario(path, std::string(SWITCHYARD_PAPER_DIR) + "/TB-3.json");
  auto ok = testing::switchyard({"replay", id, "--journal", path, "--verify", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto doc = nlohmann::json::parse(ok.out);
  EXPECT_EQ(doc["verify"]["ok"], true);
  EXPECT_EQ(doc["verify"]["chain"]["ok"], true);
  EXPECT_GT(doc["verify"]["decisions"]["verified"].get<int>(), 0);

  ASSERT_EQ(exec_sql(path, "UPDATE events SET time_ms = time_ms + 1 WHERE seq = 2"), "");
  auto bad = testing::switchyard({"replay", id, "--journal", path, "--verify"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("event #2"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("verification FAILED"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace switchyard::runtime
