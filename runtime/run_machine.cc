#include "runtime/run_machine.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace switchyard::runtime {
namespace {

using graph::kInfinity;
using graph::kNoIndex;
using graph::NodeIndex;
using graph::NodeKind;
using graph::ToolIndex;

constexpr std::size_t kBeforeStart = std::numeric_limits<std::size_t>::max();

std::int64_t micros(std::chrono::microseconds d) { return d.count(); }

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
  nlohmann::json j = {{"status", std::string(runtime::to_string(status))},
                      {"goal", goal},
                      {"path", path},
                      {"reroutes", reroutes},
                      {"backtracks", backtracks},
                      {"llm_calls", llm_calls},
                      {"spent_usd", spent_usd},
                      {"tokens", tokens},
                      {"escalation", nullptr}};
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
  context_ = {{"input", input_}, {"steps", nlohmann::json::object()}};
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

bool RunMachine::excluded(ToolIndex tool) const { return health_->excluded(tool); }

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
  assert(awaiting_ == Awaiting::kNothing);
  if (!started_) {
    started_ = true;
    start();
  }
  while (!done()) {
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
  router_.solve(goal_, *health_);
  const bool feasible = reaches(position());
  if (feasible) follow_route_from(position());
  sink_.emit("plan", {{"at", node_id(start)},
                      {"goal", node_id(goal_)},
                      {"route", names(feasible ? route_.nodes : std::vector<NodeIndex>{})},
                      {"cost", feasible ? nlohmann::json(route_.cost) : nlohmann::json(nullptr)},
                      {"excluded", tool_names(down)},
                      {"avoided", tool_names(avoided)}});
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
      fail_run("fan-out node " + n.id + " cannot run: this engine does not execute fan-out yet");
      return;
    case NodeKind::kTool: {
      if (auto reason = unaffordable(n.tool)) {
        const tools::Outcome refused =
            tools::Outcome::failed(tools::FailureKind::kBudgetExhausted, *reason);
        step_node_ = node;
        step_failed(refused);
        return;
      }
      pending_ = invoke(Action::Purpose::kStep, n.tool, node, &context_);
      return;
    }
  }
}

std::optional<std::string> RunMachine::unaffordable(ToolIndex tool) const {
  const graph::Tool& t = workflow_.tool(tool);
  if (budget_.usd && result_.spent_usd + t.price_usd > *budget_.usd + 1e-12) {
    return "budget: " + t.id + " costs $" + std::to_string(t.price_usd) + ", $" +
           std::to_string(*budget_.usd - result_.spent_usd) + " left";
  }
  if (t.kind == graph::ToolKind::kLlm) {
    if (budget_.llm_calls && result_.llm_calls >= *budget_.llm_calls) {
      return "budget: " + std::to_string(*budget_.llm_calls) + " LLM call(s) already made";
    }
    if (budget_.tokens && result_.tokens >= *budget_.tokens) {
      return "budget: " + std::to_string(*budget_.tokens) + " token(s) already used";
    }
  }
  return std::nullopt;
}

Action RunMachine::invoke(Action::Purpose purpose, ToolIndex tool, NodeIndex node,
                          const nlohmann::json* context) {
  Action a;
  a.type = Action::Type::kInvoke;
  a.purpose = purpose;
  a.tool = tool;
  a.node = node;
  a.call_number = ++calls_[tool];
  current_tool_ = tool;
  a.attempt = purpose == Action::Purpose::kStep ? attempt_ : 1;
  a.context = context;
  if (purpose == Action::Purpose::kStep) {
    a.delay = retry_delay_;
    retry_delay_ = std::chrono::milliseconds(0);
  }
  if (purpose == Action::Purpose::kStep) {
    const graph::Tool& t = workflow_.tool(tool);
    step_node_ = node;
    sink_.emit("step_started", {{"node", node_id(node)},
                                {"tool", t.id},
                                {"kind", std::string(graph::to_string(t.kind))},
                                {"attempt", a.attempt},
                                {"call", a.call_number},
                                {"idempotent", t.idempotent}});
  }
  awaiting_ = purpose == Action::Purpose::kStep         ? Awaiting::kStep
              : purpose == Action::Purpose::kCompensate ? Awaiting::kCompensate
                                                        : Awaiting::kAdvisor;
  return a;
}

void RunMachine::complete(tools::Outcome outcome) {
  const Awaiting was = awaiting_;
  awaiting_ = Awaiting::kNothing;
  switch (was) {
    case Awaiting::kStep: on_step(std::move(outcome)); break;
    case Awaiting::kCompensate: on_compensation(outcome); break;
    case Awaiting::kAdvisor: on_advisor(outcome); break;
    case Awaiting::kNothing: assert(false && "complete() without a pending invoke"); break;
  }
}

void RunMachine::charge(const tools::Outcome& outcome, ToolIndex tool, std::string_view purpose) {
  result_.spent_usd += outcome.cost_usd + workflow_.tool(tool).price_usd;
  result_.tokens += outcome.tokens;
  if (outcome.llm_call) {
    ++result_.llm_calls;
    sink_.emit("llm_call", {{"tool", workflow_.tool(tool).id},
                            {"purpose", purpose},
                            {"tokens", outcome.tokens},
                            {"cost_usd", outcome.cost_usd}});
  }
}

void RunMachine::on_step(tools::Outcome outcome) {
  const NodeIndex node = step_node_;
  const graph::Tool& tool = workflow_.tool(graph_.node(node).tool);
  charge(outcome, graph_.node(node).tool, "step");
  if (outcome.ok) {
    context_["steps"][tool.id] = {{"output", outcome.output}};
    sink_.emit("step_succeeded", {{"node", node_id(node)},
                                  {"tool", tool.id},
                                  {"attempt", attempt_},
                                  {"output", std::move(outcome.output)},
                                  {"latency_us", micros(outcome.latency)}});
    path_.push_back(node);
    ++next_;
    attempt_ = 1;
    return;
  }
  if (attempt_ <= tool.retries && outcome.failure != tools::FailureKind::kBudgetExhausted) {
    retry_delay_ = backoff(graph_.node(node).tool, calls_[graph_.node(node).tool]);
    sink_.emit("step_retry", {{"node", node_id(node)},
                              {"tool", tool.id},
                              {"attempt", attempt_},
                              {"failure", std::string(tools::to_string(outcome.failure))},
                              {"reason", outcome.reason},
                              {"delay_ms", retry_delay_.count()}});
    ++attempt_;
    return;
  }
  step_failed(outcome);
}

void RunMachine::step_failed(const tools::Outcome& outcome) {
  const NodeIndex node = step_node_;
  const ToolIndex tool = graph_.node(node).tool;
  sink_.emit("step_failed", {{"node", node_id(node)},
                             {"tool", workflow_.tool(tool).id},
                             {"attempt", attempt_},
                             {"failure", std::string(tools::to_string(outcome.failure))},
                             {"reason", outcome.reason},
                             {"latency_us", micros(outcome.latency)}});
  attempt_ = 1;
  health_->exclude(tool);
  heal(tool, outcome.reason);
}

void RunMachine::heal(ToolIndex failed, const std::string& reason) {
  if (++heals_ > workflow_.policy().max_reroutes) {
    escalate("max_reroutes",
             "gave up after " + std::to_string(workflow_.policy().max_reroutes) +
                 " reroute(s); last failure: " + reason,
             workflow_.policy().compensate_on_escalation);
    return;
  }
  router_.solve(goal_, *health_);
  const std::size_t here = position();
  if (reaches(here)) {
    const auto old_route = remaining_route();
    follow_route_from(here);
    ++result_.reroutes;
    sink_.emit("reroute", {{"at", here == kBeforeStart ? node_id(graph_.start())
                                                       : node_id(path_[here])},
                           {"failed_tool", workflow_.tool(failed).id},
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
                             {"failed_tool", workflow_.tool(failed).id},
                             {"reason", reason},
                             {"new_route", names(route_.nodes)},
                             {"cost", route_.cost}});
    return;
  }
  dead_end("no route to " + node_id(goal_) + " after " + workflow_.tool(failed).id +
           " failed: " + reason);
}

void RunMachine::abandon_after(std::size_t index) {
  // Compensations run newest first (saga), before the run moves on.
  for (std::size_t j = path_.size(); j-- > index + 1;) {
    const graph::Node& node = graph_.node(path_[j]);
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
  router_.solve(goal_, *health_);
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
    router_.solve(g, *health_);
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
  auto options = demote_options();
  if (options.empty()) {
    std::string message = "goal " + node_id(goal_) + " is unreachable";
    if (!blocked.empty()) {
      message += "; blocked:";
      for (ToolIndex t : blocked) message += " " + workflow_.tool(t).id;
    }
    escalate("no_route", message + " (" + reason + ")", workflow_.policy().compensate_on_escalation);
    return;
  }
  const ToolIndex advisor = workflow_.advisor();
  if (advisor != kNoIndex) {
    if (auto why_not = unaffordable(advisor)) {
      sink_.emit("advisor_skipped", {{"tool", workflow_.tool(advisor).id}, {"reason", *why_not}});
    } else {
      // The advisor has a decision to make: ask it. (With no option it would not, so it is not
      // called: no LLM spend on a foregone conclusion.)
      std::vector<NodeIndex> goals;
      for (const auto& o : options) goals.push_back(o.goal);
      advisor_options_ = std::move(options);
      aux_context_ = {{"input", input_},
                      {"steps", context_["steps"]},
                      {"goal", node_id(goal_)},
                      {"blocked", tool_names(blocked)},
                      {"options", names(goals)},
                      {"reason", reason}};
      pending_ = invoke(Action::Purpose::kAdvisor, advisor, kNoIndex, &aux_context_);
      return;
    }
  }
  demote(options.front(), "rule", blocked);
}

void RunMachine::on_advisor(const tools::Outcome& outcome) {
  charge(outcome, workflow_.advisor(), "advisor");
  const auto blocked = blocked_tools();
  if (!outcome.ok) {
    escalate("advisor_failed", "the advisor failed: " + outcome.reason,
             workflow_.policy().compensate_on_escalation);
    return;
  }
  nlohmann::json answer = outcome.output;
  if (answer.is_string()) {
    answer = nlohmann::json::parse(answer.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  }
  if (answer.is_object() && answer.value("action", "") == "demote" && answer.contains("goal") &&
      answer["goal"].is_string()) {
    const std::string goal = answer["goal"].get<std::string>();
    for (const auto& option : advisor_options_) {
      if (node_id(option.goal) == goal) {
        demote(option, "advisor", blocked);
        return;
      }
    }
  }
  // Anything that names no reachable option counts as "escalate" (spec/workflow.md).
  std::string message = "the advisor chose to escalate";
  if (answer.is_object() && answer.contains("message") && answer["message"].is_string()) {
    message = answer["message"].get<std::string>();
  }
  escalate("advisor", message, workflow_.policy().compensate_on_escalation);
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
  router_.solve(goal_, *health_);
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
  charge(outcome, c.tool, "compensation");
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
  awaiting_ = Awaiting::kNothing;
  pending_.reset();
  compensations_.clear();
  sink_.emit("cancelled", {{"reason", reason}, {"in_flight", in_flight}});
  result_.message = "cancelled: " + reason;
  finish(RunStatus::kFailed);
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
