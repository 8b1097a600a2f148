#pragma once
// What resuming an unfinished run takes, whichever driver continues it (the synchronous Runner
// or the Engine): the checks, the reenactment that rebuilds its state from the journal, and the
// plan of what to do with the calls it had in flight (docs/journal.md#resume). Internal to
// runtime/.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/engine/reenact.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

// An unfinished run, read and re-driven up to the end of its journal.
struct ResumePoint {
  RunRecord run;
  std::vector<Event> recorded;
  // The machine positioned after the last recorded event; null when the journal holds no event
  // of the run (its process died before its first events were durable: nothing non-idempotent
  // was called, so the run starts again under its own id).
  std::unique_ptr<Reenactment> reenacted;
};

// Reads run `run_id` and re-drives it on `workflow` (whose hash is `workflow_hash`). Does not
// claim it (Journal::claim_run: the caller does, once it is sure to continue it). Errors:
// kNotFound (unknown run), kFailedPrecondition (finished, another workflow, or a journal that
// does not re-drive), kIo (journal).
Result<ResumePoint> open_resume(Journal& journal, const graph::Workflow& workflow,
                                const std::string& workflow_hash, const std::string& run_id);

// A wait the run was held at when it stopped: its wait_started is journaled, no outcome is.
struct HeldWait {
  std::string wait_id;
  std::uint32_t slot = 0;
  std::int64_t started_ms = 0;  // the wait_started event's time: timers and timeouts count from it
};

// What to do with the calls in flight when the run stopped.
struct ResumePlan {
  // Calls to make again (or waits to hold again), in order; empty when `doubt` is set.
  std::vector<Action> again;
  // Not empty: a non-idempotent call may or may not have taken effect; the run is escalated
  // (RunMachine::escalate_in_doubt) with this message instead of going on.
  std::string doubt;
  // The `resumed` event's payload.
  nlohmann::json resumed;
  // The run stopped at a service shutdown (run_interrupted), not at a crash.
  bool interrupted = false;
  // The waits among `again` whose start is journaled (they are held again, not started anew).
  std::vector<HeldWait> held;
};

// REQUIRES: point.reenacted. A call in flight is made again only when that is safe (never
// started, idempotent, or sending an idempotency key); a wait is always held again.
ResumePlan plan_resume(const graph::Workflow& workflow, const ResumePoint& point);

}  // namespace switchyard::runtime
