#include "graph/router.h"

#include <algorithm>
#include <boost/graph/dijkstra_shortest_paths_no_color_map.hpp>
#include <boost/property_map/property_map.hpp>
#include <cassert>
#include <cmath>
#include <deque>
#include <functional>
#include <map>

#include "graph/tool_graph.h"

namespace switchyard::graph {
namespace {

constexpr std::uint32_t kNoHops = 0xFFFFFFFFu;

// Saturating: anything plus an infinite weight stays infinite (never NaN).
struct CostPlus {
  double operator()(double a, double b) const {
    return a == kInfinity || b == kInfinity ? kInfinity : a + b;
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
    node_excluded.assign(n, false);
    weights.assign(g.edges().size(), kInfinity);
    csr_weights.assign(g.edges().size(), kInfinity);
    dist.assign(n, kInfinity);
    hops.assign(n, kNoHops);
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
      if (node_excluded[n]) {
        node_factor[n] = kInfinity;
        continue;
      }
      switch (node.kind) {
        case NodeKind::kJunction:
          node_factor[n] = 1.0;
          break;
        case NodeKind::kTool:
          node_factor[n] = health.factor(node.tool);
          break;
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
      weights[e] = factor == kInfinity || is_closed(e) ? kInfinity
                                                       : edge.cost * factor + node_extra[edge.to];
    }
    const auto& order = graph.tool_graph().workflow_edge;
    for (std::size_t k = 0; k < order.size(); ++k) csr_weights[k] = weights[order[k]];
  }

  void dijkstra(NodeIndex goal) {
    std::fill(dist.begin(), dist.end(), kInfinity);
    dist[goal] = 0.0;
    const ReversedGraph& rev = graph.tool_graph().reversed;
    auto weight_map =
        boost::make_iterator_property_map(csr_weights.begin(), boost::get(boost::edge_index, rev));
    auto dist_map =
        boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, rev));
    boost::dijkstra_shortest_paths_no_color_map_no_init(
        rev, goal, boost::dummy_property_map(), dist_map, weight_map,
        boost::get(boost::vertex_index, rev), std::less<double>(), CostPlus(), kInfinity, 0.0,
        boost::default_dijkstra_visitor());
  }

  // Whether workflow edge `e` (u -> v) lies on a cheapest route from u.
  bool tight(std::uint32_t e) const {
    const Edge& edge = graph.edges()[e];
    return weights[e] != kInfinity && dist[edge.to] != kInfinity &&
           nearly_equal(dist[edge.from], weights[e] + dist[edge.to]);
  }

  // Fewest hops to the goal over cheapest routes only: a breadth-first walk back from the goal
  // over tight edges. Breaks cost ties in favour of shorter routes without weighing hops inside
  // Dijkstra (which, on graphs with many equal costs, doubles its heap work).
  void count_hops() {
    if (hops_ready) return;
    hops_ready = true;
    std::fill(hops.begin(), hops.end(), kNoHops);
    hops[goal] = 0;
    queue.clear();
    queue.push_back(goal);
    const ReversedGraph& rev = graph.tool_graph().reversed;
    const auto& workflow_edge = graph.tool_graph().workflow_edge;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const NodeIndex at = queue[head];
      auto [it, end] = boost::out_edges(static_cast<std::size_t>(at), rev);
      for (; it != end; ++it) {
        const std::uint32_t e = workflow_edge[boost::get(boost::edge_index, rev, *it)];
        const NodeIndex from = graph.edges()[e].from;
        if (hops[from] != kNoHops || !tight(e)) continue;
        hops[from] = hops[at] + 1;
        queue.push_back(from);
      }
    }
  }

  bool is_closed(std::uint32_t e) const { return !closed.empty() && closed[e]; }

  const Workflow& workflow;
  const Graph& graph;
  NodeIndex goal = kNoIndex;
  std::vector<bool> closed;  // set_closed_edges(): per edge, or empty
  std::vector<double> node_factor;
  std::vector<bool> node_excluded;  // exclude_node(): unusable whatever the health
  std::vector<double> node_extra;
  std::vector<double> weights;      // per workflow edge, in the last solve
  std::vector<double> csr_weights;  // the same, in the reversed CSR graph's edge order
  std::vector<double> dist;         // per node: cost to the goal
  std::vector<std::uint32_t> hops;  // per node: fewest hops to the goal over cheapest routes
  std::vector<NodeIndex> queue;     // scratch for count_hops
  bool hops_ready = false;          // hops is computed on the first cost tie after a solve
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
  impl_->hops_ready = false;
}

void Router::exclude_node(NodeIndex node) { impl_->node_excluded[node] = true; }

void Router::set_closed_edges(std::vector<bool> closed) {
  assert(closed.empty() || closed.size() == impl_->graph.edges().size());
  impl_->closed = std::move(closed);
}

bool Router::reachable(NodeIndex from) const { return impl_->dist[from] != kInfinity; }

bool Router::usable(NodeIndex node) const { return impl_->node_factor[node] != kInfinity; }

double Router::distance(NodeIndex from) const { return impl_->dist[from]; }

double Router::edge_weight(std::uint32_t e) const { return impl_->weights[e]; }

Route Router::route(NodeIndex from) const {
  Route out;
  if (!reachable(from)) return out;
  const auto& edges = impl_->graph.edges();
  out.cost = 0;
  out.nodes.push_back(from);
  NodeIndex at = from;
  while (at != impl_->goal) {
    // The successor on a cheapest route (a tight edge). On a cost tie: fewest hops to the goal,
    // then lowest id (node indices follow id order). Hops strictly decrease along the chosen
    // edges, so this terminates; they are counted only once a tie needs them.
    std::uint32_t best = kNoIndex;
    for (std::uint32_t e : impl_->graph.out_edges(at)) {
      if (!impl_->tight(e)) continue;
      if (best == kNoIndex) {
        best = e;
        continue;
      }
      impl_->count_hops();
      const auto& hops = impl_->hops;
      const NodeIndex a = edges[e].to, b = edges[best].to;
      if (hops[a] < hops[b] || (hops[a] == hops[b] && a < b)) best = e;
    }
    assert(best != kNoIndex);
    out.cost += impl_->weights[best];
    at = edges[best].to;
    out.nodes.push_back(at);
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
      if (impl_->is_closed(e)) continue;
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
      if (impl_->is_closed(e)) continue;  // a condition, not a failure
      if (impl_->weights[e] == kInfinity) {
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
