#pragma once
// The `waiting` status of run lists (docs/waits.md#waiting-runs): a running run held at one wait
// or more. The journal's row of such a run says `running` (waiting is running with nothing to do;
// resume, the live-owner check and gc key on `running`); the lists people read (`switchyard
// runs`, GET /v1/runs, Runtime::list_runs) tell it apart from the journal's events
// (Journal::open_waits).
//
// Thread-safety: as the journal's.

#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// The ids of the waits still open after `events` (one run's, in seq order, decoded): the
// wait_started events with no wait_resolved for their wait after them and, in a fan-out branch,
// no fanout_joined of their fan-out after them. Oldest first.
std::vector<std::string> open_wait_ids(const std::vector<Event>& events);

// Journal::list_runs, with each running run that Journal::open_waits finds held at a wait listed
// with status `waiting`. The filter's status `waiting` lists only those, `running` only the other
// running runs (each within filter.limit, newest first). A running run whose events cannot be
// read is listed `running` with RunRecord::defect saying why. Errors: those of list_runs, and
// kIo when open_waits cannot read the journal.
Result<std::vector<RunRecord>> list_runs_showing_waits(const Journal& journal,
                                                       const RunFilter& filter);

// Whether running run `run_id` is held at a wait (Journal::open_waits not empty). Errors as
// open_waits.
Result<bool> run_is_waiting(const Journal& journal, const std::string& run_id);

}  // namespace switchyard::runtime
