// Loading the graph: edges (both forms), fan-out nodes, start/goal/demote_to, reachability.

#include "graph/load_internal.h"

namespace switchyard::graph {
namespace {

// Whether `to` is reachable from `from` over `edges` (every tool healthy).
bool reachable(const std::vector<EdgeSpec>& edges, const std::string& from, const std::string& to) {
  return reach_from(edges, from).count(to) > 0;
}

// The node ids an edge names ([from, to, ...] or {"from", "to", ...}) where they are non-empty
// strings, whatever else is wrong with it.
std::vector<std::string> named_nodes(const nlohmann::json& e) {
  std::vector<std::string> out;
  auto take = [&out](const nlohmann::json& v) {
    if (v.is_string() && !v.get_ref<const std::string&>().empty()) out.push_back(v);
  };
  if (e.is_array()) {
    for (std::size_t i = 0; i < std::min<std::size_t>(e.size(), 2); ++i) take(e[i]);
  } else if (e.is_object()) {
    for (const char* key : {"from", "to"}) {
      if (auto it = e.find(key); it != e.end()) take(*it);
    }
  }
  return out;
}

std::optional<EdgeSpec> load_edge(LoadState& s, const nlohmann::json& e, const std::string& p) {
  EdgeSpec edge;
  edge.pointer = p;
  const nlohmann::json* from = nullptr;
  const nlohmann::json* to = nullptr;
  const nlohmann::json* cost = nullptr;
  std::string from_p, to_p, cost_p;
  const nlohmann::json* when = nullptr;
  std::string when_p;
  if (e.is_array()) {
    if (e.size() < 2 || e.size() > 4) {
      s.check.error(p,
                    "expected [from, to, cost], [from, to, cost, when] or {\"from\", \"to\", "
                    "\"cost\", \"when\"}, got an array of " +
                        std::to_string(e.size()) + " element(s)");
      return std::nullopt;
    }
    from = &e[0];
    to = &e[1];
    if (e.size() >= 3) cost = &e[2];
    if (e.size() == 4) when = &e[3];
    from_p = pointer_join(p, 0);
    to_p = pointer_join(p, 1);
    cost_p = pointer_join(p, 2);
    when_p = pointer_join(p, 3);
  } else if (e.is_object()) {
    s.check.warn_unknown(e, p, {"from", "to", "cost", "when"});
    from = s.check.field(e, p, "from", true);
    to = s.check.field(e, p, "to", true);
    cost = s.check.field(e, p, "cost", false);
    when = s.check.field(e, p, "when", false);
    from_p = pointer_join(p, "from");
    to_p = pointer_join(p, "to");
    cost_p = pointer_join(p, "cost");
    when_p = pointer_join(p, "when");
    if (from == nullptr || to == nullptr) return std::nullopt;
  } else {
    s.check.error(p,
                  "expected [from, to, cost] or {\"from\", \"to\", \"cost\"}, got " + describe(e));
    return std::nullopt;
  }
  bool ok = true;
  for (auto [value, vp, out] :
       {std::tuple{from, from_p, &edge.from}, std::tuple{to, to_p, &edge.to}}) {
    if (!value->is_string() || value->get<std::string>().empty()) {
      s.check.error(vp, "expected a node id (a non-empty string), got " + describe(*value));
      ok = false;
    } else {
      *out = value->get<std::string>();
    }
  }
  if (cost != nullptr) {
    auto c = s.check.number_value(*cost, cost_p, 0.0);
    if (!c) return std::nullopt;
    edge.cost = *c;
  } else if (ok) {
    auto tool = s.tools.find(edge.to);
    if (tool != s.tools.end() && tool->second.cost) {
      edge.cost = *tool->second.cost;
    } else {
      s.check.error(p, "edge " + edge.from + " -> " + edge.to +
                           " has no cost and its target has no default `cost`: expected a cost");
      return std::nullopt;
    }
  }
  if (when != nullptr) {
    auto condition = load_condition(s, *when, when_p, edge.reads);
    if (!condition) return std::nullopt;
    edge.when = std::make_shared<const Condition>(std::move(*condition));
  }
  if (!ok) return std::nullopt;
  return edge;
}

void check_node(LoadState& s, const std::set<std::string>& nodes, const std::string& id,
                const std::string& pointer, const char* what) {
  if (!nodes.count(id)) {
    s.check.error(pointer, std::string("unknown node '") + id + "': the " + what +
                               " must be a node named by an edge");
  }
}

std::optional<BranchSpec> load_branch(LoadState& s, const nlohmann::json& b, const std::string& p) {
  if (!s.check.expect_object(b, p)) return std::nullopt;
  s.check.warn_unknown(b, p, {"start", "goal", "edges"});
  const std::size_t before = s.check.error_count();
  BranchSpec branch;
  auto start = s.check.string(b, p, "start", true);
  auto goal = s.check.string(b, p, "goal", true);
  std::set<std::string> nodes;
  if (const auto* edges = s.check.field(b, p, "edges", true)) {
    branch.edges = load_edges(s, *edges, pointer_join(p, "edges"), nodes);
  }
  if (start) check_node(s, nodes, *start, pointer_join(p, "start"), "branch start");
  if (goal) check_node(s, nodes, *goal, pointer_join(p, "goal"), "branch goal");
  for (const auto& n : nodes) {
    if (s.doc.contains("nodes") && s.doc["nodes"].is_object() && s.doc["nodes"].contains(n)) {
      s.check.error(pointer_join(p, "edges"),
                    "node '" + n + "' is a fan-out: fan-outs do not nest");
    }
  }
  if (s.check.error_count() != before || !start || !goal) return std::nullopt;
  if (!reachable(branch.edges, *start, *goal)) {
    s.check.error(pointer_join(p, "goal"),
                  "branch goal '" + *goal + "' is unreachable from its start '" + *start + "'");
    return std::nullopt;
  }
  branch.start = *start;
  branch.goal = *goal;
  return branch;
}

void load_fanout(LoadState& s, const std::string& id, const nlohmann::json& node,
                 const std::string& p) {
  if (!s.check.expect_object(node, p)) return;
  s.check.warn_unknown(node, p, {"fanout"});
  const nlohmann::json* fanout = s.check.field(node, p, "fanout", false);
  if (fanout == nullptr) {
    // An entry of /nodes exists only to give a node its kind; without one it would silently
    // leave the node a junction (a misspelled "fan_out" included).
    s.check.error(p,
                  "expected a node kind: {\"fanout\": {...}} (the only kind of node besides "
                  "tools; a junction needs no entry)");
    return;
  }
  const std::string fp = pointer_join(p, "fanout");
  if (!s.check.expect_object(*fanout, fp)) return;
  s.check.warn_unknown(*fanout, fp, {"join", "branches"});
  if (s.tool_ids.count(id)) {
    s.check.error(p, "node '" + id + "' is a tool id: a fan-out node must be a node of its own");
  }
  if (!s.node_ids.count(id)) {
    s.check.error(p, "unknown node '" + id + "': a fan-out node must be named by an edge");
  }
  FanoutSpec spec;
  spec.node = id;
  if (const auto* branches = s.check.field(*fanout, fp, "branches", true)) {
    const std::string bp = pointer_join(fp, "branches");
    if (s.check.expect_array(*branches, bp)) {
      if (branches->empty()) s.check.error(bp, "expected at least one branch");
      for (std::size_t i = 0; i < branches->size(); ++i) {
        if (auto b = load_branch(s, (*branches)[i], pointer_join(bp, i)))
          spec.branches.push_back(*b);
      }
    }
  }
  const int count = static_cast<int>(spec.branches.size());
  spec.quorum = count;
  if (const auto* join = s.check.field(*fanout, fp, "join", false)) {
    const std::string jp = pointer_join(fp, "join");
    if (join->is_string() && join->get<std::string>() == "all") {
      spec.join = JoinKind::kAll;
    } else if (join->is_string() && join->get<std::string>() == "any") {
      spec.join = JoinKind::kAny;
      spec.quorum = 1;
    } else if (join->is_object() && join->contains("quorum")) {
      spec.join = JoinKind::kQuorum;
      if (auto k = s.check.integer(*join, jp, "quorum", true, 1, std::max(count, 1))) {
        spec.quorum = static_cast<int>(*k);
      }
    } else {
      s.check.error(jp, "expected \"all\", \"any\" or {\"quorum\": k}, got " + describe(*join));
    }
  }
  s.fanouts.push_back(std::move(spec));
}

}  // namespace

std::vector<EdgeSpec> load_edges(LoadState& s, const nlohmann::json& edges,
                                 const std::string& pointer, std::set<std::string>& node_ids) {
  std::vector<EdgeSpec> out;
  if (!s.check.expect_array(edges, pointer)) return out;
  std::map<std::pair<std::string, std::string>, std::string> seen;
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const std::string p = pointer_join(pointer, i);
    auto edge = load_edge(s, edges[i], p);
    if (!edge) {
      // Rejected (its error said why): the nodes it names still count as named, so that no
      // follow-on error calls the start or the goal on it unknown.
      for (const std::string& id : named_nodes(edges[i])) node_ids.insert(id);
      continue;
    }
    auto [it, fresh] = seen.emplace(std::pair{edge->from, edge->to}, p);
    if (!fresh) {
      s.check.error(
          p, "duplicate edge " + edge->from + " -> " + edge->to + " (first at " + it->second + ")");
      continue;
    }
    node_ids.insert(edge->from);
    node_ids.insert(edge->to);
    out.push_back(std::move(*edge));
  }
  return out;
}

void load_graph(LoadState& s) {
  const std::size_t errors_before_edges = s.check.error_count();
  if (const auto* edges = s.check.field(s.doc, "", "edges", true)) {
    s.edges = load_edges(s, *edges, "/edges", s.node_ids);
    if (edges->is_array() && edges->empty()) s.check.error("/edges", "expected at least one edge");
  }
  if (const auto* nodes = s.check.field(s.doc, "", "nodes", false)) {
    if (s.check.expect_object(*nodes, "/nodes")) {
      for (const auto& [id, node] : nodes->items())
        load_fanout(s, id, node, pointer_join("/nodes", id));
    }
  }
  auto start = s.check.string(s.doc, "", "start", true);
  auto goal = s.check.string(s.doc, "", "goal", true);
  if (start) check_node(s, s.node_ids, *start, "/start", "start");
  if (goal) check_node(s, s.node_ids, *goal, "/goal", "goal");
  if (const auto* demote = s.check.field(s.doc, "", "demote_to", false)) {
    if (s.check.expect_array(*demote, "/demote_to")) {
      for (std::size_t i = 0; i < demote->size(); ++i) {
        const auto& d = (*demote)[i];
        const std::string p = pointer_join("/demote_to", i);
        if (!d.is_string()) {
          s.check.error(p, "expected a node id (a string), got " + describe(d));
          continue;
        }
        check_node(s, s.node_ids, d.get<std::string>(), p, "fallback goal");
        s.demote_to.push_back(d.get<std::string>());
      }
    }
  }
  if (!start || !goal || !s.node_ids.count(*start)) return;
  s.start = *start;
  s.goal = *goal;
  // With an edge rejected the graph is incomplete: whether the goals are reachable is not known.
  if (s.check.error_count() != errors_before_edges) return;
  if (s.node_ids.count(*goal) && !reachable(s.edges, *start, *goal)) {
    s.check.error("/goal", "goal '" + *goal + "' is unreachable from start '" + *start +
                               "' even with every tool healthy");
  }
  for (std::size_t i = 0; i < s.demote_to.size(); ++i) {
    const auto& d = s.demote_to[i];
    if (s.node_ids.count(d) && !reachable(s.edges, *start, d)) {
      s.check.error(pointer_join("/demote_to", i), "fallback goal '" + d +
                                                       "' is unreachable from start '" + *start +
                                                       "' even with every tool healthy");
    }
  }
  s.graph_loaded = true;  // its conditions' reads are checked once approval gates are in place
}

Graph build_graph(const std::vector<EdgeSpec>& edges, const std::string& start,
                  const std::string& goal, const std::map<std::string, ToolIndex>& tool_index,
                  const std::map<std::string, std::uint32_t>& fanout_index) {
  std::set<std::string> ids{start, goal};
  for (const auto& e : edges) {
    ids.insert(e.from);
    ids.insert(e.to);
  }
  std::vector<Node> nodes;
  std::map<std::string, NodeIndex> index;
  for (const auto& id : ids) {
    Node node;
    node.id = id;
    if (auto t = tool_index.find(id); t != tool_index.end()) {
      node.kind = NodeKind::kTool;
      node.tool = t->second;
    } else if (auto f = fanout_index.find(id); f != fanout_index.end()) {
      node.kind = NodeKind::kFanout;
      node.fanout = f->second;
    }
    index[id] = static_cast<NodeIndex>(nodes.size());
    nodes.push_back(std::move(node));
  }
  std::vector<Edge> out;
  std::vector<std::shared_ptr<const Condition>> when;
  out.reserve(edges.size());
  for (const auto& e : edges) {
    out.push_back({index[e.from], index[e.to], e.cost});
    when.push_back(e.when);
  }
  return Graph::build(std::move(nodes), std::move(out), index[start], index[goal], std::move(when));
}

}  // namespace switchyard::graph
