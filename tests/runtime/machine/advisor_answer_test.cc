// The advisor's answer comes from a language model: a malformed one (wrong types, not an object,
// text that is not JSON) is a failed advice — journaled, the run escalates with advisor_failed
// naming the pointer — never a crash; a well-formed one still decides.

#include <gtest/gtest.h>

#include "runtime/machine/run_machine.h"
#include "tests/support/graph_builder.h"
#include "tests/support/machine_driver.h"

namespace switchyard::runtime {
namespace {

using testing::build_workflow;
using testing::customer_support_graph;
using testing::drive;
using testing::Script;
using testing::TestGraphSpec;
using testing::VectorSink;

// The customer-support graph with fallback goals Queue and Ticket and an llm advisor.
TestGraphSpec with_advisor() {
  TestGraphSpec spec = customer_support_graph();
  spec.edges.push_back({"CRM", "Queue", 1.0});
  spec.edges.push_back({"CRM", "Ticket", 1.0});
  spec.demote_to = {"Queue", "Ticket"};
  spec.advisor = "Advisor";
  return spec;
}

struct Advised {
  RunResult result;
  VectorSink sink;
};

// Runs with both payment providers down, so the advisor is asked, answering `answer`.
Advised advised_by(const nlohmann::json& answer) {
  auto w = build_workflow(with_advisor());
  Advised a;
  Script script;
  script.advisor = [answer](const nlohmann::json&) { return answer; };
  a.result = drive(*w, script, a.sink, {"Stripe", "Razorpay"});
  return a;
}

TEST(AdvisorAnswer, AWrongTypedActionIsAFailedAdviceNamingThePointer) {
  Advised a = advised_by({{"action", 3}, {"goal", "Queue"}});
  EXPECT_EQ(a.result.status, RunStatus::kEscalated);
  ASSERT_EQ(a.sink.of("advisor_answered").size(), 1u);  // the answer itself is journaled
  EXPECT_EQ(a.sink.of("advisor_answered")[0]["output"]["action"], 3);
  ASSERT_EQ(a.sink.of("escalated").size(), 1u);
  const auto escalated = a.sink.of("escalated")[0];
  EXPECT_EQ(escalated["reason"], "advisor_failed");
  EXPECT_EQ(escalated["message"],
            "the advisor's answer is malformed: /action: expected a string, got number 3");
}

TEST(AdvisorAnswer, EveryMalformedShapeEscalatesAsAFailedAdvice) {
  for (const nlohmann::json& answer :
       {nlohmann::json::array({"demote", "Queue"}), nlohmann::json("not {json"),
        nlohmann::json("[[[[[[[[[["), nlohmann::json{{"action", "demote"}, {"goal", {"Queue"}}},
        nlohmann::json{{"action", "escalate"}, {"message", {{"text", "help"}}}},
        nlohmann::json(std::string(100000, '[') + std::string(100000, ']'))}) {
    Advised a = advised_by(answer);
    EXPECT_EQ(a.result.status, RunStatus::kEscalated) << answer.dump().substr(0, 80);
    ASSERT_EQ(a.sink.of("escalated").size(), 1u) << answer.dump().substr(0, 80);
    EXPECT_EQ(a.sink.of("escalated")[0]["reason"], "advisor_failed") << answer.dump().substr(0, 80);
  }
}

TEST(AdvisorAnswer, AWellFormedAnswerStillDecidesAsTextOrAsAnObject) {
  Advised text = advised_by(R"({"action": "demote", "goal": "Ticket"})");
  EXPECT_EQ(text.result.status, RunStatus::kDemoted);
  EXPECT_EQ(text.result.goal, "Ticket");
  Advised object = advised_by({{"action", "escalate"}, {"message", "a human, please"}});
  EXPECT_EQ(object.result.status, RunStatus::kEscalated);
  EXPECT_EQ(object.sink.of("escalated")[0]["reason"], "advisor");
  EXPECT_EQ(object.result.message, "a human, please");
}

}  // namespace
}  // namespace switchyard::runtime
