// The http tool against a real HTTP server on loopback (tests/programs/fault_server.cc): what it
// sends, what it returns, and the kind of every failure.

#include "tools/http_tool.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>

#include "graph/load.h"
#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"
#include "tests/support/tool_call.h"

namespace switchyard::tools {
namespace {

using std::chrono::milliseconds;
using testing::FaultServer;

// Loads a one-tool workflow whose tool T is `tool_json`, and makes its adapter.
struct OneTool {
  std::shared_ptr<const graph::Workflow> workflow;
  std::unique_ptr<Tool> tool;
};

OneTool make(const std::string& tool_json) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "h", "start": "S",
    "goal": "T", "tools": {"CRM": {"kind": "mock"}, "T": )" +
                                tool_json + R"(},
    "edges": [["S", "CRM", 1], ["CRM", "T", 1]]})",
                            "h.json");
  OneTool out;
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.errors[0].to_string();
    out.tool = make_http_tool("T", graph::HttpTool{}, {});
    return out;
  }
  out.workflow = loaded.workflow;
  const graph::Tool& t = loaded.workflow->tool(loaded.workflow->find_tool("T"));
  out.tool = make_http_tool("T", std::get<graph::HttpTool>(t.spec), t.timeout);
  return out;
}

using testing::invoke_and_wait;
using testing::json_quoted;

const nlohmann::json kCustomerContext = {{"input", {{"id", 7}, {"name", "Ada"}}},
                                         {"steps", {{"CRM", {{"output", {{"tier", "gold"}}}}}}}};

TEST(HttpTool, PostsTheStepContextByDefaultAndReturnsTheJsonAnswer) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/ok/crm")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.output["method"], "POST");
  EXPECT_EQ(o.output["path"], "/ok/crm");
  EXPECT_EQ(o.output["body"]["input"], kCustomerContext["input"]);
  EXPECT_EQ(o.output["body"]["steps"], kCustomerContext["steps"]);
  EXPECT_GT(o.latency.count(), 0);
  EXPECT_FALSE(o.simulated);
}

TEST(HttpTool, RendersTemplatesInUrlHeadersAndBody) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "method": "PUT", "url": )" +
                json_quoted(server.url("/ok/customers/{{input.id}}")) +
                R"(, "headers": {"X-Customer": "{{input.name}}"},
                    "body": {"tier": "{{steps.CRM.output.tier}}", "whole": "{{steps.CRM.output}}",
                             "note": "dear {{input.name}}"}})");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.output["method"], "PUT");
  EXPECT_EQ(o.output["path"], "/ok/customers/7");
  EXPECT_EQ(o.output["body"]["tier"], "gold");
  EXPECT_EQ(o.output["body"]["whole"], nlohmann::json({{"tier", "gold"}}));  // the value itself
  EXPECT_EQ(o.output["body"]["note"], "dear Ada");
  auto h =
      make(R"({"kind": "http", "method": "GET", "url": )" + json_quoted(server.url("/headers")) +
           R"(, "headers": {"X-Customer": "{{input.name}}"}})");
  Outcome headers = invoke_and_wait(*h.tool, kCustomerContext);
  ASSERT_TRUE(headers.ok) << headers.reason;
  EXPECT_EQ(headers.output["x-customer"], "Ada");
}

TEST(HttpTool, AMissingTemplateValueFailsWithoutSendingAnything) {
  FaultServer server;
  auto t =
      make(R"({"kind": "http", "url": )" + json_quoted(server.url("/ok/{{input.missing}}")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kTemplate);
  EXPECT_NE(o.reason.find("input.missing"), std::string::npos) << o.reason;
  EXPECT_EQ(server.stats()["requests"], 0);
}

TEST(HttpTool, AnUnexpectedStatusFailsWithItAndTheStartOfTheBody) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/status/500")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kHttpStatus);
  EXPECT_EQ(o.http_status, 500);
  EXPECT_NE(o.reason.find("HTTP 500"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("status 500"), std::string::npos) << o.reason;  // the body's error
}

TEST(HttpTool, ExpectStatusAcceptsTheListedStatuses) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/status/404")) +
                R"(, "expect_status": [404]})");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.output["error"], "status 404");
  auto ok = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/ok")) +
                 R"(, "expect_status": 201})");
  EXPECT_EQ(invoke_and_wait(*ok.tool, kCustomerContext).failure,
            FailureKind::kHttpStatus);  // 200 was not listed
}

TEST(HttpTool, RateLimitedAnswersKeepRetryAfterAndTheRateLimitHeaders) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/ratelimit/3")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kRateLimited);
  EXPECT_EQ(o.http_status, 429);
  ASSERT_TRUE(o.retry_after.has_value());
  EXPECT_EQ(*o.retry_after, milliseconds(3000));
  bool remaining = false;
  for (const auto& [name, value] : o.headers) {
    remaining = remaining || (name == "X-RateLimit-Remaining" && value == "0");
  }
  EXPECT_TRUE(remaining);
}

TEST(HttpTool, KeepsTheRateLimitHeadersAndNeverASecretValue) {
  testing::TempDir dir;
  const std::string routes = dir.write("routes.json", R"({"/login": {"json": {"ok": true},
    "headers": {"X-Api-Key": "s3cr3t", "X-RateLimit-Key": "t0k3n", "X-RateLimit-Remaining": "4",
                "X-Trace": "abc"}}})");
  FaultServer server(routes);
  auto t =
      make(R"({"kind": "http", "url": )" + json_quoted(server.url("/login?api_key=s3cr3t")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  ASSERT_TRUE(o.ok) << o.reason;
  std::map<std::string, std::string> h(o.headers.begin(), o.headers.end());
  EXPECT_EQ(h, (std::map<std::string, std::string>{{"X-RateLimit-Key", "[redacted]"},
                                                   {"X-RateLimit-Remaining", "4"}}));
  // A failure's reason shows the URL without the secret query value.
  auto bad = make(R"({"kind": "http", "url": )" +
                  json_quoted(server.url("/status/503?api_key=s3cr3t")) + "}");
  Outcome failed = invoke_and_wait(*bad.tool, kCustomerContext);
  EXPECT_EQ(failed.reason.find("s3cr3t"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("api_key=[redacted]"), std::string::npos) << failed.reason;
}

TEST(HttpTool, ABodyThatIsNotJsonIsBadOutput) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/invalid-json")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kBadOutput);
}

TEST(HttpTool, AConnectionClosedWithoutAnAnswerIsATransportFailure) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/close")) + "}");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kTransport) << o.reason;
}

// A loopback port nobody listens on: bound, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpTool, ARefusedConnectionIsAConnectFailure) {
  auto t = make(R"({"kind": "http", "url": "http://127.0.0.1:)" + std::to_string(closed_port()) +
                R"(/x"})");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kConnect) << o.reason;
}

TEST(HttpTool, AServiceThatHangsTimesOut) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/hang")) +
                R"(, "timeout_ms": 150})");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.failure, FailureKind::kTimeout) << o.reason;
  EXPECT_GE(o.latency, milliseconds(150));
}

TEST(HttpTool, ASlowServiceIsWaitedFor) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "method": "GET", "url": )" +
                json_quoted(server.url("/slow/200")) + R"(, "timeout_ms": 60000})");
  Outcome o = invoke_and_wait(*t.tool, kCustomerContext);
  ASSERT_TRUE(o.ok) << o.reason;
  EXPECT_EQ(o.output["path"], "/slow/200");
  EXPECT_GE(o.latency, milliseconds(200));
}

TEST(HttpTool, ACancelledCallIsAbortedAtOnce) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/hang")) +
                R"(, "timeout_ms": 60000})");
  auto cancel = std::make_shared<CallCancel>();
  std::promise<Outcome> p;
  Invocation inv;
  inv.context = &kCustomerContext;
  inv.cancel = cancel;
  t.tool->invoke(inv, [&p](Outcome o) { p.set_value(std::move(o)); });
  // Cancel once the server has the request (it counts it when its headers are read).
  server.wait_for_requests(1);
  cancel->cancel();
  Outcome o = p.get_future().get();
  EXPECT_EQ(o.failure, FailureKind::kCancelled);
  EXPECT_LT(o.latency, milliseconds(60000));
}

TEST(HttpTool, ReusesConnectionsAcrossCalls) {
  FaultServer server;
  auto t =
      make(R"({"kind": "http", "method": "GET", "url": )" + json_quoted(server.url("/ok")) + "}");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(invoke_and_wait(*t.tool, kCustomerContext).ok);
  auto stats = server.stats();
  EXPECT_EQ(stats["requests"], 20);
  EXPECT_EQ(stats["connections"], 2);  // one for the 20 calls, one for this stats query
}

// The connection kept for reuse is close-on-exec: a program this process starts, by any means,
// does not inherit it.
TEST(HttpTool, ItsConnectionsAreCloseOnExec) {
  FaultServer server;
  auto t =
      make(R"({"kind": "http", "method": "GET", "url": )" + json_quoted(server.url("/ok")) + "}");
  ASSERT_TRUE(invoke_and_wait(*t.tool, kCustomerContext).ok);
  int connections = 0;
  DIR* d = opendir("/proc/self/fd");
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    const int fd = std::atoi(e->d_name);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (e->d_name[0] == '.' || fd == dirfd(d) ||
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
        peer.sin_family != AF_INET || ntohs(peer.sin_port) != server.port()) {
      continue;
    }
    ++connections;
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << "descriptor " << fd;
  }
  closedir(d);
  EXPECT_EQ(connections, 1);
}

TEST(HttpTool, ManyConcurrentCallsEachReachTheServerExactlyOnce) {
  FaultServer server;
  auto t = make(R"({"kind": "http", "url": )" + json_quoted(server.url("/ok/{{input.n}}")) + "}");
  constexpr int kCalls = 300;
  std::vector<nlohmann::json> contexts(kCalls);
  std::vector<std::promise<Outcome>> answers(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    contexts[i] = {{"input", {{"n", i}}}, {"steps", nlohmann::json::object()}};
    Invocation inv;
    inv.context = &contexts[i];
    t.tool->invoke(inv, [&answers, i](Outcome o) { answers[i].set_value(std::move(o)); });
  }
  for (int i = 0; i < kCalls; ++i) {
    Outcome o = answers[i].get_future().get();
    ASSERT_TRUE(o.ok) << o.reason;
    EXPECT_EQ(o.output["path"], "/ok/" + std::to_string(i));
  }
  auto stats = server.stats();
  EXPECT_EQ(stats["requests"], kCalls);
  for (int i = 0; i < kCalls; i += 37) EXPECT_EQ(stats["by_path"]["/ok/" + std::to_string(i)], 1);
}

}  // namespace
}  // namespace switchyard::tools
