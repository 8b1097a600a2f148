#include "tests/support/graph_builder.h"

#include <gtest/gtest.h>

#include <map>

#include "graph/load.h"

namespace switchyard::testing {

std::shared_ptr<const graph::Workflow> load_workflow(const std::string& text) {
  auto loaded = graph::load(text, "test.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

std::shared_ptr<const graph::Workflow> builtin_chain(int n, const nlohmann::json& extra,
                                                     const char* name) {
  nlohmann::json tools = nlohmann::json::object();
  nlohmann::json edges = nlohmann::json::array();
  std::string prev = "Start";
  for (int i = 0; i < n; ++i) {
    const std::string id = "T" + std::to_string(i);
    tools[id] = {{"kind", "builtin"}, {"name", name}, {"idempotent", true}};
    edges.push_back({prev, id, 1.0});
    prev = id;
  }
  for (const auto& [id, t] : extra.items()) tools[id].update(t);
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", "chain"},
                      {"start", "Start"},
                      {"goal", prev},
                      {"tools", tools},
                      {"edges", edges}};
  return load_workflow(w.dump());
}

std::shared_ptr<const graph::Workflow> build_workflow(const TestGraphSpec& spec) {
  std::set<std::string> ids{spec.start, spec.goal};
  for (const auto& e : spec.edges) {
    ids.insert(e.from);
    ids.insert(e.to);
  }
  std::set<std::string> tool_ids = spec.extra_tools;
  if (!spec.advisor.empty()) tool_ids.insert(spec.advisor);
  for (const auto& id : ids) {
    if (!spec.junctions.count(id)) tool_ids.insert(id);
  }
  std::vector<graph::Tool> tools;
  for (const auto& id : tool_ids) {
    graph::Tool tool;
    tool.id = id;
    if (id == spec.advisor) {
      tool.kind = graph::ToolKind::kLlm;
      tool.spec = graph::LlmTool{};
    } else {
      tool.kind = graph::ToolKind::kMock;
      graph::MockTool mock;
      mock.output = {{"tool", id}};
      tool.spec = mock;
    }
    if (auto it = spec.retries.find(id); it != spec.retries.end()) tool.retries = it->second;
    tools.push_back(std::move(tool));
  }
  std::map<std::string, graph::ToolIndex> tool_index;
  for (graph::ToolIndex t = 0; t < tools.size(); ++t) tool_index[tools[t].id] = t;
  for (const auto& [from, to] : spec.compensate)
    tools[tool_index[from]].compensate = tool_index[to];

  std::vector<graph::Node> nodes;
  std::map<std::string, graph::NodeIndex> node_index;
  for (const auto& id : ids) {  // std::set iterates in id order
    graph::Node node;
    node.id = id;
    auto it = tool_index.find(id);
    if (it != tool_index.end()) {
      node.kind = graph::NodeKind::kTool;
      node.tool = it->second;
    }
    node_index[id] = static_cast<graph::NodeIndex>(nodes.size());
    nodes.push_back(node);
  }
  std::vector<graph::Edge> edges;
  for (const auto& e : spec.edges) edges.push_back({node_index[e.from], node_index[e.to], e.cost});

  graph::WorkflowBuilder builder;
  builder.set_name("test");
  builder.set_tools(std::move(tools));
  builder.set_graph(graph::Graph::build(std::move(nodes), std::move(edges), node_index[spec.start],
                                        node_index[spec.goal]));
  std::vector<graph::NodeIndex> demote;
  for (const auto& d : spec.demote_to) demote.push_back(node_index[d]);
  builder.set_demote_to(std::move(demote));
  if (!spec.advisor.empty()) builder.set_advisor(tool_index[spec.advisor]);
  graph::Policy policy;
  policy.max_reroutes = spec.max_reroutes;
  policy.compensate_on_escalation = spec.compensate_on_escalation;
  builder.set_policy(policy);
  return builder.finish();
}

TestGraphSpec customer_support_graph() {
  TestGraphSpec spec;
  spec.goal = "Complete";
  spec.edges = {{"Start", "CRM", 0.1},    {"CRM", "Stripe", 0.3},     {"CRM", "Razorpay", 0.5},
                {"Stripe", "Email", 0.3}, {"Stripe", "SMS", 0.4},     {"Razorpay", "Email", 0.3},
                {"Razorpay", "SMS", 0.4}, {"Email", "Complete", 0.1}, {"SMS", "Complete", 0.1}};
  return spec;
}

}  // namespace switchyard::testing
