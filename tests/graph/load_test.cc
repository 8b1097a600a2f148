#include "graph/load.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "graph/json_read.h"
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
  int line = 0;  // JSON syntax errors: the line the error names (0: not checked)
};

std::vector<InvalidCase> invalid_cases() {
  std::vector<InvalidCase> out;
  auto expected = nlohmann::json::parse(read_text(invalid_dir() + "/expected.json"));
  for (const auto& [file, e] : expected.items()) {
    out.push_back({file, e["pointer"].get<std::string>(), e["message"].get<std::string>(),
                   e.value("line", 0)});
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
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.file, path);
    // Every message can be printed and put into --json output (dump() throws on invalid UTF-8).
    EXPECT_EQ(valid_utf8(e.message), e.message) << c.file;
  }
  if (c.line > 0) {
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].line, c.line) << all_errors(r);
    EXPECT_GT(r.errors[0].column, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Files, InvalidCorpus, ::testing::ValuesIn(invalid_cases()),
                         [](const auto& info) {
                           std::string name = info.param.file.substr(0, info.param.file.size() - 5);
                           for (auto& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(InvalidCorpusFolder, HasAtLeast110CasesAndEveryFileIsListed) {
  auto expected = nlohmann::json::parse(read_text(invalid_dir() + "/expected.json"));
  EXPECT_GE(expected.size(), 110u);
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
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::string(SWITCHYARD_SOURCE_DIR) + "/examples")) {
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

TEST(Load, ARejectedEdgeCausesNoFollowOnErrorsAboutTheNodesItNames) {
  for (const nlohmann::json& bad_cost : {nlohmann::json(-1), nlohmann::json("x")}) {
    auto doc = base();
    doc["edges"] = nlohmann::json::array(
        {nlohmann::json::array({"Start", "A", bad_cost}), nlohmann::json::array({"A", "B", 1})});
    doc["goal"] = "B";
    LoadResult r = load_json(doc);
    EXPECT_TRUE(has_error(r, "/edges/0/2", "")) << bad_cost;
    // Start is named by the rejected edge: not "unknown", and no "unreachable" goal either.
    EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
  }
}

TEST(Load, SyntaxErrorsGiveLineAndColumn) {
  LoadResult r = load("{\n  \"format\": 1,\n  oops\n}\n", "broken.json");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].column, 3);
  EXPECT_EQ(r.errors[0].to_string().rfind("broken.json:3:3: invalid JSON", 0), 0u)
      << r.errors[0].to_string();
}

// A document `depth` arrays deep in an unknown field of an otherwise valid workflow (the object
// itself is one level).
std::string nested_in_field(std::size_t depth, bool closed = true) {
  std::string doc = base().dump();
  doc.pop_back();  // the closing brace
  doc += ",\"notes\":" + std::string(depth, '[');
  if (closed) doc += std::string(depth, ']') + "}";
  return doc;
}

TEST(Load, NestingUpToTheDepthLimitLoadsAndOneLevelMoreIsRefusedNamingTheLimit) {
  LoadResult at_limit = load(nested_in_field(127), "deep.json");
  EXPECT_TRUE(at_limit.ok()) << all_errors(at_limit);
  LoadResult over = load(nested_in_field(128), "deep.json");
  ASSERT_EQ(over.errors.size(), 1u) << all_errors(over);
  EXPECT_EQ(over.errors[0].pointer, "");
  EXPECT_EQ(over.errors[0].message, "workflow: nested deeper than 128 arrays/objects (max_depth)");
}

TEST(Load, DepthLimitIsAnOption) {
  LoadOptions options;
  options.max_depth = 4;
  LoadResult r = load(nested_in_field(4), "deep.json", options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("nested deeper than 4"), std::string::npos) << all_errors(r);
  options.max_depth = 200;
  EXPECT_TRUE(load(nested_in_field(150), "deep.json", options).ok());
}

TEST(Load, HundredThousandDeepDocumentsAreOneClearErrorNotACrash) {
  const std::size_t deep = 100000;
  for (const std::string& text :
       {nested_in_field(deep), nested_in_field(deep, /*closed=*/false),
        std::string(deep, '[') + std::string(deep, ']'), std::string(deep, '['), [&] {
          std::string objects;
          for (std::size_t i = 0; i < deep; ++i) objects += "{\"a\":";
          return objects + "1" + std::string(deep, '}');
        }()}) {
    LoadResult r = load(text, "deep.json");
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.workflow, nullptr);
    const std::string& m = r.errors[0].message;
    EXPECT_TRUE(m.find("(max_depth)") != std::string::npos ||
                m.find("invalid JSON") != std::string::npos)
        << m;
  }
  // Closed and valid but deep: the limit, not a syntax error, is what is reported.
  EXPECT_NE(load(nested_in_field(deep), "deep.json").errors[0].message.find("(max_depth)"),
            std::string::npos);
}

TEST(Load, SizeLimitIsAnOptionAndNamed) {
  LoadOptions options;
  options.max_bytes = 64;
  LoadResult r = load(base().dump(), "big.json", options);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_NE(r.errors[0].message.find("over the limit of 64 (max_bytes)"), std::string::npos)
      << all_errors(r);
}

TEST(Load, LeadingUtf8ByteOrderMarkIsSkipped) {
  LoadResult r = load("\xEF\xBB\xBF" + base().dump(), "bom.json");
  EXPECT_TRUE(r.ok()) << all_errors(r);
}

TEST(Load, InvalidUtf8IsAnErrorWithItsPlaceAndAPrintableMessage) {
  // Latin-1 "café": the message quotes the bad byte, replaced so that it can be printed as JSON.
  const std::string text =
      "{\n  \"format\": \"switchyard.workflow/v1\",\n  \"name\": \"caf\xE9\"\n}";
  LoadResult r = load(text, "latin1.json");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].message.find("ill-formed UTF-8 byte"), std::string::npos)
      << r.errors[0].message;
  EXPECT_EQ(valid_utf8(r.errors[0].message), r.errors[0].message);
  const nlohmann::json line = {{"message", r.errors[0].message}};
  EXPECT_NO_THROW((void)line.dump());
}

TEST(Load, EveryDuplicateKeyIsAnErrorAtItsPointer) {
  // nlohmann keeps the last of two equal keys silently: the second tool A would replace the first.
  const std::string text = R"({"format": "switchyard.workflow/v1", "name": "x", "start": "S",
    "goal": "A", "tools": {"A": {"kind": "mock"}, "A": {"kind": "mock", "retries": 1,
    "retries": 2}}, "edges": [["S", "A", 1]]})";
  LoadResult r = load(text, "dup.json");
  EXPECT_TRUE(has_error(r, "/tools/A", "duplicate key 'A'")) << all_errors(r);
  EXPECT_TRUE(has_error(r, "/tools/A/retries", "duplicate key 'retries'")) << all_errors(r);
  // Keys are compared as decoded: the escape of the letter A is A.
  LoadResult escaped = load(R"({"format": "switchyard.workflow/v1", "name": "x", "start": "S",
    "goal": "A", "tools": {"A": {"kind": "mock"}, "\u0041": {"kind": "mock"}},
    "edges": [["S", "A", 1]]})",
                            "dup.json");
  EXPECT_TRUE(has_error(escaped, "/tools/A", "duplicate key 'A'")) << all_errors(escaped);
}

TEST(Load, EqualKeysInDifferentObjectsAreNotDuplicates) {
  auto doc = base();
  doc["tools"]["A"]["output"] = {{"kind", 1}, {"list", {{{"kind", 2}}, {{"kind", 3}}}}};
  LoadResult r = load_json(doc);
  EXPECT_TRUE(r.ok()) << all_errors(r);
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
