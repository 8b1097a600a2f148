// Journal records as text (runtime/journal/text.h): durations as users type them.

#include <gtest/gtest.h>

#include "runtime/journal/text.h"

namespace switchyard::runtime {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("30d"), milliseconds(30LL * 24 * 3600 * 1000));
  EXPECT_EQ(parse_duration("12h"), milliseconds(12LL * 3600 * 1000));
  EXPECT_EQ(parse_duration("90m"), milliseconds(90LL * 60 * 1000));
  EXPECT_EQ(parse_duration("45s"), milliseconds(45000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ParseDuration, RejectsAnythingElse) {
  for (const char* text : {"", "30", "d", "-5d", "+5d", "5 d", " 5d", "5d ", "1.5h", "5w", "5D",
                           "5dd", "5sm", "99999999999999999999d", "999999999999999999d"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace switchyard::runtime
