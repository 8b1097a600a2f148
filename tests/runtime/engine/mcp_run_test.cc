// Runs whose tools are on real MCP servers (tests/programs/mcp_server.cc over stdio): a server
// killed in the middle of a call fails its step (journaled with its kind), the run reroutes to a
// tool on another server, the breaker opens, and a probe tool on the killed server, which starts
// it again, closes the breaker.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>
#include <regex>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/reenact.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"
#include "tests/support/subprocess.h"
#include "tools/mcp_client.h"
#include "tools/tool_set.h"
#include "tools/trace_context.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> two_servers() {
  const std::string server = SWITCHYARD_MCP_SERVER;
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "mcp-reroute",
    "start": "Start", "goal": "Goal",
    "mcp_servers": {"primary": {"argv": [")" +
                                server + R"("]},
                    "backup": {"argv": [")" +
                                server + R"("]}},
    "tools": {
      "A": {"kind": "mcp", "server": "primary", "tool": "hang", "probe": "APing"},
      "APing": {"kind": "mcp", "server": "primary", "tool": "echo",
                "arguments": {"text": "ping"}},
      "B": {"kind": "mcp", "server": "backup", "tool": "echo",
            "arguments": {"text": "{{input.word}}"}},
      "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "A", 1], ["A", "Goal", 0], ["Start", "B", 3], ["B", "Goal", 0]],
    "policy": {"breaker": {"failures": 1, "cooldown_ms": 3600000}}})",
                            "mcp.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

TEST(McpRuns, AKilledServerIsReroutedAroundAndAProbeOnItClosesTheBreaker) {
  tools::set_mcp_first_backoff(std::chrono::milliseconds(0));
  auto w = two_servers();
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok()) << tools.status().message();
  auto journal = make_memory_journal();
  ManualClock clock;  // the cooldown never passes: only the probe can close A's breaker
  monitors::HealthTable health(clock);
  std::promise<void> probe_ok;
  std::atomic<bool> told{false};
  {
    Engine engine(*journal, clock, health,
                  {.threads = 2,
                   .probe_interval = std::chrono::milliseconds(20),
                   .on_probe = [&](const std::string& tool, bool ok) {
                     if (tool == "A" && ok && !told.exchange(true)) probe_ok.set_value();
                   }});
    RunRequest request;
    request.run_id = "r1";
    request.input = {{"word", "rerouted"}};
    auto report = engine.submit(w, *tools, request);
    // A hangs on the primary server (the only one started so far): kill it mid-call.
    std::vector<int> pids;
    while (pids.empty()) pids = tools::mcp_server_pids();
    ASSERT_EQ(pids.size(), 1u);
    ::kill(pids[0], SIGKILL);
    auto done = report.get();
    ASSERT_TRUE(done.ok()) << done.status().message();
    EXPECT_EQ(done->result.status, RunStatus::kCompleted);
    EXPECT_EQ(done->result.path, (std::vector<std::string>{"Start", "B", "Goal"}));
    EXPECT_EQ(done->result.reroutes, 1);
    EXPECT_EQ(done->result.outputs["B"], (nlohmann::json{{"echo", "rerouted"}}));
    // (A's breaker opened: only a tool whose breaker is open is probed, below. Whether it is
    // still open now races with the first probe.)
    auto events = journal->events("r1");
    ASSERT_TRUE(events.ok());
    bool journaled = false;
    for (const auto& e : *events) {
      if (e.type != "step_failed") continue;
      journaled = true;
      EXPECT_EQ(e.payload["tool"], "A");
      EXPECT_EQ(e.payload["failure"], "transport");
      EXPECT_NE(e.payload["reason"].get<std::string>().find("killed by signal 9"),
                std::string::npos)
          << e.payload.dump();
    }
    EXPECT_TRUE(journaled);
    // The probe (APing on the primary server) starts it again and closes A's breaker.
    ASSERT_EQ(probe_ok.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_FALSE(health.is_down("A"));
  }
  tools::stop_mcp_sessions();
  tools::set_mcp_first_backoff(std::chrono::milliseconds(100));
}

// Start -> P (the fault server's `progress` tool, 25 notifications) -> Goal.
std::shared_ptr<const graph::Workflow> progress_workflow() {
  const std::string server = SWITCHYARD_MCP_SERVER;
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "mcp-progress",
    "start": "Start", "goal": "Goal",
    "mcp_servers": {"s": {"argv": [")" +
                                server + R"("]}},
    "tools": {"P": {"kind": "mcp", "server": "s", "tool": "progress", "arguments": {"steps": 25}},
              "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "P", 1], ["P", "Goal", 0]]})",
                            "progress.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// The journal of run r1 holds P's progress (at most 20: the first 19 and the last) before P's
// outcome, and re-drives.
void expect_progress_journaled(const graph::Workflow& w, Journal& journal) {
  auto events = journal.events("r1");
  ASSERT_TRUE(events.ok());
  std::vector<nlohmann::json> progress;
  bool before_outcome = true;
  for (const auto& e : *events) {
    if (e.type == "step_succeeded" && e.payload["tool"] == "P") before_outcome = false;
    if (e.type != "tool_progress") continue;
    EXPECT_TRUE(before_outcome);
    progress.push_back(e.payload);
  }
  ASSERT_EQ(progress.size(), 20u);
  EXPECT_EQ(
      progress[0],
      (nlohmann::json{
          {"tool", "P"}, {"call", 1}, {"progress", 1}, {"total", 25}, {"message", "step 1"}}));
  EXPECT_EQ(progress[18]["progress"], 19);
  EXPECT_EQ(progress[19]["progress"], 25);
  auto reenacted = reenact(w, *events, /*complete=*/true);
  EXPECT_TRUE(reenacted.ok()) << reenacted.status().message();
}

TEST(McpRuns, AServersProgressNotificationsAreJournaledAsToolProgressByTheEngine) {
  auto w = progress_workflow();
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok()) << tools.status().message();
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  {
    Engine engine(*journal, clock, health, {.threads = 1});
    RunRequest request;
    request.run_id = "r1";
    auto done = engine.submit(w, *tools, request).get();
    ASSERT_TRUE(done.ok()) << done.status().message();
    EXPECT_EQ(done->result.status, RunStatus::kCompleted);
  }
  expect_progress_journaled(*w, *journal);
  tools::stop_mcp_sessions();
}

TEST(McpRuns, AServersProgressNotificationsAreJournaledAsToolProgressByTheRunner) {
  auto w = progress_workflow();
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok()) << tools.status().message();
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, *tools, *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  auto done = runner.run(request);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->result.status, RunStatus::kCompleted);
  expect_progress_journaled(*w, *journal);
  tools::stop_mcp_sessions();
}

// Start -> M (the fault server's `meta` tool on `server_json`) -> Goal, run on an engine with
// tracing on: M's output is what the server received.
nlohmann::json traced_meta_output(const std::string& server_json) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "mcp-traced",
    "start": "Start", "goal": "Goal", "mcp_servers": {"s": )" +
                                server_json + R"(},
    "tools": {"M": {"kind": "mcp", "server": "s", "tool": "meta"},
              "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "M", 1], ["M", "Goal", 0]]})",
                            "traced.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  if (!loaded.ok()) return nullptr;
  auto tools = tools::make_tool_set(*loaded.workflow);
  EXPECT_TRUE(tools.ok()) << tools.status().message();
  if (!tools.ok()) return nullptr;
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  tools::set_traceparent_enabled(true);
  nlohmann::json output;
  {
    Engine engine(*journal, clock, health, {.threads = 1});
    RunRequest request;
    request.run_id = "traced-1";
    auto done = engine.submit(loaded.workflow, *tools, request).get();
    EXPECT_TRUE(done.ok()) << done.status().message();
    if (done.ok()) output = done->result.outputs["M"];
  }
  tools::set_traceparent_enabled(false);
  tools::stop_mcp_sessions();
  return output;
}

TEST(McpRuns, WithTracingOnACallOverStdioCarriesItsStepsTraceparentInMeta) {
  const nlohmann::json out =
      traced_meta_output(R"({"argv": [")" + std::string(SWITCHYARD_MCP_SERVER) + R"("]})");
  ASSERT_TRUE(out.is_object()) << out.dump();
  // The same span id the step's span has in the exported trace (docs/tracing.md).
  EXPECT_EQ(out["meta"]["traceparent"], tools::traceparent("traced-1", "M", 1)) << out.dump();
  EXPECT_EQ(out["traceparent_header"], "");
}

TEST(McpRuns, WithTracingOnACallOverStreamableHttpCarriesItInMetaAndItsHeader) {
  testing::Subprocess server({SWITCHYARD_MCP_SERVER, "--http", "--exit-on-stdin-eof"});
  auto line = server.read_line();
  std::smatch m;
  ASSERT_TRUE(line && std::regex_search(*line, m, std::regex("listening on (\\S+)")));
  const nlohmann::json out = traced_meta_output(R"({"url": "http://)" + m[1].str() + R"(/mcp"})");
  ASSERT_TRUE(out.is_object()) << out.dump();
  const std::string expected = tools::traceparent("traced-1", "M", 1);
  EXPECT_EQ(out["meta"]["traceparent"], expected) << out.dump();
  EXPECT_EQ(out["traceparent_header"], expected) << out.dump();
}

}  // namespace
}  // namespace switchyard::runtime
