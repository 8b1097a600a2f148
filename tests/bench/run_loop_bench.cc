// Per-step overhead of the run loop: a 10-step linear workflow of zero-latency mock tools, run
// end to end (machine + tool calls + journal), with the in-memory and the SQLite file journal
// (side:1 and side:2: with non-idempotent steps, each committing its start and its outcome);
// and the cost of one reroute.
//   build/tests/bench/run_loop_bench

#include <benchmark/benchmark.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"

namespace {

using namespace switchyard;

constexpr int kSteps = 10;

// Start -> T0 -> ... -> T9; with `detour`, T4 fails and T4b (a parallel tool) takes over.
// side_effects: 0 every step idempotent; 1 T0, T2, ... T8 not (each followed by an idempotent
// step); 2 no step idempotent.
std::shared_ptr<const graph::Workflow> linear(bool detour, int side_effects = 0) {
  nlohmann::json tools = nlohmann::json::object();
  nlohmann::json edges = nlohmann::json::array();
  std::string prev = "Start";
  for (int i = 0; i < kSteps; ++i) {
    const std::string id = "T" + std::to_string(i);
    const bool idempotent = side_effects == 0 || (side_effects == 1 && i % 2 == 1);
    tools[id] = {{"kind", "mock"}, {"idempotent", idempotent}, {"output", {{"i", i}}}};
    edges.push_back({prev, id, 1.0});
    prev = id;
  }
  if (detour) {
    tools["T4"]["fail"] = "always";
    tools["T4b"] = {{"kind", "mock"}, {"idempotent", true}, {"output", {{"i", 4}}}};
    edges.push_back({"T3", "T4b", 2.0});
    edges.push_back({"T4b", "T5", 1.0});
  }
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", "linear"},
                      {"start", "Start"},
                      {"goal", "T9"},
                      {"tools", tools},
                      {"edges", edges}};
  auto loaded = graph::load(w.dump(), "linear.json");
  if (!loaded.ok()) std::abort();
  return loaded.workflow;
}

// Runs the workflow once per iteration. With `fresh_every` > 0 the in-memory journal is replaced
// (untimed) every that many runs, so that what is measured is the run loop, not the growth of an
// ever larger in-memory store.
void run_many(benchmark::State& state, std::unique_ptr<runtime::Journal> owned,
              runtime::Journal* journal, bool detour, int fresh_every, int side_effects = 0) {
  auto w = linear(detour, side_effects);
  auto tools = tools::make_tool_set(*w);
  if (!tools.ok()) std::abort();
  ManualClock clock;
  monitors::HealthTable health(clock);
  auto runner = std::make_unique<runtime::Runner>(w, *tools, *journal, clock, health);
  std::int64_t n = 0;
  for (auto _ : state) {
    if (fresh_every > 0 && n > 0 && n % fresh_every == 0) {
      state.PauseTiming();
      owned = runtime::make_memory_journal();
      journal = owned.get();
      runner = std::make_unique<runtime::Runner>(w, *tools, *journal, clock, health);
      state.ResumeTiming();
    }
    runtime::RunRequest request;
    request.run_id = "bench-" + std::to_string(n++);
    auto report = runner->run(std::move(request));
    if (!report.ok()) state.SkipWithError(report.status().message().c_str());
    benchmark::DoNotOptimize(report);
  }
  state.counters["per_step"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kSteps),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_RunLoopMemoryJournal(benchmark::State& state) {
  auto journal = runtime::make_memory_journal();
  auto* raw = journal.get();
  run_many(state, std::move(journal), raw, false, 1000);
}
BENCHMARK(BM_RunLoopMemoryJournal)->Unit(benchmark::kMicrosecond);

// range(0) (file:1 only): side effects, as linear()'s.
void BM_RunLoopFileJournal(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "switchyard-bench-journal.db";
  std::filesystem::remove(path);
  auto journal = runtime::open_sqlite_journal(path.string());
  if (!journal.ok()) {
    state.SkipWithError(journal.status().message().c_str());
    return;
  }
  run_many(state, nullptr, journal->get(), false, 0, static_cast<int>(state.range(0)));
  journal->reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
BENCHMARK(BM_RunLoopFileJournal)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->ArgNames({"side"})
    ->Unit(benchmark::kMicrosecond);

// The same run with one mid-run failure healed by a reroute: the difference to the plain run is
// the cost of one reroute (failure event, re-solve, reroute event).
void BM_RunLoopWithOneReroute(benchmark::State& state) {
  auto journal = runtime::make_memory_journal();
  auto* raw = journal.get();
  run_many(state, std::move(journal), raw, true, 1000);
}
BENCHMARK(BM_RunLoopWithOneReroute)->Unit(benchmark::kMicrosecond);

}  // namespace
