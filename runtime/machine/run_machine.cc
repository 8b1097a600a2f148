#include "runtime/machine/run_machine.h"

#include <algorithm>
#include <cassert>

#include "graph/json_object.h"
#include "graph/splitmix.h"
#include "runtime/machine/fanout.h"

namespace switchyard::runtime {
namespace {

using graph::kInfinity;
using graph::kNoIndex;
using graph::NodeIndex;
using graph::NodeKind;
using graph::ToolIndex;

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

// The bytes of `j` as compact JSON (invalid UTF-8 counted as U+FFFD: never throws).
std::size_t json_bytes(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
}

// At least json_bytes(j), found without serializing (a string's bytes may each need 6 as an
// escape; a number at most 32); stops counting past `enough`. `stack` is scratch space.
std::size_t json_bytes_bound(const nlohmann::json& j, std::size_t enough,
                             std::vector<const nlohmann::json*>& stack) {
  std::size_t bound = 0;
  stack.assign(1, &j);
  while (!stack.empty() && bound <= enough) {
    const nlohmann::json& v = *stack.back();
    stack.pop_back();
    if (const auto* text = v.get_ptr<const std::string*>()) {
      bound += 2 + 6 * text->size();
    } else if (v.is_object()) {
      bound += 2;  // {}, then per member: its key quoted, a colon, a comma
      for (auto it = v.begin(); it != v.end(); ++it) {
        bound += 4 + 6 * it.key().size();
        stack.push_back(&it.value());
      }
    } else if (v.is_array()) {
      bound += 2 + v.size();
      for (const auto& e : v) stack.push_back(&e);
    } else {
      bound += 32;  // null, true, false, a number
    }
  }
  return bound;
}

// Sets r.output and r.outputs from `steps` (the step context, {id: {"output"}}) within
// `max_bytes` of compact JSON (the values; not the ids): the output of step `goal_step` ("" for
// none) first, then as many of the outputs as fit, the largest left out first.
void set_outputs(RunResult& r, const nlohmann::json& steps, const std::string& goal_step,
                 std::size_t max_bytes) {
  struct Entry {
    const std::string* id;
    const nlohmann::json* output;
    std::size_t bytes;  // first an upper bound (json_bytes_bound), then exact if need be
  };
  std::vector<Entry> entries;
  entries.reserve(steps.size());
  const Entry* goal = nullptr;
  std::vector<const nlohmann::json*> stack;
  std::size_t total = 0;
  for (auto it = steps.begin(); it != steps.end(); ++it) {
    auto output = it->find("output");
    if (output == it->end()) continue;
    const std::size_t bound =
        total <= max_bytes ? json_bytes_bound(*output, max_bytes - total, stack) : 0;
    entries.push_back({&it.key(), &*output, bound});
    total += bound;
  }
  for (const Entry& e : entries) {
    if (*e.id == goal_step) goal = &e;
  }
  r.output = nullptr;
  r.output_truncated = false;
  r.outputs_dropped.clear();
  // Usually far under the bound, which the upper bounds show without serializing anything.
  const bool fits = total <= max_bytes && (goal == nullptr || goal->bytes <= max_bytes - total);
  if (!fits) {
    total = 0;
    for (Entry& e : entries) {
      e.bytes = json_bytes(*e.output);
      total += e.bytes;
    }
  }
  std::size_t room = max_bytes;
  if (goal != nullptr) {
    if (goal->bytes <= room) {
      r.output = *goal->output;
      room -= goal->bytes;
    } else {
      r.output_truncated = true;
    }
  }
  if (total > room) {
    // Largest first (ties: in id order), until the rest fits.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.bytes > b.bytes; });
    std::size_t dropped = 0;
    while (total > room) {
      total -= entries[dropped].bytes;
      r.outputs_dropped.push_back(*entries[dropped].id);
      ++dropped;
    }
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(dropped));
  }
  // Unless some were dropped, `entries` is in id order, as `steps` holds them: each goes in at
  // the end without a search (json_object.h).
  r.outputs = nlohmann::json::object();
  auto& outputs = *r.outputs.get_ptr<nlohmann::json::object_t*>();
  for (const Entry& e : entries) outputs.emplace_hint(outputs.end(), *e.id, *e.output);
}

}  // namespace

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kDemoted:
      return "demoted";
    case RunStatus::kEscalated:
      return "escalated";
    case RunStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

nlohmann::json RunResult::to_json() const {
  nlohmann::json j = json_object(
      "backtracks", backtracks, "escalation", nullptr, "goal", goal, "llm_calls", llm_calls,
      "output", output, "output_truncated", output_truncated, "outputs", outputs, "outputs_dropped",
      outputs_dropped, "outputs_truncated", !outputs_dropped.empty(), "path", path, "reroutes",
      reroutes, "spent_usd", spent_usd, "status", runtime::to_string(status), "tokens", tokens);
  if (status == RunStatus::kEscalated || status == RunStatus::kFailed) {
    j["escalation"] = {{"blocked", blocked}, {"message", message}};
  }
  return j;
}

graph::FixedHealth& RunMachine::health() const { return *root_->health_; }

RunMachine::RunMachine(const graph::Workflow& workflow, nlohmann::json input,
                       const graph::HealthView& known, EventSink& sink, RunMachineOptions options)
    : workflow_(workflow),
      graph_(workflow.graph()),
      input_(std::move(input)),
      sink_(sink),
      budget_(workflow.budget()),
      health_(std::make_unique<graph::FixedHealth>(workflow.tools().size(), known)),
      router_(workflow, workflow.graph()),
      goal_(workflow.graph().goal()),
      options_(options) {
  if (options.budget.usd) budget_.usd = options.budget.usd;
  if (options.budget.tokens) budget_.tokens = options.budget.tokens;
  if (options.budget.llm_calls) budget_.llm_calls = options.budget.llm_calls;
  budget_controller_ = BudgetController(workflow, budget_, options_.tiers, options_.learned_start);
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
  // The start has not run yet (a tool or a fan-out): it must be usable itself.
  const graph::Node& start = graph_.node(graph_.start());
  if (start.kind == NodeKind::kTool && excluded(start.tool)) return false;
  if (start.kind == NodeKind::kFanout && !router_.usable(graph_.start())) return false;
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
  planned_next_ = next_;
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
      aux_context_ = {
          {"input", input_},
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
  // A junction start is where the run stands; a tool or a fan-out start is the route's first
  // step, run like any other (a fan-out start passed over would complete a run that never ran it).
  if (graph_.node(start).kind == NodeKind::kJunction) path_.push_back(start);

  std::vector<ToolIndex> down;
  for (ToolIndex t = 0; t < workflow_.tools().size(); ++t) {
    if (excluded(t)) down.push_back(t);
  }
  // Which known-down tools the healthy cheapest route would have used: the run avoids them
  // before its first side effect, and the journal says so.
  // The conditions as they stand at the start (graph/condition.h) close their edges for every
  // route below, the healthy one included.
  apply_conditions();
  std::vector<ToolIndex> avoided;
  if (!down.empty()) {
    graph::FixedHealth healthy(workflow_.tools().size());
    const graph::Route ideal = router_.plan(start, goal_, healthy);
    for (NodeIndex n : ideal.nodes) {
      const graph::Node& node = graph_.node(n);
      if (node.kind == NodeKind::kTool && excluded(node.tool)) avoided.push_back(node.tool);
    }
  }
  solve(goal_);
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
      plain.set_closed_edges(closed_);
      const graph::Route unweighted = plain.plan(start, goal_, baseline);
      if (unweighted.nodes != route_.nodes) {
        sink_.emit("reweighted", {{"factors", changed},
                                  {"reason", "live telemetry (Eq. 1)"},
                                  {"old_route", names(unweighted.nodes)},
                                  {"new_route", names(route_.nodes)}});
      }
    }
  }
  nlohmann::json plan =
      json_object("at", node_id(start), "avoided", tool_names(avoided), "cost",
                  feasible ? nlohmann::json(route_.cost) : nlohmann::json(nullptr), "excluded",
                  tool_names(down), "goal", node_id(goal_), "route",
                  names(feasible ? route_.nodes : std::vector<NodeIndex>{}));
  if (!graph_.guarded().empty()) plan["conditions"] = conditions_json();
  sink_.emit("plan", std::move(plan));
  if (!feasible) {
    dead_end("no route to " + node_id(goal_) + " from " + node_id(start) + closed_text());
  }
}

void RunMachine::walk() {
  if (next_ >= route_.nodes.size()) {
    finish(demoted_ ? RunStatus::kDemoted : RunStatus::kCompleted);
    return;
  }
  // The run has reached a node since the route was planned: where its conditions are decided.
  if (next_ != planned_next_ && !graph_.guarded().empty() && !plan_on_arrival()) return;
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
      auto choice = controller().plan_call(n.tool, -1, context_, &why);
      if (!choice) {
        step_node_ = node;
        step_failed(tools::Outcome::failed(tools::FailureKind::kBudgetExhausted, why));
        return;
      }
      if (choice->tier >= 0) {
        const auto& spec = std::get<graph::LlmTool>(workflow_.tool(n.tool).spec);
        auto learned = options_.learned_start.find(n.tool);
        start_llm_step(
            node, n.tool, *choice,
            !spec.tier.empty() ? "the tool's tier"
            : spec.difficulty == graph::Difficulty::kHard
                ? "hard step: the strongest tier that fits"
            : learned != options_.learned_start.end() && learned->second.first == choice->tier
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
  if (held_) a.reserved_usd = held_->worst.usd;
  if (purpose == Action::Purpose::kStep) {
    a.delay = retry_delay_;
    retry_delay_ = std::chrono::milliseconds(0);
  }
  if (purpose == Action::Purpose::kCompensate) {
    // Like step_started: durable before a non-idempotent compensation is invoked, so that resume
    // knows it may have run.
    sink_.emit("compensation_started",
               {{"for_tool", workflow_.tool(compensations_.front().for_tool).id},
                {"tool", workflow_.tool(tool).id},
                {"call", a.call_number},
                {"idempotent", workflow_.tool(tool).idempotent}});
  }
  if (purpose == Action::Purpose::kStep) {
    const graph::Tool& t = workflow_.tool(tool);
    step_node_ = node;
    step_call_ = a.call_number;
    // Every step journals this: built directly (graph/json_object.h), keys in order.
    sink_.emit("step_started",
               json_object("attempt", a.attempt, "call", a.call_number, "idempotent", t.idempotent,
                           "kind", graph::to_string(t.kind), "node", node_id(node), "tool", t.id));
    if (const auto* w = std::get_if<graph::WaitTool>(&t.spec)) {
      // Journaled before the run is held (the driver writes it first): the wait's start time is
      // this event's, from which a timer's due time and a timeout are counted, also on resume.
      nlohmann::json wait = json_object("kind", graph::to_string(w->kind), "node", node_id(node),
                                        "tool", t.id, "wait", wait_id(t, a.call_number));
      if (w->kind == graph::WaitTool::Kind::kTimer) {
        wait["timer_ms"] = w->delay.count();
      } else {
        wait["name"] = w->name;
        if (w->timeout.count() > 0) wait["timeout_ms"] = w->timeout.count();
      }
      sink_.emit("wait_started", std::move(wait));
    }
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
    case Awaiting::kStep:
      on_step(std::move(outcome));
      break;
    case Awaiting::kCompensate:
      on_compensation(outcome);
      break;
    case Awaiting::kAdvisor:
      on_advisor(outcome);
      break;
    case Awaiting::kNothing:
      assert(false && "complete() without a pending invoke");
      break;
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
                             f == FailureKind::kUnavailable ||  // this tier's breaker is open
                             f == FailureKind::kThrottled;
    const auto& spec = std::get<graph::LlmTool>(tool.spec);
    std::string why;
    if (escalatable && spec.tier.empty()) {
      if (auto next = controller().choose_tier(graph_.node(node).tool, tier, context_, &why)) {
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
  const auto* wait = std::get_if<graph::WaitTool>(&workflow_.tool(tool).spec);
  if (wait != nullptr && wait->on_timeout == graph::WaitTool::OnTimeout::kEscalate &&
      outcome.failure == tools::FailureKind::kTimeout) {
    // on_timeout "escalate": nobody answered in time, and the workflow says a person must look
    // (docs/waits.md#on-timeout), rather than routing around the wait.
    escalate("wait_timeout",
             "wait " + wait_id(workflow_.tool(tool), step_call_) + " (" +
                 std::string(graph::to_string(wait->kind)) + " '" + wait->name +
                 "') was not resolved within " + std::to_string(wait->timeout.count()) +
                 " ms (on_timeout: escalate)",
             !is_branch() && workflow_.policy().compensate_on_escalation);
    return;
  }
  heal("failed_tool", workflow_.tool(tool).id, outcome.reason);
}

std::chrono::milliseconds RunMachine::backoff(ToolIndex tool, int call) const {
  // Exponential in the attempt, capped; jitter drawn from (seed, tool, call) so it is the same on
  // replay and different across tools and runs with different seeds.
  const int exponent = std::min(attempt_ - 1, 30);
  const double base = std::min(
      static_cast<double>(options_.retry_cap.count()),
      static_cast<double>(options_.retry_base.count()) * static_cast<double>(1ULL << exponent));
  const std::uint64_t x = splitmix64(options_.seed ^ (static_cast<std::uint64_t>(tool) << 32) ^
                                     static_cast<std::uint64_t>(call));
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

void RunMachine::finish(RunStatus status) {
  result_.status = status;
  result_.goal = node_id(goal_);
  result_.path.clear();
  for (NodeIndex n : path_) result_.path.push_back(node_id(n));
  if (is_branch()) return;  // a branch's outputs are its fan-out's (fanout.cc)
  // The run's output: that of the goal, or of the last step before a junction goal.
  std::string goal_step;
  if (status == RunStatus::kCompleted || status == RunStatus::kDemoted) {
    for (std::size_t j = path_.size(); j-- > 0;) {
      const graph::Node& node = graph_.node(path_[j]);
      if (node.kind == NodeKind::kJunction) continue;
      goal_step = node.kind == NodeKind::kTool ? workflow_.tool(node.tool).id : node.id;
      break;
    }
  }
  set_outputs(result_, context_["steps"], goal_step, workflow_.limits().max_output_bytes);
}

}  // namespace switchyard::runtime
