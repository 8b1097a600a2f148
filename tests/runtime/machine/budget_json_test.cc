// A budget's JSON form, written into run_started and read back by replay and resume, and given
// by service requests: one reader for both.

#include <gtest/gtest.h>

#include "runtime/machine/budget.h"

namespace switchyard::runtime {
namespace {

TEST(BudgetJson, WhatRunStartedJournalsReadsBackTheSame) {
  graph::Budget b;
  b.usd = 0.25;
  b.llm_calls = 3;  // tokens: no cap
  const nlohmann::json j = budget_json(b);
  EXPECT_EQ(j, (nlohmann::json{{"llm_calls", 3}, {"tokens", nullptr}, {"usd", 0.25}}));
  auto back = budget_from_json(j, "/budget");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->usd, 0.25);
  EXPECT_FALSE(back->tokens.has_value());
  EXPECT_EQ(back->llm_calls, 3);
}

TEST(BudgetJson, NullOrAnEmptyObjectIsNoBudget) {
  for (const auto& j : {nlohmann::json(nullptr), nlohmann::json::object()}) {
    auto b = budget_from_json(j, "/budget");
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b->usd || b->tokens || b->llm_calls);
  }
}

TEST(BudgetJson, ABadBudgetIsRefusedNamingTheMember) {
  auto message = [](const nlohmann::json& j) {
    auto b = budget_from_json(j, "/budget");
    EXPECT_FALSE(b.ok());
    return b.ok() ? std::string() : b.status().message();
  };
  EXPECT_EQ(message({{"usd", -1}}), "/budget/usd: expected a number >= 0, got number -1");
  EXPECT_EQ(message({{"usd", "1"}}), "/budget/usd: expected a number >= 0, got string \"1\"");
  EXPECT_EQ(message({{"tokens", 1.5}}), "/budget/tokens: expected an integer >= 0, got number 1.5");
  EXPECT_EQ(message({{"llm_calls", -2}}),
            "/budget/llm_calls: expected an integer >= 0, got number -2");
  EXPECT_EQ(message({{"dollars", 1}}), "/budget/dollars: unknown field (usd, tokens, llm_calls)");
  EXPECT_EQ(message(nlohmann::json::array()), "/budget: expected an object, got an array");
}

}  // namespace
}  // namespace switchyard::runtime
