// GET /metrics of a real `switchyard serve`: the reroute, escalation and LLM families move with
// the runs that cause them, and numbers are written in their shortest form (docs/service.md,
// "Metrics").

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/fault_server.h"
#include "tests/support/serve_fixture.h"

namespace switchyard::testing {
namespace {

class ServeMetrics : public ServeFixture {
 protected:
  Exposition scrape() const {
    auto r = get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return parse_exposition(r.body);
  }
  // Registers `workflow` (a JSON document) and runs it to its end: the run's GET /v1/runs/{id}.
  nlohmann::json run(const nlohmann::json& workflow) const {
    auto r = post("/v1/workflows", workflow.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return server_->wait_run(kToken,
                             server_->start_run(kToken, workflow["name"].get<std::string>()));
  }
};

// Start -> Flaky (always fails) -> Done, and when `backup`, Start -> Backup -> Done dearer.
nlohmann::json failing_workflow(const std::string& name, bool backup) {
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", name},
                      {"start", "Start"},
                      {"goal", "Done"},
                      {"tools", {{"Flaky", {{"kind", "mock"}, {"fail", "always"}}}}},
                      {"edges", {{"Start", "Flaky", 1}, {"Flaky", "Done", 0}}}};
  if (backup) {
    w["tools"]["Backup"] = {{"kind", "mock"}};
    w["edges"].push_back({"Start", "Backup", 5});
    w["edges"].push_back({"Backup", "Done", 0});
  }
  return w;
}

TEST_F(ServeMetrics, ReroutesAreCounted) {
  start();
  const double before = scrape().samples["switchyard_reroutes_total"];
  const auto r = run(failing_workflow("rerouted", true));
  ASSERT_EQ(r["status"], "completed") << r.dump();
  const int reroutes = r["result"]["reroutes"];
  ASSERT_GE(reroutes, 1);
  EXPECT_EQ(scrape().samples["switchyard_reroutes_total"], before + reroutes);
}

TEST_F(ServeMetrics, EscalationsAreCountedByReason) {
  start();
  const auto r = run(failing_workflow("stuck", false));
  ASSERT_EQ(r["status"], "escalated") << r.dump();
  // The reason the journal gives is the label.
  std::string reason;
  const auto events =
      get("/v1/runs/" + r["run_id"].get<std::string>() + "/replay").json()["events"];
  for (const auto& e : events) {
    if (e["type"] == "escalated") reason = e["payload"]["reason"];
  }
  ASSERT_FALSE(reason.empty());
  auto after = scrape();
  EXPECT_EQ(after.samples["switchyard_escalations_total{reason=\"" + reason + "\"}"], 1);
  EXPECT_EQ(after.samples["switchyard_runs_total{status=\"escalated\"}"], 1);
}

TEST_F(ServeMetrics, LlmCallsSpendAndTokensAreCountedByTier) {
  FaultServer provider;
  // One tier, "cheap": model "ok" at $1000/M tokens in, $2000/M out.
  const std::string models = dir_.write("models.json", R"({"tiers": [
    {"name": "cheap", "model": "ok", "base_url": ")" + provider.url("/v1") +
                                                           R"(",
     "input_usd_per_mtok": 1000, "output_usd_per_mtok": 2000}]})");
  start({"--models", models});
  const nlohmann::json workflow = {
      {"format", "switchyard.workflow/v1"},
      {"name", "summarize"},
      {"start", "Start"},
      {"goal", "Summarize"},
      {"tools",
       {{"Summarize",
         {{"kind", "llm"}, {"prompt", "Summarize {{input.text}}"}, {"max_tokens", 64}}}}},
      {"edges", {{"Start", "Summarize", 1}}}};
  ASSERT_EQ(post("/v1/workflows", workflow.dump()).status, 201);
  const auto r =
      server_->wait_run(kToken, server_->start_run(kToken, "summarize", {{"text", "a long text"}}));
  ASSERT_EQ(r["status"], "completed") << r.dump();
  ASSERT_EQ(r["result"]["llm_calls"], 1);
  auto after = scrape();
  EXPECT_EQ(after.samples["switchyard_llm_calls_total{tier=\"cheap\"}"], 1);
  EXPECT_EQ(after.samples["switchyard_llm_tokens_total{tier=\"cheap\"}"],
            r["result"]["tokens"].get<double>());
  EXPECT_DOUBLE_EQ(after.samples["switchyard_llm_spend_usd_total{tier=\"cheap\"}"],
                   r["result"]["spent_usd"].get<double>());
  EXPECT_GT(after.samples["switchyard_llm_spend_usd_total{tier=\"cheap\"}"], 0);
}

TEST_F(ServeMetrics, BucketBoundsAreWrittenInTheirShortestForm) {
  start();
  server_->wait_run(kToken, server_->start_run(kToken, "quick"));
  const std::string body = get("/metrics").body;
  std::vector<std::string> bounds;
  const std::string prefix = "switchyard_step_latency_seconds_bucket{tool=\"A\",le=\"";
  for (std::size_t at = body.find(prefix); at != std::string::npos;
       at = body.find(prefix, at + 1)) {
    const std::size_t start = at + prefix.size();
    bounds.push_back(body.substr(start, body.find('"', start) - start));
  }
  EXPECT_EQ(bounds, (std::vector<std::string>{"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                              "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}));
}

}  // namespace
}  // namespace switchyard::testing
