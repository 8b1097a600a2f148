#include "runtime/engine/run_health.h"

#include <strings.h>

#include <algorithm>
#include <cstdlib>

namespace switchyard::runtime {
namespace {

std::optional<double> number(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return std::nullopt;
  return v;
}

}  // namespace

void emit_transition(const monitors::Transition& t, EventSink& events) {
  events.emit("breaker", {{"tool", t.tool},
                          {"from", std::string(monitors::to_string(t.from))},
                          {"to", std::string(monitors::to_string(t.to))},
                          {"reason", t.reason}});
}

monitors::Observation observation_of(const tools::Outcome& o) {
  monitors::Observation obs;
  obs.ok = o.ok;
  if (!o.ok) {
    obs.failure = std::string(tools::to_string(o.failure));
    obs.reason = o.reason;
  }
  obs.hard = o.failure == tools::FailureKind::kConnect;
  obs.latency = o.latency;
  obs.rate_limited = o.failure == tools::FailureKind::kRateLimited;
  obs.retry_after = o.retry_after;
  obs.retry_at = o.retry_at;
  for (const auto& [name, value] : o.headers) {
    if (strcasecmp(name.c_str(), "X-RateLimit-Remaining") == 0)
      obs.ratelimit_remaining = number(value);
    if (strcasecmp(name.c_str(), "X-RateLimit-Limit") == 0) obs.ratelimit_limit = number(value);
  }
  return obs;
}

bool tells_health(const tools::Outcome& o) {
  using tools::FailureKind;
  switch (o.failure) {
    case FailureKind::kCancelled:
    case FailureKind::kTemplate:
    case FailureKind::kBudgetExhausted:
    case FailureKind::kSchemaInvalid:
    case FailureKind::kRefusal:
    case FailureKind::kRejected:
      return false;
    case FailureKind::kUnavailable:
      return o.reason.find(kNotCalled) == std::string::npos;
    default:
      return true;
  }
}

monitors::BreakerOptions breaker_options(const graph::Workflow& workflow,
                                         const monitors::MonitorOptions& defaults) {
  monitors::BreakerOptions breaker = defaults.breaker;
  breaker.failures = workflow.policy().breaker.failures;
  breaker.cooldown = workflow.policy().breaker.cooldown;
  return breaker;
}

RunHealth::RunHealth(monitors::HealthTable& table, const graph::Workflow& workflow,
                     const tools::Models* models)
    : table_(table), workflow_(workflow), held_(workflow.tools().size()) {
  const monitors::BreakerOptions breaker = breaker_options(workflow, table.options());
  tools_.reserve(workflow.tools().size());
  for (const auto& t : workflow.tools()) tools_.push_back(&table.tool(t.id, breaker));
  tiers_.resize(workflow.tools().size());
  if (models == nullptr) return;
  for (graph::ToolIndex i = 0; i < workflow.tools().size(); ++i) {
    const auto* llm = std::get_if<graph::LlmTool>(&workflow.tool(i).spec);
    if (llm == nullptr) continue;
    for (const auto& tier : models->tiers) {
      const bool used = llm->tier.empty() || llm->tier == tier.name;
      tiers_[i].push_back(used ? &table.tool("llm:" + tier.name, breaker) : nullptr);
    }
  }
}

RunHealth::~RunHealth() {
  for (const auto& held : held_) {
    for (const auto& [entry, permit] : held) table_.release(*entry, permit);
  }
}

monitors::HealthTable::Tool& RunHealth::handle(graph::ToolIndex tool, int tier) const {
  const auto& tiers = tiers_[tool];
  if (tier >= 0 && static_cast<std::size_t>(tier) < tiers.size() &&
      tiers[static_cast<std::size_t>(tier)] != nullptr) {
    return *tiers[static_cast<std::size_t>(tier)];
  }
  return *tools_[tool];
}

std::optional<tools::Outcome> RunHealth::admit(graph::ToolIndex tool, int tier, EventSink& events) {
  std::optional<monitors::Transition> transition;
  monitors::BreakerPermit permit;
  monitors::HealthTable::Tool& entry = handle(tool, tier);
  const bool ok = table_.acquire(entry, &transition, &permit);
  if (transition) emit_transition(*transition, events);
  if (ok) {
    held_[tool].emplace_back(&entry, permit);
    return std::nullopt;
  }
  return tools::Outcome::failed(tools::FailureKind::kUnavailable,
                                workflow_.tool(tool).id + std::string(kNotCalled) +
                                    "circuit breaker " +
                                    (&entry == tools_[tool] ? "" : "of " + table_.id(entry) + " ") +
                                    "open or waiting for Retry-After");
}

void RunHealth::observe(graph::ToolIndex tool, const tools::Outcome& outcome, EventSink& events) {
  if (tells_health(outcome)) {
    if (auto t = table_.record(handle(tool, outcome.tier), observation_of(outcome))) {
      emit_transition(*t, events);
    }
  }
  release_one(tool);  // a no-op when the recorded outcome decided the trial
}

void RunHealth::abandon(graph::ToolIndex tool) { release_one(tool); }

void RunHealth::release_one(graph::ToolIndex tool) {
  auto& held = held_[tool];
  if (held.empty()) return;
  const auto [entry, permit] = held.front();
  held.erase(held.begin());
  table_.release(*entry, permit);
}

double RunHealth::factor(graph::ToolIndex tool) const {
  const double own = table_.factor(*tools_[tool]);
  if (tiers_[tool].empty() || own == graph::kInfinity) return own;
  double best = graph::kInfinity;  // the best tier the budget controller may still use
  for (auto* tier : tiers_[tool]) {
    if (tier != nullptr) best = std::min(best, table_.factor(*tier));
  }
  return best;
}

}  // namespace switchyard::runtime
