// Runs with real HTTP services and programs: side effects happen exactly once, retries back off
// before a failure counts, a missing template value fails its step once (journaled), cancelling
// or a deadline aborts the call in flight, and the example workflows heal against the demo
// services as documented.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/money.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"
#include "tests/support/watched_tool.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using testing::FaultServer;

Result<RunReport> run_engine(const std::string& workflow_json, Journal& journal,
                             const std::string& run_id) {
  auto loaded = graph::load(workflow_json, "http.json");
  if (!loaded.ok()) return invalid_argument(loaded.errors[0].to_string());
  auto tools = tools::make_tool_set(*loaded.workflow);
  if (!tools.ok()) return tools.status();
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine engine(journal, clock, health, {.threads = 2});
  RunRequest request;
  request.run_id = run_id;
  request.seed = 7;
  return engine.submit(loaded.workflow, *tools, request).get();
}

std::string two_steps(const std::string& pay_url, int retries) {
  return R"({"format": "switchyard.workflow/v1", "name": "pay", "start": "Start", "goal": "Done",
    "tools": {"Pay": {"kind": "http", "url": ")" +
         pay_url + R"(", "retries": )" + std::to_string(retries) + R"(},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Pay", 1], ["Pay", "Done", 1]]})";
}

TEST(HttpRuns, ANonIdempotentStepReachesTheServiceExactlyOnce) {
  FaultServer server;
  auto journal = make_memory_journal();
  auto report = run_engine(two_steps(server.url("/ok/pay"), 0), *journal, "r1");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->result.status, RunStatus::kCompleted);
  auto stats = server.stats();
  EXPECT_EQ(stats["requests"], 1);
  EXPECT_EQ(stats["by_path"]["/ok/pay"], 1);
}

TEST(HttpRuns, RetriesBackOffBeforeTheFailureCounts) {
  FaultServer server;
  auto journal = make_memory_journal();
  auto report = run_engine(two_steps(server.url("/flaky/1/pay"), 1), *journal, "r1");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->result.status, RunStatus::kCompleted);
  EXPECT_EQ(report->result.reroutes, 0);
  EXPECT_EQ(server.stats()["by_path"]["/flaky/1/pay"], 2);
  auto events = journal->events("r1");
  ASSERT_TRUE(events.ok());
  int retries = 0;
  for (const auto& e : *events) {
    if (e.type != "step_retry") continue;
    ++retries;
    EXPECT_EQ(e.payload["failure"], "http_status");
    EXPECT_GT(e.payload["delay_ms"].get<int>(), 0);
  }
  EXPECT_EQ(retries, 1);
}

// Through the CLI into a SQLite journal: a value the url needs is missing from the input, so the
// step fails `template` (once: a retry would not make the value appear), nothing is sent, and
// the run escalates with the reason journaled.
TEST(HttpRuns, AMissingTemplateValueFailsTheStepOnceAndIsJournaled) {
  FaultServer server;
  testing::TempDir dir;
  const std::string wf =
      dir.write("pay.json", two_steps("{{input.services}}/ok/pay/{{input.account}}", 2));
  const std::string journal = dir.file("runs.db");
  auto r = testing::switchyard({"run", wf, "--journal", journal, "--json", "--input",
                                R"({"services": ")" + server.url("") + R"("})"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "escalated");
  EXPECT_EQ(server.stats()["requests"], 0);
  auto opened = open_sqlite_journal(journal);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  auto events = (*opened)->events(result["run_id"]);
  ASSERT_TRUE(events.ok());
  int failed = 0, retries = 0;
  for (const auto& e : *events) {
    retries += e.type == "step_retry";
    if (e.type != "step_failed") continue;
    ++failed;
    EXPECT_EQ(e.payload["tool"], "Pay");
    EXPECT_EQ(e.payload["failure"], "template");
    EXPECT_NE(e.payload["reason"].get<std::string>().find("input.account"), std::string::npos)
        << e.payload.dump();
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(retries, 0);
}

// The `cancelled` event of a run's journal, or null.
nlohmann::json cancelled_event(Journal& journal, const std::string& run_id) {
  auto events = journal.events(run_id);
  if (!events.ok()) return nullptr;
  for (const auto& e : *events) {
    if (e.type == "cancelled") return e.payload;
  }
  return nullptr;
}

// The deadline passes while the request hangs: the transfer is aborted at once (the tool itself
// reports kCancelled, not its 60 s timeout) and the deadline's `cancelled` event names the call.
TEST(HttpRuns, ADeadlineAbortsTheHttpCallInFlightAndIsJournaled) {
  FaultServer server;
  auto loaded = graph::load(two_steps(server.url("/hang"), 0), "hang.json");
  ASSERT_TRUE(loaded.ok());
  auto journal = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine engine(*journal, clock, health, {.threads = 1});
  // A machine too busy to start the call before the deadline is given twice the time.
  for (std::chrono::milliseconds deadline(300);; deadline *= 2) {
    testing::WatchedToolSet w = testing::watch_tool(*loaded.workflow, "Pay");
    RunRequest request;
    request.run_id = "r" + std::to_string(deadline.count());
    request.deadline = deadline;
    auto report = engine.submit(loaded.workflow, w.tools, request).get();
    ASSERT_TRUE(report.ok()) << report.status().message();
    EXPECT_EQ(report->result.status, RunStatus::kFailed);
    EXPECT_EQ(report->result.message, "cancelled: deadline");
    nlohmann::json cancelled = cancelled_event(*journal, request.run_id);
    ASSERT_TRUE(cancelled.is_object());
    EXPECT_EQ(cancelled["reason"], "deadline");
    if (cancelled["in_flight"] != "Pay" && deadline < std::chrono::seconds(10)) continue;
    EXPECT_EQ(cancelled["in_flight"], "Pay");
    EXPECT_EQ(w.watched->seen.get_future().get().failure, tools::FailureKind::kCancelled);
    break;
  }
}

// engine.cancel() while a command runs: its whole process group is killed, and the request's
// `cancelled` event names the call.
TEST(HttpRuns, CancellingARunKillsItsCommandInFlight) {
  testing::TempDir dir;
  const std::string pidfile = dir.file("grandchild.pid");
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "cmd",
    "start": "Start", "goal": "Done", "tools": {
      "Hang": {"kind": "command", "argv": [")" SWITCHYARD_FAKE_COMMAND R"(", "hang", ")" +
                                pidfile + R"("], "timeout_ms": 60000},
      "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "Hang", 1], ["Hang", "Done", 1]]})",
                            "cmd.json");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  testing::WatchedToolSet w = testing::watch_tool(*loaded.workflow, "Hang");
  auto journal = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  Engine engine(*journal, clock, health, {.threads = 1});
  RunRequest request;
  request.run_id = "r1";
  auto future = engine.submit(loaded.workflow, w.tools, request);
  // Returns once the pid file appears: the command and its grandchild are running.
  ASSERT_EQ(testing::run_command({SWITCHYARD_FAKE_COMMAND, "after", pidfile}).exit_code, 0);
  EXPECT_TRUE(engine.cancel("r1"));
  auto report = future.get();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->result.message, "cancelled: request");
  nlohmann::json cancelled = cancelled_event(*journal, "r1");
  ASSERT_TRUE(cancelled.is_object());
  EXPECT_EQ(cancelled["reason"], "request");
  EXPECT_EQ(cancelled["in_flight"], "Hang");
  EXPECT_EQ(w.watched->seen.get_future().get().failure, tools::FailureKind::kCancelled);
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(testing::wait_exited(grandchild));
}

TEST(HttpRuns, TheLiveCustomerSupportExampleReroutesToTheSecondProvider) {
  FaultServer services(testing::source_path("examples/services/routes.json"));
  testing::TempDir dir;
  const std::string journal = dir.file("runs.db");
  auto r = testing::switchyard(
      {"run", "examples/workflows/customer-support.json", "--journal", journal, "--json", "--input",
       R"({"services": ")" + services.url("") + R"(", "customer_id": 42})"},
      testing::source_path(""));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["path"], nlohmann::json({"Start", "CRM", "Razorpay", "Email", "Complete"}));
  EXPECT_EQ(result["reroutes"], 1);
  EXPECT_EQ(result["llm_calls"], 0);
  auto stats = services.stats()["by_path"];
  EXPECT_EQ(stats["/crm/customers/42"], 1);
  EXPECT_EQ(stats["/payments/stripe/refund"], 2);  // one retry, then the failure counts
  EXPECT_EQ(stats["/payments/razorpay/refund"], 1);
  // The Authorization header sent to Stripe is nowhere in the journal (closed: no WAL left).
  const std::string bytes = testing::read_text(journal);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("sk_demo_not_a_real_key"), std::string::npos);
}

TEST(HttpRuns, TheModerationFanoutExampleHealsItsImageBranch) {
  FaultServer services(testing::source_path("examples/services/routes.json"));
  testing::TempDir dir;
  auto r =
      testing::switchyard({"run", "examples/workflows/moderation-fanout.json", "--journal",
                           dir.file("runs.db"), "--json", "--input",
                           R"({"services": ")" + services.url("") + R"(", "post": "hello world"})"},
                          testing::source_path(""));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["path"], nlohmann::json({"Start", "Moderate", "Publish"}));
  EXPECT_EQ(result["reroutes"], 1);
  auto stats = services.stats()["by_path"];
  EXPECT_EQ(stats["/moderation/image"], 1);
  EXPECT_EQ(stats["/moderation/image-backup"], 1);
  EXPECT_EQ(stats["/moderation/text"], 1);
  EXPECT_EQ(stats["/moderation/links"], 1);
  EXPECT_EQ(stats["/posts/publish"], 1);
}

// A models file with one tier, "cheap": model "ok" of `provider` at $1000/M in, $2000/M out.
std::string cheap_tier_models(testing::TempDir& dir, const FaultServer& provider) {
  return dir.write("models.json", R"({"tiers": [
    {"name": "cheap", "model": "ok", "base_url": ")" +
                                      provider.url("/v1") + R"(",
     "input_usd_per_mtok": 1000, "output_usd_per_mtok": 2000}]})");
}

TEST(HttpRuns, AnLlmStepCallsTheModelsFilesTierAndChargesItsUsage) {
  FaultServer provider;
  testing::TempDir dir;
  const std::string models = cheap_tier_models(dir, provider);
  const std::string wf = dir.write("wf.json", R"({"format": "switchyard.workflow/v1",
    "name": "summarize", "start": "Start", "goal": "Summarize",
    "tools": {"Summarize": {"kind": "llm", "prompt": "Summarize {{input.text}}", "max_tokens": 64,
      "output_schema": {"type": "object", "required": ["answer"]}}},
    "edges": [["Start", "Summarize", 1]]})");
  auto r = testing::switchyard({"run", wf, "--models", models, "--journal", dir.file("j.db"),
                                "--json", "--input", R"({"text": "a long text"})"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["llm_calls"], 1);
  // "Summarize a long text" (21 bytes) -> 6 tokens in at $1000/M; {"answer":"ok"} -> 4 out at
  // $2000/M.
  EXPECT_EQ(result["tokens"], 10);
  EXPECT_NEAR(result["spent_usd"].get<double>(), 6 * 1000 / 1e6 + 4 * 2000 / 1e6, 1e-12);
  // `budget` reports it by workflow and by step and tier.
  auto report = testing::switchyard({"budget", "--journal", dir.file("j.db"), "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  auto spend = nlohmann::json::parse(report.out);
  ASSERT_EQ(spend["workflows"].size(), 1u);
  EXPECT_EQ(spend["workflows"][0]["workflow"], "summarize");
  EXPECT_EQ(spend["workflows"][0]["llm_calls"], 1);
  ASSERT_EQ(spend["steps"].size(), 1u);
  EXPECT_EQ(spend["steps"][0]["step"], "Summarize");
  EXPECT_EQ(spend["steps"][0]["tier"], "cheap");
  EXPECT_EQ(spend["steps"][0]["usable"], 1);
  EXPECT_NEAR(spend["steps"][0]["cost_usd"].get<double>(), result["spent_usd"].get<double>(),
              1e-12);
  auto text = testing::switchyard({"budget", "--journal", dir.file("j.db")});
  EXPECT_NE(text.out.find("summarize / Summarize"), std::string::npos) << text.out;
  // Without a models file the workflow is refused before anything runs.
  auto refused = testing::switchyard({"run", wf, "--journal", dir.file("j.db")});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("needs a models file"), std::string::npos) << refused.err;
  // A bad models file: every error with its pointer, exit 2.
  const std::string bad = dir.write("bad.json", R"({"tiers": [{"name": "x"}]})");
  auto invalid = testing::switchyard({"run", wf, "--models", bad, "--journal", dir.file("j.db")});
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_NE(invalid.err.find(bad + ": /tiers/0/model"), std::string::npos) << invalid.err;
}

TEST(HttpRuns, BudgetFlagsOverrideTheWorkflowAndRunsShowsTheSpend) {
  FaultServer provider;
  testing::TempDir dir;
  const std::string models = cheap_tier_models(dir, provider);
  const std::string wf = dir.write("wf.json", R"({"format": "switchyard.workflow/v1",
    "name": "summarize", "start": "Start", "goal": "Summarize",
    "tools": {"Summarize": {"kind": "llm", "prompt": "Summarize {{input.text}}", "max_tokens": 64}},
    "edges": [["Start", "Summarize", 1]], "budget": {"usd": 10}})");
  const std::string journal = dir.file("j.db");
  auto run = [&](std::vector<std::string> flags) {
    std::vector<std::string> args = {"run",    wf,          "--models",
                                     models,   "--journal", journal,
                                     "--json", "--input",   R"({"text": "a long text"})"};
    args.insert(args.end(), flags.begin(), flags.end());
    return testing::switchyard(args);
  };
  // Each flag alone is a cap the call cannot fit: nothing is sent, the run escalates.
  const std::vector<std::vector<std::string>> caps = {
      {"--budget-usd", "0.0001"}, {"--budget-tokens", "10"}, {"--budget-llm-calls", "0"}};
  for (const auto& flag : caps) {
    auto r = run(flag);
    EXPECT_EQ(r.exit_code, 1) << flag[0] << ": " << r.out << r.err;
    auto result = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_EQ(result["status"], "escalated") << flag[0];
    EXPECT_EQ(result["llm_calls"], 0) << flag[0];
  }
  EXPECT_EQ(provider.stats()["requests"], 0);
  auto ok = run({});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const double spent = nlohmann::json::parse(ok.out)["spent_usd"].get<double>();
  EXPECT_GT(spent, 0);
  auto runs = testing::switchyard({"runs", "--journal", journal});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("spent"), std::string::npos) << runs.out;
  // `runs` shows USD in the one money format (runtime/base/money.h).
  EXPECT_NE(runs.out.find(runtime::usd_text(spent)), std::string::npos) << runs.out;
}

TEST(HttpRuns, AnApiKeyNeverReachesOutputErrorsOrTheJournal) {
  FaultServer provider;
  testing::TempDir dir;
  const std::string key = "sk-live-CANARY-7f3a9";
  ::setenv("SWITCHYARD_TEST_CANARY_KEY", key.c_str(), 1);
  // One tier answers (and checks the Bearer token came), one fails with an error body, one hangs
  // up: the key must show nowhere, whatever happens.
  const std::string models = dir.write("models.json", R"({"tiers": [
    {"name": "a", "model": "status-500", "base_url": ")" + provider.url("/v1") +
                                                          R"(",
     "api_key_env": "SWITCHYARD_TEST_CANARY_KEY", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1},
    {"name": "b", "model": "echo", "base_url": ")" + provider.url("/v1") +
                                                          R"(",
     "api_key_env": "SWITCHYARD_TEST_CANARY_KEY", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}]})");
  const std::string wf = dir.write("wf.json", R"({"format": "switchyard.workflow/v1",
    "name": "canary", "start": "Start", "goal": "Ask",
    "tools": {"Ask": {"kind": "llm", "prompt": "Hello {{input.name}}"}},
    "edges": [["Start", "Ask", 1]]})");
  const std::string journal = dir.file("j.db");
  auto r = testing::switchyard({"-vv", "run", wf, "--models", models, "--journal", journal,
                                "--json", "--input", R"({"name": "Ada"})"});
  ::unsetenv("SWITCHYARD_TEST_CANARY_KEY");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto result = nlohmann::json::parse(r.out);
  EXPECT_EQ(result["llm_calls"], 2);  // a failed, escalated to b
  EXPECT_EQ(r.out.find(key), std::string::npos);
  EXPECT_EQ(r.err.find(key), std::string::npos);
  EXPECT_EQ(testing::read_text(journal).find(key), std::string::npos);
  auto replay =
      testing::switchyard({"replay", result["run_id"], "--journal", journal, "--format", "json"});
  EXPECT_EQ(replay.out.find(key), std::string::npos);
  EXPECT_NE(replay.out.find("\\\"authorized\\\":true"), std::string::npos) << replay.out;
}

}  // namespace
}  // namespace switchyard::runtime
