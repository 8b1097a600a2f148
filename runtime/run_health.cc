#include "runtime/run_health.h"

#include <strings.h>

#include <algorithm>
#include <cstdlib>

namespace switchyard::runtime {
namespace {

void emit_transition(const monitors::Transition& t, EventSink& events) {
  events.emit("breaker", {{"tool", t.tool},
                          {"from", std::string(monitors::to_string(t.from))},
                          {"to", std::string(monitors::to_string(t.to))},
                          {"reason", t.reason}});
}

std::optional<double> number(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return std::nullopt;
  return v;
}

}  // namespace

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
  for (const auto& [name, value] : o.headers) {
    if (strcasecmp(name.c_str(), "X-RateLimit-Remaining") == 0) obs.ratelimit_remaining = number(value);
    if (strcasecmp(name.c_str(), "X-RateLimit-Limit") == 0) obs.ratelimit_limit = number(value);
  }
  return obs;
}

RunHealth::RunHealth(monitors::HealthTable& table, const graph::Workflow& workflow,
                     const tools::Models* models)
    : table_(table), workflow_(workflow) {
  const auto& policy = workflow.policy().breaker;
  monitors::BreakerOptions breaker = table.options().breaker;
  breaker.failures = policy.failures;
  breaker.cooldown = policy.cooldown;
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
  const bool ok = table_.acquire(handle(tool, tier), &transition);
  if (transition) emit_transition(*transition, events);
  if (ok) return std::nullopt;
  return tools::Outcome::failed(
      tools::FailureKind::kUnavailable,
      workflow_.tool(tool).id + ": not called: circuit breaker " +
          (&handle(tool, tier) == tools_[tool] ? "" : "of " + table_.id(handle(tool, tier)) + " ") +
          "open or waiting for Retry-After");
}

void RunHealth::observe(graph::ToolIndex tool, const tools::Outcome& outcome, EventSink& events) {
  using tools::FailureKind;
  switch (outcome.failure) {
    case FailureKind::kCancelled:
    case FailureKind::kTemplate:
    case FailureKind::kBudgetExhausted:
    // A model's unusable answer is its quality, not its health: the budget controller escalates
    // it; counting it here would open the breaker of a model that is up.
    case FailureKind::kSchemaInvalid:
    case FailureKind::kRefusal: return;  // says nothing about the tool's health
    default: break;
  }
  if (auto t = table_.record(handle(tool, outcome.tier), observation_of(outcome))) {
    emit_transition(*t, events);
  }
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
