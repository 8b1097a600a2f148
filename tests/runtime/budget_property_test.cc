// Property: over 10,000 randomized runs — random tier prices, budgets, provider failures and
// usage, concurrent fan-out branches sharing one budget — the spend never exceeds the budget, in
// USD or in tokens, and no call is made whose worst case did not fit.

#include <gtest/gtest.h>

#include <random>

#include "graph/load.h"
#include "graph/template.h"
#include "monitors/health_table.h"
#include "runtime/runner.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// A model that answers from a seeded script: fails with a random kind sometimes, otherwise
// answers; reports usage anywhere within the call's honest bounds (prompt tokens up to the
// prompt's bytes + 16, completion up to max_tokens), above or below any estimate.
class ScriptedModel : public tools::Tool {
 public:
  ScriptedModel(const tools::Models& models, const graph::LlmTool& spec, std::uint64_t seed,
                double fail_rate)
      : models_(models), spec_(spec), rng_(seed), fail_rate_(fail_rate),
        prompt_(*graph::parse_template(spec.prompt)) {}

  void invoke(const tools::Invocation& call, Done done) override {
    const auto& tier = models_.tiers.at(static_cast<std::size_t>(call.tier));
    const auto prompt = graph::render_template(prompt_, *call.context);
    const std::int64_t prompt_bound = static_cast<std::int64_t>(prompt->size()) + 16;
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<std::int64_t> in(1, prompt_bound), out(1, spec_.max_tokens);
    const std::int64_t i = in(rng_), o = out(rng_);
    tools::Outcome outcome = u(rng_) < fail_rate_
                                 ? tools::Outcome::failed(tools::FailureKind::kSchemaInvalid, "bad")
                                 : tools::Outcome::success({{"answer", "ok"}});
    outcome.llm_call = true;
    outcome.tokens = i + o;
    outcome.cost_usd = tier.cost_usd(i, o);
    ++calls;
    done(std::move(outcome));
  }
  int calls = 0;

 private:
  const tools::Models& models_;
  graph::LlmTool spec_;
  std::mt19937_64 rng_;
  double fail_rate_;
  graph::Template prompt_;
};

TEST(BudgetProperty, SpendNeverExceedsTheBudgetOverTenThousandRandomRuns) {
  std::mt19937_64 rng(20261124);
  std::uniform_real_distribution<double> u(0, 1);
  int completed = 0, refused_steps = 0, calls = 0;
  for (int run = 0; run < 10000; ++run) {
    tools::Models models;
    const int tiers = 1 + static_cast<int>(rng() % 3);
    double price = 50 + u(rng) * 500;
    for (int t = 0; t < tiers; ++t) {
      models.tiers.push_back({"t" + std::to_string(t), "m", "http://unused", "", price,
                              price * (1 + u(rng) * 4), 0, {}});
      price *= 2 + u(rng) * 8;
    }
    const int branches = 1 + static_cast<int>(rng() % 3);
    const double budget_usd = u(rng) * 0.2;
    const std::int64_t budget_tokens = 50 + static_cast<std::int64_t>(rng() % 600);
    nlohmann::json tools_json = {{"Done", {{"kind", "mock"}, {"idempotent", true}}},
                                 {"Fallback", {{"kind", "mock"}}}};
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
    const nlohmann::json doc = {
        {"format", "switchyard.workflow/v1"}, {"name", "p"}, {"start", "Start"}, {"goal", "Done"},
        {"tools", tools_json},
        {"nodes", {{"Fan", {{"fanout", {{"join", rng() % 2 ? "all" : "any"}, {"branches", branch_list}}}}}}},
        {"edges", {{"Start", "Fan", 1}, {"Fan", "Done", 0}, {"Start", "Fallback", 9}, {"Fallback", "Done", 0}}},
        {"budget", {{"usd", budget_usd}, {"tokens", budget_tokens}}}};
    auto loaded = graph::load(doc.dump(), "p.json");
    ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
    const auto& w = *loaded.workflow;
    std::vector<std::unique_ptr<tools::Tool>> list;
    std::vector<ScriptedModel*> scripted;
    for (graph::ToolIndex t = 0; t < w.tools().size(); ++t) {
      if (w.tool(t).kind == graph::ToolKind::kLlm) {
        auto m = std::make_unique<ScriptedModel>(models, std::get<graph::LlmTool>(w.tool(t).spec),
                                                 rng(), u(rng) * 0.6);
        scripted.push_back(m.get());
        list.push_back(std::move(m));
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
    ASSERT_LE(r.spent_usd, budget_usd + 1e-9) << "run " << run;
    ASSERT_LE(r.tokens, budget_tokens) << "run " << run;
    completed += r.status == RunStatus::kCompleted;
    auto events = journal->events(request.run_id);
    ASSERT_TRUE(events.ok());
    for (const auto& e : *events) {
      refused_steps += e.type == "step_failed" && e.payload["failure"] == "budget_exhausted";
    }
    for (auto* s : scripted) calls += s->calls;
  }
  // The property is not vacuous: budgets both allowed and refused calls.
  EXPECT_GT(calls, 5000);
  EXPECT_GT(refused_steps, 1000);
  EXPECT_GT(completed, 1000);
}

}  // namespace
}  // namespace switchyard::runtime
