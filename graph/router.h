#pragma once
// The router: Dijkstra's shortest path over a Graph, from any node to a goal.
//
// Weight of an edge u->v = base cost x factor(tool of v), where the factor comes from a
// HealthView (the monitors in production, a fixed table in tests). A factor of +infinity excludes
// the tool. Junction nodes have factor 1. A fan-out node costs, on top of its edge's base cost,
// the sum of its branches' route costs (join all), or the sum of the k cheapest (any: k = 1,
// quorum: k); it is unreachable when its join cannot be satisfied.
//
// One Dijkstra over the reversed graph from the goal gives every node's distance to the goal, so
// after solve() a route from any node, and whether a node can reach the goal, cost O(route).
// Ties are broken deterministically: lower total cost (within a relative 1e-9), then fewer hops,
// then the successor's id in byte order. Same inputs, same route: replay depends on it.
//
// Thread-compatible: a Router holds scratch space for one graph; use one per run or per thread.
// The Graph must outlive the Router.

#include <limits>
#include <memory>
#include <vector>

#include "graph/workflow.h"

namespace switchyard::graph {

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Health factors of tools, as the router sees them. Thread-compatible.
class HealthView {
 public:
  virtual ~HealthView() = default;
  // The weight factor of edges into `tool`: 1 = healthy baseline, larger = worse, +infinity =
  // excluded. REQUIRES: the result is >= 0 and not NaN.
  virtual double factor(ToolIndex tool) const = 0;
};

// A fixed table of factors (default 1 for every tool), with exclusions.
class FixedHealth : public HealthView {
 public:
  explicit FixedHealth(std::size_t tool_count) : factors_(tool_count, 1.0) {}
  // A copy of the factors `from` gives the first `tool_count` tools now.
  FixedHealth(std::size_t tool_count, const HealthView& from) : factors_(tool_count) {
    for (ToolIndex t = 0; t < tool_count; ++t) factors_[t] = from.factor(t);
  }
  double factor(ToolIndex tool) const override { return factors_[tool]; }
  void set(ToolIndex tool, double factor) { factors_[tool] = factor; }
  void exclude(ToolIndex tool) { factors_[tool] = kInfinity; }
  bool excluded(ToolIndex tool) const { return factors_[tool] == kInfinity; }

 private:
  std::vector<double> factors_;
};

struct Route {
  std::vector<NodeIndex> nodes;  // from the start node to the goal, both included; empty: none
  double cost = kInfinity;       // sum of edge weights along nodes
  bool found() const { return !nodes.empty(); }
};

class Router {
 public:
  // REQUIRES: `graph` and `workflow` outlive the router; `graph` is workflow.graph() or one of
  // its fan-out branches.
  Router(const Workflow& workflow, const Graph& graph);
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Computes every node's distance to `goal` under `health`. Invalidates earlier results.
  void solve(NodeIndex goal, const HealthView& health);

  // Makes `node` unusable in every later solve(), whatever the health says: a fan-out node whose
  // join failed is routed around like a failed tool.
  void exclude_node(NodeIndex node);

  // Closes edges for every later solve(), until called again: `closed` has one flag per edge of
  // the graph (empty: none closed), as graph::closed_edges gives for the edges' conditions. A
  // closed edge is on no route, and blocked() does not name the tool behind it: a condition, not
  // a failure, keeps the run off it. Fan-out branches are costed with every edge open.
  void set_closed_edges(std::vector<bool> closed);

  // After solve(): whether `from` can reach the goal.
  bool reachable(NodeIndex from) const;
  // After solve(): whether `node` itself can run (not an excluded tool or node, not a fan-out
  // whose join cannot be met). A route never enters an unusable node, but its first node is
  // where the run stands: a run that has not left its start checks the start with this.
  bool usable(NodeIndex node) const;
  // After solve(): `from`'s distance to the goal (kInfinity when unreachable).
  double distance(NodeIndex from) const;
  // After solve(): the cheapest route from `from` to the goal, or an empty route.
  Route route(NodeIndex from) const;
  // After solve(), when `from` cannot reach the goal: the tools that cut it off: excluded tools
  // reachable from `from` through usable nodes and open edges, from which the goal is reachable
  // over open edges when every tool is healthy. Sorted by tool index. Empty when the goal is
  // reachable.
  std::vector<ToolIndex> blocked(NodeIndex from) const;

  // Convenience: solve() + route().
  Route plan(NodeIndex from, NodeIndex goal, const HealthView& health);

  // The weight of edge `e` (index into graph.edges()) in the last solve().
  double edge_weight(std::uint32_t e) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::graph
