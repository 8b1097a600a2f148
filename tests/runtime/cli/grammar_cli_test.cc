// One grammar for every command (docs/cli.md#arguments): global options anywhere, "did you
// mean" for mistyped commands and options, one duration syntax, run ids by prefix or `last`,
// exit codes in every --help, gc --dry-run, --name for the workflow-name filters, and price_usd
// spend per step in `budget`. Real subprocesses and real SQLite journals.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::TempDir;

// A workflow that completes: Start -> Pay (a mock that costs $0.02 a call) -> Done.
std::string write_priced_workflow(const TempDir& dir) {
  const nlohmann::json w = {
      {"format", "switchyard.workflow/v1"},
      {"name", "priced"},
      {"start", "Start"},
      {"goal", "Done"},
      {"tools", {{"Pay", {{"kind", "mock"}, {"price_usd", 0.02}}}, {"Done", {{"kind", "mock"}}}}},
      {"edges", {{"Start", "Pay", 0.1}, {"Pay", "Done", 0.1}}}};
  return dir.write("priced.json", w.dump(2));
}

// Runs the priced workflow `n` times into `journal`; returns the run ids, oldest first.
std::vector<std::string> run_times(const TempDir& dir, const std::string& journal, int n) {
  const std::string wf = write_priced_workflow(dir);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto r = testing::switchyard({"run", wf, "--journal", journal, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    ids.push_back(testing::parse_json(r.out)["run_id"].get<std::string>());
  }
  return ids;
}

TEST(GrammarCli, VerboseAndJournalAreAcceptedAnywhereOnTheLine) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  run_times(dir, journal, 1);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-v", "--journal", journal, "runs"},
        std::vector<std::string>{"runs", "-v", "--journal", journal},
        std::vector<std::string>{"--journal", journal, "runs", "-v"}}) {
    auto r = testing::switchyard(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << r.err;
    EXPECT_NE(r.out.find("1 run(s) in " + journal), std::string::npos) << r.out;
  }
}

TEST(GrammarCli, MistypedCommandSaysDidYouMean) {
  auto r = testing::switchyard({"valdiate", "x.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command valdiate (did you mean validate?)"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
}

TEST(GrammarCli, UnknownOptionSaysDidYouMean) {
  TempDir dir;
  auto r = testing::switchyard({"runs", "--jsno", "--journal", dir.file("none.db")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option --jsno of runs (did you mean --json?)"), std::string::npos)
      << r.err;
}

TEST(GrammarCli, EveryHelpEndsWithTheExitCodes) {
  for (const char* cmd :
       {"validate", "run", "eval", "runs", "replay", "output", "chaos", "health", "budget",
        "resume", "gc", "serve", "journal", "waits", "approve", "reject", "signal"}) {
    auto help = testing::switchyard({cmd, "--help"});
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_NE(help.out.find("Exit codes:"), std::string::npos) << cmd << help.out;
    EXPECT_NE(help.out.find("3  internal or I/O error"), std::string::npos) << cmd;
  }
}

// --throttle-lease of worker and serve: a duration above 0, refused otherwise (exit 2, the flag and
// the value named) before any journal is opened or connected to.
TEST(GrammarCli, ThrottleLeaseIsADurationAboveZero) {
  TempDir dir;
  for (const std::string bad : {"0ms", "ten"}) {
    auto worker =
        testing::switchyard({"worker", "--journal", "postgresql://nobody@127.0.0.1:1/none",
                             "--workflow", dir.file("wf.json"), "--throttle-lease", bad});
    EXPECT_EQ(worker.exit_code, 2) << worker.err;
    EXPECT_NE(worker.err.find("error: --throttle-lease " + bad + ": expected "), std::string::npos)
        << worker.err;
    auto serve = testing::switchyard({"serve", "--journal", dir.file("s.db"), "--no-auth", "--port",
                                      "0", "--throttle-lease", bad});
    EXPECT_EQ(serve.exit_code, 2) << serve.err;
    EXPECT_NE(serve.err.find("error: --throttle-lease " + bad + ": expected "), std::string::npos)
        << serve.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("s.db")));
}

TEST(GrammarCli, RunIdsAreTakenByUniquePrefixAndLast) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  const auto ids = run_times(dir, journal, 2);

  auto last = testing::switchyard({"replay", "last", "--journal", journal});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(last.out.rfind("run " + ids[1], 0), 0u) << last.out;

  // The shortest prefix of the older id that the newer does not share.
  std::size_t n = 0;
  while (ids[0][n] == ids[1][n]) ++n;
  auto prefix =
      testing::switchyard({"output", ids[0].substr(0, n + 1), "--journal", journal, "--json"});
  ASSERT_EQ(prefix.exit_code, 0) << prefix.err;
  EXPECT_EQ(testing::parse_json(prefix.out)["run_id"], ids[0]);

  auto ambiguous = testing::switchyard({"replay", ids[0].substr(0, n), "--journal", journal});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_NE(ambiguous.err.find("is ambiguous: 2 runs match:"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find(ids[0]), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find(ids[1]), std::string::npos) << ambiguous.err;

  auto none = testing::switchyard({"replay", "r-zzz", "--journal", journal});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("run r-zzz not found"), std::string::npos) << none.err;
}

TEST(GrammarCli, SinceTakesADurationAgoOrATimestamp) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  run_times(dir, journal, 1);
  auto recent = testing::switchyard({"runs", "--since", "10m", "--journal", journal, "--json"});
  ASSERT_EQ(recent.exit_code, 0) << recent.err;
  EXPECT_EQ(testing::parse_json(recent.out)["runs"].size(), 1u);
  auto future =
      testing::switchyard({"runs", "--since", "2999-01-01", "--journal", journal, "--json"});
  ASSERT_EQ(future.exit_code, 0) << future.err;
  EXPECT_EQ(testing::parse_json(future.out)["runs"].size(), 0u);
  auto bad = testing::switchyard({"runs", "--since", "ten", "--journal", journal});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("or a duration before now like 10m"), std::string::npos) << bad.err;
}

TEST(GrammarCli, HealthWindowIsADurationAndTheOldSpellingWarns) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  run_times(dir, journal, 1);
  auto r = testing::switchyard({"health", "--window", "2h", "--journal", journal, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["window_ms"], 2 * 3600 * 1000);
  EXPECT_EQ(j["window_minutes"], 120);
  auto old = testing::switchyard({"health", "--window-minutes", "15", "--journal", journal});
  EXPECT_EQ(old.exit_code, 0) << old.err;
  EXPECT_NE(old.err.find("--window-minutes is deprecated: use --window 15m"), std::string::npos)
      << old.err;
}

TEST(GrammarCli, WorkflowNameFilterIsNameAndTheOldSpellingWarns) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  run_times(dir, journal, 1);
  auto name = testing::switchyard({"runs", "--name", "priced", "--journal", journal, "--json"});
  ASSERT_EQ(name.exit_code, 0) << name.err;
  EXPECT_EQ(testing::parse_json(name.out)["runs"].size(), 1u);
  EXPECT_EQ(name.err, "");
  auto old = testing::switchyard({"budget", "--workflow", "priced", "--journal", journal});
  EXPECT_EQ(old.exit_code, 0) << old.err;
  EXPECT_NE(old.err.find("warning: budget --workflow NAME is deprecated"), std::string::npos)
      << old.err;
}

TEST(GrammarCli, GcDryRunListsWhatItWouldRemoveAndRemovesNothing) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  const auto ids = run_times(dir, journal, 1);
  auto dry = testing::switchyard({"gc", "--older-than", "0ms", "--dry-run", "--journal", journal});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find(ids[0]), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("would remove 1 run(s)"), std::string::npos) << dry.out;
  auto runs = testing::switchyard({"runs", "--journal", journal, "--json"});
  EXPECT_EQ(testing::parse_json(runs.out)["runs"].size(), 1u) << runs.out;
  auto bad = testing::switchyard({"gc", "--older-than", "30 days", "--journal", journal});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("500ms, 45s, 10m, 2h or 7d"), std::string::npos) << bad.err;
}

TEST(GrammarCli, BudgetBreaksDownPriceUsdSpendPerStep) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  run_times(dir, journal, 2);
  auto r = testing::switchyard({"budget", "--journal", journal, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = testing::parse_json(r.out);
  ASSERT_EQ(j["steps"].size(), 1u) << r.out;
  EXPECT_EQ(j["steps"][0]["step"], "Pay");
  EXPECT_EQ(j["steps"][0]["tier"], "-");
  EXPECT_EQ(j["steps"][0]["calls"], 2);
  EXPECT_NEAR(j["steps"][0]["cost_usd"].get<double>(), 0.04, 1e-12);
  auto human = testing::switchyard({"budget", "--journal", journal});
  EXPECT_NE(human.out.find("priced / Pay"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("$0.04"), std::string::npos) << human.out;
}

}  // namespace
}  // namespace switchyard
