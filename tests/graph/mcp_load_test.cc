// `mcp` tools and the top-level `mcp_servers` map in the loader, the JSON Schema beside it, and
// the "${NAME}" environment references of server env and headers.

#include <gtest/gtest.h>

#include "graph/load.h"
#include "tests/support/run_command.h"

namespace switchyard::graph {
namespace {

std::string servers_file() {
  return std::string(SWITCHYARD_SOURCE_DIR) + "/tests/data/mcp/servers.json";
}

TEST(McpLoad, ServersAndToolsBecomeTheModelWithEachToolHoldingItsServer) {
  LoadResult r = load(switchyard::testing::read_text(servers_file()), servers_file());
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0].to_string();
  const Workflow& w = *r.workflow;
  const Tool& read = w.tool(w.find_tool("Read"));
  EXPECT_EQ(read.kind, ToolKind::kMcp);
  EXPECT_EQ(to_string(read.kind), "mcp");
  EXPECT_EQ(read.timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(read.limits.max_output_bytes, 100000u);
  EXPECT_TRUE(read.idempotent);
  const auto& spec = std::get<McpTool>(read.spec);
  EXPECT_EQ(spec.tool, "read_file");
  EXPECT_EQ(spec.server.name, "files");
  EXPECT_TRUE(spec.server.stdio());
  EXPECT_EQ(spec.server.argv, (std::vector<std::string>{"mcp-files", "--root", "/tmp"}));
  EXPECT_EQ(spec.server.cwd, "/tmp");
  ASSERT_TRUE(spec.arguments.has_value());
  EXPECT_EQ((*spec.arguments)["max"], 10);
  const auto& search = std::get<McpTool>(w.tool(w.find_tool("Search")).spec);
  EXPECT_FALSE(search.server.stdio());
  EXPECT_EQ(search.server.url, "https://mcp.example.com/mcp");
  EXPECT_EQ(search.server.protocol, "2026-07-28");
  EXPECT_EQ(spec.server.protocol, "auto");  // the default: negotiated
  EXPECT_FALSE(search.arguments.has_value());
  // The same declaration is the same session; another declaration another.
  EXPECT_EQ(spec.server.key(), std::get<McpTool>(read.spec).server.key());
  EXPECT_NE(spec.server.key(), search.server.key());
}

TEST(McpLoad, EnvironmentReferencesAreExpandedAndAMissingVariableIsNamedNotShown) {
  auto lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TOKEN") return std::string("s3cret");
    return std::nullopt;
  };
  auto ok = expand_env_refs("Bearer ${TOKEN}; $5 ${TOKEN}", lookup);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "Bearer s3cret; $5 s3cret");
  auto missing = expand_env_refs("${OTHER}", lookup);
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "environment variable OTHER is not set");
  EXPECT_FALSE(expand_env_refs("${TOKEN", lookup).ok());
  EXPECT_FALSE(expand_env_refs("${}", lookup).ok());
  EXPECT_FALSE(expand_env_refs("${A-B}", lookup).ok());
}

TEST(McpLoad, UnknownServerFieldsAreWarnings) {
  auto doc = nlohmann::json::parse(switchyard::testing::read_text(servers_file()));
  doc["mcp_servers"]["files"]["transport"] = "stdio";
  LoadResult r = load(doc.dump(), "w.json");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].pointer, "/mcp_servers/files/transport");
}

}  // namespace
}  // namespace switchyard::graph
