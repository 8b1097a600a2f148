// The embedding API as an embedding program meets it: <switchyard/switchyard.h>, linked against
// libswitchyard.so, nothing internal (tests/bench/CMakeLists.txt).
//   build/tests/bench/api_bench
// - BM_ApiSequential/tools:T/journal:J: one run at a time of a 10-step chain through
//   Runtime::run. T: 0 builtins (a CallTool answering at once), 1 mock tools. J: 0 in memory
//   (its default window of 10,000 finished runs), 1 a SQLite file (sync normal), 2 a SQLite file
//   with sync full, 3 in memory keeping no finished run (memory_keep_runs = 0). Time per run.
// - BM_ApiConcurrent/runs:N/journal:J: N runs of the same chain started at once
//   (Runtime::start), then waited for: runs per second.
// - BM_ApiMemoryWindow: 100,000 sequential runs with the journal in memory and its default window
//   of 10,000 finished runs: peak RSS once the window is full and at the end (they should match:
//   the journal forgets what leaves the window), and the bytes each kept run costs.
// Compare with the engine underneath (run_loop_bench, engine_bench) to see what the public path
// adds (docs/benchmarks.md).

#include <benchmark/benchmark.h>
#include <switchyard/switchyard.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>

#include "tests/support/process_stats.h"

namespace {

namespace api = switchyard::api;
using nlohmann::json;

constexpr int kSteps = 10;

// Start -> T0 -> ... -> T9, each a builtin `noop` (mock = false) or a mock tool.
api::Workflow chain(bool mock) {
  json tools = json::object(), edges = json::array();
  std::string prev = "Start";
  for (int i = 0; i < kSteps; ++i) {
    const std::string id = "T" + std::to_string(i);
    tools[id] = mock ? json{{"kind", "mock"}, {"output", {{"ok", true}}}}
                     : json{{"kind", "builtin"}, {"name", "noop"}, {"idempotent", true}};
    edges.push_back({prev, id, 1.0});
    prev = id;
  }
  const json w = {{"format", "switchyard.workflow/v1"},
                  {"name", "chain"},
                  {"start", "Start"},
                  {"goal", prev},
                  {"tools", tools},
                  {"edges", edges}};
  return api::Workflow::from_json(w.dump(), "chain.json").value();
}

// A Runtime on 2 threads with `noop` registered; journal 0: memory, 1: a fresh SQLite file
// (sync normal), 2: the same with sync full, 3: memory keeping no finished run.
std::unique_ptr<api::Runtime> open_runtime(std::int64_t journal, std::size_t keep = 10000) {
  if (journal == 3) {
    journal = 0;
    keep = 0;
  }
  const std::string file = "/tmp/switchyard-api-bench.db";
  std::filesystem::remove(file);
  std::filesystem::remove(file + "-wal");
  std::filesystem::remove(file + "-shm");
  auto rt = api::Runtime::open({.journal_path = journal == 0 ? "" : file,
                                .memory_keep_runs = keep,
                                .sync_full = journal == 2,
                                .threads = 2})
                .value();
  (void)rt->add_tool("noop", [](const api::ToolCall&) -> api::Result<json> {
    return json{{"ok", true}};
  });
  return rt;
}

void BM_ApiSequential(benchmark::State& state) {
  auto rt = open_runtime(state.range(1));
  const api::Workflow w = chain(state.range(0) != 0);
  for (auto _ : state) {
    auto r = rt->run(w, {});
    if (!r.ok() || r->status != api::RunStatus::kCompleted) {
      state.SkipWithError("a run did not complete");
      break;
    }
  }
  state.counters["us_per_run"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ApiSequential)
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3}})
    ->ArgNames({"tools", "journal"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_ApiConcurrent(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  const api::Workflow w = chain(false);
  for (auto _ : state) {
    state.PauseTiming();
    auto rt = open_runtime(state.range(1));
    std::mutex mu;
    std::condition_variable cv;
    int done = 0, failed = 0;
    state.ResumeTiming();
    for (int i = 0; i < runs; ++i) {
      auto started = rt->start(w, {}, [&](api::Result<api::RunSummary> r) {
        std::lock_guard lock(mu);
        if (!r.ok() || r->status != api::RunStatus::kCompleted) ++failed;
        if (++done == runs) cv.notify_one();
      });
      if (!started.ok()) {
        std::lock_guard lock(mu);
        ++failed;
        if (++done == runs) cv.notify_one();
      }
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done == runs; });
    }
    state.PauseTiming();
    if (failed > 0) state.SkipWithError("a run did not complete");
    rt.reset();
    state.ResumeTiming();
  }
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * runs,
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ApiConcurrent)
    ->ArgsProduct({{1000}, {0, 1, 2, 3}})
    ->ArgNames({"runs", "journal"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ApiMemoryWindow(benchmark::State& state) {
  constexpr int kWindow = 10000;
  constexpr int kRuns = 100000;
  const api::Workflow w = chain(false);
  for (auto _ : state) {
    auto rt = open_runtime(0, kWindow);
    const long before = switchyard::testing::peak_rss_kib();
    long full = 0;
    for (int i = 0; i < kRuns; ++i) {
      auto r = rt->run(w, {});
      if (!r.ok() || r->status != api::RunStatus::kCompleted) {
        state.SkipWithError("a run did not complete");
        return;
      }
      // Twice the window: the window is full and the allocator has seen a window's turnover.
      if (i + 1 == 2 * kWindow) full = switchyard::testing::peak_rss_kib();
    }
    const long end = switchyard::testing::peak_rss_kib();
    state.counters["peak_rss_mib_window_full"] = static_cast<double>(full) / 1024;
    state.counters["peak_rss_mib_end"] = static_cast<double>(end) / 1024;
    state.counters["growth_after_window_mib"] = static_cast<double>(end - full) / 1024;
    state.counters["kib_per_kept_run"] = static_cast<double>(full - before) / kWindow;
  }
}
BENCHMARK(BM_ApiMemoryWindow)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
