// Clock::skip_wait: a manual clock lets a wait pass at once (it moves forward); a real clock does
// not, and leaves the waiting to the caller.

#include "graph/clock.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(Clock, AManualClockSkipsAWaitByMovingForward) {
  ManualClock clock;
  const Clock::TimePoint before = clock.now();
  Clock& any = clock;
  EXPECT_TRUE(any.skip_wait(std::chrono::milliseconds(250)));
  EXPECT_EQ(clock.now() - before, std::chrono::milliseconds(250));
}

// A clock that only tells the time, as a real one does.
class FrozenClock final : public Clock {
 public:
  TimePoint now() const override { return TimePoint(std::chrono::seconds(42)); }
};

TEST(Clock, AClockThatCannotSkipAWaitSaysSoAndLeavesItToTheCaller) {
  FrozenClock clock;
  EXPECT_FALSE(clock.skip_wait(std::chrono::milliseconds(250)));
  EXPECT_EQ(clock.now(), Clock::TimePoint(std::chrono::seconds(42)));
}

}  // namespace
}  // namespace switchyard
