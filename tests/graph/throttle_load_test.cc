// A tool's `throttle`: defaults (key: the tool's id; max_wait: the tool's timeout or 30 s), and
// each bad field an error with its JSON pointer.

#include <gtest/gtest.h>

#include "graph/load.h"

namespace switchyard::graph {
namespace {

LoadResult load_throttled(const std::string& crm_throttle, const std::string& pay_extra = "") {
  return load(R"({"format": "switchyard.workflow/v1", "name": "t", "start": "S", "goal": "Pay",
    "tools": {"CRM": {"kind": "http", "url": "http://127.0.0.1:1/crm", "timeout_ms": 5000,
                      "throttle": )" +
                  crm_throttle + R"(},
              "Pay": {"kind": "mock")" +
                  pay_extra + R"(}},
    "edges": [["S", "CRM", 1], ["CRM", "Pay", 1]]})",
              "t.json");
}

std::string throttle_errors(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.to_string() + "\n";
  return out;
}

TEST(ToolThrottle, KeyDefaultsToTheToolIdAndTheWaitToItsTimeout) {
  auto r = load_throttled(R"({"max_in_flight": 3})",
                          R"(, "throttle": {"per_second": 2.5, "key": "provider-x"})");
  ASSERT_TRUE(r.ok()) << throttle_errors(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << throttle_errors(r.warnings);
  const Workflow& w = *r.workflow;
  const auto& crm = w.tool(w.find_tool("CRM")).throttle;
  ASSERT_TRUE(crm.has_value());
  EXPECT_EQ(crm->key, "CRM");
  EXPECT_EQ(crm->max_in_flight, 3);
  EXPECT_EQ(crm->per_second, 0);
  EXPECT_EQ(crm->max_wait, std::chrono::milliseconds(5000));
  const auto& pay = w.tool(w.find_tool("Pay")).throttle;
  ASSERT_TRUE(pay.has_value());
  EXPECT_EQ(pay->key, "provider-x");
  EXPECT_EQ(pay->max_in_flight, 0);
  EXPECT_DOUBLE_EQ(pay->per_second, 2.5);
  EXPECT_EQ(pay->max_wait, std::chrono::milliseconds(kDefaultThrottleWaitMs));
}

TEST(ToolThrottle, EveryBadFieldIsAnErrorWithItsPointer) {
  auto r = load_throttled(
      R"({"max_in_flight": 0, "per_second": "fast", "key": "", "max_wait_ms": -1, "burst": 2})",
      R"(, "throttle": [1])");
  ASSERT_FALSE(r.ok());
  const std::string errors = throttle_errors(r.errors);
  for (const char* expected : {
           "t.json: /tools/CRM/throttle/max_in_flight: expected an integer >= 1",
           "t.json: /tools/CRM/throttle/per_second: expected a finite number",
           "t.json: /tools/CRM/throttle/key: expected a non-empty string",
           "t.json: /tools/CRM/throttle/max_wait_ms: expected an integer >= 0",
           "t.json: /tools/Pay/throttle: expected an object",
       }) {
    EXPECT_NE(errors.find(expected), std::string::npos) << expected << "\n" << errors;
  }
  EXPECT_NE(throttle_errors(r.warnings).find("/tools/CRM/throttle/burst"), std::string::npos)
      << throttle_errors(r.warnings);
}

TEST(ToolThrottle, AThrottleThatLimitsNothingIsAnError) {
  auto r = load_throttled(R"({"key": "k"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(throttle_errors(r.errors).find(
                "t.json: /tools/CRM/throttle: expected max_in_flight or per_second"),
            std::string::npos)
      << throttle_errors(r.errors);
}

TEST(ToolThrottle, AWaitToolCannotBeThrottled) {
  auto r = load(R"({"format": "switchyard.workflow/v1", "name": "t", "start": "S", "goal": "W",
    "tools": {"W": {"kind": "wait", "timer_ms": 1, "throttle": {"max_in_flight": 1}}},
    "edges": [["S", "W", 1]]})",
                "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(throttle_errors(r.errors).find(
                "t.json: /tools/W/throttle: a wait tool makes no call to throttle"),
            std::string::npos)
      << throttle_errors(r.errors);
}

}  // namespace
}  // namespace switchyard::graph
