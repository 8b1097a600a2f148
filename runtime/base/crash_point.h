#pragma once
// Crash points: fault injection for the crash tests (tests/runtime/engine/crash_test.cc), in the
// spirit of leveldb's fault-injection Env. A crash point does nothing unless the environment
// variable SWITCHYARD_CRASH_AT names it: "NAME:N" makes the process kill itself with SIGKILL (no
// cleanup, no flush: exactly a `kill -9`) the N-th time it passes that point. Points:
//   before_invoke   a non-idempotent tool's step_started is durable; the tool is not yet called
//                   (the Runner's and the Engine's: `run`, `serve`, workers)
//   after_call      a tool answered (its effect happened); the answer is not journaled yet
//   after_outcome_commit  a non-idempotent tool's outcome is durable; nothing invoked since
//   inside_append   a journal transaction has written its first event but not committed
//   after_claim     a worker's claim of a queued run is committed; the run is not started yet
//   after_claimed_start  a worker's claims connection committed the starts of the runs it just
//                   claimed fresh; its engine has not run them yet
//   after_renew     a worker renewed the leases of the runs it holds (they are in flight)
// Thread-safe.

namespace switchyard::runtime {

void crash_point(const char* name);
// Whether SWITCHYARD_CRASH_AT names point `name` (for a point whose condition costs something).
bool crash_point_armed(const char* name);

}  // namespace switchyard::runtime
