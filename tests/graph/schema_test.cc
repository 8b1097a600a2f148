// docs/workflow.schema.json, checked with a real JSON Schema validator (valijson): every example
// and paper scenario passes both the schema and the loader; malformed files fail the schema too.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

// Every file that includes valijson says how it reports errors the same way (graph/json_schema.cc:
// by throwing), or the program holds two definitions of its inline error functions (ODR) and the
// linker may pick the one that aborts.
#define VALIJSON_USE_EXCEPTIONS 1

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "graph/load.h"
#include "tests/support/run_command.h"

namespace switchyard::graph {
namespace {

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(switchyard::testing::read_text(path));
}

class WorkflowSchema : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    schema_doc_ = new nlohmann::json(
        read_json(std::string(SWITCHYARD_SOURCE_DIR) + "/docs/workflow.schema.json"));
    schema_ = new valijson::Schema;
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(*schema_doc_);
    parser.populateSchema(adapter, *schema_);
  }
  static void TearDownTestSuite() {
    delete schema_;
    delete schema_doc_;
  }

  // Empty when valid; otherwise the validator's first complaint.
  static std::string violations(const nlohmann::json& doc) {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(doc);
    if (validator.validate(*schema_, target, &results)) return "";
    valijson::ValidationResults::Error error;
    std::string out = "invalid";
    if (results.popError(error)) {
      out = error.description;
      for (const auto& c : error.context) out += " " + c;
    }
    return out;
  }

  static void expect_valid_file(const std::filesystem::path& path) {
    const auto doc = read_json(path.string());
    EXPECT_EQ(violations(doc), "") << path;
    LoadResult r = load(doc.dump(), path.string());
    EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.errors[0].to_string());
  }

  static nlohmann::json* schema_doc_;
  static valijson::Schema* schema_;
};

nlohmann::json* WorkflowSchema::schema_doc_ = nullptr;
valijson::Schema* WorkflowSchema::schema_ = nullptr;

TEST_F(WorkflowSchema, EveryPaperScenarioPassesSchemaAndLoader) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SWITCHYARD_PAPER_DIR))) {
    if (e.path().extension() != ".json") continue;
    const auto folder = e.path().parent_path().filename();
    if (folder == "services" || folder == "models") continue;  // not workflows
    expect_valid_file(e.path());
    ++count;
  }
  EXPECT_EQ(count, 19);
}

TEST_F(WorkflowSchema, EveryExamplePassesSchemaAndLoader) {
  int count = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(
           std::string(SWITCHYARD_SOURCE_DIR) + "/examples")) {
    if (e.path().extension() != ".json") continue;
    const auto folder = e.path().parent_path().filename();
    if (folder == "services" || folder == "models") continue;  // not workflows
    expect_valid_file(e.path());
    ++count;
  }
  EXPECT_GE(count, 3);  // examples/ and examples/workflows/
}

TEST_F(WorkflowSchema, RejectsMalformedFilesTheSchemaCanSee) {
  for (const char* name : {"wrong-format",
                           "missing-name",
                           "missing-edges",
                           "tools-not-object",
                           "tool-unknown-kind",
                           "http-missing-url",
                           "http-bad-method",
                           "command-empty-argv",
                           "llm-bad-difficulty",
                           "mock-fail-rate-above-one",
                           "edge-negative-cost",
                           "edge-string-cost",
                           "budget-negative-usd",
                           "policy-zero-breaker-failures",
                           "fanout-no-branches",
                           "node-unknown-kind",
                           "root-is-string",
                           "edges-is-object",
                           "fanout-join-bool",
                           "scenario-bad-status",
                           "throttle-limits-nothing",
                           "throttle-negative-rate",
                           "throttle-zero-in-flight"}) {
    const auto doc =
        read_json(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/data/invalid/" + name + ".json");
    EXPECT_NE(violations(doc), "") << name << " passes the schema";
  }
}

TEST_F(WorkflowSchema, EveryConditionScenarioPassesSchemaAndLoader) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SWITCHYARD_SOURCE_DIR) +
                                                           "/tests/scenarios/conditions")) {
    if (e.path().extension() != ".json") continue;
    expect_valid_file(e.path());
    ++count;
  }
  EXPECT_EQ(count, 3);
}

TEST_F(WorkflowSchema, RejectsMalformedConditionsTheSchemaCanSee) {
  for (const char* name : {"when-not-object", "when-unknown-operator", "when-two-operators",
                           "when-missing-ptr", "when-ptr-without-comparison", "when-unknown-root",
                           "when-not-under-output", "when-order-on-object", "when-in-empty",
                           "when-and-empty", "when-nested-bad-pointer", "edge-too-long"}) {
    const auto doc =
        read_json(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/data/invalid/" + name + ".json");
    EXPECT_NE(violations(doc), "") << name << " passes the schema";
  }
}

TEST_F(WorkflowSchema, AcceptsApprovalsAndScriptedWaitsAndRejectsMalformedOnes) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SWITCHYARD_SOURCE_DIR) +
                                                           "/tests/scenarios/waits")) {
    if (e.path().extension() != ".json") continue;
    expect_valid_file(e.path());
    ++count;
  }
  EXPECT_EQ(count, 4);
  auto doc = read_json(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/scenarios/waits/WT-2.json");
  for (const char* bad : {R"({"name": "x", "on_timeout": "escalate"})", R"("yes")",
                          R"({"timeout_ms": 0})", R"({"timeout_ms": 5, "on_timeout": "retry"})"}) {
    auto edited = doc;
    edited["tools"]["Refund"]["approval"] = nlohmann::json::parse(bad);
    EXPECT_NE(violations(edited), "") << bad << " passes the schema";
  }
  auto edited = doc;
  edited["policy"] = {{"approval", {{"above_usd", -1}}}};
  EXPECT_NE(violations(edited), "") << "a negative above_usd passes the schema";
  edited = doc;
  edited["scenario"]["waits"]["Refund:approval"] = {"maybe"};
  EXPECT_NE(violations(edited), "") << "an unknown scripted decision passes the schema";
  edited = doc;
  edited["tools"]["T"] = {{"kind", "wait"}, {"timer_ms", 5}, {"on_timeout", "fail"}};
  EXPECT_NE(violations(edited), "") << "a timer's on_timeout passes the schema";
}

TEST_F(WorkflowSchema, AcceptsMcpServersAndToolsAndRejectsMalformedOnes) {
  expect_valid_file(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/data/mcp/servers.json");
  for (const char* name :
       {"mcp-missing-tool", "mcp-arguments-not-object", "mcp-servers-not-object",
        "mcp-server-argv-and-url", "mcp-server-neither-argv-nor-url", "mcp-server-bad-url",
        "mcp-stdio-server-with-headers", "mcp-http-server-with-env", "mcp-server-empty-argv",
        "mcp-timeout-zero", "mcp-server-bad-protocol"}) {
    const auto doc =
        read_json(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/data/invalid/" + name + ".json");
    EXPECT_NE(violations(doc), "") << name << " passes the schema";
  }
}

TEST_F(WorkflowSchema, AllowsUnknownFieldsForForwardCompatibility) {
  auto doc = read_json(std::string(SWITCHYARD_SOURCE_DIR) + "/examples/customer-support.json");
  doc["x-owner"] = "team-a";
  doc["tools"]["CRM"]["x-note"] = "free text";
  EXPECT_EQ(violations(doc), "");
}

}  // namespace
}  // namespace switchyard::graph
