#include "runtime/journal/call_limiter.h"

#include <cmath>

#include "runtime/base/system_clock.h"

namespace switchyard::runtime {

Result<Turn> InProcessLimiter::try_acquire(const ThrottleRequest& request) {
  const Clock::TimePoint now = clock_.now();
  std::lock_guard lock(mu_);
  Key& k = keys_[request.key];
  Turn turn;
  if (request.max_in_flight > 0 && k.in_flight >= request.max_in_flight) {
    turn.retry_after = kThrottlePoll;
    return turn;
  }
  if (request.per_second > 0 && now < k.next_start) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(k.next_start - now);
    turn.retry_after = std::max(left, std::chrono::milliseconds(1));
    return turn;
  }
  if (request.per_second > 0) {
    k.next_start = now + std::chrono::duration_cast<Clock::TimePoint::duration>(
                             std::chrono::duration<double>(1.0 / request.per_second));
  }
  ++k.in_flight;
  turn.granted = true;
  turn.permit = Permit{request.key, next_lease_++};
  return turn;
}

void InProcessLimiter::release(const Permit& permit) {
  if (permit.lease == 0) return;
  std::lock_guard lock(mu_);
  auto it = keys_.find(permit.key);
  if (it == keys_.end() || it->second.in_flight == 0) return;
  --it->second.in_flight;
}

int InProcessLimiter::in_flight(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  return it == keys_.end() ? 0 : it->second.in_flight;
}

CallLimiter& process_call_limiter() {
  // Never destroyed, as the loggers: an engine thread a program leaves running at exit may still
  // take or give back a turn while the static objects are destroyed.
  static auto* const clock = new SystemClock;
  static auto* const limiter = new InProcessLimiter(*clock);
  return *limiter;
}

}  // namespace switchyard::runtime
