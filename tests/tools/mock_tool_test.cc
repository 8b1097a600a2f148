#include "tools/mock_tool.h"

#include <gtest/gtest.h>

#include "graph/load.h"
#include "tools/tool_set.h"

namespace switchyard::tools {
namespace {

Outcome call(Tool& tool, int call_number,
             const nlohmann::json& context = nlohmann::json::object()) {
  Invocation inv;
  inv.call_number = call_number;
  inv.context = &context;
  Outcome out;
  tool.invoke(inv, [&](Outcome o) { out = std::move(o); });
  return out;
}

graph::MockFail fail_mode(graph::MockFail::Mode mode) {
  graph::MockFail f;
  f.mode = mode;
  return f;
}

TEST(MockTool, ReturnsItsOutputAndLatencyWhenItDoesNotFail) {
  graph::MockTool spec;
  spec.output = {{"refund", "re_1"}};
  spec.latency = std::chrono::milliseconds(35);
  auto tool = make_mock_tool("Stripe", spec);
  Outcome out = call(*tool, 1);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.output, spec.output);
  EXPECT_EQ(out.latency, std::chrono::milliseconds(35));
  EXPECT_FALSE(out.llm_call);
}

TEST(MockTool, AlwaysFailsWithAnInjectedFailure) {
  graph::MockTool spec;
  spec.fail = fail_mode(graph::MockFail::Mode::kAlways);
  auto tool = make_mock_tool("Stripe", spec);
  Outcome out = call(*tool, 1);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kInjected);
  EXPECT_NE(out.reason.find("Stripe"), std::string::npos);
}

TEST(MockTool, FailsOnlyOnTheListedCalls) {
  graph::MockFail f = fail_mode(graph::MockFail::Mode::kCalls);
  f.calls = {1, 3};
  EXPECT_TRUE(mock_fails(f, 1));
  EXPECT_FALSE(mock_fails(f, 2));
  EXPECT_TRUE(mock_fails(f, 3));
  EXPECT_FALSE(mock_fails(f, 4));
}

TEST(MockTool, RateFailuresAreDeterministicPerSeedAndCall) {
  graph::MockFail f = fail_mode(graph::MockFail::Mode::kRate);
  f.rate = 0.3;
  f.seed = 7;
  int failures = 0;
  for (int call_number = 1; call_number <= 10000; ++call_number) {
    const bool fails = mock_fails(f, call_number);
    EXPECT_EQ(fails, mock_fails(f, call_number));  // the same draw every time: replayable
    failures += fails ? 1 : 0;
  }
  EXPECT_NEAR(failures / 10000.0, 0.3, 0.02);
  graph::MockFail other = f;
  other.seed = 8;
  int differ = 0;
  for (int call_number = 1; call_number <= 100; ++call_number) {
    differ += mock_fails(f, call_number) != mock_fails(other, call_number) ? 1 : 0;
  }
  EXPECT_GT(differ, 0);
}

TEST(MockModel, PicksTheFirstOptionItIsOffered) {
  auto model = make_mock_model("Advisor", {});
  Outcome out = call(*model, 1, {{"options", {"Queue", "Ticket"}}});
  ASSERT_TRUE(out.ok);
  EXPECT_TRUE(out.llm_call);
  EXPECT_EQ(out.output, (nlohmann::json{{"action", "demote"}, {"goal", "Queue"}}));
  Outcome none = call(*model, 2, {{"options", nlohmann::json::array()}});
  EXPECT_EQ(none.output["action"], "escalate");
}

TEST(ToolSet, ScenarioModeMocksEveryToolAsTheScenarioSays) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "s", "start": "S",
    "goal": "G", "tools": {
      "H": {"kind": "http", "url": "http://127.0.0.1:9/x"},
      "C": {"kind": "command", "argv": ["false"]},
      "G": {"kind": "mock"},
      "L": {"kind": "llm", "prompt": "p"}},
    "edges": [["S", "H", 1], ["H", "C", 1], ["C", "G", 1]],
    "scenario": {"id": "s", "down": ["H"], "fail_calls": {"C": [2]},
                 "expect": {"status": "completed"}}})",
                            "s.json");
  ASSERT_TRUE(loaded.ok());
  const auto& w = *loaded.workflow;
  auto tools = make_tool_set(w, {.scenario = true});
  ASSERT_TRUE(tools.ok());
  auto& set = **tools;
  EXPECT_FALSE(call(set.at(w.find_tool("H")), 1).ok);
  EXPECT_TRUE(call(set.at(w.find_tool("C")), 1).ok);
  EXPECT_FALSE(call(set.at(w.find_tool("C")), 2).ok);
  EXPECT_EQ(call(set.at(w.find_tool("C")), 1).output, (nlohmann::json{{"tool", "C"}}));
  EXPECT_TRUE(call(set.at(w.find_tool("L")), 1).llm_call);
}

TEST(ToolSet, RefusesKindsThisBuildCannotRunOutsideScenarios) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "s", "start": "S",
    "goal": "H", "tools": {"H": {"kind": "llm", "prompt": "hello"}},
    "edges": [["S", "H", 1]]})",
                            "s.json");
  ASSERT_TRUE(loaded.ok());
  auto tools = make_tool_set(*loaded.workflow);
  ASSERT_FALSE(tools.ok());
  EXPECT_EQ(tools.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(tools.status().message().find("tool 'H': an llm tool needs a models file"),
            std::string::npos);
}

}  // namespace
}  // namespace switchyard::tools
