// The workflow's `limits` on tool outputs: defaults, the top level for every tool, a tool's own
// fields over it, and each bad value an error with its pointer.

#include <gtest/gtest.h>

#include "graph/load.h"

namespace switchyard::graph {
namespace {

LoadResult load_with(const std::string& limits, const std::string& crm_extra = "") {
  return load(R"({"format": "switchyard.workflow/v1", "name": "l", "start": "S", "goal": "Pay",
    )" + (limits.empty() ? "" : R"("limits": )" + limits + ",") +
                  R"("tools": {"CRM": {"kind": "http", "url": "http://127.0.0.1:1/crm")" +
                  crm_extra + R"(},
              "Pay": {"kind": "command", "argv": ["pay"]},
              "Ask": {"kind": "llm", "prompt": "p"}},
    "edges": [["S", "CRM", 1], ["CRM", "Pay", 1]]})",
              "l.json");
}

std::string limit_errors(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.to_string() + "\n";
  return out;
}

TEST(WorkflowLimits, DefaultTo16MebibytesAndDepth128) {
  auto r = load_with("");
  ASSERT_TRUE(r.ok()) << limit_errors(r.errors);
  const OutputLimits defaults{.max_output_bytes = 16 << 20, .max_json_depth = 128};
  EXPECT_EQ(r.workflow->limits(), defaults);
  for (const auto& t : r.workflow->tools()) EXPECT_EQ(t.limits, defaults) << t.id;
}

TEST(WorkflowLimits, TheTopLevelAppliesToEveryToolAndAToolsOwnFieldsWin) {
  auto r = load_with(R"({"max_output_bytes": 4096, "max_json_depth": 16})",
                     R"(, "limits": {"max_json_depth": 300})");
  ASSERT_TRUE(r.ok()) << limit_errors(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << limit_errors(r.warnings);
  const Workflow& w = *r.workflow;
  EXPECT_EQ(w.limits(), (OutputLimits{.max_output_bytes = 4096, .max_json_depth = 16}));
  EXPECT_EQ(w.tool(w.find_tool("Pay")).limits, w.limits());
  EXPECT_EQ(w.tool(w.find_tool("Ask")).limits, w.limits());
  EXPECT_EQ(w.tool(w.find_tool("CRM")).limits,
            (OutputLimits{.max_output_bytes = 4096, .max_json_depth = 300}));
}

TEST(WorkflowLimits, BadValuesAreErrorsWithTheirPointers) {
  auto r = load_with(R"({"max_output_bytes": 0, "max_json_depth": "deep", "max_bytes": 1})",
                     R"(, "limits": {"max_output_bytes": 2147483648})");
  ASSERT_FALSE(r.ok());
  const std::string errors = limit_errors(r.errors);
  EXPECT_NE(errors.find("l.json: /limits/max_output_bytes: expected an integer >= 1"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("l.json: /limits/max_json_depth: expected an integer >= 1"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("l.json: /tools/CRM/limits/max_output_bytes: expected an integer >= 1 "
                        "and <= "),
            std::string::npos)
      << errors;
  // Unknown fields are warnings, as everywhere in the format.
  EXPECT_NE(limit_errors(r.warnings).find("/limits/max_bytes"), std::string::npos)
      << limit_errors(r.warnings);
  auto depth = load_with(R"({"max_json_depth": 5000})");
  ASSERT_FALSE(depth.ok());
  EXPECT_NE(limit_errors(depth.errors)
                .find("/limits/max_json_depth: expected an integer >= 1 and <= 1024"),
            std::string::npos)
      << limit_errors(depth.errors);
  auto shape = load_with("[]");
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(limit_errors(shape.errors).find("/limits: expected an object"), std::string::npos)
      << limit_errors(shape.errors);
}

TEST(WorkflowLimits, AToolKindWithoutOutputsWarnsAboutLimits) {
  auto r = load(R"({"format": "switchyard.workflow/v1", "name": "l", "start": "S", "goal": "A",
    "tools": {"A": {"kind": "mock", "limits": {"max_output_bytes": 10}}},
    "edges": [["S", "A", 1]]})",
                "l.json");
  ASSERT_TRUE(r.ok()) << limit_errors(r.errors);
  EXPECT_NE(
      limit_errors(r.warnings).find("/tools/A/limits: unknown field 'limits' for a mock tool"),
      std::string::npos)
      << limit_errors(r.warnings);
}

}  // namespace
}  // namespace switchyard::graph
