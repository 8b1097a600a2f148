#include "graph/lint.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <optional>
#include <set>
#include <string>

#include "graph/json_read.h"

namespace switchyard::graph {
namespace {

// One routed graph as lint sees it: the outer graph or a fan-out branch.
struct Scope {
  const Graph* graph = nullptr;
  std::string edges_pointer;     // "/edges" or "/nodes/<id>/fanout/branches/<b>/edges"
  std::vector<NodeIndex> goals;  // the goal, then the fallback goals (outer graph only)
  std::string goal_text;         // "the goal 'Done'" / "the branch goal 'T9'"
  bool runs = false;  // the outer graph; a branch whose fan-out node is reachable from start
};

// Nodes reachable from `from` following edges forward (out) or backward (in).
std::vector<bool> reach(const Graph& g, const std::vector<NodeIndex>& from, bool forward) {
  std::vector<bool> seen(g.nodes().size(), false);
  std::deque<NodeIndex> queue;
  for (NodeIndex n : from) {
    if (!seen[n]) {
      seen[n] = true;
      queue.push_back(n);
    }
  }
  while (!queue.empty()) {
    const NodeIndex at = queue.front();
    queue.pop_front();
    for (std::uint32_t e : forward ? g.out_edges(at) : g.in_edges(at)) {
      const NodeIndex next = forward ? g.edges()[e].to : g.edges()[e].from;
      if (!seen[next]) {
        seen[next] = true;
        queue.push_back(next);
      }
    }
  }
  return seen;
}

// The pointer of the first edge element of `scope` that names node `n`: the first edge into it,
// else the first edge out of it. Elements are [from, to, cost] arrays or {"from", "to"} objects.
std::string mention(const Workflow& w, const Scope& scope, NodeIndex n) {
  const Graph& g = *scope.graph;
  if (g.in_edges(n).empty() && g.out_edges(n).empty()) return scope.edges_pointer;
  const bool into = !g.in_edges(n).empty();
  const std::uint32_t e = into ? g.in_edges(n).front() : g.out_edges(n).front();
  const std::string edge = pointer_join(scope.edges_pointer, e);
  auto value = JsonView(w.source()).at(edge);
  const bool array = value.ok() && value->is_array();
  if (array) return pointer_join(edge, into ? 1 : 0);
  return pointer_join(edge, into ? "to" : "from");
}

// The candidate nearest to `typed` among near misses (the first one on a tie), if any.
std::optional<std::string> nearest(const std::string& typed,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    if (c == typed || !near_miss(typed, c)) continue;
    const std::size_t d = edit_distance(typed, c);
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::vector<Scope> scopes(const Workflow& w) {
  std::vector<Scope> out;
  const Graph& g = w.graph();
  const std::vector<bool> reached = reach(g, {g.start()}, true);
  Scope outer;
  outer.graph = &g;
  outer.runs = true;
  outer.edges_pointer = "/edges";
  outer.goals.push_back(g.goal());
  for (NodeIndex d : w.demote_to()) outer.goals.push_back(d);
  outer.goal_text = "the goal '" + g.node(g.goal()).id + "'" +
                    (w.demote_to().empty() ? "" : " or a fallback goal");
  out.push_back(std::move(outer));
  for (NodeIndex n = 0; n < g.nodes().size(); ++n) {
    const Node& node = g.node(n);
    if (node.kind != NodeKind::kFanout) continue;
    const auto& branches = w.fanouts()[node.fanout].branches;
    const std::string prefix =
        pointer_join(pointer_join("/nodes", node.id), "fanout") + "/branches";
    for (std::size_t b = 0; b < branches.size(); ++b) {
      Scope s;
      s.graph = &branches[b];
      s.edges_pointer = pointer_join(pointer_join(prefix, b), "edges");
      s.goals = {branches[b].goal()};
      s.goal_text = "the branch goal '" + branches[b].node(branches[b].goal()).id + "'";
      s.runs = reached[n];
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  const std::size_t n = a.size(), m = b.size();
  // Three rows: i-2, i-1, i (the swap looks two rows back).
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const bool same = lower(a[i - 1]) == lower(b[j - 1]);
      current[j] =
          std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    before.swap(previous);
    previous.swap(current);
  }
  return previous[m];
}

bool near_miss(std::string_view typed, std::string_view meant) {
  if (typed == meant) return false;
  const std::size_t d = edit_distance(typed, meant);
  return d <= 3 && 2 * d <= std::max(typed.size(), meant.size());
}

std::vector<Diagnostic> lint(const Workflow& w, std::string_view file_name) {
  std::vector<Diagnostic> out;
  const auto warn = [&](std::string pointer, std::string message) {
    out.push_back({Diagnostic::Severity::kWarning, std::string(file_name), std::move(pointer),
                   std::move(message), 0, 0});
  };
  const std::vector<Scope> all = scopes(w);

  // Tools that some route can call, and the junction names edges use (suggestions for tools).
  std::vector<bool> called(w.tools().size(), false);
  std::vector<std::string> junctions;
  std::set<std::string> junction_seen;
  const Graph& outer = w.graph();
  for (const Scope& scope : all) {
    const Graph& g = *scope.graph;
    const std::vector<bool> reached = reach(g, {g.start()}, true);
    const std::vector<bool> finishes = reach(g, scope.goals, false);
    std::set<NodeIndex> ends(scope.goals.begin(), scope.goals.end());
    ends.insert(g.start());
    for (NodeIndex n = 0; n < g.nodes().size(); ++n) {
      const Node& node = g.node(n);
      if (node.kind == NodeKind::kTool && scope.runs && reached[n]) called[node.tool] = true;
      if (node.kind == NodeKind::kJunction && !ends.count(n) &&
          junction_seen.insert(node.id).second) {
        junctions.push_back(node.id);
      }
    }
    // Dead-end junctions of this graph.
    for (NodeIndex n = 0; n < g.nodes().size(); ++n) {
      const Node& node = g.node(n);
      if (node.kind != NodeKind::kJunction || finishes[n]) continue;
      // What it may have meant: a goal, a tool, a fan-out, or a node that does finish.
      std::vector<std::string> candidates;
      for (NodeIndex goal : scope.goals) candidates.push_back(g.node(goal).id);
      for (const Tool& t : w.tools()) candidates.push_back(t.id);
      for (const Node& o : outer.nodes()) {
        if (o.kind == NodeKind::kFanout) candidates.push_back(o.id);
      }
      for (NodeIndex m = 0; m < g.nodes().size(); ++m) {
        if (finishes[m]) candidates.push_back(g.node(m).id);
      }
      std::string message = "junction '" + node.id + "' has no way to " + scope.goal_text +
                            ": it names no tool or fan-out, so a route that enters it cannot "
                            "finish";
      if (auto meant = nearest(node.id, candidates)) message += "; did you mean '" + *meant + "'?";
      warn(mention(w, scope, n), std::move(message));
    }
  }

  // Tools no route can call and nothing else uses.
  std::vector<bool> used = called;
  if (w.advisor() != kNoIndex) used[w.advisor()] = true;
  for (const Tool& t : w.tools()) {
    if (t.compensate != kNoIndex) used[t.compensate] = true;
    if (t.probe_tool != kNoIndex) used[t.probe_tool] = true;
  }
  const std::string start = outer.node(outer.start()).id;
  for (ToolIndex t = 0; t < w.tools().size(); ++t) {
    if (used[t]) continue;
    const std::string& id = w.tool(t).id;
    const bool named = std::any_of(all.begin(), all.end(),
                                   [&](const Scope& s) { return s.graph->find(id) != kNoIndex; });
    std::string message = "tool '" + id + "' is not reachable from start '" + start + "'" +
                          (named ? "" : " (no edge names it)") +
                          ": no route calls it, and it is not the advisor, a compensation or a "
                          "probe";
    if (auto typo = nearest(id, junctions)) {
      message += "; did you mean '" + id + "' where an edge names '" + *typo + "'?";
    }
    warn(pointer_join("/tools", id), std::move(message));
  }
  return out;
}

}  // namespace switchyard::graph
