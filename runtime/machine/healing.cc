// RunMachine: how a run heals once a step has failed (after its retries) or a fan-out's join
// failed. Reroute from where the run stands; else backtrack to the nearest earlier node of the path
// that has a route, compensating the abandoned steps newest first (saga); else demote to a
// `demote_to` goal (the advisor chooses when the workflow names one and there is a choice), or
// escalate with the tools that cut the goal off. Compensations' outcomes are handled here too.

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/machine/run_machine.h"
#include "tools/llm_tool.h"

namespace switchyard::runtime {

using graph::kNoIndex;
using graph::NodeIndex;
using graph::NodeKind;
using graph::ToolIndex;

void RunMachine::heal(std::string_view field, const std::string& failed,
                      const std::string& reason) {
  if (++heals_ > workflow_.policy().max_reroutes) {
    escalate("max_reroutes",
             "gave up after " + std::to_string(workflow_.policy().max_reroutes) +
                 " reroute(s); last failure: " + reason,
             !is_branch() && workflow_.policy().compensate_on_escalation);
    return;
  }
  solve(goal_);
  const std::size_t here = position();
  if (reaches(here)) {
    const auto old_route = remaining_route();
    follow_route_from(here);
    ++result_.reroutes;
    sink_.emit("reroute", with_conditions({{"at", here == kBeforeStart ? node_id(graph_.start())
                                                                       : node_id(path_[here])},
                                           {field, failed},
                                           {"reason", reason},
                                           {"old_route", names(old_route)},
                                           {"new_route", names(route_.nodes)},
                                           {"cost", route_.cost}}));
    return;
  }
  // Backtrack: the nearest earlier node of the path that still has a route.
  for (std::size_t i = here == kBeforeStart ? 0 : here; i-- > 0;) {
    if (!reaches(i)) continue;
    const std::vector<NodeIndex> abandoned(path_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                           path_.end());
    const NodeIndex from = path_.back();
    abandon_after(i);
    follow_route_from(i);
    ++result_.backtracks;
    sink_.emit("backtrack", with_conditions({{"from", node_id(from)},
                                             {"to", node_id(path_[i])},
                                             {"abandoned", names(abandoned)},
                                             {field, failed},
                                             {"reason", reason},
                                             {"new_route", names(route_.nodes)},
                                             {"cost", route_.cost}}));
    return;
  }
  dead_end("no route to " + node_id(goal_) + " after " + failed + " failed: " + reason +
           closed_text());
}

void RunMachine::abandon_after(std::size_t index) {
  // Compensations run newest first (saga), before the run moves on.
  for (std::size_t j = path_.size(); j-- > index + 1;) {
    const graph::Node& node = graph_.node(path_[j]);
    if (node.kind == NodeKind::kFanout) {
      // Its kept branch steps, newest first; their outputs leave the context with it.
      auto kept = fanout_kept_.find(path_[j]);
      if (kept != fanout_kept_.end()) {
        for (auto& c : kept->second) {
          context_["steps"].erase(workflow_.tool(c.for_tool).id);
          if (c.tool != kNoIndex) compensations_.push_back(std::move(c));
        }
        fanout_kept_.erase(kept);
      }
      context_["steps"].erase(node.id);
      continue;
    }
    if (node.kind != NodeKind::kTool) continue;
    const graph::Tool& tool = workflow_.tool(node.tool);
    auto& steps = context_["steps"];
    auto it = steps.find(tool.id);
    nlohmann::json output = it != steps.end() ? (*it)["output"] : nlohmann::json(nullptr);
    if (it != steps.end()) steps.erase(it);
    if (tool.compensate != kNoIndex) {
      compensations_.push_back({node.tool, tool.compensate, std::move(output)});
    }
  }
  path_.resize(index + 1);
}

std::vector<ToolIndex> RunMachine::blocked_tools() {
  solve(goal_);
  auto blocked = router_.blocked(graph_.start());
  const graph::Node& start = graph_.node(graph_.start());
  if (start.kind == NodeKind::kTool && excluded(start.tool)) blocked.push_back(start.tool);
  return blocked;
}

std::vector<RunMachine::DemoteOption> RunMachine::demote_options() {
  std::vector<DemoteOption> options;
  for (NodeIndex g : workflow_.demote_to()) {
    if (g == goal_ ||
        std::find(tried_goals_.begin(), tried_goals_.end(), g) != tried_goals_.end()) {
      continue;
    }
    solve(g);
    const std::size_t here = position();
    if (reaches(here)) {
      options.push_back({g, here});
      continue;
    }
    for (std::size_t i = here == kBeforeStart ? 0 : here; i-- > 0;) {
      if (reaches(i)) {
        options.push_back({g, i});
        break;
      }
    }
  }
  return options;
}

void RunMachine::dead_end(const std::string& reason) {
  const auto blocked = blocked_tools();
  // A branch has no fallback goals: it fails, and its fan-out's join decides.
  auto options = is_branch() ? std::vector<DemoteOption>{} : demote_options();
  if (options.empty()) {
    std::string message = "goal " + node_id(goal_) + " is unreachable";
    if (!blocked.empty()) {
      message += "; blocked:";
      for (ToolIndex t : blocked) message += " " + workflow_.tool(t).id;
    }
    // A dead end the budget caused says so: the run stopped because the money (or tokens) ran out.
    escalate(
        last_failure_ == tools::FailureKind::kBudgetExhausted ? "budget_exhausted" : "no_route",
        message + " (" + reason + ")", !is_branch() && workflow_.policy().compensate_on_escalation);
    return;
  }
  const ToolIndex advisor = workflow_.advisor();
  if (advisor != kNoIndex) {
    // The advisor has a decision to make: ask it, if the budget covers the call's worst case
    // like any other. (With no option it would not, so it is not called: no LLM spend on a
    // foregone conclusion.)
    std::vector<NodeIndex> goals;
    for (const auto& o : options) goals.push_back(o.goal);
    aux_context_ = {{"input", input_},         {"steps", context_["steps"]},
                    {"goal", node_id(goal_)},  {"blocked", tool_names(blocked)},
                    {"options", names(goals)}, {"reason", reason}};
    std::string why_not;
    if (auto choice = controller().plan_call(advisor, -1, aux_context_, &why_not)) {
      advisor_options_ = std::move(options);
      hold(*choice);
      if (choice->tier >= 0) {
        sink_.emit("llm_decision",
                   {{"node", nullptr},
                    {"purpose", "advisor"},
                    {"tool", workflow_.tool(advisor).id},
                    {"tier", options_.tiers[static_cast<std::size_t>(choice->tier)].name},
                    {"reason", "advisor: the cheapest tier that fits"},
                    {"reserved_usd", choice->worst.usd},
                    {"reserved_tokens", choice->worst.tokens}});
      }
      pending_ = invoke(Action::Purpose::kAdvisor, advisor, kNoIndex, &aux_context_);
      pending_->tier = choice->tier;
      return;
    }
    sink_.emit("advisor_skipped", {{"tool", workflow_.tool(advisor).id}, {"reason", why_not}});
  }
  demote(options.front(), "rule", blocked);
}

void RunMachine::on_advisor(const tools::Outcome& outcome) {
  settle(outcome, workflow_.advisor(), kNoIndex, "advisor");
  // The answer itself is journaled: replay and resume re-drive the decision from it.
  nlohmann::json answered = {{"tool", workflow_.tool(workflow_.advisor()).id}, {"ok", outcome.ok}};
  if (outcome.ok) {
    answered["output"] = outcome.output;
  } else {
    answered["failure"] = std::string(tools::to_string(outcome.failure));
    answered["reason"] = outcome.reason;
  }
  sink_.emit("advisor_answered", std::move(answered));
  const auto blocked = blocked_tools();
  if (!outcome.ok) {
    escalate("advisor_failed", "the advisor failed: " + outcome.reason,
             workflow_.policy().compensate_on_escalation);
    return;
  }
  // The answer came from outside: read through JsonView. A malformed one is a failed advice.
  auto advice = tools::parse_advice(outcome.output);
  if (!advice.ok()) {
    escalate("advisor_failed", "the advisor's answer is malformed: " + advice.status().message(),
             workflow_.policy().compensate_on_escalation);
    return;
  }
  if (advice->action == "demote") {
    for (const auto& option : advisor_options_) {
      if (node_id(option.goal) == advice->goal) {
        demote(option, "advisor", blocked);
        return;
      }
    }
  }
  // Anything that names no reachable option counts as "escalate" (docs/workflow-format.md).
  escalate("advisor", advice->message.empty() ? "the advisor chose to escalate" : advice->message,
           workflow_.policy().compensate_on_escalation);
}

void RunMachine::demote(const DemoteOption& option, const std::string& decided_by,
                        const std::vector<ToolIndex>& blocked) {
  const NodeIndex from_goal = goal_;
  tried_goals_.push_back(goal_);
  goal_ = option.goal;
  demoted_ = true;
  std::vector<NodeIndex> abandoned;
  if (option.path_index != kBeforeStart && option.path_index + 1 < path_.size()) {
    abandoned.assign(path_.begin() + static_cast<std::ptrdiff_t>(option.path_index) + 1,
                     path_.end());
    abandon_after(option.path_index);
  }
  solve(goal_);
  follow_route_from(option.path_index);
  sink_.emit("goal_demoted", with_conditions({{"from_goal", node_id(from_goal)},
                                              {"to_goal", node_id(goal_)},
                                              {"decided_by", decided_by},
                                              {"blocked", tool_names(blocked)},
                                              {"abandoned", names(abandoned)},
                                              {"route", names(route_.nodes)},
                                              {"cost", route_.cost}}));
}

void RunMachine::escalate(const std::string& reason, const std::string& message, bool compensate) {
  const auto blocked = blocked_tools();
  result_.blocked.clear();
  for (ToolIndex t : blocked) result_.blocked.push_back(workflow_.tool(t).id);
  result_.message = message;
  sink_.emit("escalated", {{"reason", reason},
                           {"message", message},
                           {"blocked", tool_names(blocked)},
                           {"at", path_.empty() ? node_id(graph_.start()) : node_id(path_.back())},
                           {"compensate", compensate}});
  after_compensation_ = AfterCompensation::kEscalate;
  if (compensate && !path_.empty()) abandon_after(0);
}

void RunMachine::on_compensation(const tools::Outcome& outcome) {
  const Compensation c = compensations_.front();
  compensations_.pop_front();
  settle(outcome, c.tool, kNoIndex, "compensation");
  sink_.emit("compensation", {{"for_tool", workflow_.tool(c.for_tool).id},
                              {"tool", workflow_.tool(c.tool).id},
                              {"ok", outcome.ok},
                              {"reason", outcome.reason}});
  if (outcome.ok) return;
  // A failed compensation is never ignored: the rest is left for a human.
  compensations_.clear();
  if (after_compensation_ == AfterCompensation::kEscalate) {
    result_.message += "; compensating " + workflow_.tool(c.for_tool).id + " failed";
    return;
  }
  escalate("compensation_failed",
           "compensating " + workflow_.tool(c.for_tool).id + " with " + workflow_.tool(c.tool).id +
               " failed: " + outcome.reason,
           /*compensate=*/false);
}

}  // namespace switchyard::runtime
