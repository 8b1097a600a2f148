// What tools and providers send back, at its worst, against real loopback servers (the fault
// server's http endpoints and fake chat API) and a real program: documents nested 100,000 deep,
// bodies over the byte limit, usage counts that are null or strings, error pages that are HTML
// and not UTF-8. Each is a failed step (bad_output, or http_status for an error page) whose
// reason names the JSON pointer or the limit, on one line of valid UTF-8; the process lives.

#include <gtest/gtest.h>

#include "graph/json_read.h"
#include "graph/load.h"
#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"
#include "tests/support/tool_call.h"
#include "tools/command_tool.h"
#include "tools/http_tool.h"
#include "tools/llm_tool.h"
#include "tools/models.h"

namespace switchyard::tools {
namespace {

using testing::FaultServer;

const nlohmann::json kRefundsContext = {{"input", {{"topic", "refunds"}}},
                                        {"steps", nlohmann::json::object()}};

// Loads a workflow whose only tool T is `tool_json` (with the top-level `limits_json`, if any).
std::shared_ptr<const graph::Workflow> one_tool(const std::string& tool_json,
                                                const std::string& limits_json = "") {
  auto loaded = graph::load(
      R"({"format": "switchyard.workflow/v1", "name": "b", "start": "S", "goal": "T",)" +
          (limits_json.empty() ? "" : R"("limits": )" + limits_json + ",") + R"("tools": {"T": )" +
          tool_json + R"(}, "edges": [["S", "T", 1]]})",
      "b.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

Outcome call_http(const std::string& tool_json, const std::string& limits_json = "") {
  auto w = one_tool(tool_json, limits_json);
  if (!w) return Outcome::failed(FailureKind::kInternal, "no workflow");
  const graph::Tool& t = w->tool(0);
  auto tool = make_http_tool("T", std::get<graph::HttpTool>(t.spec), t.timeout, t.limits);
  return testing::invoke_and_wait(*tool, kRefundsContext);
}

// A reason is one line of valid UTF-8 (it goes into the journal's JSON as is).
void expect_one_clean_line(const std::string& reason) {
  EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
  EXPECT_EQ(valid_utf8(reason), reason);
  EXPECT_NO_THROW((void)nlohmann::json(reason).dump());
}

// ---- http ----

TEST(HttpBadOutput, ADocumentNested100000DeepIsAFailedStepAndTheProcessLives) {
  FaultServer server;
  Outcome o = call_http(R"({"kind": "http", "method": "GET", "url": )" +
                        testing::json_quoted(server.url("/deep/100000")) + "}");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("body: nested deeper than 128 arrays/objects (max_json_depth)"),
            std::string::npos)
      << o.reason;
  expect_one_clean_line(o.reason);
  // The same document within a raised limit parses.
  Outcome shallow = call_http(R"({"kind": "http", "method": "GET", "url": )" +
                                  testing::json_quoted(server.url("/deep/200")) + "}",
                              R"({"max_json_depth": 300})");
  EXPECT_TRUE(shallow.ok) << shallow.reason;
}

TEST(HttpBadOutput, ABodyOverTheByteLimitIsAbortedAndNamesTheLimit) {
  FaultServer server;
  // With a Content-Length (refused at once) and chunked (stopped while it is read).
  for (const char* path : {"/huge/5000", "/huge-chunked/500000"}) {
    Outcome o = call_http(R"({"kind": "http", "method": "GET", "limits": {"max_output_bytes": 1000},
                              "url": )" +
                          testing::json_quoted(server.url(path)) + "}");
    EXPECT_EQ(o.failure, FailureKind::kBadOutput) << path << ": " << o.reason;
    EXPECT_NE(o.reason.find("response body: over the limit of 1000 bytes (max_output_bytes)"),
              std::string::npos)
        << path << ": " << o.reason;
  }
  // Under the limit the same endpoint is an output.
  Outcome fits =
      call_http(R"({"kind": "http", "method": "GET", "limits": {"max_output_bytes": 1000},
                               "url": )" +
                testing::json_quoted(server.url("/huge-chunked/900")) + "}");
  ASSERT_TRUE(fits.ok) << fits.reason;
  EXPECT_EQ(fits.output.get_ref<const std::string&>().size(), 898u);
}

TEST(HttpBadOutput, AnErrorStatusOverTheByteLimitKeepsItsKind) {
  FaultServer server;
  // The limit stops the body, not the answer: a 429 is still a rate limit (its Retry-After read),
  // an error page still an unexpected status.
  Outcome limited =
      call_http(R"({"kind": "http", "method": "GET", "limits": {"max_output_bytes": 5},
                                  "url": )" +
                testing::json_quoted(server.url("/ratelimit/7")) + "}");
  EXPECT_EQ(limited.failure, FailureKind::kRateLimited) << limited.reason;
  ASSERT_TRUE(limited.retry_after.has_value());
  EXPECT_EQ(*limited.retry_after, std::chrono::seconds(7));
  Outcome page = call_http(R"({"kind": "http", "method": "GET", "limits": {"max_output_bytes": 20},
                               "url": )" +
                           testing::json_quoted(server.url("/html-error/503")) + "}");
  EXPECT_EQ(page.failure, FailureKind::kHttpStatus) << page.reason;
  EXPECT_NE(page.reason.find("HTTP 503"), std::string::npos) << page.reason;
}

TEST(HttpBadOutput, TheDefaultByteLimitStopsA20MegabyteBody) {
  FaultServer server;
  Outcome o = call_http(R"({"kind": "http", "method": "GET", "url": )" +
                        testing::json_quoted(server.url("/huge-chunked/20000000")) + "}");
  EXPECT_EQ(o.failure, FailureKind::kBadOutput) << o.reason;
  EXPECT_NE(o.reason.find("over the limit of 16777216 bytes (max_output_bytes)"), std::string::npos)
      << o.reason;
}

TEST(HttpBadOutput, AnHtmlErrorPageThatIsNotUtf8IsQuotedByItsStartOnOneLine) {
  FaultServer server;
  Outcome o = call_http(R"({"kind": "http", "method": "GET", "url": )" +
                        testing::json_quoted(server.url("/html-error/502")) + "}");
  EXPECT_EQ(o.failure, FailureKind::kHttpStatus);
  EXPECT_NE(o.reason.find("HTTP 502: <!DOCTYPE html> <html> <head><title>502 Bad Gateway"),
            std::string::npos)
      << o.reason;
  EXPECT_LT(o.reason.size(), 400u);
  expect_one_clean_line(o.reason);
}

TEST(HttpBadOutput, ABodyThatIsNotJsonSaysWhereItStopsBeingJson) {
  FaultServer server;
  Outcome o = call_http(R"({"kind": "http", "method": "GET", "url": )" +
                        testing::json_quoted(server.url("/invalid-json")) + "}");
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("HTTP 200: body: not JSON: parse error at line 1"), std::string::npos)
      << o.reason;
  expect_one_clean_line(o.reason);
}

// ---- command ----

Outcome run_command_tool(const std::vector<std::string>& args, graph::OutputLimits limits = {}) {
  graph::CommandTool spec;
  spec.argv = {SWITCHYARD_FAKE_COMMAND};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  auto tool = make_command_tool("Cmd", spec, std::chrono::milliseconds(10000), limits);
  return testing::invoke_and_wait(*tool, kRefundsContext);
}

TEST(CommandBadOutput, StdoutNested100000DeepIsAFailedStepNamingTheLimit) {
  Outcome o = run_command_tool({"deep", "100000"});
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("Cmd: stdout: nested deeper than 128 arrays/objects (max_json_depth)"),
            std::string::npos)
      << o.reason;
}

TEST(CommandBadOutput, ItsByteLimitStopsReadingThePipe) {
  Outcome o = run_command_tool({"huge", "300000"}, {.max_output_bytes = 1000});
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("stdout: over the limit of 1000 bytes (max_output_bytes)"),
            std::string::npos)
      << o.reason;
  EXPECT_TRUE(run_command_tool({"huge", "998"}, {.max_output_bytes = 1000}).ok);
}

TEST(CommandBadOutput, StdoutThatIsNotJsonIsQuotedByItsStartAsValidUtf8) {
  Outcome o = run_command_tool({"garbage"});
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("Cmd: stdout is not JSON: \"first line \xEF\xBF\xBD\xEF\xBF\xBD <html>"),
            std::string::npos)
      << o.reason;
  // stderr is quoted too, as valid UTF-8.
  EXPECT_NE(o.reason.find("; stderr: first line"), std::string::npos) << o.reason;
  EXPECT_EQ(valid_utf8(o.reason), o.reason);
  EXPECT_NO_THROW((void)nlohmann::json(o.reason).dump());
}

// ---- llm ----

const char* kAnyObjectTool = R"({"kind": "llm", "prompt": "Answer about {{input.topic}}",
  "max_tokens": 50, "output_schema": {"type": "object"}})";

Outcome call_llm(const Models& models, const char* tool_json = kAnyObjectTool,
                 const std::string& limits_json = "") {
  auto w = one_tool(tool_json, limits_json);
  if (!w) return Outcome::failed(FailureKind::kInternal, "no workflow");
  const graph::Tool& t = w->tool(0);
  auto tool = make_llm_tool("T", std::get<graph::LlmTool>(t.spec), t.timeout, models, t.limits);
  if (!tool.ok()) return Outcome::failed(FailureKind::kInternal, tool.status().message());
  return testing::invoke_and_wait(**tool, kRefundsContext);
}

// The worst case the budget controller reserves for kAnyObjectTool's call: the prompt bound
// ("Answer about refunds", the schema's bytes, framing) plus max_tokens, at the tier's prices.
std::int64_t schema_tool_worst_tokens() {
  graph::LlmTool spec;
  spec.output_schema = *graph::JsonSchema::compile({{"type", "object"}});
  return prompt_token_bound(spec, "", "Answer about refunds") + 50;
}

TEST(LlmBadOutput, NullUsageTokensAreAFailedStepNamingThePointer) {
  FaultServer server;
  Outcome o = call_llm(testing::fake_chat_models(server, "ok+usage:null"));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("T (cheap: ok+usage:null): provider reply: /usage/prompt_tokens: "
                          "expected an integer, got null"),
            std::string::npos)
      << o.reason;
  // The call was made and is billed: unknown usage is charged its worst case, never less.
  EXPECT_TRUE(o.llm_call);
  EXPECT_TRUE(o.usage_unknown);
  EXPECT_EQ(o.tokens, schema_tool_worst_tokens());
  EXPECT_DOUBLE_EQ(o.cost_usd, (o.tokens - 50) * 1.0 / 1e6 + 50 * 4.0 / 1e6);
}

TEST(LlmBadOutput, AStringUsageCountIsAFailedStepNamingThePointer) {
  FaultServer server;
  Outcome o = call_llm(testing::fake_chat_models(server, "ok+usage:text"));
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("/usage/prompt_tokens: expected an integer, got string \"12\""),
            std::string::npos)
      << o.reason;
  EXPECT_TRUE(o.usage_unknown);
}

TEST(LlmBadOutput, AReplyWithoutUsageSucceedsChargedAtItsWorstCase) {
  FaultServer server;
  Outcome o = call_llm(testing::fake_chat_models(server, "ok+usage:none"));
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_TRUE(o.usage_unknown);
  EXPECT_EQ(o.tokens, schema_tool_worst_tokens());
  // With a usage it is charged what it reports.
  Outcome read = call_llm(testing::fake_chat_models(server, "ok+usage:7:3"));
  ASSERT_TRUE(read.ok) << read.reason;
  EXPECT_FALSE(read.usage_unknown);
  EXPECT_EQ(read.tokens, 10);
}

TEST(LlmBadOutput, AnAnswerNested100000DeepIsAFailedStepNamingTheLimit) {
  FaultServer server;
  Outcome o = call_llm(testing::fake_chat_models(server, "deep:100000"));
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("answer: nested deeper than 128 arrays/objects (max_json_depth)"),
            std::string::npos)
      << o.reason;
  EXPECT_FALSE(o.usage_unknown);  // the reply itself was read, usage and all
}

TEST(LlmBadOutput, AReplyThatIsItselfNested100000DeepIsAFailedStep) {
  FaultServer server;
  Outcome o = call_llm(testing::fake_chat_models(server, "deep-reply:100000"));
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("provider reply: nested deeper than 128 arrays/objects (max_json_depth)"),
            std::string::npos)
      << o.reason;
  EXPECT_TRUE(o.usage_unknown);
}

TEST(LlmBadOutput, AReplyOverTheByteLimitIsAbortedNamingTheLimit) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "huge:5000");
  Outcome o = call_llm(models, kAnyObjectTool, R"({"max_output_bytes": 1000})");
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("over the limit of 1000 bytes (max_output_bytes)"), std::string::npos)
      << o.reason;
  EXPECT_TRUE(o.usage_unknown);
  EXPECT_EQ(o.tokens, schema_tool_worst_tokens());
}

TEST(LlmBadOutput, TheModelsFilesLimitsBoundProviderRepliesOverTheTools) {
  FaultServer server;
  auto models = testing::fake_chat_models(server, "huge:5000");
  const char* text_tool = R"({"kind": "llm", "prompt": "p", "max_tokens": 50})";
  EXPECT_TRUE(call_llm(models, text_tool).ok);  // 16 MiB by default
  models.reply_max_output_bytes = 1000;
  Outcome o = call_llm(models, text_tool);
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
  EXPECT_NE(o.reason.find("(max_output_bytes)"), std::string::npos) << o.reason;
  // And over a tool's own lower limit.
  models.reply_max_output_bytes = 100000;
  EXPECT_TRUE(call_llm(models, text_tool, R"({"max_output_bytes": 1000})").ok);
}

TEST(LlmBadOutput, AnErrorPageThatIsNotUtf8IsQuotedOnOneValidLine) {
  FaultServer server;
  Outcome o = call_llm(testing::fake_chat_models(server, "not-utf8"));
  EXPECT_EQ(o.failure, FailureKind::kHttpStatus);
  EXPECT_NE(o.reason.find("HTTP 500: <!DOCTYPE html> <html>"), std::string::npos) << o.reason;
  expect_one_clean_line(o.reason);
  EXPECT_FALSE(o.usage_unknown);  // an error status is not billed
  EXPECT_EQ(o.tokens, 0);
}

}  // namespace
}  // namespace switchyard::tools
