// Loading approval gates (docs/waits.md#approval-before-a-tool): a tool's own `approval` and
// `policy.approval` put a wait tool "<tool>:approval" before every node of each gated tool, in
// the outer graph and in fan-out branches; every bad field is an error with its pointer.

#include <gtest/gtest.h>

#include <string>

#include "graph/load.h"

namespace switchyard::graph {
namespace {

std::string approval_doc(
    const std::string& tools, const std::string& policy = "{}",
    const std::string& edges = R"([["Start", "Pay", 1], ["Pay", "Done", 2]])") {
  return R"({"format": "switchyard.workflow/v1", "name": "a", "start": "Start", "goal": "Done",
    "policy": )" +
         policy + R"(, "tools": {)" + tools + R"(}, "edges": )" + edges + "}";
}

const std::string kApprovalTools =
    R"("Pay": {"kind": "mock", "price_usd": 3 %s}, "Log": {"kind": "mock", "idempotent": true},
       "Done": {"kind": "mock", "idempotent": true})";

std::string approval_tools(const std::string& pay_fields) {
  std::string t = kApprovalTools;
  return t.replace(t.find("%s"), 2, pay_fields);
}

// The ids of the nodes an edge of `g` leads to from node `from`.
std::vector<std::string> approval_next(const Graph& g, const std::string& from) {
  std::vector<std::string> out;
  for (auto e : g.out_edges(g.find(from))) out.push_back(g.node(g.edges()[e].to).id);
  return out;
}

TEST(ApprovalLoad, AToolsOwnApprovalPutsAGateBeforeItsNode) {
  auto r = load(approval_doc(approval_tools(
                    R"(, "approval": {"name": "pay out", "timeout_ms": 60000,
                                     "on_timeout": "escalate"})")),
                "a.json");
  ASSERT_TRUE(r.ok()) << r.errors.at(0).pointer << ": " << r.errors.at(0).message;
  const Workflow& w = *r.workflow;
  const ToolIndex gate = w.find_tool("Pay:approval");
  ASSERT_NE(gate, kNoIndex);
  EXPECT_EQ(w.tool(gate).kind, ToolKind::kWait);
  EXPECT_TRUE(w.tool(gate).idempotent);
  const auto& spec = std::get<WaitTool>(w.tool(gate).spec);
  EXPECT_EQ(spec.kind, WaitTool::Kind::kApproval);
  EXPECT_EQ(spec.name, "pay out");
  EXPECT_EQ(spec.gates, "Pay");
  EXPECT_EQ(spec.timeout.count(), 60000);
  EXPECT_EQ(spec.on_timeout, WaitTool::OnTimeout::kEscalate);
  EXPECT_EQ(approval_next(w.graph(), "Start"), (std::vector<std::string>{"Pay:approval"}));
  EXPECT_EQ(approval_next(w.graph(), "Pay:approval"), (std::vector<std::string>{"Pay"}));
  // The edge into the tool keeps its cost; the gate's edge to the tool costs nothing.
  const Graph& g = w.graph();
  for (const Edge& e : g.edges()) {
    if (g.node(e.to).id == "Pay:approval") {
      EXPECT_EQ(e.cost, 1);
    }
    if (g.node(e.from).id == "Pay:approval") {
      EXPECT_EQ(e.cost, 0);
    }
  }
  // The source stays the file as written.
  EXPECT_FALSE(w.source()["tools"].contains("Pay:approval"));
}

TEST(ApprovalLoad, ThePolicyGatesNonIdempotentAndPricedToolsAndATrueOrFalseOfTheToolWins) {
  // non_idempotent: Pay (not idempotent) is gated; Log and Done are idempotent.
  auto r =
      load(approval_doc(approval_tools(""), R"({"approval": {"non_idempotent": true}})"), "a.json");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.workflow->find_tool("Pay:approval"), kNoIndex);
  EXPECT_EQ(r.workflow->find_tool("Done:approval"), kNoIndex);
  EXPECT_EQ(std::get<WaitTool>(r.workflow->tool(r.workflow->find_tool("Pay:approval")).spec).name,
            "Pay");
  // above_usd: Pay costs $3.
  r = load(approval_doc(approval_tools(""), R"({"approval": {"above_usd": 2.5}})"), "a.json");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.workflow->find_tool("Pay:approval"), kNoIndex);
  r = load(approval_doc(approval_tools(""), R"({"approval": {"above_usd": 3}})"), "a.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.workflow->find_tool("Pay:approval"), kNoIndex) << "above, not at";
  // A tool's `false` exempts it from the policy; `true` gates it without one.
  r = load(approval_doc(approval_tools(R"(, "approval": false)"),
                        R"({"approval": {"non_idempotent": true}})"),
           "a.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.workflow->find_tool("Pay:approval"), kNoIndex);
  r = load(approval_doc(approval_tools(R"(, "approval": true)")), "a.json");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.workflow->find_tool("Pay:approval"), kNoIndex);
}

TEST(ApprovalLoad, GatesGoBeforeTheToolInFanoutBranchesAndAtAGraphsStart) {
  const std::string doc = R"({"format": "switchyard.workflow/v1", "name": "f", "start": "Pay",
    "goal": "Done", "tools": {
      "Pay": {"kind": "mock", "approval": true},
      "Done": {"kind": "mock", "idempotent": true}},
    "nodes": {"Fan": {"fanout": {"join": "all", "branches": [
      {"start": "B", "goal": "Pay", "edges": [["B", "Pay", 1]]}]}}},
    "edges": [["Pay", "Fan", 1], ["Fan", "Done", 1]]})";
  auto r = load(doc, "f.json");
  ASSERT_TRUE(r.ok()) << r.errors.at(0).pointer << ": " << r.errors.at(0).message;
  const Workflow& w = *r.workflow;
  EXPECT_EQ(w.graph().node(w.graph().start()).id, "Pay:approval");
  const Graph& branch = w.fanouts().at(0).branches.at(0);
  EXPECT_EQ(approval_next(branch, "B"), (std::vector<std::string>{"Pay:approval"}));
  EXPECT_EQ(approval_next(branch, "Pay:approval"), (std::vector<std::string>{"Pay"}));
}

TEST(ApprovalLoad, EveryBadApprovalFieldIsAnErrorWithItsPointer) {
  auto bad = [](const std::string& pay, const std::string& policy = "{}",
                const std::string& more = "") {
    auto r = load(approval_doc(approval_tools(pay) + more, policy), "a.json");
    EXPECT_FALSE(r.ok()) << pay << policy;
    return r.errors.empty() ? std::string() : r.errors[0].pointer + ": " + r.errors[0].message;
  };
  EXPECT_EQ(bad(R"(, "approval": "yes")"),
            "/tools/Pay/approval: expected true, false or an object {\"name\", \"timeout_ms\", "
            "\"on_timeout\"}, got string \"yes\"");
  EXPECT_EQ(bad(R"(, "approval": {"name": ""})"),
            "/tools/Pay/approval/name: expected a non-empty string");
  EXPECT_EQ(bad(R"(, "approval": {"name": ")" + std::string(201, 'x') + R"("})"),
            "/tools/Pay/approval/name: expected a name of 1 to 200 characters");
  EXPECT_NE(bad(R"(, "approval": {"timeout_ms": 0})").find("/tools/Pay/approval/timeout_ms"),
            std::string::npos);
  EXPECT_EQ(bad(R"(, "approval": {"timeout_ms": 5, "on_timeout": "retry"})"),
            "/tools/Pay/approval/on_timeout: expected \"fail\" or \"escalate\", got \"retry\"");
  EXPECT_EQ(bad(R"(, "approval": {"on_timeout": "escalate"})"),
            "/tools/Pay/approval/on_timeout: on_timeout says what happens when timeout_ms "
            "passes: it needs timeout_ms");
  EXPECT_NE(bad("", R"({"approval": 3})").find("/policy/approval"), std::string::npos);
  EXPECT_NE(
      bad("", R"({"approval": {"non_idempotent": "yes"}})").find("/policy/approval/non_idempotent"),
      std::string::npos);
  EXPECT_NE(bad("", R"({"approval": {"above_usd": -1}})").find("/policy/approval/above_usd"),
            std::string::npos);
  EXPECT_EQ(bad("", R"({"approval": {"on_timeout": "escalate"}})"),
            "/policy/approval/on_timeout: on_timeout says what happens when timeout_ms passes: "
            "it needs timeout_ms");
  // The gate's id is taken.
  EXPECT_EQ(bad(R"(, "approval": true)", "{}", R"(, "Pay:approval": {"kind": "mock"})"),
            "/tools/Pay/approval: the approval step of tool 'Pay' is named 'Pay:approval', "
            "which the workflow already uses as a tool or node id");
  // A template reading a gate that is not there.
  EXPECT_EQ(bad("", "{}",
                R"(, "Use": {"kind": "http", "url": "http://x/{{steps.Log:approval.output}}"})"),
            "/tools/Use/url: this reads step 'Log:approval', but tool 'Log' needs no "
            "approval (its own `approval` or policy.approval would add that step)");
  // A condition reading a gate that is not there.
  auto read = load(approval_doc(approval_tools(""), "{}",
                                R"([["Start", "Pay", 1],
                                    ["Pay", "Done", 2, {"exists": "/steps/Pay:approval/output"}]])"),
                   "a.json");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.errors[0].pointer, "/edges/1/3/exists");
  EXPECT_NE(read.errors[0].message.find("tool 'Pay' needs no approval"), std::string::npos);
  // A timer has no timeout, so no on_timeout either.
  auto r = load(approval_doc(approval_tools("") +
                             R"(, "T": {"kind": "wait", "timer_ms": 5, "on_timeout": "fail"})"),
                "a.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].pointer, "/tools/T/on_timeout");
}

TEST(ApprovalLoad, AGateOnAToolThatIsNoStepIsAWarningAndAddsNothing) {
  auto r =
      load(approval_doc(approval_tools("") + R"(, "Undo": {"kind": "mock", "approval": true})"),
           "a.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.workflow->find_tool("Undo:approval"), kNoIndex);
  bool warned = false;
  for (const auto& d : r.warnings) warned = warned || d.pointer == "/tools/Undo/approval";
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace switchyard::graph
