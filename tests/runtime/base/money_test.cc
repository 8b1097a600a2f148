// One money format for everything the program prints: the cents always, sub-cent digits when
// there are any (to the micro-dollar), no trailing zeros past the cents.

#include "runtime/base/money.h"

#include <gtest/gtest.h>

namespace switchyard::runtime {
namespace {

TEST(UsdText, ShowsTheCentsAlways) {
  EXPECT_EQ(usd_text(0), "$0.00");
  EXPECT_EQ(usd_text(0.03), "$0.03");
  EXPECT_EQ(usd_text(1.5), "$1.50");
  EXPECT_EQ(usd_text(12), "$12.00");
}

TEST(UsdText, ShowsSubCentDigitsToTheMicroDollarWithoutTrailingZeros) {
  EXPECT_EQ(usd_text(0.0125), "$0.0125");
  EXPECT_EQ(usd_text(0.000001), "$0.000001");
  EXPECT_EQ(usd_text(2.1234567), "$2.123457");  // rounded to the micro-dollar
  EXPECT_EQ(usd_text(0.1 + 0.2), "$0.30");      // not 0.30000000000000004
  EXPECT_EQ(usd_text(0.0000004), "$0.00");      // below a micro-dollar
}

TEST(UsdText, ANegativeAmountCarriesItsSignInFrontAndMinusZeroHasNone) {
  EXPECT_EQ(usd_text(-0.5), "-$0.50");
  EXPECT_EQ(usd_text(-0.0), "$0.00");
  EXPECT_EQ(usd_text(-0.0000001), "$0.00");
}

}  // namespace
}  // namespace switchyard::runtime
