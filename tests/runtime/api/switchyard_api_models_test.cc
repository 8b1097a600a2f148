// The embedding API's model tiers in runs: llm tools call the tiers of RuntimeOptions::models
// (the fault server's fake OpenAI-compatible chat API, over real HTTP on loopback), the tier
// chosen and the money spent reach the run's summary and events, and RunOptions::budget caps
// them: a call the run's budget cannot afford is never sent.
// Nothing sleeps: every run is waited for with a bounded timeout.

#include <gtest/gtest.h>
#include <switchyard/switchyard.h>

#include <string>
#include <vector>

#include "api_test_support.h"
#include "tests/support/fault_server.h"

namespace switchyard::api_test {
namespace {

using switchyard::testing::FaultServer;

// Every answer of the fake API: {"answer": "ok"}, reporting 100 prompt and 10 completion tokens.
constexpr const char* kModel = "ok+usage:100:10";
// What that answer costs on each tier (the prices below).
constexpr double kCheapCostUsd = 100 * 1000 / 1e6 + 10 * 2000 / 1e6;     // 0.12
constexpr double kStrongCostUsd = 100 * 10000 / 1e6 + 10 * 20000 / 1e6;  // 1.2

// Two tiers on the fake API, cheapest first. Worst cases of the step below (its prompt bound,
// ~150 tokens, x the input price + 64 x the output price): cheap ~$0.28, strong ~$2.8.
std::vector<api::ModelTier> tiers(const FaultServer& provider) {
  return {{.name = "cheap",
           .model = kModel,
           .base_url = provider.url("/v1"),
           .input_usd_per_mtok = 1000,
           .output_usd_per_mtok = 2000},
          {.name = "strong",
           .model = kModel,
           .base_url = provider.url("/v1"),
           .input_usd_per_mtok = 10000,
           .output_usd_per_mtok = 20000}};
}

// Start -> Summarize (llm, of `difficulty`) -> Done: no way around the llm step.
api::Workflow summarize(const std::string& difficulty = "easy") {
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", "summarize"},
            {"start", "Start"},
            {"goal", "Done"},
            {"tools",
             {{"Summarize",
               {{"kind", "llm"},
                {"prompt", "Summarize {{input.text}}"},
                {"max_tokens", 64},
                {"difficulty", difficulty},
                {"output_schema", {{"type", "object"}, {"required", {"answer"}}}}}},
              {"Done", {{"kind", "mock"}, {"idempotent", true}}}}},
            {"edges", {{"Start", "Summarize", 1}, {"Summarize", "Done", 1}}}};
  auto loaded = api::Workflow::from_json(w.dump(), "summarize.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return *loaded;
}

const json kInput = {{"text", "the quarterly report"}};

// Requests the fake chat API has answered since it started.
long chat_requests(const FaultServer& provider) {
  return provider.stats()["by_path"].value("/v1/chat/completions", 0L);
}

TEST(ApiModels, LlmStepCallsTheCheapestTierAndTheRunIsChargedItsUsage) {
  FaultServer provider;
  auto rt = open_runtime({.models = tiers(provider)});
  auto run = rt->run(summarize(), {.input = kInput});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kCompleted) << run->message;
  EXPECT_EQ(run->path, (std::vector<std::string>{"Start", "Summarize", "Done"}));
  EXPECT_EQ(chat_requests(provider), 1);
  EXPECT_EQ(output_of(*rt, run->run_id, "Summarize"), (json{{"answer", "ok"}}));

  auto decisions = payloads_of(*rt, run->run_id, "llm_decision");
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0]["tier"], "cheap");
  EXPECT_EQ(decisions[0]["reason"], "the cheapest tier that fits");
  auto settled = payloads_of(*rt, run->run_id, "llm_settled");
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled[0]["tier"], "cheap");
  EXPECT_TRUE(settled[0]["ok"].get<bool>());
  EXPECT_NEAR(settled[0]["cost_usd"].get<double>(), kCheapCostUsd, 1e-9);

  EXPECT_EQ(run->llm_calls, 1);
  EXPECT_EQ(run->tokens, 110);
  EXPECT_NEAR(run->spent_usd, kCheapCostUsd, 1e-9);
  EXPECT_NEAR(run->json["spent_usd"].get<double>(), kCheapCostUsd, 1e-9);
}

TEST(ApiModels, HardStepTakesTheStrongTierUnlessTheRunBudgetAffordsOnlyTheCheapOne) {
  FaultServer provider;
  auto rt = open_runtime({.models = tiers(provider)});
  auto tier_of = [&](const api::RunSummary& run) {
    auto decisions = payloads_of(*rt, run.run_id, "llm_decision");
    return decisions.size() == 1 ? decisions[0].value("tier", "") : "(no single decision)";
  };
  auto unbounded = rt->run(summarize("hard"), {.input = kInput});
  ASSERT_TRUE(unbounded.ok()) << unbounded.status().to_string();
  EXPECT_EQ(unbounded->status, api::RunStatus::kCompleted);
  EXPECT_EQ(tier_of(*unbounded), "strong");
  EXPECT_NEAR(unbounded->spent_usd, kStrongCostUsd, 1e-9);

  auto capped = rt->run(summarize("hard"), {.input = kInput, .budget = {.usd = 1.0}});
  ASSERT_TRUE(capped.ok()) << capped.status().to_string();
  EXPECT_EQ(capped->status, api::RunStatus::kCompleted);
  EXPECT_EQ(tier_of(*capped), "cheap");
  EXPECT_NEAR(capped->spent_usd, kCheapCostUsd, 1e-9);
  EXPECT_EQ(chat_requests(provider), 2);
}

TEST(ApiModels, RunBudgetThatCannotAffordTheCallEscalatesAndSendsNothing) {
  FaultServer provider;
  auto rt = open_runtime({.models = tiers(provider)});
  // $0.05 is below the cheapest tier's worst case (~$0.28): the call is not made.
  auto run = rt->run(summarize(), {.input = kInput, .budget = {.usd = 0.05}});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kEscalated);
  EXPECT_EQ(run->path, (std::vector<std::string>{"Start"}));
  EXPECT_EQ(provider.stats()["requests"], 0);  // nothing was sent
  auto failed = payloads_of(*rt, run->run_id, "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["tool"], "Summarize");
  EXPECT_EQ(failed[0]["failure"], "budget_exhausted");
  auto escalated = payloads_of(*rt, run->run_id, "escalated");
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0]["reason"], "budget_exhausted");
  EXPECT_EQ(run->llm_calls, 0);
  EXPECT_EQ(run->tokens, 0);
  EXPECT_EQ(run->spent_usd, 0.0);

  // A token cap the call's worst case (~214 tokens) does not fit stops it the same way.
  auto tokens = rt->run(summarize(), {.input = kInput, .budget = {.tokens = 100}});
  ASSERT_TRUE(tokens.ok()) << tokens.status().to_string();
  EXPECT_EQ(tokens->status, api::RunStatus::kEscalated);
  EXPECT_EQ(provider.stats()["requests"], 0);
}

}  // namespace
}  // namespace switchyard::api_test
