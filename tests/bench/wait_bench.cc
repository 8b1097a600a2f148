// Runs held at waits (docs/waits.md).
//   build/tests/bench/wait_bench
// - BM_WaitingRuns: N runs of Start -> Ask (an approval wait) -> Done started at once on an engine
//   of 2 threads, all held at their approval together, then every wait approved
//   (Engine::resolve_wait) until every run has completed. file:0 an in-memory journal, file:1 a
//   SQLite file (group commit). Counters: hold_s (from the first start until all N waits are
//   open), resolve_s (from the first approval until the last run completed), rss_kib_per_wait
//   (the resident set's growth while they were held, over N: the engine's state of a held run,
//   its open wait, and, with file:0, its journaled events), and open_waits (must be N).
//   Run each case in its own process (--benchmark_filter=BM_WaitingRuns/runs:10000/file:1): memory
//   freed by an earlier case stays in the allocator and would hide the next one's growth.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "tools/builtin.h"

namespace {

using namespace switchyard;

// The resident set of this process now (not its peak), in KiB.
long resident_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::shared_ptr<const graph::Workflow> approval_workflow() {
  return graph::load(R"({"format": "switchyard.workflow/v1", "name": "held", "start": "Start",
    "goal": "Done", "tools": {
      "Ask": {"kind": "wait", "approval": "go ahead"},
      "Done": {"kind": "builtin", "name": "noop", "idempotent": true}},
    "edges": [["Start", "Ask", 1], ["Ask", "Done", 1]]})",
                     "held.json")
      .workflow;
}

void BM_WaitingRuns(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  const bool file = state.range(1) != 0;
  auto w = approval_workflow();
  tools::BuiltinRegistry builtins;
  builtins.add("noop", [](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json{{"ok", true}};
  });
  auto tools = *tools::make_tool_set(*w, {.builtins = &builtins});
  ManualClock clock;
  monitors::HealthTable health(clock);
  double hold_s = 0, resolve_s = 0, rss_kib = 0, open = 0;
  for (auto _ : state) {
    const std::string path = "/tmp/switchyard-wait-bench.db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::unique_ptr<runtime::Journal> journal = runtime::make_memory_journal();
    if (file) journal = runtime::open_sqlite_journal(path).value();
    auto engine = std::make_unique<runtime::Engine>(*journal, clock, health,
                                                    runtime::EngineOptions{.threads = 2});
    std::atomic<int> completed{0};
    const long rss_before = resident_kib();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> ids;
    for (int i = 0; i < runs; ++i) {
      runtime::RunRequest request;
      request.run_id = "held-" + std::to_string(i);
      ids.push_back(request.run_id);
      engine->start(w, tools, std::move(request), [&completed](Result<runtime::RunReport> r) {
        if (r.ok() && r->result.status == runtime::RunStatus::kCompleted) ++completed;
      });
    }
    std::size_t held = 0;
    while ((held = engine->waits().size()) < static_cast<std::size_t>(runs)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto t1 = std::chrono::steady_clock::now();
    rss_kib += static_cast<double>(resident_kib() - rss_before);
    open += static_cast<double>(held);
    for (const auto& id : ids) {
      Status s = engine->resolve_wait(
          id, "Ask#1", {.decision = runtime::WaitAnswer::Decision::kApprove, .by = "bench"});
      if (!s.ok()) state.SkipWithError(s.message().c_str());
    }
    engine->wait_idle();
    const auto t2 = std::chrono::steady_clock::now();
    hold_s += std::chrono::duration<double>(t1 - t0).count();
    resolve_s += std::chrono::duration<double>(t2 - t1).count();
    if (completed.load() != runs) state.SkipWithError("a run did not complete");
    engine.reset();
    journal.reset();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["hold_s"] = hold_s / n;
  state.counters["resolve_s"] = resolve_s / n;
  state.counters["resolves_per_s"] = static_cast<double>(runs) * n / resolve_s;
  state.counters["rss_kib_per_wait"] = rss_kib / n / static_cast<double>(runs);
  state.counters["open_waits"] = open / n;
}
// One iteration each (10,000 runs is the measurement).
BENCHMARK(BM_WaitingRuns)
    ->ArgNames({"runs", "file"})
    ->Args({10000, 1})
    ->Args({10000, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
