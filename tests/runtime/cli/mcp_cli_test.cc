// `switchyard mcp list` and `switchyard mcp add` as users meet them: the real program against the
// fault MCP server (tests/programs/mcp_server.cc) over stdio. `add` goes from a server to a
// workflow that validates and runs, never overwrites a name already in the file, and leaves the
// file untouched when it refuses (docs/mcp.md#from-a-server-to-a-workflow).

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::parse_json;
using testing::read_text;
using testing::TempDir;

bool mcp_cli_has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(McpCli, ListJsonGivesEachToolThePolicyItsAnnotationsMake) {
  auto r = testing::switchyard({"mcp", "list", "--json", "--", SWITCHYARD_MCP_SERVER});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = parse_json(r.out);
  std::map<std::string, nlohmann::json> hint;
  for (const auto& t : j["tools"]) hint[t["name"]] = t["switchyard"]["idempotent"];
  EXPECT_EQ(hint["echo"], true);           // readOnlyHint
  EXPECT_EQ(hint["fail"], false);          // destructiveHint
  EXPECT_EQ(hint["count"], nullptr);       // no annotations
  EXPECT_EQ(j["protocol"], "2025-11-25");  // server/discover unknown: initialize
}

TEST(McpCli, ListShowsTheNegotiatedRevisionAndTakesADeclaredOne) {
  auto stateless = testing::switchyard({"mcp", "list", "--", SWITCHYARD_MCP_SERVER, "--stateless"});
  ASSERT_EQ(stateless.exit_code, 0) << stateless.err;
  EXPECT_TRUE(mcp_cli_has(stateless.out, "tool(s), protocol 2026-07-28 (stateless)"))
      << stateless.out;
  auto forced = testing::switchyard(
      {"mcp", "list", "--json", "--protocol", "2026-07-28", "--", SWITCHYARD_MCP_SERVER});
  EXPECT_EQ(forced.exit_code, 3) << forced.out;  // a 2025-11-25 server: no fallback
  EXPECT_TRUE(mcp_cli_has(forced.out + forced.err, "server/discover")) << forced.out << forced.err;
  auto bad =
      testing::switchyard({"mcp", "list", "--protocol", "1999", "--", SWITCHYARD_MCP_SERVER});
  EXPECT_NE(bad.exit_code, 0);
}

TEST(McpCli, AddWritesADeclaredProtocolAndTheWorkflowRunsStateless) {
  TempDir dir;
  const std::string wf = dir.file("stateless.json");
  auto r = testing::switchyard({"mcp", "add", wf, "--server", "s", "--tool", "echo", "--protocol",
                                "2026-07-28", "--", SWITCHYARD_MCP_SERVER, "--stateless"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json doc = nlohmann::json::parse(read_text(wf));
  EXPECT_EQ(doc["mcp_servers"]["s"]["protocol"], "2026-07-28");
  auto run = testing::switchyard({"run", wf, "--journal", dir.file("j.db"), "--json", "--input",
                                  R"({"text": "no handshake"})"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(parse_json(run.out)["outputs"]["echo"], (nlohmann::json{{"echo", "no handshake"}}));
}

TEST(McpCli, AddCreatesAWorkflowThatValidatesAndRunsTheServersTool) {
  TempDir dir;
  const std::string wf = dir.file("echo.json");
  auto r = testing::switchyard(
      {"mcp", "add", wf, "--server", "fault", "--tool", "echo", "--", SWITCHYARD_MCP_SERVER});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(mcp_cli_has(r.out, "created " + wf)) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(read_text(wf));
  EXPECT_EQ(doc["mcp_servers"]["fault"], (nlohmann::json{{"argv", {SWITCHYARD_MCP_SERVER}}}));
  // The arguments the inputSchema requires, from the run's input; no `idempotent`: the server's
  // annotations decide it.
  EXPECT_EQ(doc["tools"]["echo"], (nlohmann::json{{"kind", "mcp"},
                                                  {"server", "fault"},
                                                  {"tool", "echo"},
                                                  {"arguments", {{"text", "{{input.text}}"}}},
                                                  {"description", "Echoes its text"}}));
  EXPECT_EQ(testing::switchyard({"validate", wf}).exit_code, 0);
  auto run = testing::switchyard({"run", wf, "--journal", dir.file("j.db"), "--json", "--input",
                                  R"({"text": "from a server to a run"})"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const nlohmann::json result = parse_json(run.out);
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["path"], (nlohmann::json{"Start", "echo", "Done"}));
  EXPECT_EQ(result["outputs"]["echo"], (nlohmann::json{{"echo", "from a server to a run"}}));
}

TEST(McpCli, AddRefusesANameTheFileHasAndLeavesItUntouchedThenAddsUnderAnotherId) {
  TempDir dir;
  const std::string original = R"({
  "format": "switchyard.workflow/v1",
  "name": "mine",
  "start": "Start",
  "goal": "echo",
  "tools": {"echo": {"kind": "mock", "idempotent": true}},
  "edges": [["Start", "echo", 1]]
}
)";
  const std::string wf = dir.write("mine.json", original);
  auto taken = testing::switchyard(
      {"mcp", "add", wf, "--server", "fault", "--tool", "echo", "--", SWITCHYARD_MCP_SERVER});
  EXPECT_EQ(taken.exit_code, 2);
  EXPECT_TRUE(mcp_cli_has(taken.err, "tool 'echo' already exists")) << taken.err;
  EXPECT_EQ(read_text(wf), original);
  auto typo = testing::switchyard(
      {"mcp", "add", wf, "--server", "fault", "--tool", "ecko", "--", SWITCHYARD_MCP_SERVER});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_TRUE(mcp_cli_has(typo.err, "no tool 'ecko' (did you mean echo?)")) << typo.err;
  EXPECT_EQ(read_text(wf), original);

  auto added =
      testing::switchyard({"mcp", "add", wf, "--server", "fault", "--tool", "echo=RemoteEcho",
                           "--tool", "fail", "--json", "--", SWITCHYARD_MCP_SERVER});
  ASSERT_EQ(added.exit_code, 0) << added.err << added.out;
  const nlohmann::json report = parse_json(added.out);
  EXPECT_EQ(report["created"], false);
  ASSERT_EQ(report["added"].size(), 2u);
  EXPECT_EQ(report["added"][0]["id"], "RemoteEcho");
  EXPECT_EQ(report["added"][0]["idempotent_hint"], true);
  EXPECT_EQ(report["added"][1]["idempotent_hint"], false);
  const std::string text = read_text(wf);
  // The user's entries and their order are kept; the new ones are added; it still loads.
  EXPECT_LT(text.find("\"format\""), text.find("\"name\""));
  const nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["tools"]["echo"], (nlohmann::json{{"kind", "mock"}, {"idempotent", true}}));
  EXPECT_EQ(doc["tools"]["RemoteEcho"]["tool"], "echo");
  EXPECT_EQ(doc["tools"]["fail"]["server"], "fault");
  EXPECT_EQ(doc["edges"], (nlohmann::json{{"Start", "echo", 1}}));
  EXPECT_EQ(testing::switchyard({"validate", wf}).exit_code, 0);

  // The same server name for another server is refused; the same server again is shared.
  auto other = testing::switchyard({"mcp", "add", wf, "--server", "fault", "--tool", "count", "--",
                                    SWITCHYARD_MCP_SERVER, "--page-size", "2"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_TRUE(mcp_cli_has(other.err, "declares another server")) << other.err;
  auto shared = testing::switchyard(
      {"mcp", "add", wf, "--server", "fault", "--tool", "count", "--", SWITCHYARD_MCP_SERVER});
  EXPECT_EQ(shared.exit_code, 0) << shared.err;
}

TEST(McpCli, AddOfAServerThatCannotStartExitsThreeAndWritesNothing) {
  TempDir dir;
  const std::string wf = dir.file("none.json");
  auto r = testing::switchyard(
      {"mcp", "add", wf, "--server", "gone", "--all", "--", dir.file("no-such-program")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_FALSE(std::ifstream(wf).good());
}

// The demo's MCP workflow (scripts/demo), its servers' program made this build's: the primary
// server dies mid-call, the run reroutes to the backup server and journals why.
TEST(McpCli, TheMcpRerouteExampleReroutesAroundTheServerThatDies) {
  TempDir dir;
  nlohmann::json w =
      nlohmann::json::parse(read_text(testing::source_path("examples/workflows/mcp-reroute.json")));
  for (auto& [name, server] : w["mcp_servers"].items()) server["argv"][0] = SWITCHYARD_MCP_SERVER;
  const std::string wf = dir.write("mcp-reroute.json", w.dump());
  const std::string journal = dir.file("j.db");
  auto r = testing::switchyard({"run", wf, "--journal", journal, "--json", "--input",
                                R"({"question": "where is the backup?"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json result = parse_json(r.out);
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["path"], (nlohmann::json{"Start", "LookupBackup", "Done"}));
  EXPECT_EQ(result["reroutes"], 1);
  EXPECT_EQ(result["outputs"]["LookupBackup"], (nlohmann::json{{"echo", "where is the backup?"}}));
  auto replay = testing::switchyard({"replay", "last", "--journal", journal});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_TRUE(mcp_cli_has(replay.out, "exited with code 3")) << replay.out;
}

}  // namespace
}  // namespace switchyard
