#pragma once
// Rules every Journal implementation enforces the same way. Private to runtime/*journal*.cc.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/journal.h"

namespace switchyard::runtime {

// Checks that `events` all belong to one run and continue its sequence after `last_seq`.
// kInvalidArgument / kFailedPrecondition naming the first offending event.
Status check_append(const std::vector<Event>& events, std::int64_t last_seq);

// Whether `run` passes `filter` (status, workflow, started time).
bool matches(const RunRecord& run, const RunFilter& filter);

}  // namespace switchyard::runtime
