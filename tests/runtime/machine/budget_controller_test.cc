// The budget controller on its own: which tier a call starts on (cheapest that fits, the tool's
// own, hard steps strongest first, a learned start), what a reservation holds back, what settling
// charges, and the refusal, with why, of a call whose worst case what is left cannot cover.

#include "runtime/machine/budget_controller.h"

#include <gtest/gtest.h>

#include "graph/load.h"
#include "tools/llm_tool.h"

namespace switchyard::runtime {
namespace {

// Start -> Easy | Hard | Named (llm) -> Done, and Pay (a mock with a price).
std::shared_ptr<const graph::Workflow> controller_workflow() {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "bc", "start": "Start",
    "goal": "Done", "tools": {
      "Easy": {"kind": "llm", "prompt": "Summarize {{input.text}}", "max_tokens": 64},
      "Hard": {"kind": "llm", "prompt": "Prove {{input.text}}", "max_tokens": 64,
               "difficulty": "hard"},
      "Named": {"kind": "llm", "prompt": "Name {{input.text}}", "max_tokens": 64,
                "tier": "cheap"},
      "Pay": {"kind": "mock", "price_usd": 0.5},
      "Done": {"kind": "mock"}},
    "edges": [["Start", "Easy", 1], ["Easy", "Done", 1], ["Start", "Hard", 1], ["Hard", "Done", 1],
              ["Start", "Named", 1], ["Named", "Done", 1], ["Start", "Pay", 1], ["Pay", "Done", 1]]
    })",
                            "bc.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

const std::vector<TierPrice> kTiers = {{"cheap", 1000, 2000}, {"strong", 10000, 20000}};
const nlohmann::json kContext = {{"input", {{"text", "the quarterly report"}}},
                                 {"steps", nlohmann::json::object()}};

struct ControllerFixture {
  std::shared_ptr<const graph::Workflow> w = controller_workflow();
  graph::ToolIndex easy = w->find_tool("Easy");
  graph::ToolIndex hard = w->find_tool("Hard");
  graph::ToolIndex named = w->find_tool("Named");
  graph::ToolIndex pay = w->find_tool("Pay");

  // The worst case of a call of llm `tool` on `tier`, its prompt rendered as the tool renders it.
  Spend worst(graph::ToolIndex tool, const std::string& prompt, int tier) const {
    const auto& spec = std::get<graph::LlmTool>(w->tool(tool).spec);
    return worst_case(w->tool(tool), tools::prompt_token_bound(spec, "", prompt),
                      &kTiers[static_cast<std::size_t>(tier)]);
  }
  BudgetController controller(
      graph::Budget caps,
      std::map<graph::ToolIndex, std::pair<int, std::string>> learned = {}) const {
    return BudgetController(*w, caps, kTiers, std::move(learned));
  }
};

TEST(BudgetController, AnEasyCallStartsOnTheCheapestTierReservingItsWorstCaseAtThoseRates) {
  ControllerFixture f;
  const BudgetController c = f.controller({});
  auto choice = c.plan_call(f.easy, -1, kContext, nullptr);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->tier, 0);
  // The prompt as the tool renders it, with the context's input: its bytes bound its tokens.
  const Spend expected = f.worst(f.easy, "Summarize the quarterly report", 0);
  EXPECT_EQ(choice->worst.tokens, expected.tokens);
  EXPECT_DOUBLE_EQ(choice->worst.usd, expected.usd);
  EXPECT_EQ(choice->worst.llm_calls, 1);
  EXPECT_EQ(c.prompt_tokens(f.easy, kContext), expected.tokens - 64);
}

TEST(BudgetController, AnEscalationTakesTheTierAboveTheFailedOneAndNothingAboveTheLast) {
  ControllerFixture f;
  const BudgetController c = f.controller({});
  auto up = c.choose_tier(f.easy, 0, kContext, nullptr);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->tier, 1);
  std::string why;
  EXPECT_FALSE(c.choose_tier(f.easy, 1, kContext, &why).has_value());
  EXPECT_NE(why.find("no tier left"), std::string::npos) << why;
}

TEST(BudgetController, AHardStepStartsOnTheStrongestTierAndDowngradesToFit) {
  ControllerFixture f;
  auto roomy = f.controller({}).plan_call(f.hard, -1, kContext, nullptr);
  ASSERT_TRUE(roomy.has_value());
  EXPECT_EQ(roomy->tier, 1);
  // Room for the cheap tier's worst case only.
  const double cheap = f.worst(f.hard, "Prove the quarterly report", 0).usd;
  auto tight = f.controller({.usd = cheap * 1.5, .tokens = {}, .llm_calls = {}})
                   .plan_call(f.hard, -1, kContext, nullptr);
  ASSERT_TRUE(tight.has_value());
  EXPECT_EQ(tight->tier, 0);
}

TEST(BudgetController, AToolThatNamesATierGetsThatTierAndNoEscalation) {
  ControllerFixture f;
  const BudgetController c = f.controller({});
  auto choice = c.plan_call(f.named, -1, kContext, nullptr);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->tier, 0);
  EXPECT_FALSE(c.choose_tier(f.named, 0, kContext, nullptr).has_value());
}

TEST(BudgetController, ALearnedStartTierIsWhereTheToolStarts) {
  ControllerFixture f;
  auto choice = f.controller({}, {{f.easy, {1, "cheap fails here"}}})
                    .plan_call(f.easy, -1, kContext, nullptr);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->tier, 1);
}

TEST(BudgetController, ACallWithoutTiersReservesItsPriceAndNoTier) {
  ControllerFixture f;
  const BudgetController c = f.controller({.usd = 1.0, .tokens = {}, .llm_calls = {}});
  auto choice = c.plan_call(f.pay, -1, kContext, nullptr);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->tier, -1);
  EXPECT_DOUBLE_EQ(choice->worst.usd, 0.5);
  EXPECT_EQ(choice->worst.tokens, 0);
  EXPECT_EQ(choice->worst.llm_calls, 0);
}

TEST(BudgetController, AReservationHoldsBackItsWorstCaseUntilSettled) {
  ControllerFixture f;
  BudgetController c = f.controller({.usd = 0.8, .tokens = {}, .llm_calls = {}});
  auto first = c.plan_call(f.pay, -1, kContext, nullptr);
  ASSERT_TRUE(first.has_value());
  c.reserve(*first);
  EXPECT_DOUBLE_EQ(c.reserved().usd, 0.5);
  EXPECT_DOUBLE_EQ(c.spent().usd, 0);
  // $0.5 reserved of $0.8: a second $0.5 call does not fit while the first is in flight.
  std::string why;
  EXPECT_FALSE(c.plan_call(f.pay, -1, kContext, &why).has_value());
  EXPECT_EQ(why, "budget: Pay: its worst case costs $0.50, $0.30 of $0.80 left");
}

TEST(BudgetController, SettlingReleasesTheReservationAndChargesWhatTheCallCost) {
  ControllerFixture f;
  BudgetController c = f.controller({.usd = 1.0, .tokens = 1000, .llm_calls = 2});
  auto choice = c.plan_call(f.easy, -1, kContext, nullptr);
  ASSERT_TRUE(choice.has_value());
  c.reserve(*choice);
  const Spend over = c.settle(*choice, {0.01, 40, 1});
  EXPECT_DOUBLE_EQ(over.usd, 0);
  EXPECT_EQ(over.tokens, 0);
  EXPECT_EQ(over.llm_calls, 0);
  EXPECT_DOUBLE_EQ(c.reserved().usd, 0);
  EXPECT_EQ(c.reserved().tokens, 0);
  EXPECT_EQ(c.reserved().llm_calls, 0);
  EXPECT_DOUBLE_EQ(c.spent().usd, 0.01);
  EXPECT_EQ(c.spent().tokens, 40);
  EXPECT_EQ(c.spent().llm_calls, 1);
  // What was released is free again: the same call fits once more.
  EXPECT_TRUE(c.plan_call(f.easy, -1, kContext, nullptr).has_value());
}

TEST(BudgetController, SettlingAboveTheReservationChargesAllAndReturnsTheExcess) {
  ControllerFixture f;
  BudgetController c = f.controller({});
  auto choice = c.plan_call(f.easy, -1, kContext, nullptr);
  ASSERT_TRUE(choice.has_value());
  c.reserve(*choice);
  const Spend actual{choice->worst.usd + 0.25, choice->worst.tokens + 7, 1};
  const Spend over = c.settle(*choice, actual);
  EXPECT_NEAR(over.usd, 0.25, 1e-12);
  EXPECT_EQ(over.tokens, 7);
  EXPECT_EQ(over.llm_calls, 0);
  EXPECT_DOUBLE_EQ(c.spent().usd, actual.usd);
}

TEST(BudgetController, ACallNoTierCanCoverIsRefusedSayingWhatIsLeft) {
  ControllerFixture f;
  const Spend cheap = f.worst(f.easy, "Summarize the quarterly report", 0);
  // Spend all but half of the cheap tier's worst case: no tier can cover the call.
  BudgetController c = f.controller({.usd = 1.0, .tokens = {}, .llm_calls = {}});
  c.charge({1.0 - cheap.usd / 2, 0, 0});
  std::string why;
  EXPECT_FALSE(c.plan_call(f.easy, -1, kContext, &why).has_value());
  EXPECT_EQ(why.rfind("budget: no tier can cover Easy's worst case (" +
                          std::to_string(cheap.tokens) + " tokens) within what is left (strong: ",
                      0),
            0u)
      << why;
}

TEST(BudgetController, TheTokenAndLlmCallCapsRefuseLikeTheUsdCap) {
  ControllerFixture f;
  const Spend cheap = f.worst(f.easy, "Summarize the quarterly report", 0);
  std::string why;
  EXPECT_FALSE(f.controller({.usd = {}, .tokens = cheap.tokens - 1, .llm_calls = {}})
                   .plan_call(f.easy, -1, kContext, &why)
                   .has_value());
  EXPECT_NE(why.find("its worst case uses " + std::to_string(cheap.tokens) + " token(s), " +
                     std::to_string(cheap.tokens - 1) + " of " + std::to_string(cheap.tokens - 1) +
                     " left"),
            std::string::npos)
      << why;

  BudgetController one_call = f.controller({.usd = {}, .tokens = {}, .llm_calls = 1});
  auto first = one_call.plan_call(f.easy, -1, kContext, nullptr);
  ASSERT_TRUE(first.has_value());
  one_call.reserve(*first);
  EXPECT_FALSE(one_call.plan_call(f.easy, -1, kContext, &why).has_value());
  EXPECT_NE(why.find("an LLM call, 0 of 1 left"), std::string::npos) << why;
  // A priced mock is no LLM call: the cap does not hold it back.
  EXPECT_TRUE(one_call.plan_call(f.pay, -1, kContext, nullptr).has_value());
}

}  // namespace
}  // namespace switchyard::runtime
