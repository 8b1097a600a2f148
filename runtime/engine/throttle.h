#pragma once
// A throttled call's turn (docs/workflow-format.md#throttle), as both drivers ask for it: asked
// again after each refusal, on the driver's own timer, until granted or the tool's max_wait has
// passed since the first ask. Running out, or a limiter that cannot be asked (a database error),
// is a failed step of kind `throttled`: the call was not sent.

#include <chrono>

#include "graph/clock.h"
#include "graph/workflow.h"
#include "runtime/journal/call_limiter.h"
#include "tools/tool.h"

namespace switchyard::runtime {

struct TurnStep {
  enum class Kind { kGo, kWait, kFail };
  Kind kind = Kind::kGo;
  Permit permit;                   // kGo: the slot to release when the tool answered
  std::chrono::milliseconds wait;  // kWait: ask again after this long
  tools::Outcome failure;          // kFail: the step's outcome
};

// Asks `limiter` for a turn of `tool` (which has a throttle), first asked at `since`.
TurnStep ask_turn(CallLimiter& limiter, const graph::Tool& tool, Clock::TimePoint since,
                  Clock::TimePoint now);

}  // namespace switchyard::runtime
