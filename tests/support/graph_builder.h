#pragma once
// Builds Workflows in code for tests: every node named in an edge is a mock tool unless listed
// as a junction. Keeps router and run-loop tests independent of the JSON loader.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "graph/workflow.h"

namespace switchyard::testing {

struct TestEdge {
  std::string from;
  std::string to;
  double cost;
};

struct TestGraphSpec {
  std::string start = "Start";
  std::string goal = "Goal";
  std::vector<TestEdge> edges;
  std::set<std::string> junctions = {"Start"};  // every other node is a mock tool
  std::vector<std::string> demote_to;
  std::set<std::string> extra_tools;              // mock tools on no edge (compensations)
  std::map<std::string, std::string> compensate;  // tool -> its compensating tool
  std::map<std::string, int> retries;             // tool -> retries
  std::string advisor;                            // an llm tool on no edge, or ""
  int max_reroutes = 16;
  bool compensate_on_escalation = false;
};

std::shared_ptr<const graph::Workflow> build_workflow(const TestGraphSpec& spec);

// Loads a workflow from its JSON text (graph::load); a test failure, and null, when it does not.
std::shared_ptr<const graph::Workflow> load_workflow(const std::string& text);

// Start -> T0 -> ... -> T{n-1} (the goal), every step the idempotent builtin `name`; `extra` is
// merged into the tools ({"T1": {"retries": 2}}).
std::shared_ptr<const graph::Workflow> builtin_chain(int n, const nlohmann::json& extra = {},
                                                     const char* name = "echo");

// The paper's customer-support graph (CS scenarios): Start -> CRM -> Stripe|Razorpay ->
// Email|SMS -> Complete. Every node but Start is a mock tool.
TestGraphSpec customer_support_graph();

}  // namespace switchyard::testing
