// splitmix64 is SplitMix64: its first outputs from seed 0 are the reference generator's (a change
// would silently change every journaled retry delay and every mock failure rate's draws).

#include "graph/splitmix.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(SplitMix64, GivesTheReferenceGeneratorsOutputsFromSeedZero) {
  constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;  // the generator's step
  static_assert(splitmix64(0) == 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(kGamma), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64(2 * kGamma), 0x06c45d188009454fULL);
}

}  // namespace
}  // namespace switchyard
