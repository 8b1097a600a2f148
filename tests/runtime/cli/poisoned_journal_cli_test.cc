// A poisoned journal as users meet it (real subprocesses, a real SQLite file poisoned with SQL):
// `run`, `health` and `runs` start and say once what they skipped, `replay --verify` of the
// poisoned run fails naming run and seq while the other run verifies, `replay` of it is an error
// and not a crash, `resume` continues another run, and `journal check` lists the row (exit 1) or
// passes a clean journal (exit 0).

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "tests/support/poisoned_journal.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard {
namespace {

using testing::exec_sql;
using testing::query_text;
using testing::switchyard;
using testing::TempDir;

using testing::count_of;

// What a command said: its output as printed, and, when it is a JSON document, every string in
// it unescaped (the messages name rows with quotes: `got string "x"`).
std::string said(const testing::CommandResult& r) {
  std::string text = r.err + "\n" + r.out;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (doc.is_discarded()) return text;
  std::vector<const nlohmann::json*> todo = {&doc};
  while (!todo.empty()) {
    const nlohmann::json* v = todo.back();
    todo.pop_back();
    if (v->is_string()) text += "\n" + v->get<std::string>();
    if (v->is_structured()) {
      for (const auto& child : *v) todo.push_back(&child);
    }
  }
  return text;
}

class PoisonedJournalCli : public ::testing::Test {
 protected:
  // A new journal (in a folder of its own) whose run `poisoned` is poisoned with `name`.
  void poison(const std::string& name) {
    folders_.push_back(std::make_unique<TempDir>());
    path_ = folders_.back()->file("j.db");
    auto made = testing::write_poisoned_journal(path_, name);
    runs_ = made.runs;
    poison_ = made.poison;
  }
  // The message names the poisoned item once, and the skip is said once.
  void expect_said_once(const testing::CommandResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_EQ(count_of(r.err, "skipped"), 1) << what << ": " << r.err;
    EXPECT_EQ(count_of(r.err, poison_.named), 1) << what << ": " << r.err;
  }
  TempDir dir_;
  std::vector<std::unique_ptr<TempDir>> folders_;
  std::string path_ = dir_.file("j.db");
  testing::TwoRuns runs_;
  testing::Poison poison_;
};

// One test per poison (not one test looping over them): each is a dozen CLI processes, and
// separate tests spread over the sanitizer builds' shards instead of weighing on one.
class PoisonedJournalCliEach : public PoisonedJournalCli,
                               public ::testing::WithParamInterface<std::string> {};

TEST_P(PoisonedJournalCliEach, IsSurvivedByEveryCommand) {
  const std::string models = testing::source_path("examples/models/models.json");
  const std::string workflow = dir_.write("clean.json", testing::clean_workflow_json());
  poison(GetParam());

  // run (with two model tiers: learned escalation's history is rebuilt too) and health.
  expect_said_once(switchyard({"run", workflow, "--journal", path_, "--models", models}), "run");
  auto health = switchyard({"health", "--journal", path_, "--json"});
  expect_said_once(health, "health");
  auto doc = nlohmann::json::parse(health.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << health.out;
  EXPECT_EQ(doc["skipped"]["count"], 1);

  // runs lists every run; a runs row that cannot be decoded is said.
  auto runs = switchyard({"runs", "--journal", path_});
  EXPECT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find(runs_.poisoned), std::string::npos) << runs.out;
  EXPECT_NE(runs.out.find(runs_.clean), std::string::npos) << runs.out;
  EXPECT_EQ(count_of(runs.err, "skipped"), poison_.row_defect ? 1 : 0) << runs.err;
  EXPECT_EQ(switchyard({"runs", "--journal", path_, "--json"}).exit_code, 0);

  // replay --verify: the poisoned run fails naming the row; the other verifies.
  auto bad = switchyard({"replay", runs_.poisoned, "--journal", path_, "--verify"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  const std::string& verify_named =
      poison_.verify_named.empty() ? poison_.named : poison_.verify_named;
  EXPECT_NE(bad.out.find(verify_named), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("verification FAILED"), std::string::npos) << bad.out;
  auto bad_json = switchyard({"replay", runs_.poisoned, "--journal", path_, "--verify", "--json"});
  EXPECT_EQ(bad_json.exit_code, 1) << bad_json.out;
  EXPECT_NE(said(bad_json).find(verify_named), std::string::npos) << bad_json.out;
  auto good = switchyard({"replay", runs_.clean, "--journal", path_, "--verify"});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;

  // replay of the poisoned run: an error naming the row (or, when only its workflow copy is
  // bad, the timeline, and an error for its graph), never a crash.
  for (const char* format : {"text", "json", "dot", "html"}) {
    auto shown = switchyard({"replay", runs_.poisoned, "--journal", path_, "--format", format});
    if (poison_.rows) {
      EXPECT_EQ(shown.exit_code, 3) << format << ": " << shown.out << shown.err;
      EXPECT_NE(said(shown).find(poison_.named), std::string::npos)
          << format << ": " << shown.err << shown.out;
    } else {
      const bool picture = std::string(format) == "dot" || std::string(format) == "html";
      EXPECT_EQ(shown.exit_code, picture ? 3 : 0) << format << ": " << shown.err;
    }
    EXPECT_EQ(switchyard({"replay", runs_.clean, "--journal", path_, "--format", format}).exit_code,
              0)
        << format;
  }

  // journal check lists it and fails.
  auto check = switchyard({"journal", "check", "--journal", path_});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find(poison_.named), std::string::npos) << check.out;
  auto check_json = switchyard({"journal", "check", "--journal", path_, "--json"});
  EXPECT_EQ(check_json.exit_code, 1);
  auto checked = nlohmann::json::parse(check_json.out, nullptr, false);
  ASSERT_TRUE(checked.is_object()) << check_json.out;
  EXPECT_EQ(checked["ok"], false);
  EXPECT_GE(checked["problems"].size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Poisons, PoisonedJournalCliEach,
                         ::testing::ValuesIn(testing::poison_names()),
                         [](const auto& info) { return info.param; });

TEST_F(PoisonedJournalCli, ACleanJournalChecksOkCountingItsRunsAndEvents) {
  runs_ = testing::write_two_runs(path_);
  auto check = switchyard({"journal", "check", "--journal", path_});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  const std::string events = query_text(path_, "SELECT count(*) FROM events");
  EXPECT_EQ(check.out, "ok: 2 runs, " + events + " events checked\n");
  auto json = switchyard({"journal", "check", "--journal", path_, "--json"});
  EXPECT_EQ(json.exit_code, 0);
  auto doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << json.out;
  EXPECT_EQ(doc["ok"], true);
  EXPECT_EQ(doc["runs"], 2);
  EXPECT_EQ(doc["problems"], nlohmann::json::array());
  EXPECT_EQ(switchyard({"journal", "check", "--journal", dir_.file("missing.db")}).exit_code, 2);
  EXPECT_EQ(switchyard({"journal"}).exit_code, 2) << "a subcommand is required";
}

TEST_F(PoisonedJournalCli, AnotherRunIsResumedWhileThePoisonedOneIsRefused) {
  poison("PayloadIsAnArray");
  // Both runs stopped after their first step (what a crash leaves): running, owner gone.
  for (const std::string& id : {runs_.poisoned, runs_.clean}) {
    const std::string run = "'" + id + "'";
    ASSERT_EQ(exec_sql(path_, "DELETE FROM events WHERE run_id = " + run +
                                  " AND seq > 4;"
                                  "UPDATE runs SET status = 'running', result = NULL, "
                                  "finished_ms = NULL, owner_pid = 0, head_seq = 4, head_hash = "
                                  "(SELECT hash FROM events WHERE run_id = " +
                                  run + " AND seq = 4) WHERE run_id = " + run),
              "");
  }
  auto resumed = switchyard({"resume", "--all", "--journal", path_, "--json"});
  EXPECT_EQ(resumed.exit_code, 3) << resumed.out << resumed.err;  // the poisoned one's error
  EXPECT_EQ(count_of(resumed.err, "skipped"), 1) << resumed.err;  // said once for both
  EXPECT_NE(said(resumed).find(poison_.named), std::string::npos) << resumed.out;
  EXPECT_EQ(query_text(path_, "SELECT status FROM runs WHERE run_id = '" + runs_.clean + "'"),
            "completed");
  EXPECT_EQ(switchyard({"replay", runs_.clean, "--journal", path_, "--verify"}).exit_code, 0);
}

}  // namespace
}  // namespace switchyard
