// The durable journal's throughput.
//   build/tests/bench/journal_bench
// - BM_JournalGroupCommit/sync:S: 1,000 runs x 20 events (a run_started, 4 batches of 5 events,
//   the finish), submitted at once to the journal writer, which groups what is queued into one
//   transaction: events/s into a SQLite file (sync 0: synchronous=NORMAL, 1: FULL).
// - BM_JournalTransactionPerBatch/sync:S: the same events, one transaction per batch (what group
//   commit replaces).

#include <benchmark/benchmark.h>

#include <filesystem>

#include "runtime/journal/journal.h"
#include "runtime/journal/writer.h"

namespace {

using namespace switchyard;
using runtime::Event;

constexpr int kRuns = 1000;
constexpr int kBatches = 4;
constexpr int kBatch = 5;
constexpr int kEventsPerRun = kBatches * kBatch;

std::unique_ptr<runtime::Journal> fresh_journal(benchmark::State& state) {
  const std::string file = "/tmp/switchyard-journal-bench.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
  runtime::JournalOptions options;
  options.sync = state.range(0) == 0 ? runtime::JournalSync::kNormal : runtime::JournalSync::kFull;
  auto j = runtime::open_sqlite_journal(file, options);
  if (!j.ok()) state.SkipWithError(j.status().message().c_str());
  return j.ok() ? std::move(*j) : nullptr;
}

runtime::RunRecord record(int i) {
  runtime::RunRecord r;
  r.run_id = "r-" + std::to_string(i);
  r.workflow = "bench";
  r.workflow_hash = "h";
  r.status = "running";
  r.input = nlohmann::json::object();
  return r;
}

std::vector<Event> batch(int run, int b) {
  std::vector<Event> out;
  for (int k = 0; k < kBatch; ++k) {
    Event e;
    e.run_id = "r-" + std::to_string(run);
    e.seq = b * kBatch + k + 1;
    e.time_ms = 1700000000000 + e.seq;
    e.type = "step_succeeded";
    e.payload = {{"node", "T" + std::to_string(k)},
                 {"tool", "T" + std::to_string(k)},
                 {"attempt", 1},
                 {"output", {{"ok", true}}},
                 {"latency_us", 12}};
    out.push_back(std::move(e));
  }
  return out;
}

void report(benchmark::State& state) {
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRuns * kEventsPerRun, benchmark::Counter::kIsRate);
}

void BM_JournalGroupCommit(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto journal = fresh_journal(state);
    if (!journal) return;
    state.ResumeTiming();
    {
      runtime::JournalWriter writer(*journal);
      for (int i = 0; i < kRuns; ++i) {
        writer.submit([r = record(i)](runtime::Journal& j) { return j.begin_run(r); });
      }
      for (int b = 0; b < kBatches; ++b) {
        for (int i = 0; i < kRuns; ++i) {
          writer.submit([events = batch(i, b)](runtime::Journal& j) mutable {
            return j.append(std::move(events));
          });
        }
      }
      for (int i = 0; i < kRuns; ++i) {
        writer.submit([i](runtime::Journal& j) {
          return j.finish_run("r-" + std::to_string(i), "completed", nlohmann::json::object(), 1);
        });
      }
    }  // the writer drains its queue before it stops
  }
  report(state);
}
BENCHMARK(BM_JournalGroupCommit)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("sync")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_JournalTransactionPerBatch(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto journal = fresh_journal(state);
    if (!journal) return;
    state.ResumeTiming();
    for (int i = 0; i < kRuns; ++i) benchmark::DoNotOptimize(journal->begin_run(record(i)).ok());
    for (int b = 0; b < kBatches; ++b) {
      for (int i = 0; i < kRuns; ++i) benchmark::DoNotOptimize(journal->append(batch(i, b)).ok());
    }
    for (int i = 0; i < kRuns; ++i) {
      benchmark::DoNotOptimize(
          journal->finish_run("r-" + std::to_string(i), "completed", nlohmann::json::object(), 1)
              .ok());
    }
  }
  report(state);
}
BENCHMARK(BM_JournalTransactionPerBatch)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("sync")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
