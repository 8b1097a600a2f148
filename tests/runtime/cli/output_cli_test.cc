// What a run returns, as the `switchyard` program shows it: `run --json` and `run` carry the
// goal step's output and each step's last output; `switchyard output RUN` prints them from the
// journal (docs/cli.md#switchyard-output-run_id---journal-db---json).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard {
namespace {

using testing::parse_json;
using testing::TempDir;

constexpr const char* kTracking = "1Z999AA10123456784";

// Start -> Order -> Express | Ground -> Shipped (a junction goal). Express is down: the run
// reroutes through Ground, whose output holds the tracking number.
std::string shipping_workflow(const TempDir& dir) {
  const nlohmann::json w = {
      {"format", "switchyard.workflow/v1"},
      {"name", "shipping"},
      {"start", "Start"},
      {"goal", "Shipped"},
      {"tools",
       {{"Order", {{"kind", "mock"}, {"idempotent", true}, {"output", {{"order", "A-1001"}}}}},
        {"Express", {{"kind", "mock"}, {"fail", "always"}, {"output", {{"tracking", "never"}}}}},
        {"Ground", {{"kind", "mock"}, {"output", {{"tracking", kTracking}, {"days", 3}}}}}}},
      {"edges",
       {{"Start", "Order", 0.1},
        {"Order", "Express", 0.1},
        {"Order", "Ground", 0.5},
        {"Express", "Shipped", 0},
        {"Ground", "Shipped", 0}}}};
  return dir.write("shipping.json", w.dump(2));
}

// Runs the shipping workflow into `journal`; returns the `run --json` document.
nlohmann::json run_shipping(const TempDir& dir, const std::string& journal) {
  auto r = testing::switchyard({"run", shipping_workflow(dir), "--journal", journal, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return parse_json(r.out);
}

TEST(OutputCli, RunJsonCarriesTheShippingStepsTrackingNumberAndEveryStepsOutput) {
  TempDir dir;
  const nlohmann::json j = run_shipping(dir, dir.file("j.db"));
  ASSERT_EQ(j["status"], "completed");
  ASSERT_EQ(j["path"], (nlohmann::json{"Start", "Order", "Ground", "Shipped"}));
  // The goal is a junction: the run's output is its last step's.
  EXPECT_EQ(j["output"], (nlohmann::json{{"tracking", kTracking}, {"days", 3}}));
  // Every step that succeeded on the final path; Express failed and has none.
  EXPECT_EQ(j["outputs"], (nlohmann::json{{"Order", {{"order", "A-1001"}}},
                                          {"Ground", {{"tracking", kTracking}, {"days", 3}}}}));
  EXPECT_EQ(j["output_truncated"], false);
  EXPECT_EQ(j["outputs_truncated"], false);
  EXPECT_EQ(j["outputs_dropped"], nlohmann::json::array());
}

TEST(OutputCli, RunPrintsTheOutputOnOneLine) {
  TempDir dir;
  auto r = testing::switchyard({"run", shipping_workflow(dir), "--journal", dir.file("j.db")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("  output:   {\"days\":3,\"tracking\":\"" + std::string(kTracking) + "\"}\n"),
      std::string::npos)
      << r.out;
}

TEST(OutputCli, OutputPrintsAJournaledRunsOutputAndWithJsonEveryStepsOutput) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  const std::string id = run_shipping(dir, journal)["run_id"];

  auto text = testing::switchyard({"output", id, "--journal", journal});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(parse_json(text.out), (nlohmann::json{{"tracking", kTracking}, {"days", 3}}));
  EXPECT_EQ(text.err, "");

  auto json = testing::switchyard({"output", id, "--journal", journal, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json j = parse_json(json.out);
  EXPECT_EQ(j["run_id"], id);
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["output"]["tracking"], kTracking);
  EXPECT_EQ(j["outputs"]["Order"], (nlohmann::json{{"order", "A-1001"}}));
  EXPECT_EQ(j["outputs"]["Ground"]["tracking"], kTracking);
  EXPECT_FALSE(j["outputs"].contains("Express"));
  EXPECT_EQ(j["outputs_truncated"], false);
}

TEST(OutputCli, AStringOutputIsPrintedBareForAShell) {
  TempDir dir;
  const nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                            {"name", "label"},
                            {"start", "Start"},
                            {"goal", "Label"},
                            {"tools", {{"Label", {{"kind", "mock"}, {"output", kTracking}}}}},
                            {"edges", {{"Start", "Label", 1}}}};
  const std::string journal = dir.file("j.db");
  auto run = testing::switchyard(
      {"run", dir.write("label.json", w.dump()), "--journal", journal, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto r = testing::switchyard({"output", parse_json(run.out)["run_id"], "--journal", journal});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kTracking) + "\n");
}

TEST(OutputCli, AnUnknownRunIsExitTwoNamingIt) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  run_shipping(dir, journal);
  auto r = testing::switchyard({"output", "r-nope", "--journal", journal});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("r-nope"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  auto j = testing::switchyard({"output", "r-nope", "--journal", journal, "--json"});
  EXPECT_EQ(j.exit_code, 2);
  EXPECT_EQ(parse_json(j.out)["error"]["code"], "not_found") << j.out;
  // A journal that is not there is not created.
  auto none = testing::switchyard({"output", "r-nope", "--journal", dir.file("none.db")});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("journal not found"), std::string::npos) << none.err;
}

TEST(OutputCli, AnEscalatedRunHasNoOutputExitOneWhileJsonListsWhatItsStepsReturned) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  auto esc =
      testing::switchyard({"run", testing::paper_scenario("CS-5"), "--journal", journal, "--json"});
  ASSERT_EQ(esc.exit_code, 1) << esc.err;
  const nlohmann::json run = parse_json(esc.out);
  EXPECT_TRUE(run["output"].is_null());
  const std::string id = run["run_id"];

  auto text = testing::switchyard({"output", id, "--journal", journal});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.out, "");
  EXPECT_NE(text.err.find("run " + id + " escalated: it has no output"), std::string::npos)
      << text.err;
  auto json = testing::switchyard({"output", id, "--journal", journal, "--json"});
  EXPECT_EQ(json.exit_code, 1);
  const nlohmann::json j = parse_json(json.out);
  EXPECT_EQ(j["status"], "escalated");
  EXPECT_TRUE(j["output"].is_null());
  EXPECT_EQ(j["outputs"], run["outputs"]);
}

TEST(OutputCli, ARunJournaledBeforeResultsCarriedOutputsIsExitTwoPointingAtReplay) {
  TempDir dir;
  const std::string journal = dir.file("j.db");
  const std::string id = run_shipping(dir, journal)["run_id"];
  // What an older switchyard journaled: run_finished without the output fields.
  ASSERT_EQ(testing::exec_sql(journal,
                              "UPDATE events SET payload = json_remove(payload, '$.output', "
                              "'$.output_truncated', '$.outputs', '$.outputs_dropped', "
                              "'$.outputs_truncated') WHERE run_id = '" +
                                  id + "' AND type = 'run_finished'"),
            "");
  auto r = testing::switchyard({"output", id, "--journal", journal});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("before results carried them"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("switchyard replay " + id + " --json"), std::string::npos) << r.err;
  // The other readers still read the run.
  auto runs = testing::switchyard({"runs", "--journal", journal, "--json"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  const nlohmann::json listed = parse_json(runs.out)["runs"][0];
  EXPECT_EQ(listed["status"], "completed");
  EXPECT_FALSE(listed["result"].contains("outputs"));
  EXPECT_EQ(testing::switchyard({"replay", id, "--journal", journal}).exit_code, 0);
}

}  // namespace
}  // namespace switchyard
