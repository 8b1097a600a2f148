#pragma once
// Breaker: a circuit breaker for one tool.
//
//   closed --(N consecutive failures, or one hard outage signal)--> open
//   open --(cool-down elapsed)--> half-open
//   half-open --(trial call succeeds)--> closed;  --(trial fails)--> open (cool-down restarts)
//
// Open means the router weighs the tool infinite. In half-open, a limited number of trial calls
// (or probes) are let through to decide. A trial holds its slot until its outcome is recorded or
// it is released (a call whose outcome says nothing about the tool: cancelled, aborted, ...), so
// a trial that never reports cannot keep the breaker half-open and refusing forever.
// Time is passed in by the caller (from an injected Clock); the breaker never reads a clock.
// Thread-compatible: the HealthTable guards each breaker.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "graph/clock.h"

namespace switchyard::monitors {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
std::string_view to_string(BreakerState state);

struct BreakerOptions {
  int failures = 3;                           // consecutive failures that open it (>= 1)
  std::chrono::milliseconds cooldown{30000};  // open -> half-open
  int half_open_trials = 1;                   // calls let through while half-open (>= 1)
};

// What try_acquire() let through. A trial holds one of the half-open slots of one half-open
// period (its generation) until release() or the next transition.
struct BreakerPermit {
  bool trial = false;
  std::uint64_t generation = 0;
};

class Breaker {
 public:
  using TimePoint = Clock::TimePoint;
  explicit Breaker(BreakerOptions options = {}) : options_(options) {}

  // The state at `now` (open turns half-open once the cool-down has passed).
  BreakerState state(TimePoint now) const;
  // Whether a call may go through at `now`; in half-open this takes one trial slot, described in
  // `*permit` when given (to be handed back to release() when the call ends).
  bool try_acquire(TimePoint now, BreakerPermit* permit = nullptr);
  // Gives back the trial slot `permit` holds, if its half-open period is still the current one and
  // no outcome has decided it; otherwise (not a trial, or already decided) does nothing.
  void release(const BreakerPermit& permit);
  // Outcomes. `hard`: an outage signal (connection refused, DNS) that opens at once.
  void on_success(TimePoint now);
  void on_failure(TimePoint now, bool hard);

  // The state as last stored (open stays open until a call or a probe looks at it).
  BreakerState stored_state() const { return state_; }
  // Sets the state as a journal recorded it (restart).
  void restore(BreakerState state, TimePoint at);
  void set_options(BreakerOptions options) { options_ = options; }

  int consecutive_failures() const { return consecutive_failures_; }
  TimePoint opened_at() const { return opened_at_; }
  const BreakerOptions& options() const { return options_; }

 private:
  void open(TimePoint now);
  void reset_trials();
  BreakerOptions options_;
  BreakerState state_ = BreakerState::kClosed;  // as last stored; see state()
  int consecutive_failures_ = 0;
  int trials_in_flight_ = 0;
  std::uint64_t generation_ = 0;  // bumped whenever the trial slots are reset
  TimePoint opened_at_{};
};

}  // namespace switchyard::monitors
