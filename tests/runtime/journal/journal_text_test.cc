// Journal records as text (runtime/journal/text.h): durations as users type them, event lines.

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

TEST(SummarizeEvent, APlanLineListsEachConditionsValueAndNoneWithoutConditions) {
  Event plan;
  plan.type = "plan";
  plan.payload = nlohmann::json::parse(R"({"route": ["Fraud", "Review", "Done"], "cost": 1.1,
      "conditions": [{"from": "Fraud", "to": "Review", "value": true},
                     {"from": "Fraud", "to": "Auto", "value": false},
                     {"from": "X", "to": "Y", "value": null}]})");
  EXPECT_EQ(summarize(plan),
            "Fraud -> Review -> Done (cost 1.1); conditions: Fraud -> Review true, Fraud -> Auto "
            "false, X -> Y undecided");
  plan.payload.erase("conditions");
  EXPECT_EQ(summarize(plan), "Fraud -> Review -> Done (cost 1.1)");
}

}  // namespace
}  // namespace switchyard::runtime
