// `switchyard validate` on workflows that are valid but probably wrong (graph/lint.h), and on bad
// bytes: a real subprocess on real files.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::source_path;
using testing::TempDir;

// `Paypal` was meant to be the tool `Pay`: it loads as a junction that leads nowhere.
constexpr const char* kTypo = R"({"format": "switchyard.workflow/v1", "name": "typo",
  "start": "Start", "goal": "Done",
  "tools": {"CRM": {"kind": "mock"}, "Pay": {"kind": "mock"}, "Email": {"kind": "mock"},
            "Done": {"kind": "mock"}},
  "edges": [["Start", "CRM", 0.1], ["CRM", "Paypal", 0.3], ["CRM", "Email", 0.9],
            ["Pay", "Email", 0.3], ["Email", "Done", 0.1]]})";

TEST(ValidateWarnings, TypoIsWarnedOnStderrWithDidYouMeanAndValidationStillPasses) {
  TempDir dir;
  const auto file = dir.write("typo.json", kTypo);
  auto r = testing::switchyard({"validate", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(file + ": valid workflow 'typo'"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: " + file +
                       ": /edges/1/1: junction 'Paypal' has no way to the goal 'Done': it names "
                       "no tool or fan-out, so a route that enters it cannot finish; did you "
                       "mean 'Pay'?\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("warning: " + file +
                       ": /tools/Pay: tool 'Pay' is not reachable from "
                       "start 'Start'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << "warnings go to stderr only";
}

TEST(ValidateWarnings, JsonListsEachWarningWithItsPointerAndMessage) {
  TempDir dir;
  // An unknown field too: the loader's warnings come first, then lint's.
  std::string text = kTypo;
  text.insert(1, R"("owner": "team-a", )");
  const auto file = dir.write("typo.json", text);
  auto r = testing::switchyard({"validate", file, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto j = testing::parse_json(r.out);
  EXPECT_EQ(j["valid"], true);
  ASSERT_TRUE(j["warnings"].is_array()) << r.out;
  ASSERT_EQ(j["warnings"].size(), 3u) << r.out;
  EXPECT_EQ(j["warnings"][0]["pointer"], "/owner");
  EXPECT_EQ(j["warnings"][1]["pointer"], "/edges/1/1");
  EXPECT_EQ(j["warnings"][1]["file"], file);
  EXPECT_NE(j["warnings"][1]["message"].get<std::string>().find("did you mean 'Pay'?"),
            std::string::npos);
  EXPECT_EQ(j["warnings"][2]["pointer"], "/tools/Pay");
  EXPECT_NE(j["warnings"][2]["message"].get<std::string>().find("where an edge names 'Paypal'"),
            std::string::npos);
}

TEST(ValidateWarnings, ShippedWorkflowsGiveNoWarnings) {
  for (const char* path :
       {"examples/customer-support.json", "examples/workflows/moderation-fanout.json"}) {
    auto r = testing::switchyard({"validate", source_path(path), "--json"});
    EXPECT_EQ(r.exit_code, 0) << path << r.err;
    auto j = testing::parse_json(r.out);
    EXPECT_EQ(j["warnings"], nlohmann::json::array()) << path << "\n" << r.out;
  }
}

TEST(ValidateWarnings, RunPrintsTheSameWarningsAndRuns) {
  TempDir dir;
  const auto file = dir.write("typo.json", kTypo);
  auto r = testing::switchyard({"run", file, "--journal", dir.file("j.db")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: " + file + ": /edges/1/1: junction 'Paypal'"), std::string::npos)
      << r.err;
}

TEST(ValidateWarnings, InvalidUtf8InTheFileIsAnErrorPrintableAsJson) {
  TempDir dir;
  const auto file =
      dir.write("latin1.json", "{\"format\": \"switchyard.workflow/v1\", \"name\": \"caf\xE9\"}");
  auto r = testing::switchyard({"validate", file, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto j = testing::parse_json(r.out);
  ASSERT_EQ(j["errors"].size(), 1u) << r.out;
  EXPECT_EQ(j["errors"][0]["line"], 1);
  EXPECT_NE(j["errors"][0]["message"].get<std::string>().find("ill-formed UTF-8"),
            std::string::npos)
      << r.out;
}

TEST(ValidateWarnings, HundredThousandDeepFileIsOneErrorNamingTheDepthLimit) {
  TempDir dir;
  const auto file =
      dir.write("deep.json", R"({"format": "switchyard.workflow/v1", "notes": )" +
                                 std::string(100000, '[') + std::string(100000, ']') + "}");
  auto r = testing::switchyard({"validate", file});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: " + file +
                       ": (document): workflow: nested deeper than 128 arrays/objects (max_depth)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace switchyard
