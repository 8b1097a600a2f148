// The `mcp` tool against the reference server, @modelcontextprotocol/server-everything (pinned by
// tests/mcp-everything/package-lock.json, installed there by scripts/install-mcp-everything,
// which scripts/test runs), over stdio and Streamable HTTP on loopback. Without it installed these
// tests fail, naming the script: they never pass without having run.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/support/subprocess.h"
#include "tests/support/tool_call.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"

namespace switchyard::tools {
namespace {

using std::chrono::milliseconds;

const nlohmann::json kEverythingContext = {{"input", {{"word", "hello"}, {"city", "Chicago"}}},
                                           {"steps", nlohmann::json::object()}};

std::string everything_js() {
  return std::string(SWITCHYARD_SOURCE_DIR) +
         "/tests/mcp-everything/node_modules/@modelcontextprotocol/server-everything/dist/"
         "index.js";
}

bool installed() {
  return std::filesystem::exists(everything_js()) && ::access("/usr/bin/node", X_OK) == 0;
}

#define REQUIRE_EVERYTHING()                                                                     \
  ASSERT_TRUE(installed()) << "the reference MCP server is not installed at " << everything_js() \
                           << " (or node is missing): run "                                      \
                              "scripts/install-mcp-everything (scripts/test runs it)"

Outcome call_everything(const graph::McpServer& server, const std::string& tool,
                        nlohmann::json arguments) {
  graph::McpTool spec;
  spec.server = server;
  spec.tool = tool;
  spec.arguments = std::move(arguments);
  auto adapter = make_mcp_tool("E", spec, milliseconds(20000));
  return testing::invoke_and_wait(*adapter, kEverythingContext);
}

class McpEverything : public ::testing::Test {
 protected:
  void TearDown() override { stop_mcp_sessions(); }
};

void expect_the_reference_tools_work(const graph::McpServer& server) {
  Outcome echo = call_everything(server, "echo", {{"message", "{{input.word}}"}});
  ASSERT_TRUE(echo.ok) << echo.reason;
  EXPECT_EQ(echo.output, "Echo: hello");  // text that is not JSON stays text
  Outcome weather =
      call_everything(server, "get-structured-content", {{"location", "{{input.city}}"}});
  ASSERT_TRUE(weather.ok) << weather.reason;
  EXPECT_EQ(weather.output["temperature"], 36);  // structuredContent
  EXPECT_EQ(weather.output["conditions"], "Light rain / drizzle");
  // The server's inputSchema (a zod enum) refuses another city before the call.
  Outcome refused = call_everything(server, "get-structured-content", {{"location", "Paris"}});
  EXPECT_EQ(refused.failure, FailureKind::kSchemaInvalid);
  EXPECT_NE(refused.reason.find("/arguments/location"), std::string::npos) << refused.reason;
  // The pinned server does not answer server/discover with 2026-07-28 (its SDK predates the
  // stateless revision): protocol "auto" fell back to initialize.
  EXPECT_EQ(mcp_session_protocol(server), "2025-11-25");
}

TEST_F(McpEverything, TheReferenceServerWorksOverStdio) {
  REQUIRE_EVERYTHING();
  graph::McpServer server;
  server.name = "everything-stdio";
  server.argv = {"node", everything_js(), "stdio"};
  expect_the_reference_tools_work(server);
}

// A free loopback port (bound, read, released: the server binds it next).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Whether something accepts connections on the port now.
bool accepting(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST_F(McpEverything, TheReferenceServerWorksOverStreamableHttp) {
  REQUIRE_EVERYTHING();
  const int port = free_port();
  testing::Subprocess node({"/usr/bin/node", everything_js(), "streamableHttp"},
                           {"PORT=" + std::to_string(port)}, "/dev/null");
  // The server says nothing on stdout when it listens: its port is polled (at most 30 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!accepting(port) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(accepting(port)) << "the reference server did not listen on " << port;
  graph::McpServer server;
  server.name = "everything-http";
  server.url = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
  expect_the_reference_tools_work(server);
}

}  // namespace
}  // namespace switchyard::tools
