#include "graph/lint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/run_command.h"

namespace switchyard::graph {
namespace {

using switchyard::testing::read_text;

// Loads `text` (which must be valid) and lints it.
std::vector<Diagnostic> lint_text(const std::string& text) {
  LoadResult r = load(text, "wf.json");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  if (!r.ok()) return {};
  return lint(*r.workflow, "wf.json");
}

std::string all_warnings(const std::vector<Diagnostic>& warnings) {
  std::string out;
  for (const auto& w : warnings) out += w.to_string() + "\n";
  return out;
}

// The paper's customer-support shape with the payment tool `Pay`; `edges` replaces the edges.
std::string support(const std::string& edges, const std::string& extra = "") {
  return R"({"format": "switchyard.workflow/v1", "name": "t", "start": "Start", "goal": "Done",
    "tools": {"CRM": {"kind": "mock"}, "Pay": {"kind": "mock"}, "Email": {"kind": "mock"},
              "Done": {"kind": "mock"}},
    "edges": )" +
         edges + extra + "}";
}

TEST(Lint, MisspelledToolBecomesADeadEndJunctionAndBothEndsAreWarnedWithDidYouMean) {
  const auto warnings = lint_text(support(R"([["Start", "CRM", 0.1], ["CRM", "Paypal", 0.3],
    ["CRM", "Email", 0.9], ["Pay", "Email", 0.3], ["Email", "Done", 0.1]])"));
  ASSERT_EQ(warnings.size(), 2u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(warnings[0].file, "wf.json");
  EXPECT_EQ(warnings[0].pointer, "/edges/1/1");
  EXPECT_EQ(warnings[0].message,
            "junction 'Paypal' has no way to the goal 'Done': it names no tool or fan-out, so a "
            "route that enters it cannot finish; did you mean 'Pay'?");
  EXPECT_EQ(warnings[1].pointer, "/tools/Pay");
  EXPECT_EQ(warnings[1].message,
            "tool 'Pay' is not reachable from start 'Start': no route calls it, and it is not the "
            "advisor, a compensation or a probe; did you mean 'Pay' where an edge names "
            "'Paypal'?");
}

TEST(Lint, ToolThatNoEdgeNamesIsWarnedWithoutASuggestionWhenNothingIsClose) {
  const auto warnings = lint_text(support(R"([["Start", "CRM", 0.1], ["CRM", "Email", 0.3],
    ["Email", "Done", 0.1]])"));
  ASSERT_EQ(warnings.size(), 1u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].pointer, "/tools/Pay");
  EXPECT_EQ(warnings[0].message,
            "tool 'Pay' is not reachable from start 'Start' (no edge names it): no route calls it, "
            "and it is not the advisor, a compensation or a probe");
}

TEST(Lint, ToolOnlyOnEdgesFromAnUnreachablePartIsWarned) {
  // `Pay` is named by edges, but only edges that start at a node nothing reaches.
  const auto warnings = lint_text(support(R"([["Start", "CRM", 0.1], ["CRM", "Email", 0.3],
    ["Email", "Done", 0.1], ["Legacy", "Pay", 0.1], ["Pay", "Email", 0.1]])"));
  ASSERT_EQ(warnings.size(), 1u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].pointer, "/tools/Pay");
  EXPECT_EQ(warnings[0].message.find("(no edge names it)"), std::string::npos);
}

TEST(Lint, MisspelledJunctionThatStillRoutesSuggestsItForTheUnreachableTool) {
  // `Pya` leads on to Email, so it is no dead end, but the tool `Pay` is never called.
  const auto warnings = lint_text(support(R"([["Start", "CRM", 0.1], ["CRM", "Pya", 0.3],
    ["Pya", "Email", 0.3], ["Email", "Done", 0.1]])"));
  ASSERT_EQ(warnings.size(), 1u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].pointer, "/tools/Pay");
  EXPECT_NE(warnings[0].message.find("did you mean 'Pay' where an edge names 'Pya'?"),
            std::string::npos)
      << warnings[0].message;
}

TEST(Lint, CaseOnlyDifferenceSuggestsTheTool) {
  const auto warnings = lint_text(support(R"([["Start", "CRM", 0.1], ["CRM", "pay", 0.3],
    ["CRM", "Email", 0.4], ["Pay", "Email", 0.3], ["Email", "Done", 0.1]])"));
  ASSERT_EQ(warnings.size(), 2u) << all_warnings(warnings);
  EXPECT_NE(warnings[0].message.find("junction 'pay'"), std::string::npos);
  EXPECT_NE(warnings[0].message.find("did you mean 'Pay'?"), std::string::npos)
      << warnings[0].message;
}

TEST(Lint, PointerNamesTheObjectFormsFieldAndAnEdgeOutOfANodeNothingEnters) {
  // "Orphan" is only ever a source: it is named by the `from` of its first edge.
  const auto warnings = lint_text(support(R"([{"from": "Start", "to": "CRM", "cost": 0.1},
    {"from": "CRM", "to": "Payy", "cost": 0.3}, ["CRM", "Pay", 0.4], ["Pay", "Email", 0.3],
    ["Email", "Done", 0.1], {"from": "Orphan", "to": "Nowhere", "cost": 1}])"));
  ASSERT_EQ(warnings.size(), 3u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].pointer, "/edges/5/to");    // Nowhere (nodes in id order)
  EXPECT_EQ(warnings[1].pointer, "/edges/5/from");  // Orphan
  EXPECT_EQ(warnings[2].pointer, "/edges/1/to");    // Payy
  EXPECT_NE(warnings[2].message.find("did you mean 'Pay'?"), std::string::npos);
}

TEST(Lint, JunctionsThatReachOnlyAFallbackGoalAreNotDeadEnds) {
  // Queue is a junction fallback goal; Hold leads only to it. Neither is a mistake.
  const auto warnings = lint_text(support(R"([["Start", "CRM", 0.1], ["CRM", "Pay", 0.3],
    ["Pay", "Email", 0.3], ["Email", "Done", 0.1], ["CRM", "Hold", 5], ["Hold", "Queue", 0]])",
                                          R"(, "demote_to": ["Queue"])"));
  EXPECT_TRUE(warnings.empty()) << all_warnings(warnings);
}

TEST(Lint, ToolsUsedAsAdvisorCompensationOrProbeAreNotUnreachable) {
  const auto warnings = lint_text(R"({"format": "switchyard.workflow/v1", "name": "t",
    "start": "Start", "goal": "Done",
    "tools": {"Pay": {"kind": "mock", "compensate": "Refund", "probe": "PayPing"},
              "Refund": {"kind": "mock"}, "PayPing": {"kind": "mock"}, "Done": {"kind": "mock"},
              "Oracle": {"kind": "llm", "prompt": "What now? {{goal}}"}},
    "edges": [["Start", "Pay", 0.1], ["Pay", "Done", 0.1]],
    "escalation": {"advisor": "Oracle"}})");
  EXPECT_TRUE(warnings.empty()) << all_warnings(warnings);
}

// A fan-out `Mod` with two branches; `branch0` replaces the first branch's edges.
std::string fanout(const std::string& branch0, const std::string& outer_extra = "") {
  return R"({"format": "switchyard.workflow/v1", "name": "t", "start": "Start", "goal": "Done",
    "tools": {"Text": {"kind": "mock"}, "Image": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "nodes": {"Mod": {"fanout": {"join": "all", "branches": [
      {"start": "T0", "goal": "T9", "edges": )" +
         branch0 + R"(},
      {"start": "I0", "goal": "I9", "edges": [["I0", "Image", 0.1], ["Image", "I9", 0]]}]}}},
    "edges": [["Start", "Mod", 0.1], ["Mod", "Done", 0.1])" +
         outer_extra + "]}";
}

TEST(Lint, BranchJunctionsAndBranchToolsOfAReachableFanoutAreNotWarned) {
  const auto warnings = lint_text(fanout(R"([["T0", "Text", 0.1], ["Text", "T9", 0]])"));
  EXPECT_TRUE(warnings.empty()) << all_warnings(warnings);
}

TEST(Lint, DeadEndJunctionInsideABranchIsWarnedAgainstTheBranchGoal) {
  const auto warnings =
      lint_text(fanout(R"([["T0", "Text", 0.1], ["Text", "T9", 0], ["T0", "Txet", 0.2]])"));
  ASSERT_EQ(warnings.size(), 1u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].pointer, "/nodes/Mod/fanout/branches/0/edges/2/1");
  EXPECT_EQ(warnings[0].message,
            "junction 'Txet' has no way to the branch goal 'T9': it names no tool or fan-out, so a "
            "route that enters it cannot finish; did you mean 'Text'?");
}

TEST(Lint, ToolsOfABranchNothingReachesAreWarned) {
  // The fan-out node is only entered from `Side`, which nothing reaches.
  const std::string text = R"({"format": "switchyard.workflow/v1", "name": "t", "start": "Start",
    "goal": "Done", "tools": {"Text": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "nodes": {"Mod": {"fanout": {"branches": [
      {"start": "T0", "goal": "T9", "edges": [["T0", "Text", 0.1], ["Text", "T9", 0]]}]}}},
    "edges": [["Start", "Done", 0.1], ["Side", "Mod", 0.1], ["Mod", "Done", 0.1]]})";
  const auto warnings = lint_text(text);
  ASSERT_EQ(warnings.size(), 1u) << all_warnings(warnings);
  EXPECT_EQ(warnings[0].pointer, "/tools/Text");
}

TEST(Lint, EditDistanceCountsSwapsOnceAndIgnoresCase) {
  EXPECT_EQ(edit_distance("Email", "Emial"), 1u);
  EXPECT_EQ(edit_distance("SMS", "sms"), 0u);
  EXPECT_EQ(edit_distance("Paypal", "Pay"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Lint, NearMissesAreCloseRelativeToTheirLength) {
  EXPECT_TRUE(near_miss("Paypal", "Pay"));
  EXPECT_TRUE(near_miss("Emial", "Email"));
  EXPECT_TRUE(near_miss("sms", "SMS"));
  EXPECT_FALSE(near_miss("SMS", "SMS"));  // the same id is no miss
  EXPECT_FALSE(near_miss("A", "B"));      // one letter of one is everything
  EXPECT_FALSE(near_miss("Start", "Stripe"));
  EXPECT_FALSE(near_miss("Notification", "Notify"));  // too many edits
}

// No false warnings on the shipped workflows.
void expect_no_warnings_in(const std::string& folder, int at_least) {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    const auto parent = entry.path().parent_path().filename();
    if (parent == "services" || parent == "models") continue;  // not workflows
    LoadResult r = load(read_text(entry.path().string()), entry.path().string());
    ASSERT_TRUE(r.ok()) << entry.path();
    const auto warnings = lint(*r.workflow, entry.path().string());
    EXPECT_TRUE(warnings.empty()) << all_warnings(warnings);
    ++count;
  }
  EXPECT_GE(count, at_least) << folder;
}

TEST(Lint, NoWarningsOnThePaperScenarios) { expect_no_warnings_in(SWITCHYARD_PAPER_DIR, 19); }

TEST(Lint, NoWarningsOnTheTestScenarios) {
  expect_no_warnings_in(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/scenarios", 4);
}

TEST(Lint, NoWarningsOnTheExamples) {
  expect_no_warnings_in(std::string(SWITCHYARD_SOURCE_DIR) + "/examples", 4);
}

}  // namespace
}  // namespace switchyard::graph
