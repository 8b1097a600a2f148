// Whole runs through the `switchyard` program against a provider and a service that answer
// badly (the fault server on loopback): a chat completion whose usage.prompt_tokens is null and
// an http document nested 100,000 deep each fail their step with the pointer or the limit in the
// reason; the run heals (the next tier, another route) or escalates; the process lives; the spend
// of the unreadable usage is the call's reservation; and the journal still verifies.

#include <gtest/gtest.h>

#include "runtime/engine/engine.h"
#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"

namespace switchyard::runtime {
namespace {

using testing::FaultServer;

// A models file: `cheap` (model `cheap_model`) then, when `strong_model` is not empty, `strong`.
std::string models_file(testing::TempDir& dir, const FaultServer& provider,
                        const std::string& cheap_model, const std::string& strong_model) {
  std::string tiers = R"({"name": "cheap", "model": ")" + cheap_model + R"(", "base_url": ")" +
                      provider.url("/v1") +
                      R"(", "input_usd_per_mtok": 1000, "output_usd_per_mtok": 2000})";
  if (!strong_model.empty()) {
    tiers += R"(, {"name": "strong", "model": ")" + strong_model + R"(", "base_url": ")" +
             provider.url("/v1") + R"(", "input_usd_per_mtok": 5000, "output_usd_per_mtok": 9000})";
  }
  return dir.write("models.json", R"({"tiers": [)" + tiers + "]}");
}

const char* kSummarize = R"({"format": "switchyard.workflow/v1",
    "name": "summarize", "start": "Start", "goal": "Summarize",
    "tools": {"Summarize": {"kind": "llm", "prompt": "Summarize {{input.text}}", "max_tokens": 64,
      "output_schema": {"type": "object", "required": ["answer"]}}},
    "edges": [["Start", "Summarize", 1]]})";

std::vector<Event> events_of(const std::string& journal, const std::string& run_id) {
  auto opened = open_sqlite_journal(journal);
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().message();
    return {};
  }
  auto events = (*opened)->events(run_id);
  if (!events.ok()) {
    ADD_FAILURE() << events.status().message();
    return {};
  }
  return *events;
}

std::vector<nlohmann::json> payloads(const std::vector<Event>& events, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.type == type) out.push_back(e.payload);
  }
  return out;
}

TEST(BadReplyRuns, ANullUsageReplyFailsTheStepChargesItsReservationAndTheNextTierHeals) {
  FaultServer provider;
  testing::TempDir dir;
  const std::string models = models_file(dir, provider, "ok+usage:null", "ok");
  const std::string wf = dir.write("wf.json", kSummarize);
  const std::string journal = dir.file("j.db");
  auto r = testing::switchyard({"run", wf, "--models", models, "--journal", journal, "--json",
                                "--input", R"({"text": "a long text"})"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["llm_calls"], 2);
  const auto events = events_of(journal, result["run_id"]);
  const auto settled = payloads(events, "llm_settled");
  ASSERT_EQ(settled.size(), 2u);
  EXPECT_EQ(settled[0]["tier"], "cheap");
  EXPECT_EQ(settled[0]["ok"], false);
  EXPECT_EQ(settled[0]["failure"], "bad_output");
  EXPECT_NE(settled[0]["reason"].get<std::string>().find(
                "provider reply: /usage/prompt_tokens: expected an integer, got null"),
            std::string::npos)
      << settled[0].dump();
  // Unknown usage is charged exactly what was reserved for the call (the tool has no price).
  EXPECT_DOUBLE_EQ(settled[0]["cost_usd"].get<double>(), settled[0]["reserved_usd"].get<double>());
  EXPECT_EQ(settled[1]["tier"], "strong");
  EXPECT_EQ(settled[1]["ok"], true);
  EXPECT_NEAR(result["spent_usd"].get<double>(),
              settled[0]["cost_usd"].get<double>() + settled[1]["cost_usd"].get<double>(), 1e-12);
  // The run re-verifies from its journal, unknown usage and all.
  auto verify = testing::switchyard({"replay", result["run_id"], "--journal", journal, "--verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(BadReplyRuns, ANullUsageReplyWithNoOtherTierEscalatesAndTheProcessLives) {
  FaultServer provider;
  testing::TempDir dir;
  const std::string models = models_file(dir, provider, "ok+usage:text", "");
  const std::string wf = dir.write("wf.json", kSummarize);
  const std::string journal = dir.file("j.db");
  auto r = testing::switchyard({"run", wf, "--models", models, "--journal", journal, "--json",
                                "--input", R"({"text": "a long text"})"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;  // escalated, not killed by a signal
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "escalated");
  const auto events = events_of(journal, result["run_id"]);
  const auto settled = payloads(events, "llm_settled");
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_NE(settled[0]["reason"].get<std::string>().find(
                "/usage/prompt_tokens: expected an integer, got string \"12\""),
            std::string::npos)
      << settled[0].dump();
  EXPECT_GT(result["spent_usd"].get<double>(), 0);
}

TEST(BadReplyRuns, AnHttpDocumentNested100000DeepFailsTheStepAndTheRunReroutes) {
  FaultServer service;
  testing::TempDir dir;
  const std::string wf = dir.write("wf.json", R"({"format": "switchyard.workflow/v1",
    "name": "fetch", "start": "Start", "goal": "Done",
    "tools": {"Deep": {"kind": "http", "method": "GET", "url": ")" +
                                                  service.url("/deep/100000") + R"("},
              "Alt": {"kind": "http", "method": "GET", "url": ")" +
                                                  service.url("/ok/alt") + R"("},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Deep", 1], ["Deep", "Done", 1], ["Start", "Alt", 5], ["Alt", "Done", 1]]})");
  const std::string journal = dir.file("j.db");
  auto r = testing::switchyard({"run", wf, "--journal", journal, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["path"], nlohmann::json({"Start", "Alt", "Done"}));
  const auto failed = payloads(events_of(journal, result["run_id"]), "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["tool"], "Deep");
  EXPECT_EQ(failed[0]["failure"], "bad_output");
  EXPECT_NE(failed[0]["reason"].get<std::string>().find(
                "body: nested deeper than 128 arrays/objects (max_json_depth)"),
            std::string::npos)
      << failed[0].dump();
  EXPECT_EQ(service.stats()["by_path"]["/ok/alt"], 1);
}

TEST(BadReplyRuns, AWorkflowsLimitsBoundItsToolsOutputs) {
  FaultServer service;
  testing::TempDir dir;
  const std::string wf = dir.write("wf.json", R"({"format": "switchyard.workflow/v1",
    "name": "fetch", "start": "Start", "goal": "Get", "limits": {"max_output_bytes": 100},
    "tools": {"Get": {"kind": "http", "method": "GET", "url": ")" +
                                                  service.url("/huge/5000") + R"("}},
    "edges": [["Start", "Get", 1]]})");
  auto r = testing::switchyard({"run", wf, "--journal", dir.file("j.db"), "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "escalated");
  const auto failed = payloads(events_of(dir.file("j.db"), result["run_id"]), "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(
      failed[0]["reason"].get<std::string>().find("over the limit of 100 bytes (max_output_bytes)"),
      std::string::npos)
      << failed[0].dump();
}

}  // namespace
}  // namespace switchyard::runtime
