// The PostgreSQL journal against the SQLite journal, in the same run, on the same machine.
//   build/tests/bench/postgres_bench
// - BM_JournaledSteps: 1,000 runs of a 10-step workflow of builtin tools in flight at once on 2
//   engine threads, every event journaled with group commit by the engine's journal writer;
//   journal:0 a SQLite file (WAL, synchronous=NORMAL), journal:1 PostgreSQL (a throwaway cluster
//   of the Debian server started by the benchmark, tests/support/postgres_cluster.h, with fsync
//   on and synchronous_commit on, over its unix socket); side:0 every step idempotent, side:1
//   every other step not (a commit before and after each such call). Counters: steps_per_s,
//   runs_per_s, and the journal writer's CPU time per step.

#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/process_stats.h"
#include "tools/builtin.h"

namespace {

using namespace switchyard;

constexpr int kSteps = 10;
constexpr int kRuns = 1000;

std::shared_ptr<const graph::Workflow> builtin_chain(bool side_effects) {
  nlohmann::json tools = nlohmann::json::object();
  nlohmann::json edges = nlohmann::json::array();
  std::string prev = "Start";
  for (int i = 0; i < kSteps; ++i) {
    const std::string id = "T" + std::to_string(i);
    tools[id] = {{"kind", "builtin"}, {"name", "noop"}, {"idempotent", !side_effects || i % 2}};
    edges.push_back({prev, id, 1.0});
    prev = id;
  }
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", "chain"},
                      {"start", "Start"},
                      {"goal", prev},
                      {"tools", tools},
                      {"edges", edges}};
  return graph::load(w.dump(), "chain.json").workflow;
}

void BM_JournaledSteps(benchmark::State& state) {
  const bool postgres = state.range(0) != 0;
  auto w = builtin_chain(state.range(1) != 0);
  tools::BuiltinRegistry builtins;
  builtins.add("noop", [](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json{{"ok", true}};
  });
  auto tools = *tools::make_tool_set(*w, {.builtins = &builtins});
  ManualClock clock;
  monitors::HealthTable health(clock);
  // One cluster for the program: stopped and removed when the program ends.
  testing::PostgresCluster* cluster = nullptr;
  if (postgres) {
    cluster = &testing::PostgresCluster::shared(/*fsync=*/true);
    if (!cluster->ok()) {
      state.SkipWithError(cluster->error().c_str());
      return;
    }
  }
  double writer_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string location = "/tmp/switchyard-postgres-bench.db";
    if (postgres) {
      location = cluster->create_database("bench");
    } else {
      std::filesystem::remove(location);
      std::filesystem::remove(location + "-wal");
    }
    auto journal = runtime::open_journal(location);
    if (!journal.ok()) {
      state.SkipWithError(journal.status().message().c_str());
      return;
    }
    auto engine = std::make_unique<runtime::Engine>(**journal, clock, health,
                                                    runtime::EngineOptions{.threads = 2});
    std::atomic<int> failed{0};
    const double writer_before = testing::thread_cpu_s("sy-journal");
    state.ResumeTiming();
    for (int i = 0; i < kRuns; ++i) {
      engine->start(w, tools, {}, [&failed](Result<runtime::RunReport> r) {
        if (!r.ok() || r->result.status != runtime::RunStatus::kCompleted) ++failed;
      });
    }
    engine->wait_idle();
    state.PauseTiming();
    writer_s += testing::thread_cpu_s("sy-journal") - writer_before;
    if (failed.load() > 0) state.SkipWithError("a run did not complete");
    engine.reset();
    journal->reset();
    state.ResumeTiming();
  }
  const double runs = static_cast<double>(state.iterations()) * kRuns;
  state.counters["runs_per_s"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  state.counters["steps_per_s"] = benchmark::Counter(runs * kSteps, benchmark::Counter::kIsRate);
  state.counters["writer_us_per_step"] = writer_s * 1e6 / (runs * kSteps);
}
BENCHMARK(BM_JournaledSteps)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"journal", "side"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
