#include "monitors/breaker.h"

namespace switchyard::monitors {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "unknown";
}

BreakerState Breaker::state(TimePoint now) const {
  if (state_ == BreakerState::kOpen && now - opened_at_ >= options_.cooldown) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

bool Breaker::try_acquire(TimePoint now) {
  switch (state(now)) {
    case BreakerState::kClosed: return true;
    case BreakerState::kOpen: return false;
    case BreakerState::kHalfOpen:
      if (state_ == BreakerState::kOpen) {  // the cool-down just ended
        state_ = BreakerState::kHalfOpen;
        trials_in_flight_ = 0;
      }
      if (trials_in_flight_ >= options_.half_open_trials) return false;
      ++trials_in_flight_;
      return true;
  }
  return false;
}

void Breaker::on_success(TimePoint now) {
  consecutive_failures_ = 0;
  if (state(now) != BreakerState::kOpen) {
    state_ = BreakerState::kClosed;
    trials_in_flight_ = 0;
  }
}

void Breaker::on_failure(TimePoint now, bool hard) {
  ++consecutive_failures_;
  const BreakerState s = state(now);
  if (s == BreakerState::kHalfOpen || hard || consecutive_failures_ >= options_.failures) {
    open(now);
  }
}

void Breaker::restore(BreakerState state, TimePoint at) {
  state_ = state;
  trials_in_flight_ = 0;
  if (state == BreakerState::kOpen) opened_at_ = at;
  if (state == BreakerState::kClosed) consecutive_failures_ = 0;
}

void Breaker::open(TimePoint now) {
  state_ = BreakerState::kOpen;
  opened_at_ = now;
  trials_in_flight_ = 0;
}

}  // namespace switchyard::monitors
