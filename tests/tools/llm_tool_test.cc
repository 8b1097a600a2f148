// The llm tool against a fake OpenAI-compatible server speaking real HTTP (the fault server's
// /v1/chat/completions), and the models file.

#include "tools/llm_tool.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <future>

#include "graph/load.h"
#include "tests/support/fault_server.h"
#include "tests/support/tool_call.h"
#include "tools/models.h"

namespace switchyard::tools {
namespace {

using testing::FaultServer;

std::unique_ptr<Tool> llm(const std::string& tool_json, const Models& models) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "l", "start": "S",
    "goal": "T", "tools": {"T": )" +
                                tool_json + R"(}, "edges": [["S", "T", 1]]})",
                            "l.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  const graph::Tool& t = loaded.workflow->tool(0);
  auto tool = make_llm_tool("T", std::get<graph::LlmTool>(t.spec), t.timeout, models);
  EXPECT_TRUE(tool.ok()) << tool.status().message();
  return std::move(*tool);
}

// The tool's answer about the topic `refunds`.
Outcome ask_about_refunds(Tool& tool) {
  static const nlohmann::json context = {{"input", {{"topic", "refunds"}}},
                                         {"steps", nlohmann::json::object()}};
  return testing::invoke_and_wait(tool, context);
}

const char* kAnswerTool = R"({"kind": "llm", "prompt": "Answer about {{input.topic}}",
  "max_tokens": 50, "output_schema": {"type": "object", "required": ["answer"],
                                      "properties": {"answer": {"type": "string"}}}})";

TEST(LlmTool, ASchemaValidAnswerIsTheOutputAndUsageIsCharged) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "ok");
  auto tool = llm(kAnswerTool, models);
  Outcome o = ask_about_refunds(*tool);
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.output, nlohmann::json({{"answer", "ok"}}));
  EXPECT_TRUE(o.llm_call);
  // The fake counts a token per 4 bytes: "Answer about refunds" (20 bytes) -> 6 in; the answer
  // {"answer":"ok"} (15 bytes) -> 4 out.
  EXPECT_EQ(o.tokens, 10);
  EXPECT_DOUBLE_EQ(o.cost_usd, 6 * 1.0 / 1e6 + 4 * 4.0 / 1e6);
}

TEST(LlmTool, AMissingValueInThePromptFailsTheStepWithoutCallingTheModel) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "ok");
  auto tool = llm(R"({"kind": "llm", "prompt": "Answer about {{input.product}}"})", models);
  Outcome o = ask_about_refunds(*tool);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kTemplate);
  EXPECT_NE(o.reason.find("input.product"), std::string::npos) << o.reason;
  EXPECT_FALSE(o.llm_call);
  EXPECT_EQ(server.stats()["requests"], 0);
}

TEST(LlmTool, SendsTheRenderedPromptAndTheKeyFromItsEnvironmentVariable) {
  FaultServer server;
  const std::string key = "sk-test-NEVER-SHOWN-42";
  ::setenv("SWITCHYARD_TEST_LLM_KEY", key.c_str(), 1);
  auto models = testing::fake_chat_models(server, "echo", "SWITCHYARD_TEST_LLM_KEY");
  auto tool = llm(R"({"kind": "llm", "prompt": "Tell me about {{input.topic}}"})", models);
  Outcome o = ask_about_refunds(*tool);
  ASSERT_TRUE(o.ok) << o.reason;
  auto said = nlohmann::json::parse(o.output["text"].get<std::string>());
  EXPECT_EQ(said["prompt"], "Tell me about refunds");
  EXPECT_TRUE(said["authorized"].get<bool>());
  nlohmann::json everything = {{"output", o.output}, {"reason", o.reason}, {"headers", o.headers}};
  EXPECT_EQ(everything.dump().find(key), std::string::npos);
  ::unsetenv("SWITCHYARD_TEST_LLM_KEY");
}

TEST(LlmTool, TheFakeProvidersLatencyIsTheCallsLatency) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "ok@60");
  Outcome o = ask_about_refunds(*llm(kAnswerTool, models));
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_GE(o.latency, std::chrono::milliseconds(60));
}

TEST(LlmTool, AMissingKeyFailsNamingTheVariableNeverAKey) {
  FaultServer server;
  ::unsetenv("SWITCHYARD_TEST_NO_SUCH_KEY");
  auto models = testing::fake_chat_models(server, "ok", "SWITCHYARD_TEST_NO_SUCH_KEY");
  Outcome o = ask_about_refunds(*llm(kAnswerTool, models));
  EXPECT_EQ(o.failure, FailureKind::kUnavailable);
  EXPECT_NE(o.reason.find("SWITCHYARD_TEST_NO_SUCH_KEY"), std::string::npos) << o.reason;
  EXPECT_EQ(server.stats()["requests"], 0);
}

TEST(LlmTool, EveryFailureHasItsKind) {
  FaultServer server;
  struct Case {
    const char* model;
    FailureKind kind;
  };
  for (const Case& c :
       {Case{"wrong-shape", FailureKind::kSchemaInvalid}, Case{"not-json", FailureKind::kBadOutput},
        Case{"refuse", FailureKind::kRefusal}, Case{"status-500", FailureKind::kHttpStatus},
        Case{"ratelimit", FailureKind::kRateLimited}}) {
    auto models = testing::fake_chat_models(server, c.model);
    Outcome o = ask_about_refunds(*llm(kAnswerTool, models));
    EXPECT_FALSE(o.ok) << c.model;
    EXPECT_EQ(o.failure, c.kind) << c.model << ": " << o.reason;
    EXPECT_TRUE(o.llm_call) << c.model;
    if (c.kind == FailureKind::kRateLimited) {
      ASSERT_TRUE(o.retry_after.has_value());
      EXPECT_EQ(*o.retry_after, std::chrono::milliseconds(1000));
    }
    if (c.kind == FailureKind::kSchemaInvalid) {
      EXPECT_GT(o.tokens, 0);  // an invalid answer is still paid for
      EXPECT_NE(o.reason.find("answer"), std::string::npos) << o.reason;
    }
  }
}

TEST(LlmTool, TheRequestAsksForTheOutputSchemaAndBoundsTheAnswer) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "request");  // answers with the request's body
  auto tool = llm(R"({"kind": "llm", "prompt": "Hi", "max_tokens": 42,
    "output_schema": {"type": "object"}})",
                  models);
  Outcome o = ask_about_refunds(*tool);
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.output["model"], "request");
  EXPECT_EQ(o.output["max_tokens"], 42);
  EXPECT_EQ(o.output["response_format"]["type"], "json_schema");
  EXPECT_EQ(o.output["response_format"]["json_schema"]["schema"],
            nlohmann::json({{"type", "object"}}));
  EXPECT_EQ(o.output["response_format"]["json_schema"]["strict"], true);
}

TEST(LlmTool, TheFakeProviderReportsScriptedUsageOrNone) {
  FaultServer server;
  auto scripted = testing::fake_chat_models(server, "ok+usage:900:30");
  Outcome o = ask_about_refunds(*llm(kAnswerTool, scripted));
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.tokens, 930);
  EXPECT_DOUBLE_EQ(o.cost_usd, 900 * 1.0 / 1e6 + 30 * 4.0 / 1e6);
  auto none = testing::fake_chat_models(server, "ok+usage:none");
  Outcome n = ask_about_refunds(*llm(kAnswerTool, none));
  ASSERT_TRUE(n.ok) << n.reason;
  // No usage: the call is charged its worst case (the prompt bound plus max_tokens), never 0.
  EXPECT_TRUE(n.usage_unknown);
  EXPECT_GT(n.tokens, 50);
}

TEST(LlmTool, TheFakeProviderCombinesQualityWithScriptedFailures) {
  FaultServer server;
  auto always = testing::fake_chat_models(server, "quality:1:1+fail:1:429");
  EXPECT_EQ(ask_about_refunds(*llm(kAnswerTool, always)).failure, FailureKind::kRateLimited);
  auto never = testing::fake_chat_models(server, "quality:1:1+fail:0:500");
  EXPECT_TRUE(ask_about_refunds(*llm(kAnswerTool, never)).ok);
  // Half the requests fail with 500, drawn per request: over 40 calls both outcomes occur.
  auto half = testing::fake_chat_models(server, "quality:1:1+fail:0.5:500");
  auto tool = llm(kAnswerTool, half);
  int failed = 0;
  for (int i = 0; i < 40; ++i)
    failed += ask_about_refunds(*tool).failure == FailureKind::kHttpStatus;
  EXPECT_GT(failed, 5);
  EXPECT_LT(failed, 35);
}

TEST(LlmTool, AnErrorBodyEchoingTheKeyIsScrubbed) {
  FaultServer server;
  const std::string key = "sk-echoed-SECRET-77";
  ::setenv("SWITCHYARD_TEST_ECHO_KEY", key.c_str(), 1);
  // The fake answers an unknown modifier with a 400 whose body names the model; a model name
  // carrying the key stands for a provider that echoes what it was sent.
  auto models = testing::fake_chat_models(server, "ok+" + key, "SWITCHYARD_TEST_ECHO_KEY");
  Outcome o = ask_about_refunds(*llm(kAnswerTool, models));
  EXPECT_EQ(o.failure, FailureKind::kHttpStatus);
  EXPECT_EQ(o.reason.find(key), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("[redacted]"), std::string::npos) << o.reason;
}

TEST(LlmTool, AToolNamingAnUnknownTierIsRefused) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "ok");
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "l", "start": "S",
    "goal": "T", "tools": {"T": {"kind": "llm", "prompt": "p", "tier": "strong"}},
    "edges": [["S", "T", 1]]})",
                            "l.json");
  ASSERT_TRUE(loaded.ok());
  auto tool =
      make_llm_tool("T", std::get<graph::LlmTool>(loaded.workflow->tool(0).spec), {}, models);
  ASSERT_FALSE(tool.ok());
  EXPECT_NE(tool.status().message().find("tier 'strong'"), std::string::npos);
}

TEST(ModelsFile, LoadsTiersCheapestFirst) {
  auto r = load_models(R"({"tiers": [
    {"name": "cheap", "model": "m-small", "base_url": "http://127.0.0.1:1/v1",
     "api_key_env": "K", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6,
     "context_window": 128000},
    {"name": "strong", "model": "m-large", "base_url": "http://127.0.0.1:1/v1",
     "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}]})",
                       "models.json");
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  ASSERT_EQ(r.models.tiers.size(), 2u);
  EXPECT_EQ(r.models.tiers[0].name, "cheap");
  EXPECT_EQ(r.models.find("strong")->model, "m-large");
  EXPECT_DOUBLE_EQ(r.models.tiers[1].worst_case_usd(1000, 500),
                   1000 * 2.5 / 1e6 + 500 * 10.0 / 1e6);
}

TEST(ModelsFile, ReportsEveryErrorWithItsPointerAndRefusesKeys) {
  auto r = load_models(R"({"tiers": [
    {"name": "a", "base_url": "http://x/v1", "input_usd_per_mtok": -1, "output_usd_per_mtok": 1,
     "api_key": "sk-oops", "colour": "blue"},
    {"name": "a", "model": "m", "base_url": "http://x/v1", "input_usd_per_mtok": 1,
     "output_usd_per_mtok": 1}]})",
                       "models.json");
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const auto& e : r.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("models.json: /tiers/0/model: required field 'model' is missing"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("/tiers/0/input_usd_per_mtok: expected a number >= 0"), std::string::npos)
      << all;
  EXPECT_NE(all.find("/tiers/0/api_key: a models file never holds a key"), std::string::npos)
      << all;
  EXPECT_NE(all.find("/tiers/0/colour: unknown field"), std::string::npos) << all;
  EXPECT_NE(all.find("/tiers/1/name: duplicate tier name 'a'"), std::string::npos) << all;
  EXPECT_EQ(all.find("sk-oops"), std::string::npos) << all;  // never echo a key
  EXPECT_FALSE(load_models("{", "m.json").ok());
  EXPECT_FALSE(load_models(R"({"tiers": []})", "m.json").ok());
}

}  // namespace
}  // namespace switchyard::tools
