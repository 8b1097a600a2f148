#include "graph/router.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/graph_builder.h"

namespace switchyard::graph {
namespace {

using testing::build_workflow;
using testing::customer_support_graph;
using testing::TestGraphSpec;

std::vector<std::string> names(const Graph& g, const Route& r) {
  std::vector<std::string> out;
  for (NodeIndex n : r.nodes) out.push_back(g.node(n).id);
  return out;
}

ToolIndex tool(const Workflow& w, const std::string& id) { return w.find_tool(id); }

TEST(Router, PicksCheapestRouteWhenAllHealthy) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r),
            (std::vector<std::string>{"Start", "CRM", "Stripe", "Email", "Complete"}));
  EXPECT_NEAR(r.cost, 0.8, 1e-12);
}

TEST(FixedHealth, ACopyTakesTheFactorsOfItsSourceAndThenGoesItsOwnWay) {
  auto w = build_workflow(customer_support_graph());
  FixedHealth source(w->tools().size());
  source.set(tool(*w, "CRM"), 2.5);
  source.exclude(tool(*w, "Stripe"));
  FixedHealth copy(w->tools().size(), source);
  EXPECT_DOUBLE_EQ(copy.factor(tool(*w, "CRM")), 2.5);
  EXPECT_TRUE(copy.excluded(tool(*w, "Stripe")));
  EXPECT_DOUBLE_EQ(copy.factor(tool(*w, "Email")), 1.0);
  copy.exclude(tool(*w, "Email"));  // a run's own exclusion leaves what it copied alone
  EXPECT_FALSE(source.excluded(tool(*w, "Email")));
}

TEST(Router, AvoidsExcludedTools) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  health.exclude(tool(*w, "Stripe"));
  health.exclude(tool(*w, "Email"));
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r),
            (std::vector<std::string>{"Start", "CRM", "Razorpay", "SMS", "Complete"}));
}

TEST(Router, HealthFactorMultipliesBaseCost) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  health.set(tool(*w, "Stripe"), 2.0);  // 0.6 > Razorpay's 0.5
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r)[2], "Razorpay");
}

TEST(Router, RoutesFromAnyNode) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  router.solve(w->graph().goal(), health);
  Route r = router.route(w->graph().find("Razorpay"));
  EXPECT_EQ(names(w->graph(), r), (std::vector<std::string>{"Razorpay", "Email", "Complete"}));
  EXPECT_NEAR(r.cost, 0.4, 1e-12);
  Route at_goal = router.route(w->graph().goal());
  EXPECT_EQ(names(w->graph(), at_goal), (std::vector<std::string>{"Complete"}));
  EXPECT_EQ(at_goal.cost, 0.0);
}

TEST(Router, UnreachableGoalReportsCutSet) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  health.exclude(tool(*w, "Stripe"));
  health.exclude(tool(*w, "Razorpay"));
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_FALSE(r.found());
  EXPECT_EQ(router.blocked(w->graph().start()),
            (std::vector<ToolIndex>{tool(*w, "Razorpay"), tool(*w, "Stripe")}));
}

TEST(Router, CutSetIsTheFrontierNotEveryDownTool) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  health.exclude(tool(*w, "CRM"));
  health.exclude(tool(*w, "Email"));  // behind CRM: not what cuts the run off
  router.solve(w->graph().goal(), health);
  EXPECT_EQ(router.blocked(w->graph().start()), (std::vector<ToolIndex>{tool(*w, "CRM")}));
}

TEST(Router, ZeroCostEdgeIntoExcludedToolIsUnusable) {
  TestGraphSpec spec;
  spec.edges = {{"Start", "A", 0.0}, {"A", "Goal", 0.0}, {"Start", "B", 5.0}, {"B", "Goal", 0.0}};
  auto w = build_workflow(spec);
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  health.exclude(tool(*w, "A"));
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r), (std::vector<std::string>{"Start", "B", "Goal"}));
}

TEST(Router, EqualCostTieGoesToFewerHops) {
  TestGraphSpec spec;
  spec.edges = {{"Start", "A", 0.1},
                {"A", "B", 0.1},
                {"B", "Goal", 0.1},
                {"Start", "Z", 0.2},
                {"Z", "Goal", 0.1}};
  auto w = build_workflow(spec);
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r), (std::vector<std::string>{"Start", "Z", "Goal"}));
}

TEST(Router, EqualCostEqualHopsTieGoesToLowerId) {
  TestGraphSpec spec;
  spec.edges = {{"Start", "M", 0.3}, {"M", "Goal", 0.1}, {"Start", "K", 0.1}, {"K", "Goal", 0.3}};
  auto w = build_workflow(spec);
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r), (std::vector<std::string>{"Start", "K", "Goal"}));
}

TEST(Router, FloatingPointSummationOrderDoesNotBreakTies) {
  // 0.1 + 0.2 and 0.2 + 0.1 differ in the last bit depending on order; both are one tie.
  TestGraphSpec spec;
  spec.edges = {{"Start", "B", 0.1}, {"B", "Goal", 0.2}, {"Start", "A", 0.2}, {"A", "Goal", 0.1}};
  auto w = build_workflow(spec);
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r), (std::vector<std::string>{"Start", "A", "Goal"}));
}

TEST(Router, HandlesCycles) {
  TestGraphSpec spec;
  spec.edges = {
      {"Start", "A", 1}, {"A", "B", 1}, {"B", "A", 1}, {"B", "Goal", 1}, {"A", "Start", 0}};
  auto w = build_workflow(spec);
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_EQ(names(w->graph(), r), (std::vector<std::string>{"Start", "A", "B", "Goal"}));
  EXPECT_EQ(r.cost, 3.0);
}

TEST(Router, ExcludedGoalToolIsUnreachable) {
  auto w = build_workflow(customer_support_graph());
  Router router(*w, w->graph());
  FixedHealth health(w->tools().size());
  health.exclude(tool(*w, "Complete"));
  Route r = router.plan(w->graph().start(), w->graph().goal(), health);
  EXPECT_FALSE(r.found());
  EXPECT_EQ(router.blocked(w->graph().start()), (std::vector<ToolIndex>{tool(*w, "Complete")}));
}

// Bellman-Ford over the same weights, as an independent oracle for distances.
std::vector<double> bellman_ford(const Graph& g, NodeIndex goal, const Router& router) {
  std::vector<double> dist(g.nodes().size(), kInfinity);
  dist[goal] = 0;
  for (std::size_t round = 0; round < g.nodes().size(); ++round) {
    bool changed = false;
    for (std::uint32_t e = 0; e < g.edges().size(); ++e) {
      const Edge& edge = g.edges()[e];
      const double w = router.edge_weight(e);
      if (w == kInfinity || dist[edge.to] == kInfinity) continue;
      if (dist[edge.to] + w < dist[edge.from] - 1e-12) {
        dist[edge.from] = dist[edge.to] + w;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return dist;
}

TEST(Router, MatchesBellmanFordOnRandomGraphs) {
  std::mt19937_64 rng(20261124);
  for (int trial = 0; trial < 1000; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 30);
    TestGraphSpec spec;
    spec.start = "N0";
    spec.goal = "N" + std::to_string(n - 1);
    spec.junctions = {"N0"};
    std::set<std::pair<int, int>> used;
    const int m = static_cast<int>(rng() % (4 * n + 1));
    for (int i = 0; i < m; ++i) {
      const int a = static_cast<int>(rng() % n);
      const int b = static_cast<int>(rng() % n);
      if (a == b || !used.insert({a, b}).second) continue;
      spec.edges.push_back({"N" + std::to_string(a), "N" + std::to_string(b),
                            static_cast<double>(rng() % 100) / 10.0});
    }
    auto w = build_workflow(spec);
    FixedHealth health(w->tools().size());
    for (ToolIndex t = 0; t < w->tools().size(); ++t) {
      const auto roll = rng() % 10;
      if (roll == 0)
        health.exclude(t);
      else if (roll == 1)
        health.set(t, 0.5 + static_cast<double>(rng() % 40) / 10.0);
    }
    Router router(*w, w->graph());
    router.solve(w->graph().goal(), health);
    const auto expected = bellman_ford(w->graph(), w->graph().goal(), router);
    for (NodeIndex v = 0; v < w->graph().nodes().size(); ++v) {
      ASSERT_EQ(router.reachable(v), expected[v] != kInfinity)
          << "trial " << trial << " node " << v;
      if (!router.reachable(v)) {
        EXPECT_FALSE(router.route(v).found());
        continue;
      }
      ASSERT_NEAR(router.distance(v), expected[v], 1e-9) << "trial " << trial;
      Route r = router.route(v);
      ASSERT_TRUE(r.found());
      EXPECT_EQ(r.nodes.front(), v);
      EXPECT_EQ(r.nodes.back(), w->graph().goal());
      EXPECT_NEAR(r.cost, expected[v], 1e-9) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace switchyard::graph
