#pragma once
// CallLimiter: the turns of throttled tools (docs/workflow-format.md#throttle).
//
// A tool's `throttle` names a key; every call of every tool with that key asks the limiter for a
// turn before it is sent and gives its slot back when the tool answered. A turn is granted when
// fewer than `max_in_flight` calls of the key are in flight and the key's last call started at
// least 1/`per_second` s ago. The limiter never waits: a refusal says when to ask again, and the
// driver waits that long on its own timer (docs/engine.md), never holding an engine thread.
//
// Two implementations: InProcessLimiter (every journal; shared by the engines of one process) and
// the PostgreSQL journal's, which keeps the slots as leases and the rate as a row per key in the
// database, shared by every worker of the journal (docs/scale-out.md#limits-across-workers).
//
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "graph/clock.h"
#include "graph/status.h"

namespace switchyard::runtime {

struct ThrottleRequest {
  std::string key;
  int max_in_flight = 0;  // 0: no concurrency limit
  double per_second = 0;  // 0: no rate limit
};

// A granted turn: the slot to give back (release). `lease` 0: none to give back.
struct Permit {
  std::string key;
  std::int64_t lease = 0;
};

struct Turn {
  bool granted = false;
  Permit permit;                            // granted
  std::chrono::milliseconds retry_after{};  // refused: when to ask again (> 0)
};

class CallLimiter {
 public:
  virtual ~CallLimiter() = default;
  // Asks for a turn now. Errors (kIo, kUnavailable): the limiter could not be asked; no turn.
  virtual Result<Turn> try_acquire(const ThrottleRequest& request) = 0;
  // Gives the slot of `permit` back (once the call answered). Never fails: a slot that cannot be
  // given back (a database error) is logged and expires with its lease.
  virtual void release(const Permit& permit) = 0;
};

// How often a call that waits for a free slot (not for the rate) asks again.
inline constexpr std::chrono::milliseconds kThrottlePoll{2};

// The limiter of one process, on `clock`.
class InProcessLimiter final : public CallLimiter {
 public:
  // REQUIRES: clock outlives the limiter.
  explicit InProcessLimiter(const Clock& clock) : clock_(clock) {}
  Result<Turn> try_acquire(const ThrottleRequest& request) override;
  void release(const Permit& permit) override;
  // Calls of `key` in flight now (tests).
  int in_flight(const std::string& key) const;

 private:
  struct Key {
    int in_flight = 0;
    Clock::TimePoint next_start{};  // the earliest start of the key's next call
  };
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Key> keys_;
  std::int64_t next_lease_ = 1;
};

// The process's own limiter (system clock): what every journal without a shared one hands out.
CallLimiter& process_call_limiter();

}  // namespace switchyard::runtime
