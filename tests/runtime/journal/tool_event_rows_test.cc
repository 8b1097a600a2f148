// The driver events of MCP tools as the journal's readers check them (runtime/journal/rows.h):
// tool_hint (an MCP server's annotations deciding idempotence) and tool_progress (its progress
// notifications) decode as written; a field of the wrong type is named by its pointer.

#include <gtest/gtest.h>

#include "runtime/journal/rows.h"

namespace switchyard::runtime {
namespace {

TEST(ToolEventRows, ToolHintAndToolProgressDecodeAsWritten) {
  EXPECT_TRUE(check_payload("tool_hint",
                            {{"tool", "Search"}, {"idempotent", true}, {"from", "mcp_annotations"}})
                  .ok());
  EXPECT_TRUE(
      check_payload(
          "tool_progress",
          {{"tool", "Index"}, {"call", 1}, {"progress", 0.5}, {"total", 1}, {"message", "half"}})
          .ok());
  // total and message are optional.
  EXPECT_TRUE(
      check_payload("tool_progress", {{"tool", "Index"}, {"call", 2}, {"progress", 3}}).ok());
}

TEST(ToolEventRows, FieldsOfTheWrongTypeAreNamedByTheirPointer) {
  const std::vector<std::tuple<const char*, const char*, nlohmann::json>> bad = {
      {"tool_hint", "idempotent", "yes"},
      {"tool_hint", "tool", 7},
      {"tool_progress", "progress", "40%"},
      {"tool_progress", "call", "one"},
      {"tool_progress", "message", nlohmann::json::array()}};
  for (const auto& [type, key, value] : bad) {
    nlohmann::json p = {{"tool", "T"}, {"idempotent", true}, {"call", 1}, {"progress", 1}};
    p[key] = value;
    const Status s = check_payload(type, p);
    EXPECT_FALSE(s.ok()) << type << " " << key;
    EXPECT_NE(s.message().find(std::string("/payload/") + key), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace switchyard::runtime
