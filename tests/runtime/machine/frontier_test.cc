// The frontier goal of issue 7, held by scripts/test: on the benchmark's task set
// (tests/support/frontier.h, the same 200 tasks over real HTTP), learned escalation reaches
// always-strong's success rate at no more than half its cost, and costs less than cascade.

#include "tests/support/frontier.h"

#include <gtest/gtest.h>

namespace switchyard::testing {
namespace {

TEST(Frontier, LearnedEscalationMatchesAlwaysStrongAtHalfItsCostAndBeatsCascade) {
  FaultServer provider;
  auto strong = run_frontier(provider, Strategy::kAlwaysStrong);
  auto cascade = run_frontier(provider, Strategy::kCascade);
  auto learned = run_frontier(provider, Strategy::kLearned);
  ASSERT_TRUE(strong.ok() && cascade.ok() && learned.ok());
  EXPECT_GE(learned->success_rate, strong->success_rate);
  EXPECT_LE(learned->usd_per_task, 0.5 * strong->usd_per_task);
  EXPECT_LT(learned->usd_per_task, cascade->usd_per_task);
}

}  // namespace
}  // namespace switchyard::testing
