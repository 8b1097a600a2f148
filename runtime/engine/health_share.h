#pragma once
// HealthShare: a process's health monitor learns the tool outcomes that the other processes
// sharing its journal commit (docs/scale-out.md#shared-health). Workers, a `serve` and programs
// embedding the runtime on one PostgreSQL journal each keep their own HealthTable; a HealthShare
// polls the journal's HealthFeed every `poll` (one indexed read of the new rows) and applies
// what the others journaled since the last poll:
//   - step outcomes (step_succeeded, step_failed, step_retry) are recorded at their journaled
//     times, as the rebuild at start records them (health_rebuild.h): the failures of another
//     process count towards this process's breaker, its successes close a half-open one;
//   - breaker transitions are applied by HealthTable::learn: an open breaker there opens here, a
//     trial there (half_open) keeps it open here for another cool-down, so that one process
//     tries the tool instead of every one; a close there closes it here;
//   - operators' resets (health_reset) reset the tool here too.
// The events this process's journal object wrote itself are not read (they are in its table
// already). A breaker changed here by what was learned is logged, not journaled (no run of this
// process made it; the other process journaled its own).
//
// The bound: an outcome committed elsewhere is applied here at most `poll` after its transaction
// and every older transaction still running in the database ended (HealthFeed), plus the time
// of one read. A read that fails (the database restarting or out of reach) is logged and tried
// again at the next poll, from where the last good one stopped: nothing is skipped.
//
// Usage:
//   auto share = HealthShare::create(*journal, health, {.poll = 200ms});
//   (*share)->start();        // polls on a thread of its own until stop() or destruction
// Tests call poll_once() instead.
//
// Thread-safety: poll_once() from one thread at a time (not while started); stats() from any.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "graph/status.h"
#include "monitors/health_table.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

inline constexpr std::chrono::milliseconds kDefaultHealthPoll{200};

struct HealthShareOptions {
  // How often the journal is read for the others' outcomes (> 0).
  std::chrono::milliseconds poll = kDefaultHealthPoll;
  // Rows one read returns at most; a poll reads again while reads come back full.
  int batch = 1000;
};

// What a HealthShare did since it was made.
struct HealthShareStats {
  std::int64_t polls = 0;        // polls that read the journal
  std::int64_t outcomes = 0;     // others' step outcomes recorded here
  std::int64_t transitions = 0;  // breaker changes here caused by what was learned
  std::int64_t errors = 0;       // polls that failed (retried at the next)
  std::int64_t skipped = 0;      // rows that could not be decoded (passed over, logged)
  std::string last_error{};      // the last failed poll's error ("" once one succeeded again)
};

class HealthShare {
 public:
  // REQUIRES: journal and table outlive it; `journal` is the journal object this process writes
  // through (its own events are left out by that). Starts reading from now. Errors:
  // kInvalidArgument (a journal without a HealthFeed: only PostgreSQL shares one between
  // processes; a poll that is not positive), the database's.
  static Result<std::unique_ptr<HealthShare>> create(Journal& journal, monitors::HealthTable& table,
                                                     HealthShareOptions options = {});
  ~HealthShare();  // stop()
  HealthShare(const HealthShare&) = delete;
  HealthShare& operator=(const HealthShare&) = delete;

  // Reads what the others journaled since the last poll and applies it; returns how many of
  // their events it applied. Errors: the database's (logged by start()'s thread).
  Result<int> poll_once();
  // Polls every `poll` on a thread of its own until stop().
  void start();
  void stop();
  HealthShareStats stats() const;
  std::chrono::milliseconds poll() const { return options_.poll; }

 private:
  HealthShare(HealthFeed& feed, monitors::HealthTable& table, HealthShareOptions options,
              OutcomeCursor cursor);
  // Applies one event; whether it was a step outcome recorded here.
  bool apply(const Event& e);

  HealthFeed& feed_;
  monitors::HealthTable& table_;
  const HealthShareOptions options_;
  OutcomeCursor cursor_;  // only poll_once's thread
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;   // guarded by mu_
  HealthShareStats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace switchyard::runtime
