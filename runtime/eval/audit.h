#pragma once
// Auditing a run from its journal: the figures `switchyard eval` reports are measured here, from
// what was journaled, never assumed.

#include <string>
#include <vector>

#include "graph/workflow.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

struct AuditReport {
  // Failures the run met that were followed by neither a reroute/backtrack nor a demotion or an
  // escalation: a step_failed whose next decision is not one of those, or a known-down tool on
  // the healthy cheapest route that no plan avoided and no escalation names; or a tool or
  // fan-out node on a completed (or demoted) run's path that never ran.
  int silent_failures = 0;
  // Tools that succeeded on a route the run later abandoned, or in a run that escalated, and
  // were not compensated.
  int side_effects_abandoned = 0;
  std::vector<std::string> findings;  // one line per problem, for people
};

// Audits one run's events. `workflow` is the run's workflow (for the healthy cheapest route).
AuditReport audit_run(const graph::Workflow& workflow, const std::vector<Event>& events);

}  // namespace switchyard::runtime
