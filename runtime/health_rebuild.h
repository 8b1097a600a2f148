#pragma once
// Rebuilding the health monitor after a restart, from the journal: the outcomes of the steps of
// runs started within `window` (oldest first) are recorded again at their journaled times, and
// journaled breaker transitions are reapplied, so a process that starts again routes as the one
// that stopped would have (docs/monitors.md).

#include <chrono>

#include "graph/status.h"
#include "monitors/health_table.h"
#include "runtime/journal.h"

namespace switchyard::runtime {

inline constexpr std::chrono::minutes kDefaultHealthWindow{15};

// Errors: the journal's, reading runs or events. Returns the number of outcomes replayed.
Result<int> rebuild_health(const Journal& journal, monitors::HealthTable& table,
                           std::chrono::milliseconds window = kDefaultHealthWindow);

}  // namespace switchyard::runtime
