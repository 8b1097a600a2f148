#include "runtime/engine/throttle.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace switchyard::runtime {

namespace {

std::string throttle_text(const graph::Throttle& t) {
  std::ostringstream out;
  if (t.max_in_flight > 0) out << "max_in_flight " << t.max_in_flight;
  if (t.per_second > 0) out << (t.max_in_flight > 0 ? ", " : "") << "per_second " << t.per_second;
  return out.str();
}

}  // namespace

TurnStep ask_turn(CallLimiter& limiter, const graph::Tool& tool, Clock::TimePoint since,
                  Clock::TimePoint now) {
  const graph::Throttle& t = *tool.throttle;
  TurnStep step;
  auto turn = limiter.try_acquire(
      ThrottleRequest{.key = t.key, .max_in_flight = t.max_in_flight, .per_second = t.per_second});
  if (!turn.ok()) {
    step.kind = TurnStep::Kind::kFail;
    step.failure = tools::Outcome::failed(
        tools::FailureKind::kThrottled,
        tool.id + ": throttle '" + t.key + "': cannot take a turn: " + turn.status().message());
    return step;
  }
  if (turn->granted) {
    step.permit = turn->permit;
    return step;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
  const auto left = t.max_wait - waited;
  if (left.count() <= 0) {
    step.kind = TurnStep::Kind::kFail;
    step.failure = tools::Outcome::failed(
        tools::FailureKind::kThrottled,
        tool.id + ": throttle '" + t.key + "' (" + throttle_text(t) + "): no turn within " +
            std::to_string(t.max_wait.count()) + " ms (max_wait_ms)");
    return step;
  }
  step.kind = TurnStep::Kind::kWait;
  step.wait = std::clamp(turn->retry_after, std::chrono::milliseconds(1), left);
  return step;
}

}  // namespace switchyard::runtime
