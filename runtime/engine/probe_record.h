#pragma once
// Journaling a probe's verdict, where rebuild_health (runtime/engine/health_rebuild.h) reads
// breaker transitions after a restart. A probe belongs to no run, so each transition a probe causes
// is journaled as a run of its own: a run of the reserved workflow `switchyard.monitor` (no stored
// workflow, input {"probe": tool}), finished `completed` at once, whose only event is a `breaker`
// event {tool, from, to, reason} like those runs journal (docs/monitors.md#probes).

#include <string>

#include "graph/clock.h"
#include "graph/status.h"
#include "monitors/health_table.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// The workflow name of the runs that record probe transitions.
inline constexpr const char* kMonitorWorkflow = "switchyard.monitor";

// Journals `transition` (caused by a probe, now) as a `switchyard.monitor` run with id `run_id`.
// Errors: the journal's. One Journal::Write: performed inside a write group (a JournalWriter's
// job), it is all or nothing.
Status journal_probe_transition(Journal& journal, const Clock& clock, const std::string& run_id,
                                const monitors::Transition& transition);

// Journals an operator's reset of `tool`'s health (`switchyard health --reset TOOL`), like a
// probe's transition: a `switchyard.monitor` run with id `run_id` (input {"reset": tool}, result
// {"reset": tool, "breaker": "closed"}), finished `completed` at once, whose only event is
// `health_reset` {tool, from: the breaker state it had, reason}. rebuild_health applies it where
// it stands in time (HealthTable::reset): what the tool did before is forgotten.
Status journal_health_reset(Journal& journal, const Clock& clock, const std::string& run_id,
                            const std::string& tool, monitors::BreakerState from,
                            const std::string& reason);

}  // namespace switchyard::runtime
