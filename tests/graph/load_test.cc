#include "graph/load.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/run_command.h"

namespace switchyard::graph {
namespace {

using switchyard::testing::read_text;

std::string invalid_dir() { return std::string(SWITCHYARD_SOURCE_DIR) + "/tests/data/invalid"; }

// A small valid workflow the focused tests start from.
nlohmann::json base() {
  return nlohmann::json::parse(R"({
    "format": "switchyard.workflow/v1", "name": "base", "start": "Start", "goal": "Done",
    "tools": {"B": {"kind": "mock"}, "A": {"kind": "mock"}, "Done": {"kind": "mock"},
              "Ask": {"kind": "llm", "prompt": "Summarize {{input.text}}"}},
    "edges": [["Start", "A", 0.1], ["A", "Done", 0.1], ["Start", "B", 0.5], ["B", "Done", 0.1]]
  })");
}

LoadResult load_json(const nlohmann::json& doc) { return load(doc.dump(), "test.json"); }

bool has_error(const LoadResult& r, const std::string& pointer, const std::string& fragment) {
  for (const auto& e : r.errors) {
    if (e.pointer == pointer && e.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// ---- the malformed corpus: tests/data/invalid/*.json, expectations in expected.json ----

struct InvalidCase {
  std::string file;
  std::string pointer;
  std::string message;
};

std::vector<InvalidCase> invalid_cases() {
  std::vector<InvalidCase> out;
  auto expected = nlohmann::json::parse(read_text(invalid_dir() + "/expected.json"));
  for (const auto& [file, e] : expected.items()) {
    out.push_back({file, e["pointer"].get<std::string>(), e["message"].get<std::string>()});
  }
  return out;
}

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.file; }

class InvalidCorpus : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidCorpus, IsRejectedWithItsPointerAndMessage) {
  const auto& c = GetParam();
  const std::string path = invalid_dir() + "/" + c.file;
  LoadResult r = load(read_text(path), path);
  ASSERT_FALSE(r.ok()) << c.file << " was accepted";
  EXPECT_EQ(r.workflow, nullptr);
  EXPECT_TRUE(has_error(r, c.pointer, c.message))
      << c.file << ": expected an error at '" << c.pointer << "' containing '" << c.message
      << "', got:\n"
      << all_errors(r);
  for (const auto& e : r.errors) EXPECT_EQ(e.file, path);
}

INSTANTIATE_TEST_SUITE_P(Files, InvalidCorpus, ::testing::ValuesIn(invalid_cases()),
                         [](const auto& info) {
                           std::string name = info.param.file.substr(0, info.param.file.size() - 5);
                           for (auto& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(InvalidCorpusFolder, HasAtLeastFortyCasesAndEveryFileIsListed) {
  auto expected = nlohmann::json::parse(read_text(invalid_dir() + "/expected.json"));
  EXPECT_GE(expected.size(), 40u);
  for (const auto& entry : std::filesystem::directory_iterator(invalid_dir())) {
    const std::string name = entry.path().filename().string();
    if (name == "expected.json") continue;
    EXPECT_TRUE(expected.contains(name)) << name << " is not in expected.json";
  }
}

// ---- accepted files ----

TEST(Load, AcceptsEveryPaperScenario) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SWITCHYARD_PAPER_DIR))) {
    if (entry.path().extension() != ".json") continue;
    LoadResult r = load(read_text(entry.path().string()), entry.path().string());
    EXPECT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.warnings.empty()) << entry.path() << ": " << r.warnings[0].to_string();
    ASSERT_NE(r.workflow, nullptr);
    EXPECT_TRUE(r.workflow->scenario().has_value());
    ++count;
  }
  EXPECT_EQ(count, 19);
}

TEST(Load, AcceptsEveryExample) {
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(SWITCHYARD_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".json") continue;
    const auto folder = entry.path().parent_path().filename();
    if (folder == "services" || folder == "models") continue;  // not workflows
    LoadResult r = load(read_text(entry.path().string()), entry.path().string());
    EXPECT_TRUE(r.ok()) << all_errors(r);
    EXPECT_TRUE(r.warnings.empty()) << entry.path();
  }
}

TEST(Load, NumbersToolsAndNodesInIdOrder) {
  LoadResult r = load_json(base());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Workflow& w = *r.workflow;
  std::vector<std::string> tools, nodes;
  for (const auto& t : w.tools()) tools.push_back(t.id);
  for (const auto& n : w.graph().nodes()) nodes.push_back(n.id);
  EXPECT_EQ(tools, (std::vector<std::string>{"A", "Ask", "B", "Done"}));
  EXPECT_EQ(nodes, (std::vector<std::string>{"A", "B", "Done", "Start"}));
  EXPECT_EQ(w.graph().node(w.graph().find("Start")).kind, NodeKind::kJunction);
  EXPECT_EQ(w.graph().node(w.graph().find("A")).kind, NodeKind::kTool);
  EXPECT_EQ(w.graph().node(w.graph().find("A")).tool, w.find_tool("A"));
}

TEST(Load, AppliesDocumentedDefaults) {
  auto doc = base();
  doc["tools"]["H"] = {{"kind", "http"}, {"url", "http://127.0.0.1:9/x"}};
  LoadResult r = load_json(doc);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Workflow& w = *r.workflow;
  const Tool& a = w.tool(w.find_tool("A"));
  EXPECT_FALSE(a.idempotent);
  EXPECT_EQ(a.retries, 0);
  EXPECT_EQ(a.compensate, kNoIndex);
  EXPECT_EQ(std::get<MockTool>(a.spec).output, (nlohmann::json{{"tool", "A"}}));
  EXPECT_EQ(std::get<MockTool>(a.spec).fail.mode, MockFail::Mode::kNever);
  EXPECT_EQ(std::get<HttpTool>(w.tool(w.find_tool("H")).spec).method, "POST");
  EXPECT_EQ(std::get<LlmTool>(w.tool(w.find_tool("Ask")).spec).max_tokens, 512);
  EXPECT_EQ(w.policy().max_reroutes, 16);
  EXPECT_EQ(w.policy().breaker.failures, 3);
  EXPECT_FALSE(w.budget().usd.has_value());
  EXPECT_EQ(w.advisor(), kNoIndex);
}

TEST(Load, UnknownFieldsAreWarningsNotErrors) {
  auto doc = base();
  doc["owner"] = "team-a";
  doc["tools"]["A"]["colour"] = "blue";
  LoadResult r = load_json(doc);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].pointer, "/owner");
  EXPECT_EQ(r.warnings[1].pointer, "/tools/A/colour");
}

TEST(Load, ReportsEveryErrorNotOnlyTheFirst) {
  auto doc = base();
  doc["edges"][0][2] = -1;
  doc["tools"]["A"]["retries"] = -3;
  doc["goal"] = "Nowhere";
  LoadResult r = load_json(doc);
  EXPECT_TRUE(has_error(r, "/edges/0/2", "finite number"));
  EXPECT_TRUE(has_error(r, "/tools/A/retries", "integer"));
  EXPECT_TRUE(has_error(r, "/goal", "unknown node"));
}

TEST(Load, SyntaxErrorsGiveLineAndColumn) {
  LoadResult r = load("{\n  \"format\": 1,\n  oops\n}\n", "broken.json");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].column, 3);
  EXPECT_EQ(r.errors[0].to_string().rfind("broken.json:3:3: invalid JSON", 0), 0u)
      << r.errors[0].to_string();
}

TEST(Load, PointerEscapesSlashAndTildeInKeys) {
  auto doc = base();
  doc["tools"]["a/b~c"] = {{"kind", "teleport"}};
  LoadResult r = load_json(doc);
  EXPECT_TRUE(has_error(r, "/tools/a~1b~0c/kind", "expected one of")) << all_errors(r);
}

TEST(Load, AcceptsBothEdgeFormsAndDefaultCosts) {
  auto doc = base();
  doc["tools"]["Done"]["cost"] = 0.7;
  doc["edges"] = nlohmann::json::parse(R"([
    {"from": "Start", "to": "A", "cost": 0.1}, ["A", "Done"], ["Start", "B", 0.5],
    {"from": "B", "to": "Done"}])");
  LoadResult r = load_json(doc);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const auto& edges = r.workflow->graph().edges();
  EXPECT_DOUBLE_EQ(edges[0].cost, 0.1);
  EXPECT_DOUBLE_EQ(edges[1].cost, 0.7);
  EXPECT_DOUBLE_EQ(edges[3].cost, 0.7);
}

TEST(Load, RejectsCostsBeyondDoubleRange) {
  // JSON has no NaN or Infinity; the only way to a non-finite cost is a literal out of range.
  LoadResult r = load(R"({"format": "switchyard.workflow/v1", "name": "x", "start": "S",
    "goal": "G", "tools": {"G": {"kind": "mock"}}, "edges": [["S", "G", 1e999]]})",
                      "inf.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("number overflow parsing '1e999'"), std::string::npos)
      << all_errors(r);
}

TEST(Load, AllowsCycles) {
  auto doc = base();
  doc["edges"].push_back({"Done", "Start", 1.0});
  doc["edges"].push_back({"A", "B", 0.2});
  doc["edges"].push_back({"B", "A", 0.2});
  EXPECT_TRUE(load_json(doc).ok());
}

TEST(Load, ParsesFanoutNodes) {
  auto doc = base();
  doc["edges"].push_back({"Start", "Mod", 0.3});
  doc["edges"].push_back({"Mod", "Done", 0.1});
  doc["nodes"] = nlohmann::json::parse(R"({"Mod": {"fanout": {"join": {"quorum": 1}, "branches": [
      {"start": "T0", "goal": "T9", "edges": [["T0", "A", 0.1], ["A", "T9", 0]]},
      {"start": "I0", "goal": "I9", "edges": [["I0", "B", 0.2], ["B", "I9", 0]]}]}}})");
  LoadResult r = load_json(doc);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Workflow& w = *r.workflow;
  ASSERT_EQ(w.fanouts().size(), 1u);
  EXPECT_EQ(w.fanouts()[0].join, JoinKind::kQuorum);
  EXPECT_EQ(w.fanouts()[0].quorum, 1);
  ASSERT_EQ(w.fanouts()[0].branches.size(), 2u);
  const Graph& b0 = w.fanouts()[0].branches[0];
  EXPECT_EQ(b0.node(b0.start()).id, "T0");
  EXPECT_EQ(b0.node(b0.find("A")).kind, NodeKind::kTool);
  EXPECT_EQ(w.graph().node(w.graph().find("Mod")).kind, NodeKind::kFanout);
}

TEST(Load, ParsesTheScenarioBlock) {
  auto doc = base();
  doc["scenario"] = nlohmann::json::parse(R"({"id": "X-1", "down": ["A"], "known": false,
    "fail_calls": {"B": [2, 3]}, "expect": {"status": "completed", "path": ["Start", "B", "Done"],
    "llm_calls_max": 1}})");
  LoadResult r = load_json(doc);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Scenario& s = *r.workflow->scenario();
  EXPECT_EQ(s.id, "X-1");
  EXPECT_EQ(s.down, (std::vector<ToolIndex>{r.workflow->find_tool("A")}));
  EXPECT_FALSE(s.known);
  EXPECT_EQ(s.fail_calls.at(r.workflow->find_tool("B")), (std::vector<int>{2, 3}));
  EXPECT_EQ(*s.expect.llm_calls_max, 1);
}

TEST(Load, ScenarioIsAWarningWhenNotAllowed) {
  auto doc = base();
  doc["scenario"] = {{"id", "X"}};
  LoadOptions options;
  options.allow_scenario = false;
  LoadResult r = load(doc.dump(), "x.json", options);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.workflow->scenario().has_value());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].pointer, "/scenario");
}

TEST(Load, KeepsTheSourceDocument) {
  auto doc = base();
  LoadResult r = load_json(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.workflow->source(), doc);
}

}  // namespace
}  // namespace switchyard::graph
