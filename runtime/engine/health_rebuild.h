#pragma once
// Rebuilding the health monitor after a restart, from the journal: the outcomes of the steps of
// runs started within `window` (oldest first) are recorded again at their journaled times, with
// the breaker options (policy.breaker) of the workflow each run used, and journaled breaker
// transitions (runs' and probes') and operators' resets (health_reset) are reapplied, so a process
// that starts again routes as the one that stopped would have (docs/monitors.md#after-a-restart).
//
// The same outcomes are recorded as live monitoring records (runtime/engine/run_health.h,
// tells_health()): a step's attempts (step_retry, step_failed, step_succeeded) with their
// latency, and a 429's Retry-After. Not replayed: compensation, advisor and escalated-tier LLM
// calls (the journal keeps no failure kind or latency for them).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/status.h"
#include "monitors/health_table.h"
#include "runtime/journal/journal.h"
#include "tools/tool.h"

namespace switchyard::runtime {

inline constexpr std::chrono::minutes kDefaultHealthWindow{15};

// What a rebuild did.
struct HealthRebuild {
  int replayed = 0;  // outcomes recorded again
  // What it passed over because it cannot be decoded, one line each: a run the journal refuses
  // (its row, or one of its events: Journal::events), an event whose fields it cannot read
  // ("run r-abc seq 7 (step_failed): /payload/failure: expected a string, got number 3"), a
  // stored workflow copy that does not load (its runs replay with the default breaker options).
  std::vector<std::string> skipped;
};

// Errors: the journal's when it cannot be read (I/O), never a row that cannot be decoded
// (skipped). A run whose workflow the journal does not hold (or cannot load) replays with the
// table's default breaker options.
// The pieces of a rebuild, for what applies journaled events one by one (health_share.h):
// the step outcome an event (step_succeeded, step_failed, step_retry) journaled, as the tool gave
// it (errors name the field); a breaker state as journaled ("closed", "open", "half_open"); a
// journaled Unix time in ms as a clock's time point.
Result<tools::Outcome> journaled_outcome(const Event& e);
std::optional<monitors::BreakerState> journaled_breaker_state(const std::string& s);
Clock::TimePoint journaled_time(std::int64_t ms);

Result<HealthRebuild> rebuild_health(const Journal& journal, monitors::HealthTable& table,
                                     std::chrono::milliseconds window = kDefaultHealthWindow);

}  // namespace switchyard::runtime
