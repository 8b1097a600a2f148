// The `switchyard` program as users meet it: a real subprocess, real files, real SQLite journal.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::paper_scenario;
using testing::source_path;
using testing::TempDir;

TEST(Cli, VersionAndHelpWork) {
  auto version = testing::switchyard({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("switchyard"), std::string::npos);
  for (const char* cmd : {"validate", "run", "eval", "runs", "replay"}) {
    auto help = testing::switchyard({cmd, "--help"});
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_NE(help.out.find("--json"), std::string::npos) << cmd;
  }
}

TEST(Cli, UnknownCommandIsUsageError) {
  EXPECT_EQ(testing::switchyard({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(testing::switchyard({}).exit_code, 2);
}

TEST(Cli, ValidatePrintsTheCheapestRouteOfEveryPaperScenario) {
  const std::map<std::string, std::string> expected = {
      {"CS-1", "Start -> CRM -> Stripe -> Email -> Complete"},
      {"TB-1", "Start -> FlightAPI -> HotelAPI -> CarAPI -> Payment -> Confirm"},
      {"CM-1", "Start -> TextMod -> ToxicityScorer -> AutoApprove -> Complete"}};
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SWITCHYARD_PAPER_DIR))) {
    if (entry.path().extension() != ".json") continue;
    auto r = testing::switchyard({"validate", entry.path().string()});
    EXPECT_EQ(r.exit_code, 0) << entry.path() << r.err;
    const std::string id = entry.path().stem().string();
    const std::string domain = id.substr(0, 2) + "-1";
    EXPECT_NE(r.out.find(expected.at(domain)), std::string::npos) << id << "\n" << r.out;
  }
}

TEST(Cli, ValidateJsonSummarizesTheGraph) {
  auto r = testing::switchyard({"validate", paper_scenario("TB-3"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["nodes"], 9);
  EXPECT_EQ(j["edges"], 13);
  EXPECT_EQ(j["tools"]["mock"], 8);
  EXPECT_EQ(j["tools"]["llm"], 1);
  EXPECT_NEAR(j["cost"].get<double>(), 1.2, 1e-9);  // 0.3 + 0.3 + 0.3 + 0.2 + 0.1
}

TEST(Cli, ValidateListsEdgeConditions) {
  const std::string file = testing::source_path("tests/scenarios/conditions/CD-1.json");
  auto r = testing::switchyard({"validate", file, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = testing::parse_json(r.out);
  ASSERT_EQ(j["conditions"].size(), 3u);
  EXPECT_EQ(j["conditions"][0]["from"], "FraudCheck");
  EXPECT_EQ(j["conditions"][0]["to"], "HumanReview");
  EXPECT_EQ(j["conditions"][0]["when"], "/steps/FraudCheck/output/score gt 0.8");
  auto human = testing::switchyard({"validate", file});
  ASSERT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("conditions: 3 guarded edge(s)"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("FraudCheck -> AutoApprove when /steps/FraudCheck/output/score le 0.8"),
            std::string::npos)
      << human.out;
}

TEST(Cli, ValidateRejectsAConditionOnAStepThatCannotHaveRunNamingItsPointer) {
  TempDir dir;
  const auto file = dir.write("when.json", R"({"format": "switchyard.workflow/v1", "name": "x",
    "start": "S", "goal": "G", "tools": {"A": {"kind": "mock"}, "G": {"kind": "mock"}},
    "edges": [["S", "A", 1, {"ptr": "/steps/G/output/ok", "eq": true}], ["A", "G", 1]]})");
  auto r = testing::switchyard({"validate", file, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  auto j = testing::parse_json(r.out);
  ASSERT_FALSE(j["errors"].empty()) << r.out;
  EXPECT_EQ(j["errors"][0]["pointer"], "/edges/0/3/ptr");
  EXPECT_NE(j["errors"][0]["message"].get<std::string>().find("reads step 'G'"), std::string::npos);
}

TEST(Cli, ValidateRejectsInvalidWorkflowWithPointer) {
  TempDir dir;
  const auto file = dir.write("bad.json", R"({"format": "switchyard.workflow/v1", "name": "x",
    "start": "S", "goal": "G", "tools": {"G": {"kind": "mock"}},
    "edges": [["S", "G", -1]]})");
  auto r = testing::switchyard({"validate", file, "--json"});
  EXPECT_EQ(r.exit_code, 2);
  auto j = testing::parse_json(r.out);
  ASSERT_FALSE(j["errors"].empty());
  EXPECT_EQ(j["errors"][0]["file"], file);
  EXPECT_EQ(j["errors"][0]["pointer"], "/edges/0/2");
  auto human = testing::switchyard({"validate", file});
  EXPECT_EQ(human.exit_code, 2);
  EXPECT_NE(human.err.find("/edges/0/2"), std::string::npos) << human.err;
}

// valijson cannot read this schema: a load error with its pointer, never a crash (it aborts the
// process unless asked to throw, and we catch what it throws).
constexpr const char* kUnusableSchemaWorkflow = R"({"format": "switchyard.workflow/v1",
    "name": "x", "start": "S", "goal": "Ask", "tools": {"Ask": {"kind": "llm", "prompt": "hi",
    "output_schema": {"type": "object", "properties": {"answer": {"type": 5}}}}},
    "edges": [["S", "Ask", 1]]})";

TEST(Cli, ValidateRejectsAnUnusableOutputSchemaWithItsPointer) {
  TempDir dir;
  const auto file = dir.write("schema.json", kUnusableSchemaWorkflow);
  auto r = testing::switchyard({"validate", file, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto j = testing::parse_json(r.out);
  ASSERT_FALSE(j["errors"].empty()) << r.out;
  EXPECT_EQ(j["errors"][0]["pointer"], "/tools/Ask/output_schema");
}

TEST(Cli, RunRejectsAnUnusableOutputSchemaWithItsPointer) {
  TempDir dir;
  const auto file = dir.write("schema.json", kUnusableSchemaWorkflow);
  auto r = testing::switchyard({"run", file, "--journal", dir.file("j.db")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/tools/Ask/output_schema"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

TEST(Cli, ValidateMissingFileIsInvalidInput) {
  auto r = testing::switchyard({"validate", "/nonexistent/wf.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/wf.json"), std::string::npos);
}

TEST(Cli, RunHealsTheExampleWorkflowAndJournalsIt) {
  TempDir dir;
  auto r = testing::switchyard({"run", source_path("examples/customer-support.json"), "--input",
                                R"({"customer": "ada"})", "--journal", dir.file("j.db"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["path"], (nlohmann::json{"Start", "CRM", "Razorpay", "Email", "Complete"}));
  EXPECT_EQ(j["reroutes"], 1);
  EXPECT_EQ(j["llm_calls"], 0);
  EXPECT_EQ(j["journal"], dir.file("j.db"));
  EXPECT_TRUE(j["escalation"].is_null());
  EXPECT_TRUE(std::filesystem::exists(dir.file("j.db")));
}

TEST(Cli, RunOfAnEscalatingScenarioExitsOne) {
  TempDir dir;
  auto r =
      testing::switchyard({"run", paper_scenario("CS-5"), "--journal", dir.file("j.db"), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["status"], "escalated");
  EXPECT_EQ(j["escalation"]["blocked"], (nlohmann::json{"Razorpay", "Stripe"}));
  EXPECT_EQ(j["path"], (nlohmann::json{"Start"}));
}

TEST(Cli, RunWithMissingWorkflowLeavesNoJournal) {
  TempDir dir;
  auto r = testing::switchyard({"run", dir.file("missing.json"), "--journal", dir.file("j.db")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

TEST(Cli, RunWithInvalidInputJsonLeavesNoJournal) {
  TempDir dir;
  auto r = testing::switchyard({"run", source_path("examples/customer-support.json"), "--input",
                                "{not json", "--journal", dir.file("j.db")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--input"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

TEST(Cli, RunWithTooDeepInputIsInvalidInputNamingMaxDepth) {
  TempDir dir;
  // 129 levels, one over the limit; inline and from a file.
  const std::string deep = "{\"a\": " + std::string(128, '[') + std::string(128, ']') + "}";
  for (const std::string& input : {deep, "@" + dir.write("deep.json", deep)}) {
    auto r = testing::switchyard({"run", source_path("examples/customer-support.json"), "--input",
                                  input, "--journal", dir.file("j.db")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--input"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("deeper than 128"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("max_depth"), std::string::npos) << r.err;
  }
  // A million levels: refused by the scan, never parsed.
  auto r = testing::switchyard({"run", source_path("examples/customer-support.json"), "--input",
                                "@" + dir.write("deeper.json", std::string(1000000, '[')),
                                "--journal", dir.file("j.db"), "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(testing::parse_json(r.out)["error"]["message"].get<std::string>().find("max_depth"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

TEST(Cli, RunWithInputThatIsNotAnObjectSaysWhatItIs) {
  TempDir dir;
  for (const auto& [input, says] :
       std::vector<std::pair<std::string, std::string>>{{"[1]", "expected an object, got an array"},
                                                        {"\"x\"", "expected an object, got string"},
                                                        {"{\"a\": 1,", "not JSON"}}) {
    auto r = testing::switchyard({"run", source_path("examples/customer-support.json"), "--input",
                                  input, "--journal", dir.file("j.db")});
    EXPECT_EQ(r.exit_code, 2) << input;
    EXPECT_NE(r.err.find("--input"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << input << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

// A JSON syntax error quotes the bytes it stopped at; --json must still print one JSON document
// (nlohmann's dump() throws on invalid UTF-8).
TEST(Cli, ValidateJsonOfAFileWithInvalidUtf8PrintsOneJsonDocument) {
  TempDir dir;
  const auto file = dir.write("bad.json", "{\"name\": \xff\xfe}");
  auto r = testing::switchyard({"validate", file, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["valid"], false);
  ASSERT_EQ(j["errors"].size(), 1u) << r.out;
  EXPECT_NE(j["errors"][0]["message"].get<std::string>().find("invalid JSON"), std::string::npos)
      << r.out;
}

TEST(Cli, RunWithInputFromMissingFileIsInvalidInput) {
  TempDir dir;
  auto r = testing::switchyard({"run", source_path("examples/customer-support.json"), "--input",
                                "@" + dir.file("nope.json"), "--journal", dir.file("j.db")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.json"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

TEST(Cli, RunWithUnwritableJournalIsAnIoError) {
  TempDir dir;
  const std::string journal = dir.file("no/such/folder/j.db");
  auto r = testing::switchyard(
      {"run", source_path("examples/customer-support.json"), "--journal", journal});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(journal), std::string::npos) << r.err;
}

TEST(Cli, EvalMeetsThePaperBar) {
  auto r =
      testing::switchyard({"eval", std::string(SWITCHYARD_PAPER_DIR), "--baselines", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["totals"]["scenarios"], 19);
  EXPECT_EQ(j["totals"]["correct"], 19);
  EXPECT_LE(j["totals"]["llm_calls"].get<int>(), 7);
  EXPECT_EQ(j["totals"]["silent_failures"], 0);
  EXPECT_EQ(j["totals"]["side_effects_abandoned"], 0);
  EXPECT_EQ(j["baselines"]["react"]["totals"]["correct"], 19);
  EXPECT_EQ(j["baselines"]["react"]["totals"]["llm_calls"], 123);
  EXPECT_EQ(j["baselines"]["static"]["totals"]["correct"], 16);
  EXPECT_EQ(j["baselines"]["static"]["totals"]["silent_failures"], 3);
  for (const auto& s : j["scenarios"]) {
    EXPECT_GT(s["route_ns"].get<std::int64_t>(), 0) << s["id"];
  }
}

TEST(Cli, EvalOfAFileWithoutScenarioIsInvalidInput) {
  auto r = testing::switchyard({"eval", source_path("examples/customer-support.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("scenario"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// Two runs in one journal: one completed (the example), one escalated (CS-5).
class CliWithJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ok = testing::switchyard({"run", testing::source_path("examples/customer-support.json"),
                                   "--journal", journal(), "--json"});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    completed_ = testing::parse_json(ok.out)["run_id"];
    auto esc = testing::switchyard(
        {"run", testing::paper_scenario("CS-5"), "--journal", journal(), "--json"});
    ASSERT_EQ(esc.exit_code, 1) << esc.err;
    escalated_ = testing::parse_json(esc.out)["run_id"];
  }
  std::string journal() const { return dir_.file("j.db"); }
  testing::TempDir dir_;
  std::string completed_, escalated_;
};

TEST_F(CliWithJournal, RunsListsEveryRunNewestFirst) {
  auto r = testing::switchyard({"runs", "--journal", journal(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = testing::parse_json(r.out);
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["run_id"], escalated_);
  EXPECT_EQ(j["runs"][1]["run_id"], completed_);
  EXPECT_EQ(j["runs"][1]["status"], "completed");
  auto human = testing::switchyard({"runs", "--journal", journal()});
  EXPECT_NE(human.out.find(completed_), std::string::npos);
  EXPECT_NE(human.out.find("2 run(s)"), std::string::npos);
}

TEST_F(CliWithJournal, RunsFiltersByStatusAndWorkflow) {
  auto r = testing::switchyard({"runs", "--journal", journal(), "--status", "escalated", "--json"});
  auto j = testing::parse_json(r.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["run_id"], escalated_);
  auto w =
      testing::switchyard({"runs", "--journal", journal(), "--name", "customer-support", "--json"});
  EXPECT_EQ(testing::parse_json(w.out)["runs"].size(), 1u);
  auto bad = testing::switchyard({"runs", "--journal", journal(), "--since", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(CliWithJournal, ReplayShowsTheTimelineOfEveryDecision) {
  auto r = testing::switchyard({"replay", completed_, "--journal", journal()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("reroute"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("at CRM after Stripe failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run_finished"), std::string::npos);
  auto j = testing::switchyard({"replay", escalated_, "--journal", journal(), "--format", "json"});
  auto doc = testing::parse_json(j.out);
  EXPECT_EQ(doc["run"]["status"], "escalated");
  EXPECT_EQ(doc["events"].back()["type"], "run_finished");
  std::vector<std::string> types;
  for (const auto& e : doc["events"]) types.push_back(e["type"]);
  EXPECT_EQ(std::count(types.begin(), types.end(), "step_started"), 0);  // nothing ran
}

TEST_F(CliWithJournal, ReplayOfAnUnknownRunIsInvalidInput) {
  auto r = testing::switchyard({"replay", "r-nope", "--journal", journal()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("r-nope"), std::string::npos);
}

TEST(Cli, ReadersNeverCreateAJournal) {
  testing::TempDir dir;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"runs"}, std::vector<std::string>{"replay", "r-1"}}) {
    args.push_back("--journal");
    args.push_back(dir.file("none.db"));
    auto r = testing::switchyard(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_NE(r.err.find("journal not found"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

TEST(Cli, RunsRealCommandsAndReroutesAroundOneThatFails) {
  testing::TempDir dir;
  const std::string fake = SWITCHYARD_FAKE_COMMAND;
  nlohmann::json w = {
      {"format", "switchyard.workflow/v1"},
      {"name", "commands"},
      {"start", "Start"},
      {"goal", "Notify"},
      {"tools",
       {{"Lookup", {{"kind", "command"}, {"argv", {fake, "echo", "{{input.customer}}"}}}},
        {"PayA", {{"kind", "command"}, {"argv", {fake, "exit", "7"}}}},
        {"PayB", {{"kind", "command"}, {"argv", {fake, "echo", "{{steps.Lookup.output.args.0}}"}}}},
        {"Notify", {{"kind", "command"}, {"argv", {fake, "echo"}}, {"timeout_ms", 5000}}}}},
      {"edges",
       {{"Start", "Lookup", 0.1},
        {"Lookup", "PayA", 0.1},
        {"Lookup", "PayB", 0.5},
        {"PayA", "Notify", 0.1},
        {"PayB", "Notify", 0.1}}}};
  const std::string file = dir.write("commands.json", w.dump(2));
  auto r = testing::switchyard(
      {"run", file, "--input", R"({"customer": "ada"})", "--journal", dir.file("j.db"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["path"], (nlohmann::json{"Start", "Lookup", "PayB", "Notify"}));
  EXPECT_EQ(j["reroutes"], 1);
  auto replay = testing::switchyard({"replay", j["run_id"], "--journal", dir.file("j.db")});
  EXPECT_NE(replay.out.find("PayA: exit_code: PayA: exit code 7; stderr: oops"), std::string::npos)
      << replay.out;
}

}  // namespace
}  // namespace switchyard
