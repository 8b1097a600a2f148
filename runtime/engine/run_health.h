#pragma once
// RunHealth: one run's link to the process's health monitor (monitors/health_table.h).
//
// Before each call the driver asks admit(): a tool whose breaker is open, or which is waiting for
// a 429's Retry-After, is not called — the call fails at once with `unavailable` and the run
// routes around it; in half-open only the limited trial calls go through. After each call,
// observe() feeds the outcome to the monitor. Breaker transitions are journaled in the run that
// caused them as `breaker` events {tool, from, to, reason}. Failures that say nothing about the
// tool (tells_health()) are not recorded, nor are calls admit() refused.
//
// Every admitted call ends in exactly one observe() or abandon() (a call whose answer the run
// will not look at: aborted, cancelled); either gives back the half-open trial slot the call held
// when no recorded outcome decided it. What is still held when the RunHealth is destroyed (the
// run ended with calls in flight) is given back then. Slots are matched to calls per tool in
// admission order (a run with two calls of one tool in flight may return the other's slot first).
//
// Thread-compatible: one per run, used from the run's thread.

#include <optional>
#include <vector>

#include "graph/router.h"
#include "graph/workflow.h"
#include "monitors/health_table.h"
#include "runtime/machine/run_machine.h"
#include "tools/models.h"
#include "tools/tool.h"

namespace switchyard::runtime {

// Also the router's live view of the monitor (graph::HealthView): factor() is Eq. 1 now.
class RunHealth : public graph::HealthView {
 public:
  // REQUIRES: `table`, `workflow` and `models` (may be null: no tiers) outlive this. llm calls
  // are watched per models-file tier ("llm:<tier>", shared by every tool on that tier: it is the
  // provider that fails or rate-limits), other calls per tool.
  RunHealth(monitors::HealthTable& table, const graph::Workflow& workflow,
            const tools::Models* models = nullptr);
  ~RunHealth() override;
  RunHealth(const RunHealth&) = delete;
  RunHealth& operator=(const RunHealth&) = delete;

  // Nullopt: call the tool (on model tier `tier`, -1: none). Otherwise the outcome that stands
  // for the refused call.
  std::optional<tools::Outcome> admit(graph::ToolIndex tool, int tier, EventSink& events);
  // The answer of an admitted call of `tool` (recorded under the outcome's tier for llm calls).
  void observe(graph::ToolIndex tool, const tools::Outcome& outcome, EventSink& events);
  // An admitted call of `tool` whose answer will not be observed.
  void abandon(graph::ToolIndex tool);
  // The router's factor for the tool now.
  double factor(graph::ToolIndex tool) const override;

 private:
  monitors::HealthTable::Tool& handle(graph::ToolIndex tool, int tier) const;
  void release_one(graph::ToolIndex tool);

  monitors::HealthTable& table_;
  const graph::Workflow& workflow_;
  std::vector<monitors::HealthTable::Tool*> tools_;
  // llm tools: by models-file tier, the tier's entry (null: a tier the tool does not use).
  std::vector<std::vector<monitors::HealthTable::Tool*>> tiers_;
  // By tool, in admission order: the entry each admitted call was admitted by, and its permit.
  std::vector<std::vector<std::pair<monitors::HealthTable::Tool*, monitors::BreakerPermit>>> held_;
};

// Where a refused call's reason says it was not made (`<tool>: not called: ...`).
inline constexpr std::string_view kNotCalled = ": not called: ";

// Whether the monitor learns from `outcome`: successes and failures that say something about the
// tool. Not: cancelled, template, budget_exhausted (not the tool's doing), a model's schema_invalid
// and refusal answers (quality, not health: the budget controller escalates them; counting them
// would open the breaker of a model that is up), and calls admit() refused (not made). Live
// monitoring and the rebuild after a restart both ask this.
bool tells_health(const tools::Outcome& outcome);

// Journals a breaker transition as a `breaker` event {tool, from, to, reason}.
void emit_transition(const monitors::Transition& transition, EventSink& events);

// What the monitor learns from an outcome.
monitors::Observation observation_of(const tools::Outcome& outcome);

// The breaker options of `workflow`'s tools: the monitor's defaults, with the workflow's
// policy.breaker (failures, cooldown_ms).
monitors::BreakerOptions breaker_options(const graph::Workflow& workflow,
                                         const monitors::MonitorOptions& defaults);

}  // namespace switchyard::runtime
