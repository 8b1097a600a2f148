#include "graph/workflow.h"

#include <algorithm>
#include <cctype>

#include "graph/tool_graph.h"

namespace switchyard::graph {

std::string_view to_string(ToolKind kind) {
  switch (kind) {
    case ToolKind::kHttp:
      return "http";
    case ToolKind::kCommand:
      return "command";
    case ToolKind::kLlm:
      return "llm";
    case ToolKind::kBuiltin:
      return "builtin";
    case ToolKind::kMock:
      return "mock";
    case ToolKind::kMcp:
      return "mcp";
    case ToolKind::kWait:
      return "wait";
  }
  return "unknown";
}

std::string_view to_string(WaitTool::Kind kind) {
  switch (kind) {
    case WaitTool::Kind::kApproval:
      return "approval";
    case WaitTool::Kind::kSignal:
      return "signal";
    case WaitTool::Kind::kTimer:
      return "timer";
  }
  return "unknown";
}

std::string approval_gate_id(std::string_view tool) { return std::string(tool) + ":approval"; }

ToolGraph::ToolGraph(std::size_t nodes,
                     const std::vector<std::pair<std::uint32_t, std::uint32_t>>& edges) {
  // Reversed, and tagged with the workflow edge index so the CSR order can be mapped back.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> reversed_edges;
  reversed_edges.reserve(edges.size());
  for (const auto& [from, to] : edges) reversed_edges.emplace_back(to, from);
  std::vector<std::uint32_t> order(edges.size());
  for (std::uint32_t e = 0; e < order.size(); ++e) order[e] = e;
  // CSR wants edges grouped by source; a stable sort keeps file order within a source.
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return reversed_edges[a].first < reversed_edges[b].first;
  });
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sorted;
  sorted.reserve(order.size());
  for (auto e : order) sorted.push_back(reversed_edges[e]);
  reversed = ReversedGraph(boost::edges_are_sorted, sorted.begin(), sorted.end(), nodes);
  workflow_edge = order;
  csr_edge.assign(edges.size(), 0);
  for (std::uint32_t k = 0; k < order.size(); ++k) csr_edge[order[k]] = k;
}

Graph::Graph()
    : tool_graph_(
          std::make_unique<ToolGraph>(0, std::vector<std::pair<std::uint32_t, std::uint32_t>>{})) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

NodeIndex Graph::find(std::string_view id) const {
  auto it = index_.find(std::string(id));
  return it == index_.end() ? kNoIndex : it->second;
}

Graph Graph::build(std::vector<Node> nodes, std::vector<Edge> edges, NodeIndex start,
                   NodeIndex goal, std::vector<std::shared_ptr<const Condition>> when) {
  Graph g;
  g.nodes_ = std::move(nodes);
  g.edges_ = std::move(edges);
  g.when_ = std::move(when);
  g.start_ = start;
  g.goal_ = goal;
  g.out_.resize(g.nodes_.size());
  g.in_.resize(g.nodes_.size());
  for (NodeIndex n = 0; n < g.nodes_.size(); ++n) g.index_.emplace(g.nodes_[n].id, n);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  pairs.reserve(g.edges_.size());
  for (std::uint32_t e = 0; e < g.edges_.size(); ++e) {
    const Edge& edge = g.edges_[e];
    g.out_[edge.from].push_back(e);
    g.in_[edge.to].push_back(e);
    if (g.when(e) != nullptr) g.guarded_.push_back(e);
    pairs.emplace_back(edge.from, edge.to);
  }
  g.tool_graph_ = std::make_unique<ToolGraph>(g.nodes_.size(), pairs);
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

Result<std::string> expand_env_refs(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i++];
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) return invalid_argument("unclosed '${'");
    const std::string name(text.substr(i + 2, close - i - 2));
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid) {
      return invalid_argument("'${" + name +
                              "}': expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    auto value = lookup(name);
    if (!value) return invalid_argument("environment variable " + name + " is not set");
    out += *value;
    i = close + 1;
  }
  return out;
}

std::string McpServer::key() const {
  nlohmann::json k{{"argv", argv}, {"env", env},         {"cwd", cwd},
                   {"url", url},   {"headers", headers}, {"protocol", protocol}};
  return name + " " + k.dump();
}

bool has_idempotency_key(const Tool& tool) {
  const auto* http = std::get_if<HttpTool>(&tool.spec);
  return http != nullptr && !http->idempotency_key.empty();
}

}  // namespace switchyard::graph
