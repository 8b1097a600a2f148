#include "graph/workflow.h"

#include <algorithm>

#include "graph/tool_graph.h"

namespace switchyard::graph {

std::string_view to_string(ToolKind kind) {
  switch (kind) {
    case ToolKind::kHttp: return "http";
    case ToolKind::kCommand: return "command";
    case ToolKind::kLlm: return "llm";
    case ToolKind::kBuiltin: return "builtin";
    case ToolKind::kMock: return "mock";
  }
  return "unknown";
}

Graph::Graph() : tool_graph_(std::make_unique<ToolGraph>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

NodeIndex Graph::find(std::string_view id) const {
  auto it = index_.find(std::string(id));
  return it == index_.end() ? kNoIndex : it->second;
}

Graph Graph::build(std::vector<Node> nodes, std::vector<Edge> edges, NodeIndex start,
                   NodeIndex goal) {
  Graph g;
  g.nodes_ = std::move(nodes);
  g.edges_ = std::move(edges);
  g.start_ = start;
  g.goal_ = goal;
  g.out_.resize(g.nodes_.size());
  g.in_.resize(g.nodes_.size());
  for (NodeIndex n = 0; n < g.nodes_.size(); ++n) g.index_.emplace(g.nodes_[n].id, n);
  g.tool_graph_ = std::make_unique<ToolGraph>(g.nodes_.size());
  auto& rev = g.tool_graph_->reversed;
  for (std::uint32_t e = 0; e < g.edges_.size(); ++e) {
    const Edge& edge = g.edges_[e];
    g.out_[edge.from].push_back(e);
    g.in_[edge.to].push_back(e);
    boost::add_edge(edge.to, edge.from, e, rev);
  }
  return g;
}

ToolIndex Workflow::find_tool(std::string_view id) const {
  auto it = tool_index_.find(std::string(id));
  return it == tool_index_.end() ? kNoIndex : it->second;
}

void WorkflowBuilder::set_tools(std::vector<Tool> tools) {
  w_.tools_ = std::move(tools);
  w_.tool_index_.clear();
  for (ToolIndex t = 0; t < w_.tools_.size(); ++t) w_.tool_index_.emplace(w_.tools_[t].id, t);
}

}  // namespace switchyard::graph
