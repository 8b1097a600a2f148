// `switchyard run` says why where the user looks: the tools it avoided because earlier runs left
// them down, why it demoted or escalated; `health --reset` forgets a fixed tool's health (and a
// restart honours it); error bodies are one line in every human view, whole in --json. Real
// subprocesses, real command tools, real SQLite journals.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::TempDir;

// Start -> PayA (fails: exit 7, cheap) -> Done, or Start -> PayB (works, dearer) -> Done. The
// breaker opens on PayA's first failure and stays open an hour.
std::string write_breaker_workflow(const TempDir& dir) {
  const std::string fake = SWITCHYARD_FAKE_COMMAND;
  const nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                            {"name", "breaker-demo"},
                            {"start", "Start"},
                            {"goal", "Done"},
                            {"tools",
                             {{"PayA", {{"kind", "command"}, {"argv", {fake, "exit", "7"}}}},
                              {"PayB", {{"kind", "command"}, {"argv", {fake, "echo"}}}},
                              {"Done", {{"kind", "mock"}}}}},
                            {"edges",
                             {{"Start", "PayA", 0.1},
                              {"Start", "PayB", 0.5},
                              {"PayA", "Done", 0.1},
                              {"PayB", "Done", 0.1}}},
                            {"policy", {{"breaker", {{"failures", 1}, {"cooldown_ms", 3600000}}}}}};
  return dir.write("breaker.json", w.dump(2));
}

TEST(ExplainCli, RunSaysWhichToolsItAvoidedBecauseEarlierRunsOpenedTheirBreakers) {
  TempDir dir;
  const std::string wf = write_breaker_workflow(dir);
  const std::string journal = dir.file("j.db");
  auto first = testing::switchyard({"run", wf, "--journal", journal});
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_NE(first.out.find("1 reroute(s)"), std::string::npos) << first.out;
  EXPECT_EQ(first.out.find("avoided:"), std::string::npos) << first.out;

  auto second = testing::switchyard({"run", wf, "--journal", journal});
  ASSERT_EQ(second.exit_code, 0) << second.err << second.out;
  EXPECT_NE(second.out.find("0 reroute(s)"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("avoided:  PayA (breaker opened 20"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("down from earlier runs"), std::string::npos) << second.out;
}

TEST(ExplainCli, HealthResetIsJournaledAndTheNextRunTriesTheToolAgain) {
  TempDir dir;
  const std::string wf = write_breaker_workflow(dir);
  const std::string journal = dir.file("j.db");
  ASSERT_EQ(testing::switchyard({"run", wf, "--journal", journal}).exit_code, 0);

  auto reset = testing::switchyard({"health", "--reset", "PayA", "--journal", journal});
  ASSERT_EQ(reset.exit_code, 0) << reset.err << reset.out;
  EXPECT_NE(reset.out.find("reset PayA: breaker open -> closed"), std::string::npos) << reset.out;

  // A new process rebuilds the health from the journal: the reset stands.
  auto health = testing::switchyard({"health", "--journal", journal, "--json"});
  ASSERT_EQ(health.exit_code, 0) << health.err;
  bool seen = false;
  const nlohmann::json doc = testing::parse_json(health.out);
  for (const auto& t : doc["tools"]) {
    if (t["tool"] != "PayA") continue;
    seen = true;
    EXPECT_EQ(t["breaker"], "closed") << t.dump();
    EXPECT_EQ(t["samples"], 0) << t.dump();
  }
  EXPECT_TRUE(seen) << health.out;

  // The next run avoids nothing: it calls PayA again (which still fails: one reroute).
  auto run = testing::switchyard({"run", wf, "--journal", journal});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(run.out.find("avoided:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("1 reroute(s)"), std::string::npos) << run.out;

  // The reset is a run of the monitor's own workflow, with its event in the timeline.
  auto resets =
      testing::switchyard({"runs", "--name", "switchyard.monitor", "--journal", journal, "--json"});
  ASSERT_EQ(resets.exit_code, 0) << resets.err;
  const auto listed = testing::parse_json(resets.out)["runs"];
  ASSERT_EQ(listed.size(), 1u) << resets.out;
  auto replay =
      testing::switchyard({"replay", listed[0]["run_id"].get<std::string>(), "--journal", journal});
  EXPECT_NE(replay.out.find("health_reset"), std::string::npos) << replay.out;
}

TEST(ExplainCli, HealthResetOfAToolWithNoHealthIsAnErrorSuggestingTheNearestTool) {
  TempDir dir;
  const std::string wf = write_breaker_workflow(dir);
  const std::string journal = dir.file("j.db");
  ASSERT_EQ(testing::switchyard({"run", wf, "--journal", journal}).exit_code, 0);
  auto reset = testing::switchyard({"health", "--reset", "PayAA", "--journal", journal});
  EXPECT_EQ(reset.exit_code, 2);
  EXPECT_NE(reset.err.find("did you mean PayA"), std::string::npos) << reset.err;
}

TEST(ExplainCli, DemotedRunSaysTheBudgetFailureThatLedThere) {
  TempDir dir;
  const nlohmann::json w = {
      {"format", "switchyard.workflow/v1"},
      {"name", "demote-demo"},
      {"start", "Start"},
      {"goal", "Complete"},
      {"demote_to", {"Queued"}},
      {"tools",
       {{"Pay", {{"kind", "mock"}, {"price_usd", 1.0}}},
        {"Complete", {{"kind", "mock"}}},
        {"Queued", {{"kind", "mock"}}}}},
      {"edges", {{"Start", "Pay", 0.1}, {"Pay", "Complete", 0.1}, {"Start", "Queued", 2.0}}},
      {"budget", {{"usd", 0.5}}}};
  const std::string wf = dir.write("demote.json", w.dump(2));
  auto r = testing::switchyard({"run", wf, "--journal", dir.file("j.db")});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find(": demoted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("demoted:  Complete -> Queued (decided by rule), after Pay: "
                       "budget_exhausted: "),
            std::string::npos)
      << r.out;
}

// A command tool whose error output is an HTML page on several lines (what an upstream's
// error page looks like in a reason).
std::string write_error_page_workflow(const TempDir& dir) {
  const nlohmann::json w = {
      {"format", "switchyard.workflow/v1"},
      {"name", "error-page"},
      {"start", "Start"},
      {"goal", "Done"},
      {"tools",
       {{"Gateway",
         {{"kind", "command"},
          {"argv",
           {"/bin/sh", "-c",
            "printf '<html>\\n<body>\\n<h1>502 Bad Gateway</h1>\\n</body>\\n</html>\\n' >&2; "
            "exit 3"}}}},
        {"Done", {{"kind", "mock"}}}}},
      {"edges", {{"Start", "Gateway", 0.1}, {"Gateway", "Done", 0.1}}}};
  return dir.write("error-page.json", w.dump(2));
}

TEST(ExplainCli, ErrorPagesAreOneLineInSummaryTimelineAndHealthButWholeInJson) {
  TempDir dir;
  const std::string wf = write_error_page_workflow(dir);
  const std::string journal = dir.file("j.db");
  auto run = testing::switchyard({"run", wf, "--journal", journal});
  ASSERT_EQ(run.exit_code, 1) << run.err << run.out;  // escalated: no other route
  EXPECT_NE(run.out.find("reason:   no_route, after Gateway: exit_code: Gateway: exit code 3; "
                         "stderr: <html> <body> <h1>502 Bad Gateway</h1>"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("<html>\n"), std::string::npos) << run.out;

  auto replay = testing::switchyard({"replay", "last", "--journal", journal});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(replay.out.find("<html>\n"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("stderr: <html> <body> <h1>502 Bad Gateway</h1>"), std::string::npos)
      << replay.out;

  auto health = testing::switchyard({"health", "--journal", journal});
  ASSERT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out.find("<html>\n"), std::string::npos) << health.out;
  EXPECT_NE(health.out.find("last failure: exit_code: Gateway: exit code 3; stderr: <html> <body>"),
            std::string::npos)
      << health.out;

  auto json = testing::switchyard({"replay", "last", "--journal", journal, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("<html>\\n<body>\\n"), std::string::npos) << json.out;
}

}  // namespace
}  // namespace switchyard
