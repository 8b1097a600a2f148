#include "runtime/machine/run_machine.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "graph/json_object.h"
#include "graph/template.h"
#include "tools/llm_tool.h"

namespace switchyard::runtime {
namespace {

using graph::kInfinity;
using graph::kNoIndex;
using graph::NodeIndex;
using graph::NodeKind;
using graph::ToolIndex;

constexpr std::size_t kBeforeStart = std::numeric_limits<std::size_t>::max();

std::int64_t micros(std::chrono::microseconds d) { return d.count(); }

// A failed attempt's event, with the Retry-After the service sent (so a restart's monitor holds
// the tool as this process did: runtime/engine/health_rebuild.h).
nlohmann::json with_retry_after(nlohmann::json payload, const tools::Outcome& outcome) {
  if (outcome.retry_after) payload["retry_after_ms"] = outcome.retry_after->count();
  if (outcome.retry_at) {
    payload["retry_at_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(outcome.retry_at->time_since_epoch())
            .count();
  }
  return payload;
}

}  // namespace

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kDemoted: return "demoted";
    case RunStatus::kEscalated: return "escalated";
    case RunStatus::kFailed: return "failed";
  }
  return "unknown";
}

nlohmann::json RunResult::to_json() const {
  nlohmann::json j =
      json_object("backtracks", backtracks, "escalation", nullptr, "goal", goal, "llm_calls",
                  llm_calls, "path", path, "reroutes", reroutes, "spent_usd", spent_usd,
                  "status", runtime::to_string(status), "tokens", tokens);
  if (status == RunStatus::kEscalated || status == RunStatus::kFailed) {
    j["escalation"] = {{"blocked", blocked}, {"message", message}};
  }
  return j;
}

// The run's view of tool health: what the process knew at the start, plus the tools this run saw
// fail. A failed tool stays excluded for the rest of the run.
class RunMachine::Health : public graph::HealthView {
 public:
  Health(std::size_t tools, const graph::HealthView& known) : factors_(tools) {
    for (ToolIndex t = 0; t < tools; ++t) factors_[t] = known.factor(t);
  }
  double factor(ToolIndex tool) const override { return factors_[tool]; }
  void exclude(ToolIndex tool) { factors_[tool] = kInfinity; }
  bool excluded(ToolIndex tool) const { return factors_[tool] == kInfinity; }

 private:
  std::vector<double> factors_;
};

namespace {

// A branch's events go to the run's sink, naming the fan-out node and the branch.
class BranchSink : public EventSink {
 public:
  BranchSink(EventSink& parent, std::string fanout, std::uint32_t branch)
      : parent_(parent), fanout_(std::move(fanout)), branch_(branch) {}
  void emit(std::string_view type, nlohmann::json payload) override {
    payload["fanout"] = fanout_;
    payload["branch"] = branch_;
    parent_.emit(type, std::move(payload));
  }

 private:
  EventSink& parent_;
  std::string fanout_;
  std::uint32_t branch_;
};

}  // namespace

// One branch of the running fan-out.
struct RunMachine::Branch {
  enum class State { kRunning, kSucceeded, kFailed, kCancelled };
  std::unique_ptr<RunMachine> machine;
  State state = State::kRunning;
  bool in_flight = false;
};

struct RunMachine::FanoutRun {
  NodeIndex node = kNoIndex;
  int need = 0;  // branches that must succeed
  int succeeded = 0;
  int failed = 0;
  std::vector<Branch> branches;
};

RunMachine::Health& RunMachine::health() const { return *root_->health_; }

RunMachine::RunMachine(RunMachine& parent, const graph::Graph& graph, NodeIndex fanout_node,
                       std::uint32_t branch)
    : branch_sink_(std::make_unique<BranchSink>(parent.sink_, parent.node_id(fanout_node), branch)),
      root_(parent.root_),
      workflow_(parent.workflow_),
      graph_(graph),
      input_(parent.input_),
      sink_(*branch_sink_),
      budget_(parent.budget_),
      router_(parent.workflow_, graph),
      goal_(graph.goal()),
      context_(parent.context_),
      options_(parent.options_) {}

RunMachine::RunMachine(const graph::Workflow& workflow, nlohmann::json input,
                       const graph::HealthView& known, EventSink& sink, RunMachineOptions options)
    : workflow_(workflow),
      graph_(workflow.graph()),
      input_(std::move(input)),
      sink_(sink),
      budget_(workflow.budget()),
      health_(std::make_unique<Health>(workflow.tools().size(), known)),
      router_(workflow, workflow.graph()),
      goal_(workflow.graph().goal()),
      options_(options) {
  if (options.budget.usd) budget_.usd = options.budget.usd;
  if (options.budget.tokens) budget_.tokens = options.budget.tokens;
  if (options.budget.llm_calls) budget_.llm_calls = options.budget.llm_calls;
  ledger_ = BudgetLedger(budget_);
  context_ = json_object("input", input_, "steps", nlohmann::json::object());
  calls_.assign(workflow.tools().size(), 0);
}

RunMachine::~RunMachine() = default;

// ---- names for events ----

nlohmann::json RunMachine::names(const std::vector<NodeIndex>& nodes) const {
  nlohmann::json out = nlohmann::json::array();
  for (NodeIndex n : nodes) out.push_back(graph_.node(n).id);
  return out;
}

nlohmann::json RunMachine::tool_names(const std::vector<ToolIndex>& tools) const {
  nlohmann::json out = nlohmann::json::array();
  for (ToolIndex t : tools) out.push_back(workflow_.tool(t).id);
  return out;
}

const std::string& RunMachine::node_id(NodeIndex n) const { return graph_.node(n).id; }

bool RunMachine::excluded(ToolIndex tool) const { return health().excluded(tool); }

// ---- positions ----

std::size_t RunMachine::position() const { return path_.empty() ? kBeforeStart : path_.size() - 1; }

bool RunMachine::reaches(std::size_t position) const {
  if (position != kBeforeStart) return router_.reachable(path_[position]);
  const graph::Node& start = graph_.node(graph_.start());
  if (start.kind == NodeKind::kTool && excluded(start.tool)) return false;
  return router_.reachable(graph_.start());
}

void RunMachine::follow_route_from(std::size_t position) {
  if (position == kBeforeStart) {
    route_ = router_.route(graph_.start());
    next_ = 0;
  } else {
    route_ = router_.route(path_[position]);
    next_ = 1;
  }
}

std::vector<NodeIndex> RunMachine::remaining_route() const {
  if (route_.nodes.empty()) return {};
  const std::size_t from = next_ == 0 ? 0 : next_ - 1;
  return {route_.nodes.begin() + static_cast<std::ptrdiff_t>(from), route_.nodes.end()};
}

// ---- the loop ----

Action RunMachine::next() {
  // Either nothing is in flight, or the call decided while completing the last one (an llm
  // escalation, an advisor) is pending, to be handed out now.
  assert(awaiting_ == Awaiting::kNothing || pending_.has_value());
  if (!started_) {
    started_ = true;
    start();
  }
  while (!done()) {
    if (!aborts_.empty()) {
      Action abort;
      abort.type = Action::Type::kAbort;
      abort.slot = aborts_.front();
      aborts_.pop_front();
      return abort;
    }
    if (pending_) {
      Action action = std::move(*pending_);
      pending_.reset();
      return action;
    }
    if (!compensations_.empty()) {
      const Compensation& c = compensations_.front();
      aux_context_ = {{"input", input_},
                      {"steps", context_["steps"]},
                      {"compensating", {{"tool", workflow_.tool(c.for_tool).id}, {"output", c.output}}}};
      return invoke(Action::Purpose::kCompensate, c.tool, kNoIndex, &aux_context_);
    }
    if (after_compensation_ == AfterCompensation::kEscalate) {
      finish(RunStatus::kEscalated);
      break;
    }
    if (fanout_) {
      Action action;
      if (step_fanout(action)) return action;
      continue;
    }
    walk();
  }
  return Action{};
}

void RunMachine::start() {
  const NodeIndex start = graph_.start();
  if (graph_.node(start).kind != NodeKind::kTool) path_.push_back(start);

  std::vector<ToolIndex> down;
  for (ToolIndex t = 0; t < workflow_.tools().size(); ++t) {
    if (excluded(t)) down.push_back(t);
  }
  // Which known-down tools the healthy cheapest route would have used: the run avoids them
  // before its first side effect, and the journal says so.
  std::vector<ToolIndex> avoided;
  if (!down.empty()) {
    graph::FixedHealth healthy(workflow_.tools().size());
    const graph::Route ideal = router_.plan(start, goal_, healthy);
    for (NodeIndex n : ideal.nodes) {
      const graph::Node& node = graph_.node(n);
      if (node.kind == NodeKind::kTool && excluded(node.tool)) avoided.push_back(node.tool);
    }
  }
  router_.solve(goal_, health());
  const bool feasible = reaches(position());
  if (feasible) follow_route_from(position());
  // Live telemetry that changed the route (graded factors, not exclusions) is journaled as such.
  if (feasible && !is_branch()) {
    nlohmann::json changed = nlohmann::json::object();
    for (ToolIndex t = 0; t < workflow_.tools().size(); ++t) {
      const double f = health().factor(t);
      if (f != 1.0 && f != kInfinity) changed[workflow_.tool(t).id] = {{"old", 1.0}, {"new", f}};
    }
    if (!changed.empty()) {
      graph::FixedHealth baseline(workflow_.tools().size());
      for (ToolIndex t = 0; t < workflow_.tools().size(); ++t) {
        if (excluded(t)) baseline.exclude(t);
      }
      graph::Router plain(workflow_, graph_);
      const graph::Route unweighted = plain.plan(start, goal_, baseline);
      if (unweighted.nodes != route_.nodes) {
        sink_.emit("reweighted", {{"factors", changed},
                                  {"reason", "live telemetry (Eq. 1)"},
                                  {"old_route", names(unweighted.nodes)},
                                  {"new_route", names(route_.nodes)}});
      }
    }
  }
  sink_.emit("plan",
             json_object("at", node_id(start), "avoided", tool_names(avoided), "cost",
                         feasible ? nlohmann::json(route_.cost) : nlohmann::json(nullptr),
                         "excluded", tool_names(down), "goal", node_id(goal_), "route",
                         names(feasible ? route_.nodes : std::vector<NodeIndex>{})));
  if (!feasible) dead_end("no route to " + node_id(goal_) + " from " + node_id(start));
}

void RunMachine::walk() {
  if (next_ >= route_.nodes.size()) {
    finish(demoted_ ? RunStatus::kDemoted : RunStatus::kCompleted);
    return;
  }
  const NodeIndex node = route_.nodes[next_];
  const graph::Node& n = graph_.node(node);
  switch (n.kind) {
    case NodeKind::kJunction:
      path_.push_back(node);
      ++next_;
      return;
    case NodeKind::kFanout:
      start_fanout(node);
      return;
    case NodeKind::kTool: {
      std::string why;
      auto choice = plan_call(n.tool, -1, context_, &why);
      if (!choice) {
        step_node_ = node;
        step_failed(tools::Outcome::failed(tools::FailureKind::kBudgetExhausted, why));
        return;
      }
      if (choice->tier >= 0) {
        const auto& spec = std::get<graph::LlmTool>(workflow_.tool(n.tool).spec);
        auto learned = options_.learned_start.find(n.tool);
        start_llm_step(node, n.tool, *choice,
                       !spec.tier.empty() ? "the tool's tier"
                       : spec.difficulty == graph::Difficulty::kHard
                           ? "hard step: the strongest tier that fits"
                       : learned != options_.learned_start.end() &&
                               learned->second.first == choice->tier
                           ? learned->second.second
                           : "the cheapest tier that fits");
        return;
      }
      hold(*choice);
      pending_ = invoke(Action::Purpose::kStep, n.tool, node, &context_);
      return;
    }
  }
}

Action RunMachine::invoke(Action::Purpose purpose, ToolIndex tool, NodeIndex node,
                          const nlohmann::json* context) {
  Action a;
  a.type = Action::Type::kInvoke;
  a.purpose = purpose;
  a.tool = tool;
  a.node = node;
  a.call_number = ++root_->calls_[tool];
  current_tool_ = tool;
  a.attempt = purpose == Action::Purpose::kStep ? attempt_ : 1;
  a.context = context;
  if (purpose == Action::Purpose::kStep) {
    a.delay = retry_delay_;
    retry_delay_ = std::chrono::milliseconds(0);
  }
  if (purpose == Action::Purpose::kCompensate) {
    // Like step_started: durable before a non-idempotent compensation is invoked, so that resume
    // knows it may have run.
    sink_.emit("compensation_started", {{"for_tool", workflow_.tool(compensations_.front().for_tool).id},
                                        {"tool", workflow_.tool(tool).id},
                                        {"call", a.call_number},
                                        {"idempotent", workflow_.tool(tool).idempotent}});
  }
  if (purpose == Action::Purpose::kStep) {
    const graph::Tool& t = workflow_.tool(tool);
    step_node_ = node;
    // Every step journals this: built directly (graph/json_object.h), keys in order.
    sink_.emit("step_started", json_object("attempt", a.attempt, "call", a.call_number,
                                           "idempotent", t.idempotent, "kind",
                                           graph::to_string(t.kind), "node", node_id(node),
                                           "tool", t.id));
  }
  awaiting_ = purpose == Action::Purpose::kStep         ? Awaiting::kStep
              : purpose == Action::Purpose::kCompensate ? Awaiting::kCompensate
                                                        : Awaiting::kAdvisor;
  return a;
}

void RunMachine::complete(std::uint32_t slot, tools::Outcome outcome) {
  if (slot != 0) {
    assert(fanout_ && slot <= fanout_->branches.size());
    Branch& b = fanout_->branches[slot - 1];
    b.in_flight = false;
    if (b.state == Branch::State::kRunning) b.machine->complete(0, std::move(outcome));
    return;
  }
  const Awaiting was = awaiting_;
  awaiting_ = Awaiting::kNothing;
  switch (was) {
    case Awaiting::kStep: on_step(std::move(outcome)); break;
    case Awaiting::kCompensate: on_compensation(outcome); break;
    case Awaiting::kAdvisor: on_advisor(outcome); break;
    case Awaiting::kNothing: assert(false && "complete() without a pending invoke"); break;
  }
}

void RunMachine::on_step(tools::Outcome outcome) {
  const NodeIndex node = step_node_;
  const graph::Tool& tool = workflow_.tool(graph_.node(node).tool);
  const int tier = settle(outcome, graph_.node(node).tool, node, "step");
  if (tier >= 0 && !outcome.ok) {
    // Escalate to a stronger tier when the answer was unusable or the provider failed, if one
    // fits what is left of the budget; else the failure counts like any other, and when only the
    // budget stood in the way, as budget_exhausted.
    using tools::FailureKind;
    const FailureKind f = outcome.failure;
    const bool escalatable = f == FailureKind::kSchemaInvalid || f == FailureKind::kBadOutput ||
                             f == FailureKind::kRefusal || f == FailureKind::kHttpStatus ||
                             f == FailureKind::kTimeout || f == FailureKind::kRateLimited ||
                             f == FailureKind::kTransport || f == FailureKind::kConnect ||
                             f == FailureKind::kUnavailable;  // this tier's breaker is open
    const auto& spec = std::get<graph::LlmTool>(tool.spec);
    std::string why;
    if (escalatable && spec.tier.empty()) {
      if (auto next = choose_tier(graph_.node(node).tool, tier, context_, &why)) {
        start_llm_step(node, graph_.node(node).tool, *next,
                       "escalate after " + std::string(tools::to_string(f)) + " on " +
                           options_.tiers[static_cast<std::size_t>(tier)].name);
        return;
      }
      if (static_cast<std::size_t>(tier) + 1 < options_.tiers.size()) {
        outcome.failure = FailureKind::kBudgetExhausted;
        outcome.reason += "; no escalation: " + why;
      }
    }
  }
  if (outcome.ok) {
    context_["steps"][tool.id] = json_object("output", outcome.output);
    sink_.emit("step_succeeded",
               json_object("attempt", attempt_, "latency_us", micros(outcome.latency), "node",
                           node_id(node), "output", std::move(outcome.output), "tool", tool.id));
    path_.push_back(node);
    ++next_;
    attempt_ = 1;
    return;
  }
  // Not retried: a call the budget refused (it would be refused again) and a template with a
  // missing value (the value will not appear by waiting).
  if (attempt_ <= tool.retries && outcome.failure != tools::FailureKind::kBudgetExhausted &&
      outcome.failure != tools::FailureKind::kTemplate) {
    retry_delay_ = backoff(graph_.node(node).tool, root_->calls_[graph_.node(node).tool]);
    sink_.emit("step_retry",
               with_retry_after({{"node", node_id(node)},
                                 {"tool", tool.id},
                                 {"attempt", attempt_},
                                 {"failure", std::string(tools::to_string(outcome.failure))},
                                 {"reason", outcome.reason},
                                 {"latency_us", micros(outcome.latency)},
                                 {"delay_ms", retry_delay_.count()}},
                                outcome));
    ++attempt_;
    return;
  }
  step_failed(outcome);
}

void RunMachine::step_failed(const tools::Outcome& outcome) {
  const NodeIndex node = step_node_;
  const ToolIndex tool = graph_.node(node).tool;
  sink_.emit("step_failed",
             with_retry_after({{"node", node_id(node)},
                               {"tool", workflow_.tool(tool).id},
                               {"attempt", attempt_},
                               {"failure", std::string(tools::to_string(outcome.failure))},
                               {"reason", outcome.reason},
                               {"latency_us", micros(outcome.latency)}},
                              outcome));
  attempt_ = 1;
  health().exclude(tool);
  last_failure_ = outcome.failure;
  heal("failed_tool", workflow_.tool(tool).id, outcome.reason);
}

void RunMachine::heal(std::string_view field, const std::string& failed,
                      const std::string& reason) {
  if (++heals_ > workflow_.policy().max_reroutes) {
    escalate("max_reroutes",
             "gave up after " + std::to_string(workflow_.policy().max_reroutes) +
                 " reroute(s); last failure: " + reason,
             !is_branch() && workflow_.policy().compensate_on_escalation);
    return;
  }
  router_.solve(goal_, health());
  const std::size_t here = position();
  if (reaches(here)) {
    const auto old_route = remaining_route();
    follow_route_from(here);
    ++result_.reroutes;
    sink_.emit("reroute", {{"at", here == kBeforeStart ? node_id(graph_.start())
                                                       : node_id(path_[here])},
                           {field, failed},
                           {"reason", reason},
                           {"old_route", names(old_route)},
                           {"new_route", names(route_.nodes)},
                           {"cost", route_.cost}});
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
    sink_.emit("backtrack", {{"from", node_id(from)},
                             {"to", node_id(path_[i])},
                             {"abandoned", names(abandoned)},
                             {field, failed},
                             {"reason", reason},
                             {"new_route", names(route_.nodes)},
                             {"cost", route_.cost}});
    return;
  }
  dead_end("no route to " + node_id(goal_) + " after " + failed + " failed: " + reason);
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
  router_.solve(goal_, health());
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
    router_.solve(g, health());
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
    escalate(last_failure_ == tools::FailureKind::kBudgetExhausted ? "budget_exhausted" : "no_route",
             message + " (" + reason + ")",
             !is_branch() && workflow_.policy().compensate_on_escalation);
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
    if (auto choice = plan_call(advisor, -1, aux_context_, &why_not)) {
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
  // Anything that names no reachable option counts as "escalate" (spec/workflow.md).
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
  router_.solve(goal_, health());
  follow_route_from(option.path_index);
  sink_.emit("goal_demoted", {{"from_goal", node_id(from_goal)},
                              {"to_goal", node_id(goal_)},
                              {"decided_by", decided_by},
                              {"blocked", tool_names(blocked)},
                              {"abandoned", names(abandoned)},
                              {"route", names(route_.nodes)},
                              {"cost", route_.cost}});
}

void RunMachine::escalate(const std::string& reason, const std::string& message,
                          bool compensate) {
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

// ---- budget controller: llm tier choice ----

std::int64_t RunMachine::prompt_tokens(ToolIndex tool, const nlohmann::json& context) const {
  const auto* spec = std::get_if<graph::LlmTool>(&workflow_.tool(tool).spec);
  if (spec == nullptr) return 0;
  // The text as the tool will render it (a template that cannot render fails the call unsent).
  auto render = [&](const std::string& text) {
    auto parsed = graph::parse_template(text);
    auto rendered =
        parsed.ok() ? graph::render_template(*parsed, context) : Result<std::string>(text);
    return rendered.ok() ? *rendered : text;
  };
  return tools::prompt_token_bound(*spec, spec->system.empty() ? "" : render(spec->system),
                                   render(spec->prompt));
}

std::optional<RunMachine::TierChoice> RunMachine::plan_call(ToolIndex tool, int above,
                                                            const nlohmann::json& context,
                                                            std::string* why) const {
  const graph::Tool& t = workflow_.tool(tool);
  if (t.kind == graph::ToolKind::kLlm && !options_.tiers.empty()) {
    return choose_tier(tool, above, context, why);
  }
  TierChoice choice{-1, worst_case(t, prompt_tokens(tool, context), nullptr)};
  if (auto short_of = root_->ledger_.shortfall(choice.worst)) {
    if (why != nullptr) *why = "budget: " + t.id + ": " + *short_of;
    return std::nullopt;
  }
  return choice;
}

std::optional<RunMachine::TierChoice> RunMachine::choose_tier(ToolIndex tool, int above,
                                                              const nlohmann::json& context,
                                                              std::string* why) const {
  const graph::Tool& t = workflow_.tool(tool);
  const auto& spec = std::get<graph::LlmTool>(t.spec);
  const std::int64_t prompt = prompt_tokens(tool, context);
  std::vector<int> order;
  const int n = static_cast<int>(options_.tiers.size());
  if (!spec.tier.empty()) {
    for (int i = 0; i < n; ++i) {
      if (options_.tiers[static_cast<std::size_t>(i)].name == spec.tier && i > above) order.push_back(i);
    }
  } else if (spec.difficulty == graph::Difficulty::kHard && above < 0) {
    for (int i = n - 1; i >= 0; --i) order.push_back(i);  // strongest first, downgrade to fit
  } else if (auto learned = options_.learned_start.find(tool);
             learned != options_.learned_start.end() && above < 0) {
    // The learned start tier, then up; cheaper ones only when the budget forces a downgrade.
    for (int i = learned->second.first; i < n; ++i) order.push_back(i);
    for (int i = learned->second.first - 1; i >= 0; --i) order.push_back(i);
  } else {
    for (int i = above + 1; i < n; ++i) order.push_back(i);  // cheapest that fits, upward
  }
  std::string short_of = "no tier left";
  for (int i : order) {
    const Spend worst = worst_case(t, prompt, &options_.tiers[static_cast<std::size_t>(i)]);
    auto s = root_->ledger_.shortfall(worst);
    if (!s) return TierChoice{i, worst};
    short_of = options_.tiers[static_cast<std::size_t>(i)].name + ": " + *s;
  }
  if (why != nullptr) {
    *why = "budget: no tier can cover " + t.id + "'s worst case (" +
           std::to_string(prompt + spec.max_tokens) + " tokens) within what is left (" + short_of +
           ")";
  }
  return std::nullopt;
}

void RunMachine::hold(const TierChoice& choice) {
  assert(!held_);
  root_->ledger_.reserve(choice.worst);
  held_ = choice;
}

void RunMachine::start_llm_step(NodeIndex node, ToolIndex tool, const TierChoice& choice,
                                const std::string& reason) {
  hold(choice);
  sink_.emit("llm_decision", {{"node", node_id(node)},
                              {"tool", workflow_.tool(tool).id},
                              {"tier", options_.tiers[static_cast<std::size_t>(choice.tier)].name},
                              {"reason", reason},
                              {"reserved_usd", choice.worst.usd},
                              {"reserved_tokens", choice.worst.tokens}});
  pending_ = invoke(Action::Purpose::kStep, tool, node, &context_);
  pending_->tier = choice.tier;
}

int RunMachine::settle(const tools::Outcome& outcome, ToolIndex tool, NodeIndex node,
                       std::string_view purpose) {
  // A call that was never sent (the monitor refused it, its key or template was missing) costs
  // nothing; any other is charged what it cost, its price and, for a model, its usage.
  const bool sent = outcome.failure != tools::FailureKind::kUnavailable &&
                    outcome.failure != tools::FailureKind::kTemplate;
  Spend actual;
  if (sent) {
    actual = {outcome.cost_usd + workflow_.tool(tool).price_usd, outcome.tokens,
              outcome.llm_call ? 1 : 0};
  }
  std::optional<TierChoice> held = std::move(held_);
  held_.reset();
  if (sent && held && outcome.usage_unknown) {
    // The reply's usage could not be read: the call is charged its reserved worst case.
    actual = {std::max(actual.usd, held->worst.usd), std::max(actual.tokens, held->worst.tokens),
              std::max(actual.llm_calls, held->worst.llm_calls)};
  }
  Spend over;
  if (held) {
    over = root_->ledger_.settle(held->worst, actual);
  } else {
    root_->ledger_.charge(actual);
  }
  sync_spend();
  if (outcome.llm_call) {
    sink_.emit("llm_call", {{"tool", workflow_.tool(tool).id},
                            {"purpose", purpose},
                            {"tokens", outcome.tokens},
                            {"cost_usd", outcome.cost_usd}});
  }
  const int tier = held ? held->tier : -1;
  if (tier >= 0 && outcome.llm_call) {
    nlohmann::json settled = {
        {"node", node == kNoIndex ? nlohmann::json(nullptr) : nlohmann::json(node_id(node))},
        {"purpose", purpose},
        {"tool", workflow_.tool(tool).id},
        {"tier", options_.tiers[static_cast<std::size_t>(tier)].name},
        {"tokens", outcome.tokens},
        {"cost_usd", outcome.cost_usd},
        {"reserved_usd", held->worst.usd},
        {"ok", outcome.ok}};
    if (over.usd > 0 || over.tokens > 0) {
      // The provider reported more than the honest bound: charged as reported (it bills it).
      settled["over_reservation"] = {{"usd", over.usd}, {"tokens", over.tokens}};
    }
    if (!outcome.ok) {  // what the call failed of: an escalation journals no step_failed
      settled["failure"] = std::string(tools::to_string(outcome.failure));
      settled["reason"] = outcome.reason;
    }
    sink_.emit("llm_settled", std::move(settled));
  }
  return tier;
}

void RunMachine::drop_held(bool sent) {
  if (!held_) return;
  const TierChoice held = *held_;
  held_.reset();
  // The request of an aborted call may have reached the provider, which bills it; its answer,
  // and so its usage, will never be seen. Charging its worst case keeps the cap hard; releasing
  // it would let the next call spend money the provider may already be owed.
  root_->ledger_.settle(held.worst, sent ? held.worst : Spend{});
  sync_spend();
  if (!sent || held.tier < 0) return;
  const bool step = awaiting_ == Awaiting::kStep;
  sink_.emit("llm_settled",
             {{"node", step ? nlohmann::json(node_id(step_node_)) : nlohmann::json(nullptr)},
              {"purpose", step ? "step" : "advisor"},
              {"tool", workflow_.tool(current_tool_).id},
              {"tier", options_.tiers[static_cast<std::size_t>(held.tier)].name},
              {"tokens", held.worst.tokens},
              {"cost_usd", held.worst.usd - workflow_.tool(current_tool_).price_usd},
              {"reserved_usd", held.worst.usd},
              {"ok", false},
              {"aborted", true}});
}

void RunMachine::sync_spend() {
  RunResult& r = root_->result_;
  const Spend& spent = root_->ledger_.spent();
  r.spent_usd = spent.usd;
  r.tokens = spent.tokens;
  r.llm_calls = static_cast<int>(spent.llm_calls);
}

// ---- fan-out ----

void RunMachine::start_fanout(NodeIndex node) {
  const graph::Fanout& spec = workflow_.fanouts()[graph_.node(node).fanout];
  fanout_ = std::make_unique<FanoutRun>();
  fanout_->node = node;
  fanout_->need = spec.quorum;
  for (std::uint32_t b = 0; b < spec.branches.size(); ++b) {
    Branch branch;
    branch.machine.reset(new RunMachine(*this, spec.branches[b], node, b));
    fanout_->branches.push_back(std::move(branch));
  }
  static constexpr const char* kJoins[] = {"all", "any", "quorum"};
  sink_.emit("fanout_started", {{"node", node_id(node)},
                                {"join", kJoins[static_cast<int>(spec.join)]},
                                {"need", spec.quorum},
                                {"branches", spec.branches.size()}});
}

// Hands out the next call of a branch that can start, kWait while all wait on calls; false when
// the fan-out has been resolved (the caller goes on with the run).
bool RunMachine::step_fanout(Action& out) {
  FanoutRun& f = *fanout_;
  bool waiting = false;
  for (std::size_t b = 0; b < f.branches.size(); ++b) {
    Branch& branch = f.branches[b];
    if (branch.state != Branch::State::kRunning) continue;
    if (branch.in_flight) {
      waiting = true;
      continue;
    }
    Action a = branch.machine->next();
    if (a.type == Action::Type::kInvoke) {
      branch.in_flight = true;
      a.slot = static_cast<std::uint32_t>(b) + 1;
      out = a;
      return true;
    }
    branch_done(b);
    if (!fanout_) return false;  // the join was decided
  }
  if (waiting) {
    out = Action{};
    out.type = Action::Type::kWait;
    return true;
  }
  resolve_fanout(f.succeeded >= f.need);  // unreachable in practice: the join decides first
  return false;
}

void RunMachine::branch_done(std::size_t b) {
  FanoutRun& f = *fanout_;
  Branch& branch = f.branches[b];
  const bool ok = branch.machine->result().status == RunStatus::kCompleted;
  branch.state = ok ? Branch::State::kSucceeded : Branch::State::kFailed;
  ++(ok ? f.succeeded : f.failed);
  result_.reroutes += branch.machine->result().reroutes;
  result_.backtracks += branch.machine->result().backtracks;
  const int total = static_cast<int>(f.branches.size());
  if (f.succeeded >= f.need) return resolve_fanout(true);
  if (f.failed > total - f.need) return resolve_fanout(false);
}

// The join is decided: cancel the branches still running, keep what the join used, compensate
// the rest, and continue the run (or route around the node when the join failed).
void RunMachine::resolve_fanout(bool ok) {
  std::unique_ptr<FanoutRun> f = std::move(fanout_);
  const NodeIndex node = f->node;
  nlohmann::json succeeded = nlohmann::json::array(), failed = nlohmann::json::array(),
                 cancelled = nlohmann::json::array(), kept = nlohmann::json::array();
  for (std::uint32_t b = 0; b < f->branches.size(); ++b) {
    Branch& branch = f->branches[b];
    if (branch.state == Branch::State::kRunning) {
      if (branch.in_flight) aborts_.push_back(b + 1);  // the driver aborts the call in flight
      branch.machine->cancel("join of " + node_id(node) + " decided");
      branch.state = Branch::State::kCancelled;
    }
    switch (branch.state) {
      case Branch::State::kSucceeded: succeeded.push_back(b); break;
      case Branch::State::kFailed: failed.push_back(b); break;
      default: cancelled.push_back(b); break;
    }
  }
  nlohmann::json outputs = nlohmann::json::object();
  std::vector<Compensation> kept_steps;  // newest first
  std::deque<Compensation> undo;         // steps the join does not use, newest first
  for (std::uint32_t b = static_cast<std::uint32_t>(f->branches.size()); b-- > 0;) {
    Branch& branch = f->branches[b];
    std::deque<Compensation> steps;
    branch.machine->collect_compensations(steps);
    if (ok && branch.state == Branch::State::kSucceeded) {
      outputs[std::to_string(b)] = branch.machine->branch_output();
      for (auto& c : steps) {
        kept.push_back(workflow_.tool(c.for_tool).id);
        context_["steps"][workflow_.tool(c.for_tool).id] = {{"output", c.output}};
        kept_steps.push_back(std::move(c));
      }
    } else {
      for (auto& c : steps) {
        if (c.tool != kNoIndex) undo.push_back(std::move(c));
      }
    }
  }
  sink_.emit("fanout_joined", {{"node", node_id(node)},
                               {"ok", ok},
                               {"succeeded", succeeded},
                               {"failed", failed},
                               {"cancelled", cancelled},
                               {"kept", kept}});
  for (auto& c : undo) compensations_.push_back(std::move(c));
  if (ok) {
    context_["steps"][node_id(node)] = {{"output", outputs}};
    fanout_kept_[node] = std::move(kept_steps);
    path_.push_back(node);
    ++next_;
    return;
  }
  router_.exclude_node(node);
  heal("failed_node", node_id(node),
       "fan-out " + node_id(node) + ": " + std::to_string(f->succeeded) + " of " +
           std::to_string(f->need) + " needed branch(es) succeeded");
}

// The output of a finished branch: that of its last completed tool step (null without one).
nlohmann::json RunMachine::branch_output() const {
  for (std::size_t j = path_.size(); j-- > 0;) {
    const graph::Node& node = graph_.node(path_[j]);
    if (node.kind != NodeKind::kTool) continue;
    auto it = context_["steps"].find(workflow_.tool(node.tool).id);
    if (it != context_["steps"].end()) return (*it)["output"];
  }
  return nullptr;
}

// Every completed tool step on this branch's path, newest first, with its compensation tool
// (kNoIndex when it has none) and output.
void RunMachine::collect_compensations(std::deque<Compensation>& out) {
  for (std::size_t j = path_.size(); j-- > 0;) {
    const graph::Node& node = graph_.node(path_[j]);
    if (node.kind != NodeKind::kTool) continue;
    const graph::Tool& tool = workflow_.tool(node.tool);
    auto it = context_["steps"].find(tool.id);
    out.push_back({node.tool, tool.compensate,
                   it != context_["steps"].end() ? (*it)["output"] : nlohmann::json(nullptr)});
  }
}

std::chrono::milliseconds RunMachine::backoff(ToolIndex tool, int call) const {
  // Exponential in the attempt, capped; jitter drawn from (seed, tool, call) so it is the same on
  // replay and different across tools and runs with different seeds.
  const int exponent = std::min(attempt_ - 1, 30);
  const double base = std::min(static_cast<double>(options_.retry_cap.count()),
                               static_cast<double>(options_.retry_base.count()) *
                                   static_cast<double>(1ULL << exponent));
  std::uint64_t x = options_.seed ^ (static_cast<std::uint64_t>(tool) << 32) ^
                    static_cast<std::uint64_t>(call);
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  const double jitter = 0.5 + static_cast<double>(x >> 11) * 0x1.0p-53;
  return std::chrono::milliseconds(static_cast<std::int64_t>(base * jitter));
}

void RunMachine::cancel(const std::string& reason) {
  if (done()) return;
  nlohmann::json in_flight = nullptr;
  if (awaiting_ != Awaiting::kNothing && current_tool_ != kNoIndex) {
    in_flight = workflow_.tool(current_tool_).id;
  }
  drop_held(/*sent=*/awaiting_ != Awaiting::kNothing && !pending_);
  awaiting_ = Awaiting::kNothing;
  pending_.reset();
  compensations_.clear();
  aborts_.clear();
  if (fanout_) {
    for (Branch& b : fanout_->branches) {
      if (b.state == Branch::State::kRunning) b.machine->cancel(reason);
    }
    fanout_.reset();
  }
  sink_.emit("cancelled", {{"reason", reason}, {"in_flight", in_flight}});
  result_.message = "cancelled: " + reason;
  finish(RunStatus::kFailed);
}

void RunMachine::escalate_in_doubt(const std::string& message) {
  if (done()) return;
  awaiting_ = Awaiting::kNothing;
  pending_.reset();
  aborts_.clear();
  // A running fan-out's branches stop where they are (their calls are in doubt too), without
  // events of their own: the escalation says it all.
  fanout_.reset();
  // Nothing is compensated: whether the step in doubt took effect is exactly what is unknown.
  compensations_.clear();
  escalate("in_doubt", message, /*compensate=*/false);
}

void RunMachine::fail_run(const std::string& message) {
  result_.message = message;
  sink_.emit("failed", {{"message", message}});
  finish(RunStatus::kFailed);
}

void RunMachine::finish(RunStatus status) {
  result_.status = status;
  result_.goal = node_id(goal_);
  result_.path.clear();
  for (NodeIndex n : path_) result_.path.push_back(node_id(n));
}

}  // namespace switchyard::runtime
