// RunMachine: edge conditions in planning (graph/condition.h, docs/workflow-format.md#conditions).
//
// Every solve evaluates the graph's conditions over the run's context ({"input", "steps"}) for
// where the run stands: the edges out of its node are decided, the edges further on looked ahead
// (a condition on a step that has not run yet is undecided and its edge stays open). Edges found
// false are closed to the router; health works on the open ones as before, so a guarded route
// whose tool is down is routed around like any other, and no route at all is a dead end.
//
// Planning points: the start, every heal (reroute, backtrack, demotion), and each node the run
// reaches that has a guarded edge out of it or where a condition's verdict changed: there the
// run re-plans and journals a `plan` event with every condition's value, which replay --verify
// re-derives from the journaled outputs.

#include <string>
#include <vector>

#include "graph/json_object.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

using graph::kNoIndex;
using graph::NodeIndex;
using graph::ToolIndex;

void RunMachine::apply_conditions() {
  if (graph_.guarded().empty()) return;
  closed_ =
      graph::closed_edges(graph_, context_, path_.empty() ? kNoIndex : path_.back(), &conditions_);
  router_.set_closed_edges(closed_);
}

void RunMachine::solve(NodeIndex goal) {
  apply_conditions();
  router_.solve(goal, health());
}

nlohmann::json RunMachine::conditions_json() const {
  nlohmann::json out = nlohmann::json::array();
  const auto& guarded = graph_.guarded();
  for (std::size_t i = 0; i < guarded.size() && i < conditions_.size(); ++i) {
    const graph::Edge& edge = graph_.edges()[guarded[i]];
    out.push_back(json_object("from", node_id(edge.from), "to", node_id(edge.to), "value",
                              graph::to_json(conditions_[i])));
  }
  return out;
}

nlohmann::json RunMachine::with_conditions(nlohmann::json payload) const {
  if (!graph_.guarded().empty()) payload["conditions"] = conditions_json();
  return payload;
}

std::string RunMachine::closed_text() const {
  std::string out;
  for (std::uint32_t e : graph_.guarded()) {
    if (e >= closed_.size() || !closed_[e]) continue;
    const graph::Edge& edge = graph_.edges()[e];
    out += (out.empty() ? "; closed by their conditions: " : ", ") + node_id(edge.from) + " -> " +
           node_id(edge.to);
  }
  return out;
}

bool RunMachine::plan_on_arrival() {
  planned_next_ = next_;
  if (graph_.guarded().empty() || path_.empty()) return true;
  const NodeIndex here = path_.back();
  bool guarded_here = false;
  for (std::uint32_t e : graph_.out_edges(here)) {
    guarded_here = guarded_here || graph_.when(e) != nullptr;
  }
  const std::vector<bool> before = closed_;
  apply_conditions();
  if (!guarded_here && closed_ == before) return true;
  router_.solve(goal_, health());
  const bool feasible = reaches(position());
  if (feasible) follow_route_from(position());
  std::vector<ToolIndex> excluded_now;
  for (ToolIndex t = 0; t < workflow_.tools().size(); ++t) {
    if (excluded(t)) excluded_now.push_back(t);
  }
  sink_.emit("plan",
             json_object("at", node_id(here), "avoided", nlohmann::json::array(), "conditions",
                         conditions_json(), "cost",
                         feasible ? nlohmann::json(route_.cost) : nlohmann::json(nullptr),
                         "excluded", tool_names(excluded_now), "goal", node_id(goal_), "route",
                         names(feasible ? route_.nodes : std::vector<NodeIndex>{})));
  if (feasible) return true;
  dead_end("no route to " + node_id(goal_) + " from " + node_id(here) + closed_text());
  return false;
}

}  // namespace switchyard::runtime
