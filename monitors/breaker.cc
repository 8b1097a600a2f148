#include "monitors/breaker.h"

namespace switchyard::monitors {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

BreakerState Breaker::state(TimePoint now) const {
  if (state_ == BreakerState::kOpen && now - opened_at_ >= options_.cooldown) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

bool Breaker::try_acquire(TimePoint now, BreakerPermit* permit) {
  if (permit != nullptr) *permit = BreakerPermit{};
  switch (state(now)) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      return false;
    case BreakerState::kHalfOpen:
      if (state_ == BreakerState::kOpen) {  // the cool-down just ended
        state_ = BreakerState::kHalfOpen;
        reset_trials();
      }
      if (trials_in_flight_ >= options_.half_open_trials) return false;
      ++trials_in_flight_;
      if (permit != nullptr) *permit = BreakerPermit{true, generation_};
      return true;
  }
  return false;
}

void Breaker::release(const BreakerPermit& permit) {
  if (!permit.trial || permit.generation != generation_ || state_ != BreakerState::kHalfOpen) {
    return;
  }
  if (trials_in_flight_ > 0) --trials_in_flight_;
}

void Breaker::on_success(TimePoint now) {
  consecutive_failures_ = 0;
  if (state(now) != BreakerState::kOpen) {
    if (state_ != BreakerState::kClosed) reset_trials();
    state_ = BreakerState::kClosed;
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
  reset_trials();
  if (state == BreakerState::kOpen) opened_at_ = at;
  if (state == BreakerState::kClosed) consecutive_failures_ = 0;
}

void Breaker::open(TimePoint now) {
  state_ = BreakerState::kOpen;
  opened_at_ = now;
  reset_trials();
}

void Breaker::reset_trials() {
  trials_in_flight_ = 0;
  ++generation_;
}

}  // namespace switchyard::monitors
