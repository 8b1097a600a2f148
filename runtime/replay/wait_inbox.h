#pragma once
// The wait inbox: resolving a wait of a run that no process holds (its process died, or a
// service's drain interrupted it), docs/waits.md#while-no-process-holds-the-run. The resolution is
// checked against the run's journal (which waits it was held at when it stopped, re-driven as a
// resume would) and kept in the journal (Journal::queue_resolution); whoever resumes the run on
// an engine applies it (Engine::resume).
//
// Thread-safety: as the journal's.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// What queue_wait_answer did.
struct QueuedWaitAnswer {
  std::string wait_id;  // the wait the resolution is for (a signal: the one it was given to)
  // The same resolution (same run, same non-empty key) was queued or applied already: nothing
  // was queued again.
  bool duplicate = false;
};

// Queues `answer` for run `run_id`, unfinished and not in flight in the caller's own engine (the
// caller checks that): held by no process, or by a worker (which applies it at its next poll,
// docs/scale-out.md); a run owned by another live process that is no worker is refused with
// kFailedPrecondition: for an approval or rejection, `target` is the
// wait's id, which must be one the run is held at; for a signal, `target` is the signal's name, and
// the resolution goes to the run's oldest held wait for that signal that has none queued yet.
// `now_ms` is when it is queued: a wait already due then (its timer or timeout passed) is refused.
// Errors: kNotFound (unknown or finished run; no such held wait; a signal the run is not held
// waiting for), kInvalidArgument (a decision that does not fit the wait, as Engine::resolve_wait),
// kFailedPrecondition (the wait is resolved already, has a resolution queued already under
// another key, or is due), kIo (journal), and those of re-driving the run's journal.
Result<QueuedWaitAnswer> queue_wait_answer(Journal& journal, const std::string& run_id,
                                           const std::string& target, WaitAnswer answer,
                                           std::int64_t now_ms);

// What queue_cancel did.
struct QueuedCancel {
  bool duplicate = false;  // a cancellation of the run was queued already: not queued again
};

// Queues the cancellation of run `run_id`, unfinished (queued or running) and not in flight in
// the caller's own engine (the caller checks that): the worker that holds the run cancels it at
// its next poll; a queued run is cancelled by the worker that claims it, before its first step;
// a run that no process holds is cancelled when it is resumed. `by` and `reason` are journaled
// with the cancellation (the run's message is "cancelled: <reason>"). Errors: kNotFound (unknown
// run), kFailedPrecondition (finished; held by a live process that is no worker), kIo (journal).
Result<QueuedCancel> queue_cancel(Journal& journal, const std::string& run_id, std::string by,
                                  std::string reason, std::int64_t now_ms);

// Whether unfinished run `run_id` would only be held again if resumed now: its journal leaves it
// at one or more approvals or signals (no timer, no other call to make again), none with a
// resolution queued, none whose timeout has passed at `now_ms`, and no cancellation queued. Then
// the waits (wait id, kind, name; oldest first); otherwise (or when the run has no journaled
// events) empty. `switchyard resume` leaves such a run as it is instead of resuming it to interrupt
// it again. Errors: those of reading and re-driving the run's journal.
Result<std::vector<OpenWait>> stuck_at_waits(Journal& journal, const std::string& run_id,
                                             std::int64_t now_ms);

// A wait an unfinished run is held at in its journal (`switchyard waits --journal`).
struct JournaledWait {
  OpenWait wait;  // as Engine::waits() lists a wait in flight (node, tool, branch, times)
  // A resolution of it is queued in the wait inbox, one that a resume applies (queued before the
  // wait's due time): the run goes on once resumed.
  bool queued = false;
};

// The waits unfinished run `run_id` is held at according to its journal, re-driven as a resume
// re-drives it (so exactly those a resume holds again, with their original start and due times),
// oldest first; each says whether a resolution is queued for it. Empty for a run held at none.
// Errors: kNotFound (unknown run), kFailedPrecondition (finished, or a journal that does not
// re-drive), those of reading the run's workflow copy and journal.
Result<std::vector<JournaledWait>> journaled_waits(Journal& journal, const std::string& run_id);

}  // namespace switchyard::runtime
