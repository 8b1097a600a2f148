// A fan-out node's cost to the outer graph: on top of its edge's base cost, the sum of its
// branches' route costs (join all), or of the k cheapest (any: k = 1, quorum: k), each branch
// weighted by the health of its own tools; unreachable when the join cannot be satisfied.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/load.h"
#include "graph/router.h"

namespace switchyard::graph {
namespace {

// Start -> Fan -> Goal (base costs 1 and 1) or Start -> Alt -> Goal (`alt_cost` and 1). Fan has
// three branches of one tool each: P (route cost 2), Q (3) and R (10).
std::shared_ptr<const Workflow> fan(const std::string& join, double alt_cost = 100) {
  auto loaded = load(R"({"format": "switchyard.workflow/v1", "name": "fan", "start": "Start",
    "goal": "Goal", "tools": {"P": {"kind": "mock"}, "Q": {"kind": "mock"}, "R": {"kind": "mock"},
      "Alt": {"kind": "mock"}, "Goal": {"kind": "mock"}},
    "nodes": {"Fan": {"fanout": {"join": )" +
                         join + R"(, "branches": [
      {"start": "P0", "goal": "P9", "edges": [["P0", "P", 2], ["P", "P9", 0]]},
      {"start": "Q0", "goal": "Q9", "edges": [["Q0", "Q", 1], ["Q", "Q9", 2]]},
      {"start": "R0", "goal": "R9", "edges": [["R0", "R", 10], ["R", "R9", 0]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Goal", 1], ["Start", "Alt", )" +
                         std::to_string(alt_cost) + R"(], ["Alt", "Goal", 1]]})",
                     "fan.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

struct Solved {
  double cost;
  std::vector<std::string> route;
};

Solved solve(const Workflow& w, const FixedHealth& health) {
  Router router(w, w.graph());
  const Graph& g = w.graph();
  router.solve(g.goal(), health);
  Solved out{router.distance(g.start()), {}};
  for (NodeIndex n : router.route(g.start()).nodes) out.route.push_back(g.node(n).id);
  return out;
}

const std::vector<std::string> kViaFan = {"Start", "Fan", "Goal"};
const std::vector<std::string> kViaAlt = {"Start", "Alt", "Goal"};

TEST(RouterFanout, JoinAllCostsTheSumOfEveryBranchsRoute) {
  auto w = fan(R"("all")");
  Solved s = solve(*w, FixedHealth(w->tools().size()));
  EXPECT_DOUBLE_EQ(s.cost, 1 + (2 + 3 + 10) + 1);
  EXPECT_EQ(s.route, kViaFan);
}

TEST(RouterFanout, JoinAnyCostsItsCheapestBranch) {
  auto w = fan(R"("any")");
  EXPECT_DOUBLE_EQ(solve(*w, FixedHealth(w->tools().size())).cost, 1 + 2 + 1);
}

TEST(RouterFanout, AQuorumCostsItsKCheapestBranches) {
  auto w = fan(R"({"quorum": 2})");
  EXPECT_DOUBLE_EQ(solve(*w, FixedHealth(w->tools().size())).cost, 1 + (2 + 3) + 1);
}

TEST(RouterFanout, BranchCostsFollowTheHealthOfTheirTools) {
  auto w = fan(R"({"quorum": 2})");
  FixedHealth health(w->tools().size());
  health.set(w->find_tool("P"), 6.0);  // P's branch: 2 x 6 = 12, now dearer than R's 10
  EXPECT_DOUBLE_EQ(solve(*w, health).cost, 1 + (3 + 10) + 1);
}

TEST(RouterFanout, TheOuterRouteAvoidsAFanoutDearerThanItsAlternative) {
  auto w = fan(R"("all")", /*alt_cost=*/10);
  Solved s = solve(*w, FixedHealth(w->tools().size()));
  EXPECT_DOUBLE_EQ(s.cost, 10 + 1);
  EXPECT_EQ(s.route, kViaAlt);
}

TEST(RouterFanout, AJoinThatCannotBeSatisfiedMakesTheNodeUnreachable) {
  auto w = fan(R"({"quorum": 2})");
  FixedHealth health(w->tools().size());
  health.exclude(w->find_tool("P"));
  EXPECT_DOUBLE_EQ(solve(*w, health).cost, 1 + (3 + 10) + 1);  // still two branches
  health.exclude(w->find_tool("Q"));
  Solved s = solve(*w, health);
  EXPECT_DOUBLE_EQ(s.cost, 100 + 1);
  EXPECT_EQ(s.route, kViaAlt);
}

}  // namespace
}  // namespace switchyard::graph
