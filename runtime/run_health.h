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
// Thread-compatible: one per run, used from the run's thread.

#include <optional>
#include <vector>

#include "graph/router.h"
#include "graph/workflow.h"
#include "monitors/health_table.h"
#include "runtime/run_machine.h"
#include "tools/tool.h"

namespace switchyard::runtime {

// Also the router's live view of the monitor (graph::HealthView): factor() is Eq. 1 now.
class RunHealth : public graph::HealthView {
 public:
  // REQUIRES: `table` and `workflow` outlive this.
  RunHealth(monitors::HealthTable& table, const graph::Workflow& workflow);

  // Nullopt: call the tool. Otherwise the outcome that stands for the refused call.
  std::optional<tools::Outcome> admit(graph::ToolIndex tool, EventSink& events);
  void observe(graph::ToolIndex tool, const tools::Outcome& outcome, EventSink& events);
  // The router's factor for the tool now.
  double factor(graph::ToolIndex tool) const override;

 private:
  monitors::HealthTable& table_;
  const graph::Workflow& workflow_;
  std::vector<monitors::HealthTable::Tool*> tools_;
};

// What the monitor learns from an outcome.
monitors::Observation observation_of(const tools::Outcome& outcome);

}  // namespace switchyard::runtime
