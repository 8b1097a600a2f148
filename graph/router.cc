#include "graph/router.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <deque>
#include <map>

#include <boost/graph/dijkstra_shortest_paths_no_color_map.hpp>
#include <boost/property_map/property_map.hpp>

#include "graph/tool_graph.h"

namespace switchyard::graph {
namespace {

// A distance to the goal: total cost, then hop count, compared lexicographically, so that among
// routes of equal cost Dijkstra settles on the one with fewer hops.
struct Dist {
  double cost;
  std::uint32_t hops;
};

constexpr Dist kUnreached{kInfinity, 0xFFFFFFFFu};
constexpr Dist kZero{0.0, 0};

struct DistLess {
  bool operator()(const Dist& a, const Dist& b) const {
    if (a.cost != b.cost) return a.cost < b.cost;
    return a.hops < b.hops;
  }
};

// Saturating: anything plus an infinite weight is unreached, so excluded tools are never
// settled as reachable with a finite hop count.
struct DistPlus {
  Dist operator()(const Dist& a, const Dist& b) const {
    if (a.cost == kInfinity || b.cost == kInfinity) return kUnreached;
    return Dist{a.cost + b.cost, a.hops + b.hops};
  }
};

// Costs within this relative distance are a tie, so that summation order (0.1 + 0.3 vs 0.3 + 0.1)
// never decides a route.
bool nearly_equal(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

}  // namespace

struct Router::Impl {
  Impl(const Workflow& w, const Graph& g) : workflow(w), graph(g) {
    const std::size_t n = g.nodes().size();
    node_factor.assign(n, 1.0);
    node_extra.assign(n, 0.0);
    weights.assign(g.edges().size(), kUnreached);
    dist.assign(n, kUnreached);
    for (const Node& node : g.nodes()) {
      if (node.kind != NodeKind::kFanout) continue;
      auto& routers = branch_routers[node.fanout];
      if (!routers.empty()) continue;
      for (const Graph& branch : w.fanouts()[node.fanout].branches) {
        routers.push_back(std::make_unique<Router>(w, branch));
      }
    }
  }

  // The cost a fan-out node adds on top of its edge's base cost (kInfinity: join unsatisfiable).
  double fanout_cost(std::uint32_t f, const HealthView& health) {
    const Fanout& fanout = workflow.fanouts()[f];
    std::vector<double> costs;
    auto& routers = branch_routers[f];
    for (std::size_t b = 0; b < routers.size(); ++b) {
      const Graph& branch = fanout.branches[b];
      routers[b]->solve(branch.goal(), health);
      costs.push_back(routers[b]->distance(branch.start()));
    }
    std::sort(costs.begin(), costs.end());
    double total = 0;
    for (int i = 0; i < fanout.quorum && i < static_cast<int>(costs.size()); ++i) total += costs[i];
    return total;  // kInfinity propagates when a needed branch is unreachable
  }

  void weigh(const HealthView& health) {
    const auto& nodes = graph.nodes();
    for (NodeIndex n = 0; n < nodes.size(); ++n) {
      const Node& node = nodes[n];
      node_extra[n] = 0.0;
      switch (node.kind) {
        case NodeKind::kJunction: node_factor[n] = 1.0; break;
        case NodeKind::kTool: node_factor[n] = health.factor(node.tool); break;
        case NodeKind::kFanout: {
          node_extra[n] = fanout_cost(node.fanout, health);
          node_factor[n] = node_extra[n] == kInfinity ? kInfinity : 1.0;
          break;
        }
      }
    }
    const auto& edges = graph.edges();
    for (std::uint32_t e = 0; e < edges.size(); ++e) {
      const Edge& edge = edges[e];
      const double factor = node_factor[edge.to];
      // 0 x infinity is NaN: an excluded target is unreachable whatever the base cost.
      weights[e] = factor == kInfinity ? kUnreached
                                       : Dist{edge.cost * factor + node_extra[edge.to], 1};
    }
  }

  void dijkstra(NodeIndex goal) {
    std::fill(dist.begin(), dist.end(), kUnreached);
    dist[goal] = kZero;
    const ReversedGraph& rev = graph.tool_graph().reversed;
    auto weight_map = boost::make_iterator_property_map(weights.begin(),
                                                        boost::get(boost::edge_index, rev));
    auto dist_map = boost::make_iterator_property_map(dist.begin(),
                                                      boost::get(boost::vertex_index, rev));
    boost::dijkstra_shortest_paths_no_color_map_no_init(
        rev, goal, boost::dummy_property_map(), dist_map, weight_map,
        boost::get(boost::vertex_index, rev), DistLess(), DistPlus(), kUnreached, kZero,
        boost::default_dijkstra_visitor());
  }

  const Workflow& workflow;
  const Graph& graph;
  NodeIndex goal = kNoIndex;
  std::vector<double> node_factor;
  std::vector<double> node_extra;
  std::vector<Dist> weights;  // per workflow edge, in the last solve
  std::vector<Dist> dist;     // per node, to the goal
  std::map<std::uint32_t, std::vector<std::unique_ptr<Router>>> branch_routers;
};

Router::Router(const Workflow& workflow, const Graph& graph)
    : impl_(std::make_unique<Impl>(workflow, graph)) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::solve(NodeIndex goal, const HealthView& health) {
  impl_->goal = goal;
  impl_->weigh(health);
  impl_->dijkstra(goal);
}

bool Router::reachable(NodeIndex from) const { return impl_->dist[from].cost != kInfinity; }

double Router::distance(NodeIndex from) const { return impl_->dist[from].cost; }

double Router::edge_weight(std::uint32_t e) const { return impl_->weights[e].cost; }

Route Router::route(NodeIndex from) const {
  Route out;
  if (!reachable(from)) return out;
  const auto& edges = impl_->graph.edges();
  const auto& dist = impl_->dist;
  const auto& weights = impl_->weights;
  out.cost = 0;
  out.nodes.push_back(from);
  NodeIndex at = from;
  while (at != impl_->goal) {
    // Among successors on a cheapest route: lowest cost (within tolerance), fewest hops, lowest id
    // (node indices follow id order). Hops strictly decrease, so this always terminates.
    NodeIndex best = kNoIndex;
    double best_cost = kInfinity;
    double best_weight = 0;
    std::uint32_t best_hops = 0;
    for (std::uint32_t e : impl_->graph.out_edges(at)) {
      const NodeIndex next = edges[e].to;
      const Dist via = DistPlus()(weights[e], dist[next]);
      if (via.cost == kInfinity) continue;
      const bool better =
          best == kNoIndex ||
          (!nearly_equal(via.cost, best_cost) && via.cost < best_cost) ||
          (nearly_equal(via.cost, best_cost) &&
           (via.hops < best_hops || (via.hops == best_hops && next < best)));
      if (better) {
        best = next;
        best_cost = via.cost;
        best_weight = weights[e].cost;
        best_hops = via.hops;
      }
    }
    assert(best != kNoIndex);
    out.cost += best_weight;
    out.nodes.push_back(best);
    at = best;
  }
  return out;
}

Route Router::plan(NodeIndex from, NodeIndex goal, const HealthView& health) {
  solve(goal, health);
  return route(from);
}

std::vector<ToolIndex> Router::blocked(NodeIndex from) const {
  std::vector<ToolIndex> out;
  if (reachable(from)) return out;
  const Graph& g = impl_->graph;
  const auto& edges = g.edges();
  const std::size_t n = g.nodes().size();

  // Which nodes could reach the goal if every tool were healthy.
  std::vector<char> could_reach(n, 0);
  std::deque<NodeIndex> queue{impl_->goal};
  could_reach[impl_->goal] = 1;
  while (!queue.empty()) {
    const NodeIndex at = queue.front();
    queue.pop_front();
    for (std::uint32_t e : g.in_edges(at)) {
      if (!could_reach[edges[e].from]) {
        could_reach[edges[e].from] = 1;
        queue.push_back(edges[e].from);
      }
    }
  }

  // Walk forward through usable edges; an unusable edge into a node that could reach the goal
  // is part of the cut.
  std::vector<char> seen(n, 0);
  seen[from] = 1;
  queue.push_back(from);
  while (!queue.empty()) {
    const NodeIndex at = queue.front();
    queue.pop_front();
    for (std::uint32_t e : g.out_edges(at)) {
      const NodeIndex next = edges[e].to;
      if (impl_->weights[e].cost == kInfinity) {
        if (!could_reach[next]) continue;
        const Node& node = g.node(next);
        if (node.kind == NodeKind::kTool) {
          out.push_back(node.tool);
        } else if (node.kind == NodeKind::kFanout) {
          const Fanout& fanout = impl_->workflow.fanouts()[node.fanout];
          auto& routers = impl_->branch_routers.at(node.fanout);
          for (std::size_t b = 0; b < routers.size(); ++b) {
            auto inner = routers[b]->blocked(fanout.branches[b].start());
            out.insert(out.end(), inner.begin(), inner.end());
          }
        }
        continue;
      }
      if (!seen[next]) {
        seen[next] = 1;
        queue.push_back(next);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace switchyard::graph
