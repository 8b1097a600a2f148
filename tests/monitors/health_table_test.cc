// The health monitor: Eq. 1 factors from live telemetry, breakers that open and recover, rate
// limits, all on a fake clock.

#include "monitors/health_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace switchyard::monitors {
namespace {

using std::chrono::milliseconds;
constexpr double kInf = std::numeric_limits<double>::infinity();

Observation ok_in(int ms) {
  Observation o;
  o.ok = true;
  o.latency = std::chrono::microseconds(ms * 1000);
  return o;
}

Observation failed(std::string kind = "http_status", bool hard = false) {
  Observation o;
  o.failure = std::move(kind);
  o.reason = "boom";
  o.hard = hard;
  return o;
}

class HealthTableTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  HealthTable table_{clock_, MonitorOptions{.latency_alpha = 0.5,
                                            .window = 10,
                                            .warmup = 2,
                                            .breaker = {.failures = 3,
                                                        .cooldown = milliseconds(1000),
                                                        .half_open_trials = 1}}};
};

TEST_F(HealthTableTest, FactorIsOneUntilWarmedUpThenFollowsEquationOne) {
  auto& t = table_.tool("A");
  EXPECT_EQ(table_.factor(t), 1.0);
  table_.record(t, ok_in(300));
  EXPECT_EQ(table_.factor(t), 1.0);  // 1 sample < warmup 2
  table_.record(t, ok_in(100));
  // EWMA (alpha 0.5): 300 then 0.5*100 + 0.5*300 = 200 ms -> latency factor 2; reliability 1.
  EXPECT_DOUBLE_EQ(table_.factor(t), 2.0);
  auto& fast = table_.tool("B");
  table_.record(fast, ok_in(1));
  table_.record(fast, ok_in(1));
  EXPECT_DOUBLE_EQ(table_.factor(fast), 0.5);  // max(0.5, 0.01)
}

TEST_F(HealthTableTest, ReliabilityIsTheSuccessRatioOverTheWindow) {
  auto& t = table_.tool("A");
  for (int i = 0; i < 8; ++i) table_.record(t, ok_in(50));
  table_.record(t, failed());
  table_.record(t, failed());
  // 8/10 successes, 50 ms -> 0.5 x 1/0.8 = 0.625.
  EXPECT_DOUBLE_EQ(table_.factor(t), 0.625);
  for (int i = 0; i < 10; ++i) table_.record(t, ok_in(50));  // the failures leave the window
  EXPECT_DOUBLE_EQ(table_.factor(t), 0.5);
}

TEST_F(HealthTableTest, ConsecutiveFailuresOpenTheBreakerAndItsFactorIsInfinite) {
  auto& t = table_.tool("A");
  EXPECT_FALSE(table_.record(t, failed()).has_value());
  EXPECT_FALSE(table_.record(t, failed()).has_value());
  auto opened = table_.record(t, failed());
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->from, BreakerState::kClosed);
  EXPECT_EQ(opened->to, BreakerState::kOpen);
  EXPECT_EQ(table_.factor(t), kInf);
  EXPECT_TRUE(table_.is_down("A"));
  EXPECT_FALSE(table_.acquire(t));
}

// Shared health (learn): what another process's breaker did, applied here.
TEST_F(HealthTableTest, AnotherProcessesOpenBreakerOpensItHereAsOfItsTime) {
  auto& t = table_.tool("A");
  const auto at = clock_.now();
  clock_.advance(milliseconds(200));  // learned one poll later
  auto opened = table_.learn(t, BreakerState::kOpen, at, "elsewhere");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->to, BreakerState::kOpen);
  EXPECT_EQ(opened->reason, "elsewhere");
  EXPECT_FALSE(table_.acquire(t));
  clock_.advance(milliseconds(800));  // the cool-down counts from the other's opening
  EXPECT_TRUE(table_.acquire(t));
}

TEST_F(HealthTableTest, AnotherProcessesTrialKeepsItOpenHereForAnotherCooldown) {
  auto& t = table_.tool("A");
  table_.record(t, failed("connect", true));
  clock_.advance(milliseconds(1000));  // the cool-down is over here too
  const auto trial = clock_.now();
  (void)table_.learn(t, BreakerState::kHalfOpen, trial, "trying");
  EXPECT_FALSE(table_.acquire(t));  // the other process tries; this one waits for its outcome
  clock_.advance(milliseconds(999));
  EXPECT_FALSE(table_.acquire(t));
  // The other's trial succeeded: closed here too.
  auto closed = table_.learn(t, BreakerState::kClosed, clock_.now(), "its trial succeeded");
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_TRUE(table_.acquire(t));
}

TEST_F(HealthTableTest, AnotherProcessesTransitionOlderThanTheLastChangeHereIsIgnored) {
  auto& t = table_.tool("A");
  const auto old = clock_.now();
  clock_.advance(milliseconds(10));
  table_.record(t, failed("connect", true));  // opened here after `old`
  EXPECT_FALSE(table_.learn(t, BreakerState::kClosed, old, "stale").has_value());
  EXPECT_EQ(table_.breaker(t), BreakerState::kOpen);
  // A half_open learned while closed here says nothing to this process.
  auto& b = table_.tool("B");
  EXPECT_FALSE(table_.learn(b, BreakerState::kHalfOpen, clock_.now(), "x").has_value());
  EXPECT_EQ(table_.breaker(b), BreakerState::kClosed);
}

TEST_F(HealthTableTest, AHardOutageSignalOpensAtOnce) {
  auto& t = table_.tool("A");
  auto opened = table_.record(t, failed("connect", /*hard=*/true));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->to, BreakerState::kOpen);
}

TEST_F(HealthTableTest, HalfOpenLetsOneTrialThroughAndASuccessClosesTheBreaker) {
  auto& t = table_.tool("A");
  table_.record(t, failed("connect", true));
  clock_.advance(milliseconds(999));
  EXPECT_FALSE(table_.acquire(t));
  clock_.advance(milliseconds(1));
  std::optional<Transition> half;
  EXPECT_TRUE(table_.acquire(t, &half));  // the trial
  ASSERT_TRUE(half.has_value());
  EXPECT_EQ(half->to, BreakerState::kHalfOpen);
  EXPECT_FALSE(table_.acquire(t));  // only one trial at a time
  auto closed = table_.record(t, ok_in(10));
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_TRUE(table_.acquire(t));
  EXPECT_FALSE(table_.is_down("A"));
}

TEST_F(HealthTableTest, AFailedTrialReopensForAnotherCooldown) {
  auto& t = table_.tool("A");
  table_.record(t, failed("connect", true));
  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(table_.acquire(t));
  auto reopened = table_.record(t, failed());
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(reopened->to, BreakerState::kOpen);
  clock_.advance(milliseconds(500));
  EXPECT_FALSE(table_.acquire(t));
}

TEST_F(HealthTableTest, AFlappingToolIsWeighedDownWithoutOpening) {
  auto& t = table_.tool("A");
  for (int i = 0; i < 10; ++i) {
    auto transition = table_.record(t, i % 2 == 0 ? failed() : ok_in(50));
    EXPECT_FALSE(transition.has_value());  // never 3 failures in a row
  }
  // Reliability 0.5 doubles its weight: 0.5 x 2.
  EXPECT_DOUBLE_EQ(table_.factor(t), 1.0);
  auto& steady = table_.tool("B");
  for (int i = 0; i < 10; ++i) table_.record(steady, ok_in(50));
  EXPECT_GT(table_.factor(t), table_.factor(steady));
}

TEST_F(HealthTableTest, A429HoldsTheToolUntilRetryAfterThenWeighsItDown) {
  auto& t = table_.tool("A");
  table_.record(t, ok_in(50));
  table_.record(t, ok_in(50));
  Observation limited = failed("rate_limited");
  limited.rate_limited = true;
  limited.retry_after = milliseconds(2000);
  table_.record(t, limited);
  EXPECT_EQ(table_.factor(t), kInf);
  EXPECT_FALSE(table_.acquire(t));  // no request before Retry-After
  clock_.advance(milliseconds(2000));
  EXPECT_TRUE(table_.acquire(t));
  // Proximity 1 after the 429: x (1 + 5) on top of 0.5 x 1/(2/3).
  EXPECT_NEAR(table_.factor(t), 0.5 * 1.5 * 6.0, 1e-9);
}

TEST_F(HealthTableTest, AnHttpDateRetryAfterHoldsTheToolUntilThatMomentOnTheInjectedClock) {
  auto& t = table_.tool("A");
  Observation limited = failed("rate_limited");
  limited.rate_limited = true;
  limited.retry_at = clock_.now() + std::chrono::seconds(5);  // "Retry-After: <a date>"
  table_.record(t, limited);
  clock_.advance(milliseconds(4999));
  EXPECT_FALSE(table_.acquire(t));
  EXPECT_EQ(table_.snapshot()[0].retry_after_until, limited.retry_at);
  clock_.advance(milliseconds(1));
  EXPECT_TRUE(table_.acquire(t));
}

TEST_F(HealthTableTest, RateLimitHeadersSetTheProximity) {
  auto& t = table_.tool("A");
  Observation o = ok_in(50);
  o.ratelimit_limit = 10;
  o.ratelimit_remaining = 8;  // proximity 0.2 -> x 2
  table_.record(t, o);
  table_.record(t, o);
  EXPECT_NEAR(table_.factor(t), 0.5 * 2.0, 1e-9);
}

TEST_F(HealthTableTest, HeldDownToolsStayDownUntilMarkedUp) {
  table_.mark_down("A", "operator");
  EXPECT_TRUE(table_.is_down("A"));
  EXPECT_EQ(table_.down_tools().at("A"), "operator");
  table_.mark_up("A");
  EXPECT_FALSE(table_.is_down("A"));
}

TEST_F(HealthTableTest, SnapshotShowsEveryToolsState) {
  auto& t = table_.tool("A");
  table_.record(t, ok_in(40));
  table_.record(t, failed("timeout"));
  auto snap = table_.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].tool, "A");
  EXPECT_EQ(snap[0].samples, 2);
  EXPECT_DOUBLE_EQ(snap[0].reliability, 0.5);
  EXPECT_EQ(snap[0].failures.at("timeout"), 1);
  EXPECT_EQ(snap[0].last_failure, "timeout: boom");
}

TEST_F(HealthTableTest, SnapshotGivesEquationOnesThreeFactorsWhoseProductIsTheFactor) {
  auto& t = table_.tool("A");
  Observation o = ok_in(300);
  o.ratelimit_limit = 10;
  o.ratelimit_remaining = 9;  // proximity 0.1
  table_.record(t, o);
  EXPECT_TRUE(table_.snapshot()[0].warming_up);
  table_.record(t, failed("timeout"));
  const ToolHealth h = table_.snapshot()[0];
  EXPECT_FALSE(h.warming_up);
  EXPECT_NEAR(h.factors.latency, (0.5 * 0 + 0.5 * 300) / 100.0, 1e-9);  // EWMA of 300 and 0 ms
  EXPECT_NEAR(h.factors.reliability, 2.0, 1e-9);                        // 1 / (1/2)
  EXPECT_NEAR(h.factors.rate_limit, 1.5, 1e-9);                         // 1 + 5 x 0.1
  EXPECT_NEAR(h.factor, h.factors.latency * h.factors.reliability * h.factors.rate_limit, 1e-9);
}

TEST_F(HealthTableTest, AReleasedTrialLetsTheNextTrialThrough) {
  auto& t = table_.tool("A");
  table_.record(t, failed("connect", /*hard=*/true));
  clock_.advance(milliseconds(1000));
  BreakerPermit trial;
  ASSERT_TRUE(table_.acquire(t, nullptr, &trial));
  EXPECT_FALSE(table_.acquire(t));
  table_.release(t, trial);
  EXPECT_TRUE(table_.acquire(t));
}

}  // namespace
}  // namespace switchyard::monitors
