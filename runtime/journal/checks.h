#pragma once
// Rules every Journal implementation enforces the same way. Private to runtime/*journal*.cc.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// Checks that `events` all belong to one run and continue its sequence after `last_seq`.
// kInvalidArgument / kFailedPrecondition naming the first offending event.
Status check_append(const std::vector<Event>& events, std::int64_t last_seq);

// The result of a run this process finished with a null result (Journal::finish_run): its
// run_finished event's payload with "run_id" added. (A payload read back from a journal is
// decoded by runtime/journal/rows.h's finished_result instead.) REQUIRES: the payload is an
// object.
nlohmann::json finished_result(const std::string& run_id, nlohmann::json run_finished_payload);

// Whether `run` passes `filter` (status, workflow, started time).
bool matches(const RunRecord& run, const RunFilter& filter);

}  // namespace switchyard::runtime
