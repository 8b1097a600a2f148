// The `mcp` tool against a real MCP server of our own (tests/programs/mcp_server.cc), over stdio
// and Streamable HTTP: outputs, isError, inputSchema checks, and every fault the server plays
// (crash mid-call, hang, malformed JSON-RPC, wrong ids, huge results, slow answers, session
// expiry) as a clear failure with its kind, never a crash or a hang.

#include "tools/mcp_tool.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <mutex>
#include <regex>

#include "tests/support/subprocess.h"
#include "tests/support/tool_call.h"
#include "tools/mcp_client.h"

namespace switchyard::tools {
namespace {

using std::chrono::milliseconds;
using testing::invoke_and_wait;

const nlohmann::json kContext = {{"input", {{"word", "hello"}, {"n", 7}}},
                                 {"steps", nlohmann::json::object()}};

// Each test its own server process (sessions are keyed by the server's declaration).
graph::McpServer stdio_server(std::vector<std::string> flags = {}) {
  graph::McpServer s;
  s.name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  s.argv = {SWITCHYARD_MCP_SERVER};
  s.argv.insert(s.argv.end(), flags.begin(), flags.end());
  return s;
}

std::unique_ptr<Tool> mcp_tool(const graph::McpServer& server, const std::string& name,
                               std::optional<nlohmann::json> arguments = std::nullopt,
                               milliseconds timeout = milliseconds(10000),
                               graph::OutputLimits limits = {}) {
  graph::McpTool spec;
  spec.server = server;
  spec.tool = name;
  spec.arguments = std::move(arguments);
  return make_mcp_tool("M", spec, timeout, limits);
}

Outcome call(const graph::McpServer& server, const std::string& name,
             std::optional<nlohmann::json> arguments = std::nullopt,
             milliseconds timeout = milliseconds(10000), graph::OutputLimits limits = {}) {
  auto tool = mcp_tool(server, name, std::move(arguments), timeout, limits);
  return invoke_and_wait(*tool, kContext);
}

Invocation invocation(std::shared_ptr<CallCancel> cancel = nullptr) {
  Invocation inv;
  inv.context = &kContext;
  inv.cancel = std::move(cancel);
  return inv;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class McpTool : public ::testing::Test {
 protected:
  void TearDown() override {
    stop_mcp_sessions();
    set_mcp_first_backoff(milliseconds(100));
  }
};

TEST_F(McpTool, StructuredContentIsTheOutputAndArgumentsAreTemplates) {
  Outcome out = call(stdio_server(), "echo", nlohmann::json{{"text", "{{input.word}}!"}});
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.output, (nlohmann::json{{"echo", "hello!"}}));
  EXPECT_GT(out.latency.count(), 0);
}

TEST_F(McpTool, TextContentIsParsedAsJsonWhenItIsJsonAndKeptAsTextOtherwise) {
  const auto server = stdio_server();
  Outcome json_text = call(server, "json_text");
  ASSERT_TRUE(json_text.ok) << json_text.reason;
  EXPECT_EQ(json_text.output, (nlohmann::json{{"from", "text"}}));
  Outcome plain = call(server, "plain_text");
  ASSERT_TRUE(plain.ok) << plain.reason;
  EXPECT_EQ(plain.output, "hello, not JSON");
  Outcome two = call(server, "two_items");
  ASSERT_TRUE(two.ok) << two.reason;
  EXPECT_EQ(two.output, (nlohmann::json{1, "two"}));
}

TEST_F(McpTool, IsErrorIsAFailedStepWithTheServersMessage) {
  Outcome out = call(stdio_server(), "fail");
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kToolError);
  EXPECT_TRUE(contains(out.reason, "the tool failed on purpose")) << out.reason;
}

TEST_F(McpTool, AJsonRpcErrorIsAFailedStepWithItsCodeAndMessage) {
  Outcome out = call(stdio_server(), "rpc_error");
  EXPECT_EQ(out.failure, FailureKind::kToolError);
  EXPECT_TRUE(contains(out.reason, "-32602")) << out.reason;
  EXPECT_TRUE(contains(out.reason, "invalid params on purpose")) << out.reason;
}

TEST_F(McpTool, ArgumentsThatMissTheInputSchemaFailBeforeTheCallNamingThePointer) {
  const auto server = stdio_server();
  Outcome out = call(server, "echo", nlohmann::json{{"text", "{{input.n}}"}});  // a number
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kSchemaInvalid);
  EXPECT_TRUE(contains(out.reason, "/text")) << out.reason;
  EXPECT_TRUE(contains(out.reason, "inputSchema")) << out.reason;
  Outcome count = call(server, "count");  // the refused call never reached the server
  ASSERT_TRUE(count.ok) << count.reason;
  EXPECT_EQ(count.output["calls"], 1);
}

TEST_F(McpTool, ItsAnnotationsBecomeItsIdempotentHintOnceItHasReadToolsList) {
  const auto server = stdio_server();
  auto echo = mcp_tool(server, "echo", nlohmann::json{{"text", "x"}});  // readOnlyHint
  auto fail = mcp_tool(server, "fail");                                 // destructiveHint
  auto plain = mcp_tool(server, "plain_text");                          // no annotations
  EXPECT_EQ(echo->idempotent_hint(), std::nullopt);  // not known before the first call
  ASSERT_TRUE(invoke_and_wait(*echo, kContext).ok);
  EXPECT_FALSE(invoke_and_wait(*fail, kContext).ok);
  ASSERT_TRUE(invoke_and_wait(*plain, kContext).ok);
  EXPECT_EQ(echo->idempotent_hint(), true);
  EXPECT_EQ(fail->idempotent_hint(), false);
  EXPECT_EQ(plain->idempotent_hint(), std::nullopt);
}

TEST_F(McpTool, AToolTheServerDoesNotListIsUnavailable) {
  Outcome out = call(stdio_server(), "no_such_tool");
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(out.reason, "has no tool named 'no_such_tool'")) << out.reason;
}

TEST_F(McpTool, ToolsListFollowsEveryPage) {
  std::promise<McpReply> p;
  mcp_list_tools(stdio_server({"--page-size", "3"}), McpRequestOptions{},
                 [&p](McpReply r) { p.set_value(std::move(r)); });
  McpReply r = p.get_future().get();
  ASSERT_EQ(r.failure, FailureKind::kNone) << r.error;
  ASSERT_TRUE(r.result.is_array());
  EXPECT_EQ(r.result.size(), 24u);
  EXPECT_EQ(r.result[0]["name"], "echo");
  EXPECT_EQ(r.result[23]["name"], "fail");
}

TEST_F(McpTool, OneSessionPerServerIsSharedByItsTools) {
  const auto server = stdio_server();
  Outcome first = call(server, "count");
  Outcome second = call(server, "count");
  ASSERT_TRUE(first.ok && second.ok) << first.reason << second.reason;
  EXPECT_EQ(first.output["pid"], second.output["pid"]);
  EXPECT_EQ(second.output["calls"], 2);
  EXPECT_EQ(mcp_server_pids().size(), 1u);
}

TEST_F(McpTool, AServerThatCrashesMidCallFailsTheCallAndIsStartedAgain) {
  set_mcp_first_backoff(milliseconds(0));
  const auto server = stdio_server();
  Outcome before = call(server, "count");
  ASSERT_TRUE(before.ok) << before.reason;
  Outcome crash = call(server, "crash");
  EXPECT_EQ(crash.failure, FailureKind::kTransport);
  EXPECT_TRUE(contains(crash.reason, "exited with code 3")) << crash.reason;
  Outcome after = call(server, "count");
  ASSERT_TRUE(after.ok) << after.reason;
  EXPECT_NE(after.output["pid"], before.output["pid"]);
  EXPECT_EQ(after.output["calls"], 1);
}

TEST_F(McpTool, AServerKilledFromOutsideIsAFailureThenUnavailableDuringTheBackoff) {
  set_mcp_first_backoff(std::chrono::hours(1));
  const auto server = stdio_server();
  ASSERT_TRUE(call(server, "count").ok);
  auto hang = mcp_tool(server, "hang");
  std::promise<Outcome> p;
  hang->invoke(invocation(), [&p](Outcome o) { p.set_value(std::move(o)); });
  const auto pids = mcp_server_pids();
  ASSERT_EQ(pids.size(), 1u);
  ::kill(pids[0], SIGKILL);
  Outcome killed = p.get_future().get();
  EXPECT_EQ(killed.failure, FailureKind::kTransport);
  EXPECT_TRUE(contains(killed.reason, "killed by signal 9")) << killed.reason;
  Outcome during = call(server, "count");
  EXPECT_EQ(during.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(during.reason, "restarting in")) << during.reason;
}

// A write to a server that no longer reads its stdin must fail as EPIPE, never raise SIGPIPE
// (which would kill the whole process: this test binary, or a service embedding us).
TEST_F(McpTool, AServerThatClosedItsStdinFailsTheNextCallWithoutKillingUs) {
  set_mcp_first_backoff(milliseconds(0));
  const auto server = stdio_server();
  Outcome closed = call(server, "close_stdin");
  ASSERT_TRUE(closed.ok) << closed.reason;
  Outcome next = call(server, "count", std::nullopt, milliseconds(20000));
  EXPECT_EQ(next.failure, FailureKind::kTransport);
  EXPECT_TRUE(contains(next.reason, "does not read its stdin")) << next.reason;
  Outcome again = call(server, "count");  // a new server was started
  EXPECT_TRUE(again.ok) << again.reason;
}

TEST_F(McpTool, AHungCallTimesOutAndTheServerIsToldToCancelIt) {
  const auto server = stdio_server();
  Outcome out = call(server, "hang", std::nullopt, milliseconds(200));
  EXPECT_EQ(out.failure, FailureKind::kTimeout);
  EXPECT_TRUE(contains(out.reason, "within 200 ms")) << out.reason;
  Outcome seen = call(server, "cancelled");
  ASSERT_TRUE(seen.ok) << seen.reason;
  EXPECT_EQ(seen.output["cancelled"].size(), 1u);
}

TEST_F(McpTool, ACancelledCallEndsAtOnceAndTheServerIsToldToCancelIt) {
  const auto server = stdio_server();
  ASSERT_TRUE(call(server, "count").ok);  // the session is up: the hang is sent
  auto cancel = std::make_shared<CallCancel>();
  auto hang = mcp_tool(server, "hang");
  std::promise<Outcome> p;
  hang->invoke(invocation(cancel), [&p](Outcome o) { p.set_value(std::move(o)); });
  // The cancel may come before or after the request is written; either way the call ends.
  cancel->cancel();
  Outcome out = p.get_future().get();
  EXPECT_EQ(out.failure, FailureKind::kCancelled);
  Outcome alive = call(server, "count");
  EXPECT_TRUE(alive.ok) << alive.reason;
}

TEST_F(McpTool, MalformedJsonRpcFailsTheCallAndTheServerIsStartedAgain) {
  set_mcp_first_backoff(milliseconds(0));
  const auto server = stdio_server();
  Outcome out = call(server, "malformed");
  EXPECT_EQ(out.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(out.reason, "not JSON-RPC")) << out.reason;
  Outcome after = call(server, "count");
  ASSERT_TRUE(after.ok) << after.reason;
  EXPECT_EQ(after.output["calls"], 1);  // a new process
}

TEST_F(McpTool, AnAnswerWithAnotherIdIsIgnoredAndTheCallTimesOut) {
  Outcome out = call(stdio_server(), "wrong_id", std::nullopt, milliseconds(200));
  EXPECT_EQ(out.failure, FailureKind::kTimeout);
}

TEST_F(McpTool, AnAnswerWithNeitherResultNorErrorIsBadOutput) {
  Outcome out = call(stdio_server(), "no_result");
  EXPECT_EQ(out.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(out.reason, "neither result nor error")) << out.reason;
}

TEST_F(McpTool, AResultOverTheOutputLimitIsBadOutputNamingTheLimit) {
  const auto server = stdio_server();
  graph::OutputLimits limits;
  limits.max_output_bytes = 100000;
  Outcome out =
      call(server, "huge", nlohmann::json{{"bytes", 300000}}, milliseconds(10000), limits);
  EXPECT_EQ(out.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(out.reason, "max_output_bytes")) << out.reason;
  Outcome fits =
      call(server, "huge", nlohmann::json{{"bytes", 50000}}, milliseconds(10000), limits);
  ASSERT_TRUE(fits.ok) << fits.reason;
  EXPECT_EQ(fits.output["data"].get<std::string>().size(), 50000u);
}

TEST_F(McpTool, ASlowAnswerDoesNotHoldBackOtherCalls) {
  const auto server = stdio_server();
  ASSERT_TRUE(call(server, "count").ok);
  auto slow = mcp_tool(server, "slow", nlohmann::json{{"ms", 2000}});
  std::promise<Outcome> p;
  slow->invoke(invocation(), [&p](Outcome o) { p.set_value(std::move(o)); });
  auto slow_done = p.get_future();
  Outcome quick = call(server, "echo", nlohmann::json{{"text", "quick"}});
  ASSERT_TRUE(quick.ok) << quick.reason;
  EXPECT_EQ(slow_done.wait_for(milliseconds(0)), std::future_status::timeout);
  Outcome slow_out = slow_done.get();
  ASSERT_TRUE(slow_out.ok) << slow_out.reason;
  EXPECT_EQ(slow_out.output["slept_ms"], 2000);
}

TEST_F(McpTool, AProgramThatCannotStartIsUnavailable) {
  graph::McpServer s = stdio_server();
  s.argv = {"/nonexistent/mcp-server"};
  Outcome out = call(s, "echo");
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(out.reason, "cannot run /nonexistent/mcp-server")) << out.reason;
}

TEST_F(McpTool, AMissingEnvironmentVariableIsNamedAndTheServerIsNotStarted) {
  graph::McpServer s = stdio_server();
  s.env = {{"TOKEN", "${SWITCHYARD_TEST_SURELY_UNSET}"}};
  Outcome out = call(s, "echo");
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(out.reason, "SWITCHYARD_TEST_SURELY_UNSET is not set")) << out.reason;
  EXPECT_TRUE(mcp_server_pids().empty());
}

TEST_F(McpTool, AServerSpeakingAnUnknownRevisionIsRefusedAtTheHandshake) {
  Outcome out = call(stdio_server({"--version", "1999-01-01"}), "echo");
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(out.reason, "1999-01-01")) << out.reason;
}

// --- Streamable HTTP ---------------------------------------------------------------------------

struct HttpServer {
  explicit HttpServer(std::vector<std::string> flags = {})
      : process([&] {
          std::vector<std::string> argv = {SWITCHYARD_MCP_SERVER, "--http", "--exit-on-stdin-eof"};
          argv.insert(argv.end(), flags.begin(), flags.end());
          return argv;
        }()) {
    auto line = process.read_line();
    std::smatch m;
    if (line && std::regex_search(*line, m, std::regex("listening on (\\S+)"))) {
      url = "http://" + m[1].str() + "/mcp";
    }
    spec.name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    spec.url = url;
  }
  testing::Subprocess process;
  std::string url;
  graph::McpServer spec;
};

TEST_F(McpTool, StreamableHttpCallsCarryTheSessionAndTheirOutputs) {
  HttpServer server;
  ASSERT_FALSE(server.url.empty());
  Outcome echo = call(server.spec, "echo", nlohmann::json{{"text", "{{input.word}}"}});
  ASSERT_TRUE(echo.ok) << echo.reason;
  EXPECT_EQ(echo.output, (nlohmann::json{{"echo", "hello"}}));
  Outcome count = call(server.spec, "count");
  ASSERT_TRUE(count.ok) << count.reason;
  EXPECT_EQ(count.output["calls"], 2);  // the same session (the server refuses calls without one)
  Outcome fail = call(server.spec, "fail");
  EXPECT_EQ(fail.failure, FailureKind::kToolError);
}

TEST_F(McpTool, StreamableHttpAnswersAsAnEventStreamAreRead) {
  HttpServer server({"--sse"});
  Outcome out = call(server.spec, "json_text");
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.output, (nlohmann::json{{"from", "text"}}));
}

// Invokes `tool` with a progress reporter; its outcome and the reports, in order.
std::pair<Outcome, std::vector<nlohmann::json>> call_with_progress(Tool& tool) {
  auto reports = std::make_shared<std::vector<nlohmann::json>>();
  auto mu = std::make_shared<std::mutex>();
  Invocation inv = invocation();
  inv.progress = [reports, mu](nlohmann::json r) {
    std::lock_guard lock(*mu);
    reports->push_back(std::move(r));
  };
  std::promise<Outcome> p;
  tool.invoke(inv, [&p](Outcome o) { p.set_value(std::move(o)); });
  Outcome out = p.get_future().get();
  std::lock_guard lock(*mu);
  return {std::move(out), *reports};
}

std::vector<nlohmann::json> three_steps() {
  std::vector<nlohmann::json> steps;
  for (int i = 1; i <= 3; ++i) {
    steps.push_back({{"progress", i}, {"total", 3}, {"message", "step " + std::to_string(i)}});
  }
  return steps;
}

TEST_F(McpTool, ProgressNotificationsForACallReachItsReporterBeforeItsOutcome) {
  const auto server = stdio_server();
  auto tool = mcp_tool(server, "progress", nlohmann::json{{"steps", 3}});
  auto [out, reports] = call_with_progress(*tool);
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_TRUE(out.output["token"].is_number_integer()) << out.output;  // _meta.progressToken
  EXPECT_EQ(reports, three_steps());
  // Without a reporter, no progressToken is sent (and the server sends no progress).
  Outcome plain = invoke_and_wait(*tool, kContext);
  ASSERT_TRUE(plain.ok) << plain.reason;
  EXPECT_EQ(plain.output["token"], nullptr);
}

TEST_F(McpTool, ProgressNotificationsInAnHttpEventStreamReachTheReporter) {
  HttpServer server({"--sse"});
  auto tool = mcp_tool(server.spec, "progress", nlohmann::json{{"steps", 3}});
  auto [out, reports] = call_with_progress(*tool);
  ASSERT_TRUE(out.ok) << out.reason;
  // (The stream's first notification has no progressToken: ignored.)
  EXPECT_EQ(reports, three_steps());
}

TEST_F(McpTool, AnExpiredHttpSessionIsRenewedAndTheCallSentAgain) {
  HttpServer server({"--expire-after", "1"});
  Outcome first = call(server.spec, "count");
  ASSERT_TRUE(first.ok) << first.reason;
  Outcome second = call(server.spec, "count");  // 404 on the old session, then a new one
  ASSERT_TRUE(second.ok) << second.reason;
  EXPECT_EQ(second.output["calls"], 2);  // the refused request never reached the tool
}

TEST_F(McpTool, AStreamableHttpServerThatIsDownIsAConnectFailure) {
  graph::McpServer s;
  s.name = "down";
  s.url = "http://127.0.0.1:1/mcp";
  Outcome out = call(s, "echo");
  EXPECT_EQ(out.failure, FailureKind::kConnect);
}

TEST_F(McpTool, AHungHttpCallTimesOut) {
  HttpServer server;
  Outcome out = call(server.spec, "hang", std::nullopt, milliseconds(300));
  EXPECT_EQ(out.failure, FailureKind::kTimeout);
}

// --- protocol revisions ------------------------------------------------------------------------

// One request through the client, waited for.
McpReply request(const graph::McpServer& server, std::string method, nlohmann::json params,
                 McpRequestOptions options = {}) {
  std::promise<McpReply> p;
  mcp_request(server, std::move(method), std::move(params), std::move(options),
              [&p](McpReply r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

// The `meta` tool's answer (the request's _meta and headers, as the server saw them).
nlohmann::json meta_seen(const graph::McpServer& server) {
  McpRequestOptions options;
  options.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  McpReply r = request(server, "tools/call",
                       {{"name", "meta"}, {"arguments", nlohmann::json::object()}}, options);
  EXPECT_EQ(r.failure, FailureKind::kNone) << r.error;
  EXPECT_FALSE(r.rpc_error) << r.error;
  return r.result["structuredContent"];
}

graph::McpServer with_protocol(graph::McpServer s, std::string protocol) {
  s.protocol = std::move(protocol);
  return s;
}

TEST_F(McpTool, AutoSpeaksTheStatelessRevisionToAServerWhoseDiscoverListsIt) {
  const auto server = stdio_server({"--stateless"});  // refuses initialize and calls without _meta
  Outcome echo = call(server, "echo", nlohmann::json{{"text", "{{input.word}}"}});
  ASSERT_TRUE(echo.ok) << echo.reason;
  EXPECT_EQ(echo.output, (nlohmann::json{{"echo", "hello"}}));
  EXPECT_EQ(mcp_session_protocol(server), "2026-07-28");
  const nlohmann::json seen = meta_seen(server);
  // One _meta: the revision's keys merged with the trace context.
  EXPECT_EQ(seen["meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
  EXPECT_EQ(seen["meta"]["io.modelcontextprotocol/clientCapabilities"], nlohmann::json::object());
  EXPECT_EQ(seen["meta"]["io.modelcontextprotocol/clientInfo"]["name"], "switchyard");
  EXPECT_EQ(seen["meta"]["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

TEST_F(McpTool, AutoSpeaksTheStatelessRevisionOverStreamableHttpWithItsHeaderAndNoSession) {
  HttpServer server({"--stateless"});  // 400 without the MCP-Protocol-Version header
  Outcome count = call(server.spec, "count");
  ASSERT_TRUE(count.ok) << count.reason;
  EXPECT_EQ(mcp_session_protocol(server.spec), "2026-07-28");
  const nlohmann::json seen = meta_seen(server.spec);
  EXPECT_EQ(seen["protocol_header"], "2026-07-28");
  EXPECT_EQ(seen["meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
}

TEST_F(McpTool, AutoFallsBackToInitializeWhenServerDiscoverIsAnUnknownMethod) {
  const auto server = stdio_server();  // 2025-11-25 only: server/discover is -32601
  Outcome echo = call(server, "echo", nlohmann::json{{"text", "x"}});
  ASSERT_TRUE(echo.ok) << echo.reason;
  EXPECT_EQ(mcp_session_protocol(server), "2025-11-25");
  const nlohmann::json seen = meta_seen(server);
  EXPECT_FALSE(seen["meta"].contains("io.modelcontextprotocol/protocolVersion")) << seen;
  EXPECT_TRUE(seen["meta"].contains("traceparent")) << seen;
}

TEST_F(McpTool, AutoFallsBackToInitializeWhenServerDiscoverIsRefusedWithAnHttp4xx) {
  HttpServer server;  // 2025-11-25 only: a request without a session is HTTP 400
  Outcome count = call(server.spec, "count");
  ASSERT_TRUE(count.ok) << count.reason;
  EXPECT_EQ(mcp_session_protocol(server.spec), "2025-11-25");
  EXPECT_EQ(meta_seen(server.spec)["protocol_header"], "2025-11-25");
}

TEST_F(McpTool, ADeclaredRevisionIsTheOnlyOneTried) {
  // 2025-11-25 to a stateless server: initialize, which it does not know.
  Outcome old = call(with_protocol(stdio_server({"--stateless"}), "2025-11-25"), "echo");
  EXPECT_EQ(old.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(old.reason, "initialize")) << old.reason;
  EXPECT_TRUE(contains(old.reason, "-32601")) << old.reason;
  // 2026-07-28 to a server of 2025-11-25: no fallback.
  Outcome stateless = call(with_protocol(stdio_server(), "2026-07-28"), "echo");
  EXPECT_EQ(stateless.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(stateless.reason, "server/discover")) << stateless.reason;
  EXPECT_TRUE(contains(stateless.reason, "protocol 2026-07-28 is required")) << stateless.reason;
  // And each works with the server that speaks it.
  const auto forced = with_protocol(stdio_server({"--stateless"}), "2026-07-28");
  Outcome ok = call(forced, "echo", nlohmann::json{{"text", "x"}});
  ASSERT_TRUE(ok.ok) << ok.reason;
  EXPECT_EQ(mcp_session_protocol(forced), "2026-07-28");
  const auto legacy = with_protocol(stdio_server(), "2025-11-25");
  ASSERT_TRUE(call(legacy, "echo", nlohmann::json{{"text", "x"}}).ok);
  EXPECT_EQ(mcp_session_protocol(legacy), "2025-11-25");
}

TEST_F(McpTool, AServerThatClaimsTheStatelessRevisionButDoesNotSpeakItFailsClearly) {
  // Its server/discover lists 2026-07-28, but it refuses requests without initialize.
  Outcome out = call(stdio_server({"--discover-lies"}), "echo", nlohmann::json{{"text", "x"}});
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_TRUE(contains(out.reason, "tools/list")) << out.reason;
  EXPECT_TRUE(contains(out.reason, "not initialized")) << out.reason;
  HttpServer http({"--discover-lies"});
  Outcome over_http = call(http.spec, "echo", nlohmann::json{{"text", "x"}});
  EXPECT_EQ(over_http.failure, FailureKind::kHttpStatus);
  EXPECT_TRUE(contains(over_http.reason, "HTTP 400")) << over_http.reason;
  // A stateless answer this client does not speak (a request for input) is bad_output.
  Outcome input = call(stdio_server({"--stateless", "--result-type", "input_required"}), "echo",
                       nlohmann::json{{"text", "x"}});
  EXPECT_EQ(input.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(input.reason, "resultType")) << input.reason;
  EXPECT_TRUE(contains(input.reason, "input_required")) << input.reason;
}

// --- pure parts --------------------------------------------------------------------------------

TEST(McpReplies, DiscoverResultsAnswersAndHttpBodiesAreReadWithPointers) {
  auto d = read_discover_result(
      {{"supportedVersions", {"2025-11-25", "2026-07-28"}}, {"serverInfo", {{"name", "s"}}}});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->stateless);
  EXPECT_EQ(d->server_info["name"], "s");
  auto old = read_discover_result({{"supportedVersions", {"2025-11-25"}}});
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->stateless);
  auto bad = read_discover_result({{"supportedVersions", {"2026-07-28", 5}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.status().message(), "/result/supportedVersions/1"))
      << bad.status().message();
  EXPECT_FALSE(read_discover_result(nlohmann::json::array()).ok());

  McpReply error = read_mcp_answer(
      {{"jsonrpc", "2.0"}, {"id", 1}, {"error", {{"code", -32601}, {"message", "no"}}}}, "w", true);
  EXPECT_TRUE(error.rpc_error);
  EXPECT_EQ(error.error, "w: JSON-RPC error -32601: no");
  McpReply odd =
      read_mcp_answer({{"jsonrpc", "2.0"}, {"id", 1}, {"result", {{"resultType", 3}}}}, "w", true);
  EXPECT_EQ(odd.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(odd.error, "/result/resultType")) << odd.error;
  McpReply legacy = read_mcp_answer(
      {{"jsonrpc", "2.0"}, {"id", 1}, {"result", {{"resultType", "other"}}}}, "w", false);
  EXPECT_EQ(legacy.failure, FailureKind::kNone);  // resultType means nothing in 2025-11-25

  nlohmann::json tools = nullptr;
  std::string next;
  ASSERT_TRUE(
      read_tools_page({{"tools", {{{"name", "a"}}}}, {"nextCursor", "2"}}, tools, next).ok());
  EXPECT_EQ(tools.size(), 1u);
  EXPECT_EQ(next, "2");
  Status page =
      read_tools_page({{"tools", nlohmann::json::array()}, {"nextCursor", 2}}, tools, next);
  EXPECT_TRUE(contains(page.message(), "/result/nextCursor")) << page.message();

  auto batch = parse_http_answer("application/json", R"([{"jsonrpc":"2.0","id":1,"result":{}}])",
                                 graph::OutputLimits{});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->size(), 1u);
  auto stream = parse_http_answer("text/event-stream; charset=utf-8",
                                  "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
                                  graph::OutputLimits{});
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  EXPECT_EQ(stream->size(), 1u);
  EXPECT_FALSE(parse_http_answer("application/json", R"({"id":1})", graph::OutputLimits{}).ok());
}

TEST(McpCallOutcome, MalformedResultsAreBadOutputNamingThePointer) {
  graph::OutputLimits limits;
  Outcome not_object = mcp_call_outcome("M", nlohmann::json::array(), limits);
  EXPECT_EQ(not_object.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(not_object.reason, "/result")) << not_object.reason;
  Outcome bad_flag = mcp_call_outcome("M", {{"isError", "yes"}}, limits);
  EXPECT_EQ(bad_flag.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(bad_flag.reason, "/result/isError")) << bad_flag.reason;
  Outcome bad_content = mcp_call_outcome("M", {{"content", 5}}, limits);
  EXPECT_EQ(bad_content.failure, FailureKind::kBadOutput);
  EXPECT_TRUE(contains(bad_content.reason, "/result/content")) << bad_content.reason;
  Outcome deep = mcp_call_outcome(
      "M", {{"content", {{{"type", "text"}, {"text", std::string(200, '[')}}}}}, limits);
  ASSERT_TRUE(deep.ok);  // text that is not JSON (too deep, unclosed) stays text
  EXPECT_TRUE(deep.output.is_string());
}

TEST(McpAnnotations, ReadOnlyOrIdempotentHintsMakeAToolIdempotentAndDestructiveOnesDoNot) {
  auto hint = [](nlohmann::json annotations) {
    return mcp_idempotent_hint({{"name", "t"}, {"annotations", annotations}});
  };
  EXPECT_EQ(hint({{"readOnlyHint", true}}), true);
  EXPECT_EQ(hint({{"idempotentHint", true}, {"destructiveHint", true}}), true);
  EXPECT_EQ(hint({{"destructiveHint", true}}), false);
  EXPECT_EQ(hint({{"readOnlyHint", "true"}}), std::nullopt);  // not a boolean: no hint
  EXPECT_EQ(hint(nlohmann::json::object()), std::nullopt);
  EXPECT_EQ(mcp_idempotent_hint({{"name", "t"}}), std::nullopt);
}

TEST(McpSse, EventDataAreParsedAndOtherFieldsSkipped) {
  auto m = parse_sse_messages(
      ": comment\nevent: message\nid: 3\ndata: {\"a\":\ndata: 1}\n\n"
      "data: [2]\r\n\r\nretry: 10\n\nid: 4\ndata:\n\n",
      graph::OutputLimits{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0], (nlohmann::json{{"a", 1}}));
  EXPECT_EQ((*m)[1], (nlohmann::json{2}));
  auto bad = parse_sse_messages("data: {nope\n\n", graph::OutputLimits{});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace switchyard::tools
