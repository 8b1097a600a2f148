// The engine's probes (runtime/engine/probe_scheduler.h): how long a probe URL has to answer is
// EngineOptions::probe_timeout. Against the fault server over loopback HTTP.

#include "runtime/engine/probe_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/writer.h"
#include "tests/support/fault_server.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// Start -> A (always fails; probed at `probe_url`) -> Goal, or Start -> B -> Goal at a higher
// cost. One failure opens A's breaker for a minute: only a probe can close it.
std::shared_ptr<const graph::Workflow> probed(const std::string& probe_url) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "probed",
    "start": "Start", "goal": "Goal", "tools": {
      "A": {"kind": "mock", "fail": "always", "probe": ")" +
                                probe_url + R"("},
      "B": {"kind": "mock"}, "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "A", 1], ["A", "Goal", 0], ["Start", "B", 3], ["B", "Goal", 0]],
    "policy": {"breaker": {"failures": 1, "cooldown_ms": 60000}}})",
                            "probed.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// Runs `w` once on an engine probing every 20 ms with `timeout`, and returns what A's first probe
// said (true: healthy).
bool first_probe_of_a(const std::shared_ptr<const graph::Workflow>& w,
                      std::chrono::milliseconds timeout) {
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  std::promise<bool> probed;
  std::atomic<bool> told{false};
  Engine engine(*journal, clock, health,
                {.threads = 1,
                 .probe_interval = std::chrono::milliseconds(20),
                 .probe_timeout = timeout,
                 .on_probe = [&](const std::string& tool, bool ok) {
                   if (tool == "A" && !told.exchange(true)) probed.set_value(ok);
                 }});
  auto tools = tools::make_tool_set(*w);
  EXPECT_TRUE(tools.ok());
  auto report = engine.submit(w, *tools, {}).get();
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(health.is_down("A"));
  return probed.get_future().get();
}

TEST(ProbeScheduler, AProbeUrlSlowerThanTheProbeTimeoutFailsTheProbe) {
  testing::FaultServer server;
  // The health URL answers 200 after 400 ms: too late for 100 ms, in time for 2 s.
  auto w = probed(server.url("/slow/400"));
  EXPECT_FALSE(first_probe_of_a(w, std::chrono::milliseconds(100)));
  EXPECT_TRUE(first_probe_of_a(w, std::chrono::milliseconds(2000)));
}

// stop() lets the loop run out of work even when the probe timer had already expired, its handler
// queued, when stop() cancelled it (cancel() cannot reach a queued handler, which used to arm the
// timer again: the engine's destructor then waited for its threads forever, seen about once in
// 80 runs of the test above on a loaded machine). With a 1 ms interval, stop() lands in every
// phase of the timer's cycle over the iterations; each loop must finish within 10 s.
TEST(ProbeScheduler, StopLetsTheLoopFinishWhateverPhaseTheTimerIsIn) {
  auto w = probed("http://127.0.0.1:9/health");
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok());
  auto journal = make_memory_journal();
  JournalWriter writer(*journal);
  ManualClock clock;
  monitors::HealthTable health(clock);
  for (int i = 0; i < 200; ++i) {
    boost::asio::io_context loop(1);
    auto guard = boost::asio::make_work_guard(loop);
    auto ran = std::async(std::launch::async, [&loop] { loop.run(); });
    ProbeScheduler probes(loop, health, clock, writer,
                          {.interval = std::chrono::milliseconds(1),
                           .timeout = std::chrono::milliseconds(100),
                           .on_probe = nullptr});
    probes.watch(w, *tools);
    std::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 25)));
    probes.stop();
    guard.reset();
    if (ran.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "iteration " << i << ": the loop still has work after stop()";
      loop.stop();
      return;
    }
  }
}

TEST(ProbeScheduler, TheProbeTimeoutDefaultsToFiveSeconds) {
  EXPECT_EQ(EngineOptions{}.probe_timeout, std::chrono::milliseconds(5000));
}

}  // namespace
}  // namespace switchyard::runtime
