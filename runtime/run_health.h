#pragma once
// RunHealth: one run's link to the process's health monitor (monitors/health_table.h).
//
// Before each call the driver asks admit(): a tool whose breaker is open, or which is waiting for
// a 429's Retry-After, is not called — the call fails at once with `unavailable` and the run
// routes around it; in half-open only the limited trial calls go through. After each call,
// observe() feeds the outcome to the monitor. Breaker transitions are journaled in the run that
// caused them as `breaker` events {tool, from, to, reason}. Failures that say nothing about the
// tool (cancelled, template, budget_exhausted, and a model's schema_invalid or refusal answers:
// quality, not health) are not recorded, nor are calls admit() refused.
//
// Model tiers have health of their own: with a models file, an `llm` tool's calls are admitted and
// observed under the tier they go to (monitor entry "llm:<tier>", shared by every tool on that
// tier: it is the provider endpoint that is rate limited or down), so a 429 or 5xx from the
// cheap tier does not stop the budget controller from escalating to another tier. The router
// sees an llm tool as down only when every tier it may use is (or the tool itself is held down).
//
// Thread-compatible: one per run, used from the run's thread.

#include <optional>
#include <vector>

#include "graph/router.h"
#include "graph/workflow.h"
#include "monitors/health_table.h"
#include "runtime/run_machine.h"
#include "tools/models.h"
#include "tools/tool.h"

namespace switchyard::runtime {

// Also the router's live view of the monitor (graph::HealthView): factor() is Eq. 1 now.
class RunHealth : public graph::HealthView {
 public:
  // REQUIRES: `table`, `workflow` and `models` (may be null: no tiers) outlive this.
  RunHealth(monitors::HealthTable& table, const graph::Workflow& workflow,
            const tools::Models* models = nullptr);

  // Nullopt: call the tool (on model tier `tier`, -1: none). Otherwise the outcome that stands
  // for the refused call.
  std::optional<tools::Outcome> admit(graph::ToolIndex tool, int tier, EventSink& events);
  // Feeds a finished call to the monitor (under the outcome's tier for llm calls).
  void observe(graph::ToolIndex tool, const tools::Outcome& outcome, EventSink& events);
  // The router's factor for the tool now.
  double factor(graph::ToolIndex tool) const override;

 private:
  monitors::HealthTable::Tool& handle(graph::ToolIndex tool, int tier) const;

  monitors::HealthTable& table_;
  const graph::Workflow& workflow_;
  std::vector<monitors::HealthTable::Tool*> tools_;
  // llm tools: by models-file tier, the tier's entry (null: a tier the tool does not use).
  std::vector<std::vector<monitors::HealthTable::Tool*>> tiers_;
};

// What the monitor learns from an outcome.
monitors::Observation observation_of(const tools::Outcome& outcome);

}  // namespace switchyard::runtime
