#include "monitors/breaker.h"

#include <gtest/gtest.h>

namespace switchyard::monitors {
namespace {

using std::chrono::milliseconds;

class BreakerTest : public ::testing::Test {
 protected:
  Breaker::TimePoint at(int ms) const { return t0_ + milliseconds(ms); }
  Breaker breaker_{
      BreakerOptions{.failures = 3, .cooldown = milliseconds(1000), .half_open_trials = 1}};
  Breaker::TimePoint t0_{std::chrono::seconds(1767225600)};
};

TEST_F(BreakerTest, OpensAfterThreeConsecutiveFailures) {
  breaker_.on_failure(at(0), false);
  breaker_.on_failure(at(1), false);
  EXPECT_EQ(breaker_.state(at(2)), BreakerState::kClosed);
  breaker_.on_failure(at(2), false);
  EXPECT_EQ(breaker_.state(at(3)), BreakerState::kOpen);
  EXPECT_FALSE(breaker_.try_acquire(at(3)));
}

TEST_F(BreakerTest, SuccessResetsTheFailureCount) {
  breaker_.on_failure(at(0), false);
  breaker_.on_failure(at(1), false);
  breaker_.on_success(at(2));
  breaker_.on_failure(at(3), false);
  EXPECT_EQ(breaker_.state(at(4)), BreakerState::kClosed);
}

TEST_F(BreakerTest, HardOutageSignalOpensAtOnce) {
  breaker_.on_failure(at(0), /*hard=*/true);
  EXPECT_EQ(breaker_.state(at(1)), BreakerState::kOpen);
}

TEST_F(BreakerTest, TurnsHalfOpenAfterTheCooldownToTheMillisecond) {
  breaker_.on_failure(at(0), true);
  EXPECT_EQ(breaker_.state(at(999)), BreakerState::kOpen);
  EXPECT_EQ(breaker_.state(at(1000)), BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, HalfOpenLetsOneTrialThroughAndClosesOnSuccess) {
  breaker_.on_failure(at(0), true);
  EXPECT_TRUE(breaker_.try_acquire(at(1000)));
  EXPECT_FALSE(breaker_.try_acquire(at(1001)));  // one trial at a time
  breaker_.on_success(at(1002));
  EXPECT_EQ(breaker_.state(at(1003)), BreakerState::kClosed);
  EXPECT_TRUE(breaker_.try_acquire(at(1003)));
}

TEST_F(BreakerTest, FailedTrialReopensAndRestartsTheCooldown) {
  breaker_.on_failure(at(0), true);
  ASSERT_TRUE(breaker_.try_acquire(at(1000)));
  breaker_.on_failure(at(1500), false);
  EXPECT_EQ(breaker_.state(at(2000)), BreakerState::kOpen);
  EXPECT_EQ(breaker_.state(at(2500)), BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, AReleasedTrialGivesItsSlotToTheNextTrial) {
  breaker_.on_failure(at(0), true);
  BreakerPermit trial;
  ASSERT_TRUE(breaker_.try_acquire(at(1000), &trial));
  EXPECT_TRUE(trial.trial);
  EXPECT_FALSE(breaker_.try_acquire(at(1001)));
  breaker_.release(trial);  // its outcome said nothing (cancelled, say): the slot comes back
  EXPECT_EQ(breaker_.state(at(1002)), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker_.try_acquire(at(1002)));
}

TEST_F(BreakerTest, AReleaseFromAnEarlierHalfOpenPeriodFreesNoSlotOfALaterOne) {
  breaker_.on_failure(at(0), true);
  BreakerPermit stale;
  ASSERT_TRUE(breaker_.try_acquire(at(1000), &stale));
  breaker_.on_failure(at(1100), false);  // another trial failed: open again
  BreakerPermit current;
  ASSERT_TRUE(breaker_.try_acquire(at(2100), &current));
  breaker_.release(stale);
  EXPECT_FALSE(breaker_.try_acquire(at(2101)));  // the current trial still holds the slot
}

TEST_F(BreakerTest, AClosedBreakersCallsHoldNoTrialSlot) {
  BreakerPermit permit;
  ASSERT_TRUE(breaker_.try_acquire(at(0), &permit));
  EXPECT_FALSE(permit.trial);
}

}  // namespace
}  // namespace switchyard::monitors
