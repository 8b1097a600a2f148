// Property: over 10,000 randomized runs — random tier prices, USD, token and LLM-call budgets,
// provider failures and usage, 1 to 3 concurrent fan-out branches joined by all, any or a quorum
// (so calls in flight are aborted), an llm advisor at dead ends — the spend never exceeds the
// budget, and no call is made that could not be afforded: at every call, what the earlier calls
// cost plus this call's worst case fits the budget. Runs whose provider reports usage above the
// honest bound may pass the cap only by what was journaled as over the reservation.

#include <gtest/gtest.h>

#include <random>

#include "graph/load.h"
#include "graph/template.h"
#include "monitors/health_table.h"
#include "runtime/engine/runner.h"
#include "runtime/machine/budget.h"
#include "tools/llm_tool.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// What the run's models have been asked, checked call by call against the budget.
struct CallLedger {
  graph::Budget budget;
  Spend reported;  // what every call so far cost, as the provider reported it
  bool dishonest = false;
  int calls = 0;
  int unaffordable = 0;  // calls made whose worst case did not fit (must stay 0)
};

// A model that answers from a seeded script: fails with a random kind sometimes, otherwise
// answers; reports usage anywhere within the call's honest bounds (prompt tokens up to
// tools::prompt_token_bound, completion up to max_tokens) or, for a dishonest provider, up to
// three times that.
class ScriptedModel : public tools::Tool {
 public:
  ScriptedModel(const tools::Models& models, const graph::Tool& tool, std::uint64_t seed,
                double fail_rate, CallLedger& ledger)
      : models_(models),
        tool_(tool),
        spec_(std::get<graph::LlmTool>(tool.spec)),
        rng_(seed),
        fail_rate_(fail_rate),
        ledger_(ledger),
        prompt_(*graph::parse_template(spec_.prompt)) {}

  void invoke(const tools::Invocation& call, Done done) override {
    const auto& tier = models_.tiers.at(static_cast<std::size_t>(call.tier));
    const auto prompt = graph::render_template(prompt_, *call.context);
    const std::int64_t bound = tools::prompt_token_bound(spec_, "", *prompt);
    const TierPrice price{tier.name, tier.input_usd_per_mtok, tier.output_usd_per_mtok};
    const Spend worst = worst_case(tool_, bound, &price);
    const graph::Budget& b = ledger_.budget;
    if (!ledger_.dishonest && ((b.usd && ledger_.reported.usd + worst.usd > *b.usd + 1e-9) ||
                               (b.tokens && ledger_.reported.tokens + worst.tokens > *b.tokens) ||
                               (b.llm_calls && ledger_.reported.llm_calls + 1 > *b.llm_calls))) {
      ++ledger_.unaffordable;
    }
    const int stretch = ledger_.dishonest ? 3 : 1;
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<std::int64_t> in(1, bound * stretch),
        out(1, std::int64_t{spec_.max_tokens} * stretch);
    const std::int64_t i = in(rng_), o = out(rng_);
    tools::Outcome outcome = u(rng_) < fail_rate_
                                 ? tools::Outcome::failed(tools::FailureKind::kSchemaInvalid, "bad")
                                 : tools::Outcome::success({{"answer", "ok"}});
    outcome.llm_call = true;
    outcome.tier = call.tier;
    outcome.tokens = i + o;
    outcome.cost_usd = tier.cost_usd(i, o);
    ledger_.reported += {outcome.cost_usd + tool_.price_usd, outcome.tokens, 1};
    ++ledger_.calls;
    done(std::move(outcome));
  }

 private:
  const tools::Models& models_;
  const graph::Tool& tool_;
  graph::LlmTool spec_;
  std::mt19937_64 rng_;
  double fail_rate_;
  CallLedger& ledger_;
  graph::Template prompt_;
};

TEST(BudgetProperty, SpendNeverExceedsTheBudgetOverTenThousandRandomRuns) {
  std::mt19937_64 rng(20261124);
  std::uniform_real_distribution<double> u(0, 1);
  int completed = 0, refused_steps = 0, calls = 0, aborted = 0, advised = 0, overruns = 0;
  int call_capped = 0;
  for (int run = 0; run < 10000; ++run) {
    tools::Models models;
    const int tiers = 1 + static_cast<int>(rng() % 3);
    double price = 50 + u(rng) * 500;
    for (int t = 0; t < tiers; ++t) {
      models.tiers.push_back({"t" + std::to_string(t),
                              "m",
                              "http://unused",
                              "",
                              price,
                              price * (1 + u(rng) * 4),
                              0,
                              {}});
      price *= 2 + u(rng) * 8;
    }
    const int branches = 1 + static_cast<int>(rng() % 3);
    CallLedger ledger;
    ledger.budget.usd = u(rng) * 0.3;
    ledger.budget.tokens = 100 + static_cast<std::int64_t>(rng() % 1200);
    if (rng() % 2 == 0) ledger.budget.llm_calls = static_cast<std::int64_t>(rng() % 5);
    ledger.dishonest = rng() % 10 == 0;
    nlohmann::json budget = {{"usd", *ledger.budget.usd}, {"tokens", *ledger.budget.tokens}};
    if (ledger.budget.llm_calls) budget["llm_calls"] = *ledger.budget.llm_calls;
    nlohmann::json tools_json = {
        {"Done", {{"kind", "mock"}, {"idempotent", true}}},
        {"Fallback", {{"kind", "mock"}, {"fail", rng() % 2 ? "always" : "never"}}},
        {"Queue", {{"kind", "mock"}}},
        {"Advisor",
         {{"kind", "llm"},
          {"prompt", "Options {{options}} for {{goal}}"},
          {"max_tokens", 8 + static_cast<int>(rng() % 40)}}}};
    nlohmann::json branch_list = nlohmann::json::array();
    for (int b = 0; b < branches; ++b) {
      const std::string id = "L" + std::to_string(b);
      tools_json[id] = {{"kind", "llm"},
                        {"prompt", "Task " + std::to_string(b) + " on {{input.text}}"},
                        {"max_tokens", 16 + static_cast<int>(rng() % 100)},
                        {"difficulty", rng() % 3 == 0 ? "hard" : "easy"},
                        {"price_usd", rng() % 4 == 0 ? u(rng) * 0.01 : 0.0}};
      branch_list.push_back({{"start", id + "s"}, {"goal", id}, {"edges", {{id + "s", id, 1}}}});
    }
    nlohmann::json fanout = {{"branches", branch_list}};
    switch (rng() % 3) {
      case 0:
        fanout["join"] = "all";
        break;
      case 1:
        fanout["join"] = "any";
        break;
      default:
        fanout["join"] = {
            {"quorum", 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(branches))}};
    }
    const nlohmann::json doc = {{"format", "switchyard.workflow/v1"},
                                {"name", "p"},
                                {"start", "Start"},
                                {"goal", "Done"},
                                {"tools", tools_json},
                                {"nodes", {{"Fan", {{"fanout", fanout}}}}},
                                {"edges",
                                 {{"Start", "Fan", 1},
                                  {"Fan", "Done", 0},
                                  {"Start", "Fallback", 9},
                                  {"Fallback", "Done", 0},
                                  {"Start", "Queue", 20}}},
                                {"demote_to", {"Queue"}},
                                {"escalation", {{"advisor", "Advisor"}}},
                                {"budget", budget}};
    auto loaded = graph::load(doc.dump(), "p.json");
    ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
    const auto& w = *loaded.workflow;
    std::vector<std::unique_ptr<tools::Tool>> list;
    for (graph::ToolIndex t = 0; t < w.tools().size(); ++t) {
      if (w.tool(t).kind == graph::ToolKind::kLlm) {
        list.push_back(
            std::make_unique<ScriptedModel>(models, w.tool(t), rng(), u(rng) * 0.6, ledger));
      } else {
        auto tool = tools::make_tool(w, t);
        list.push_back(std::move(*tool));
      }
    }
    auto journal = make_memory_journal();
    ManualClock clock;
    monitors::HealthTable health(clock);
    Runner runner(loaded.workflow, std::make_shared<tools::ToolSet>(std::move(list)), *journal,
                  clock, health, {.models = &models});
    RunRequest request;
    request.run_id = "p" + std::to_string(run);
    request.input = {{"text", std::string(static_cast<std::size_t>(rng() % 64), 'x')}};
    auto report = runner.run(request);
    ASSERT_TRUE(report.ok()) << report.status().message();
    const RunResult& r = report->result;
    auto events = journal->events(request.run_id);
    ASSERT_TRUE(events.ok());
    Spend over;  // journaled as over the reservation
    for (const auto& e : *events) {
      refused_steps += e.type == "step_failed" && e.payload["failure"] == "budget_exhausted";
      if (e.type != "llm_settled") continue;
      aborted += e.payload.value("aborted", false);
      advised += e.payload.value("purpose", "") == "advisor";
      if (e.payload.contains("over_reservation")) {
        over.usd += e.payload["over_reservation"]["usd"].get<double>();
        over.tokens += e.payload["over_reservation"]["tokens"].get<std::int64_t>();
        ++overruns;
      }
    }
    ASSERT_EQ(ledger.unaffordable, 0) << "run " << run << ": a call was made it could not afford";
    ASSERT_LE(r.spent_usd, *ledger.budget.usd + over.usd + 1e-9) << "run " << run;
    ASSERT_LE(r.tokens, *ledger.budget.tokens + over.tokens) << "run " << run;
    if (!ledger.dishonest) {
      ASSERT_EQ(over.tokens, 0) << "run " << run;
    }
    if (ledger.budget.llm_calls) {
      ASSERT_LE(r.llm_calls, *ledger.budget.llm_calls) << "run " << run;
      call_capped += ledger.calls == *ledger.budget.llm_calls && *ledger.budget.llm_calls > 0;
    }
    completed += r.status == RunStatus::kCompleted;
    calls += ledger.calls;
  }
  // The property is not vacuous: budgets both allowed and refused calls, in every dimension that
  // was drawn, and the cancellation, advisor and overrun paths all ran.
  EXPECT_GT(calls, 5000);
  EXPECT_GT(refused_steps, 1000);
  EXPECT_GT(completed, 1000);
  EXPECT_GT(aborted, 100);
  EXPECT_GT(advised, 100);
  EXPECT_GT(overruns, 50);
  EXPECT_GT(call_capped, 100);
}

}  // namespace
}  // namespace switchyard::runtime
