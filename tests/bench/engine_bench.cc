// The asynchronous engine.
//   build/tests/bench/engine_bench
// - BM_EngineConcurrentRuns: 10,000 runs of a 10-step workflow of builtin tools in flight at once
//   on 2 threads (file:0 in-memory journal, file:1 a SQLite file with group commit): runs/s,
//   per-step overhead (wall time, and CPU time of all threads), peak RSS per run in flight.
// - BM_EngineSideEffects: the same at 10,000 runs with non-idempotent steps (side:1 every other
//   step, each followed by an idempotent one; side:2 every step): the cost of committing a side
//   effect's start before it is invoked and its outcome before the run moves on.
// - BM_Fanout: one run of a fan-out of N branches (one builtin step each, join all) vs. one run
//   of an N-step chain: the cost per branch of running steps concurrently.
// - BM_EngineTraced: BM_EngineConcurrentRuns at 10,000 runs with OpenTelemetry export on
//   (runtime/journal/otlp_exporter.h, docs/tracing.md) to a real OTLP/HTTP receiver on loopback
//   that accepts and discards (tests/support/otlp_receiver.h). export:0 the engine on the journal
//   (as BM_EngineConcurrentRuns); export:1 through an EventFeed with one subscriber that does
//   nothing (what serve and the embedding API do without tracing: the control); export:2 spans
//   exported with the exporter's default queue (16,384 spans: what cannot be sent in time is
//   dropped and counted); export:3 a queue that holds every span (none dropped). The receiver
//   runs in this process and competes for the same cores: its CPU is in cpu_us_per_step and
//   reported alone (receiver_us_per_step); own_cpu_us_per_step is the CPU of the rest (the
//   engine, the journal writer, the exporter's thread).
// - BM_OtlpObserve: the exporter's cost on the thread that commits the events, per step.
// - BM_PostTinyHandlers: why runs are pinned to a thread: 2 threads running tiny handlers, each
//   thread with its own io_context vs one io_context shared by both.

#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <thread>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/otlp_exporter.h"
#include "tests/support/otlp_receiver.h"
#include "tests/support/process_stats.h"
#include "tools/builtin.h"

namespace {

using namespace switchyard;

constexpr int kSteps = 10;

// side_effects: 0 every step idempotent; 1 T0, T2, ... T8 not (each followed by an idempotent
// step); 2 no step idempotent.
std::shared_ptr<const graph::Workflow> builtin_chain(int side_effects = 0) {
  nlohmann::json tools = nlohmann::json::object();
  nlohmann::json edges = nlohmann::json::array();
  std::string prev = "Start";
  for (int i = 0; i < kSteps; ++i) {
    const std::string id = "T" + std::to_string(i);
    const bool idempotent = side_effects == 0 || (side_effects == 1 && i % 2 == 1);
    tools[id] = {{"kind", "builtin"}, {"name", "noop"}, {"idempotent", idempotent}};
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

// The one builtin every benchmark workflow calls: answers {"ok": true} at once.
tools::BuiltinRegistry noop_builtins() {
  tools::BuiltinRegistry builtins;
  builtins.add("noop", [](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json{{"ok", true}};
  });
  return builtins;
}

using testing::peak_rss_kib;
using testing::process_cpu_s;
using testing::thread_cpu_s;

// `runs` runs of `w` (kSteps steps) in flight at once on 2 engine threads; `file`: into a SQLite
// file (group commit by the journal writer), else in memory. `trace`: 0 the journal itself; 1 an
// EventFeed over it with a subscriber that does nothing; 2 spans exported to `receiver` with the
// exporter's default queue; 3 with a queue for every span.
void concurrent_runs(benchmark::State& state, int runs, bool file,
                     const std::shared_ptr<const graph::Workflow>& w, int trace = 0,
                     testing::OtlpReceiver* receiver = nullptr) {
  const tools::BuiltinRegistry builtins = noop_builtins();
  auto tools = *tools::make_tool_set(*w, {.builtins = &builtins});
  ManualClock clock;
  monitors::HealthTable health(clock);
  const long rss_before = peak_rss_kib();
  double cpu_s = 0;           // of every thread of the process, while runs were timed
  double writer_s = 0;        // of the journal writer's thread
  double otlp_s = 0;          // of the exporter's sending thread
  double receiver_s = 0;      // of the receiver's thread (the collector's stand-in)
  runtime::OtlpStats traced;  // summed over iterations
  for (auto _ : state) {
    state.PauseTiming();
    const std::string path = "/tmp/switchyard-engine-bench.db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::unique_ptr<runtime::Journal> journal = runtime::make_memory_journal();
    if (file) journal = runtime::open_sqlite_journal(path).value();
    // With export: the engine writes through a feed the exporter is subscribed to, as in serve.
    std::unique_ptr<runtime::EventFeed> feed;
    std::unique_ptr<runtime::OtlpExporter> exporter;
    runtime::EventFeed::Subscription subscription;
    if (trace == 1) {
      feed = std::make_unique<runtime::EventFeed>(*journal);
      subscription = feed->subscribe([](const runtime::Event&) {});
    } else if (trace >= 2) {
      runtime::OtlpOptions o{.endpoint = receiver->url()};
      if (trace == 3) o.max_queue = static_cast<std::size_t>(runs) * (kSteps + 1);
      exporter = runtime::OtlpExporter::start(o).value();
      feed = std::make_unique<runtime::EventFeed>(*journal);
      subscription =
          feed->subscribe([p = exporter.get()](const runtime::Event& e) { p->observe(e); });
    }
    runtime::Journal& target = feed ? static_cast<runtime::Journal&>(*feed) : *journal;
    auto engine = std::make_unique<runtime::Engine>(target, clock, health,
                                                    runtime::EngineOptions{.threads = 2});
    std::atomic<int> failed{0};
    const double cpu_before = process_cpu_s();
    const double writer_before = thread_cpu_s("sy-journal");
    const double otlp_before = thread_cpu_s("sy-otlp");
    const double receiver_before = thread_cpu_s("otlp-receiver");
    state.ResumeTiming();
    for (int i = 0; i < runs; ++i) {
      engine->start(w, tools, {}, [&failed](Result<runtime::RunReport> r) {
        if (!r.ok() || r->result.status != runtime::RunStatus::kCompleted) ++failed;
      });
    }
    engine->wait_idle();
    state.PauseTiming();
    cpu_s += process_cpu_s() - cpu_before;
    writer_s += thread_cpu_s("sy-journal") - writer_before;
    otlp_s += thread_cpu_s("sy-otlp") - otlp_before;
    receiver_s += thread_cpu_s("otlp-receiver") - receiver_before;
    if (failed.load() > 0) state.SkipWithError("a run did not complete");
    engine.reset();
    subscription.reset();
    if (exporter) {
      // What was dropped while the runs ran; the spans still queued are sent (untimed) now.
      const runtime::OtlpStats during = exporter->stats();
      exporter.reset();
      traced.dropped += during.dropped;
      traced.exported += during.exported;
    }
    feed.reset();
    journal.reset();
    state.ResumeTiming();
  }
  const double total_runs = static_cast<double>(state.iterations()) * runs;
  state.counters["runs_per_s"] = benchmark::Counter(total_runs, benchmark::Counter::kIsRate);
  state.counters["us_per_step"] = benchmark::Counter(
      total_runs * kSteps, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  // CPU time per step, all threads (engine, journal writer, checkpointer): what the machine
  // spends on a step, less sensitive than us_per_step to other tenants of a noisy machine.
  state.counters["cpu_us_per_step"] = cpu_s * 1e6 / (total_runs * kSteps);
  // The journal writer's CPU time per step: one thread, what bounds a journal's steps per second.
  state.counters["writer_us_per_step"] = writer_s * 1e6 / (total_runs * kSteps);
  state.counters["peak_rss_kib_per_run"] =
      static_cast<double>(peak_rss_kib() - rss_before) / static_cast<double>(runs);
  if (trace >= 2) {
    // Per iteration: spans the receiver accepted while the runs ran, and spans dropped.
    const double n = static_cast<double>(state.iterations());
    state.counters["spans_sent_timed"] = static_cast<double>(traced.exported) / n;
    state.counters["spans_dropped"] = static_cast<double>(traced.dropped) / n;
    // CPU per step of the exporter's sending thread and of the receiver (in cpu_us_per_step):
    // what is left of the difference to the control is the cost on the runs' own threads.
    state.counters["otlp_us_per_step"] = otlp_s * 1e6 / (total_runs * kSteps);
    state.counters["receiver_us_per_step"] = receiver_s * 1e6 / (total_runs * kSteps);
  }
  if (trace >= 1) {
    // cpu_us_per_step less the receiver's: the CPU of Switchyard's own threads (the engine, the
    // journal writer, the exporter's sending thread), what a deployment with its collector in
    // another process (or on another host) spends per step.
    state.counters["own_cpu_us_per_step"] = (cpu_s - receiver_s) * 1e6 / (total_runs * kSteps);
  }
}

// range(0): runs in flight; range(1): 0 in memory, 1 a SQLite file.
void BM_EngineConcurrentRuns(benchmark::State& state) {
  concurrent_runs(state, static_cast<int>(state.range(0)), state.range(1) != 0, builtin_chain());
}
BENCHMARK(BM_EngineConcurrentRuns)
    ->ArgsProduct({{1000, 10000}, {0, 1}})
    ->ArgNames({"runs", "file"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// range(0): file (as above); range(1): side effects (builtin_chain).
void BM_EngineSideEffects(benchmark::State& state) {
  concurrent_runs(state, 10000, state.range(0) != 0,
                  builtin_chain(static_cast<int>(state.range(1))));
}
BENCHMARK(BM_EngineSideEffects)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"file", "side"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// range(0): file (as above); range(1): export (concurrent_runs' `trace`).
void BM_EngineTraced(benchmark::State& state) {
  testing::OtlpReceiver receiver({.keep = false});
  concurrent_runs(state, 10000, state.range(0) != 0, builtin_chain(),
                  static_cast<int>(state.range(1)), &receiver);
}
BENCHMARK(BM_EngineTraced)
    ->ArgsProduct({{0, 1}, {0, 1, 2, 3}})
    ->ArgNames({"file", "export"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// What the exporter costs the thread that commits the events: observe() for the events of one
// run of kSteps builtin steps (run_started, step_started and step_succeeded per step,
// run_finished), sending to a receiver on loopback. The spans are sent by the exporter's own
// thread, not counted: the CPU time here is the calling thread's. Every 100 runs the timer stops
// until what was queued is sent, as a steady engine's queue is: a few hundred spans, none
// dropped (a producer far faster than the sender would measure a queue always full). Per step:
// CPU time / kSteps.
void BM_OtlpObserve(benchmark::State& state) {
  testing::OtlpReceiver receiver({.keep = false});
  auto exporter = runtime::OtlpExporter::start(
                      {.endpoint = receiver.url(), .flush_interval = std::chrono::milliseconds(1)})
                      .value();
  std::vector<runtime::Event> events;
  std::int64_t t = 1796122805000;
  auto add = [&](std::string type, nlohmann::json payload) {
    runtime::Event e;
    e.type = std::move(type);
    e.time_ms = ++t;
    e.payload = std::move(payload);
    events.push_back(std::move(e));
  };
  add("run_started", {{"workflow", "chain"}});
  for (int i = 0; i < kSteps; ++i) {
    const std::string id = "T" + std::to_string(i);
    add("step_started", {{"node", id}, {"tool", id}, {"call", 1}, {"attempt", 1}});
    add("step_succeeded", {{"node", id}, {"tool", id}, {"attempt", 1}, {"latency_us", 12}});
  }
  add("run_finished", {{"status", "completed"}, {"reroutes", 0}, {"spent_usd", 0.0}});
  std::uint64_t runs = 0;
  for (auto _ : state) {
    const std::string id = "run-" + std::to_string(++runs) + "-7f3c2a9e-5b1d-4e8a-9c6f";
    for (auto& e : events) {
      e.run_id = id;
      exporter->observe(e);
    }
    if (runs % 100 == 0) {
      state.PauseTiming();
      for (;;) {
        const runtime::OtlpStats s = exporter->stats();
        if (s.exported + s.failed + s.dropped >= runs * (kSteps + 1)) break;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      state.ResumeTiming();
    }
  }
  state.counters["cpu_us_per_step"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kSteps,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["spans_dropped"] = static_cast<double>(exporter->stats().dropped);
}
BENCHMARK(BM_OtlpObserve);

std::shared_ptr<const graph::Workflow> fanout_of(int branches) {
  nlohmann::json tools = {{"Done", {{"kind", "builtin"}, {"name", "noop"}, {"idempotent", true}}}};
  nlohmann::json list = nlohmann::json::array();
  for (int b = 0; b < branches; ++b) {
    const std::string id = "B" + std::to_string(b);
    tools[id] = {{"kind", "builtin"}, {"name", "noop"}, {"idempotent", true}};
    list.push_back({{"start", id + "s"}, {"goal", id}, {"edges", {{id + "s", id, 1.0}}}});
  }
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", "fan"},
                      {"start", "Start"},
                      {"goal", "Done"},
                      {"tools", tools},
                      {"nodes", {{"Fan", {{"fanout", {{"join", "all"}, {"branches", list}}}}}}},
                      {"edges", {{"Start", "Fan", 1.0}, {"Fan", "Done", 1.0}}}};
  auto loaded = graph::load(w.dump(), "fan.json");
  return loaded.workflow;
}

// range(0): branches (or chain steps); range(1): 1 = fan-out, 0 = chain of the same steps.
void BM_Fanout(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool fan = state.range(1) != 0;
  std::shared_ptr<const graph::Workflow> w;
  if (fan) {
    w = fanout_of(n);
  } else {
    nlohmann::json tools = nlohmann::json::object(), edges = nlohmann::json::array();
    std::string prev = "Start";
    for (int i = 0; i <= n; ++i) {
      const std::string id = "T" + std::to_string(i);
      tools[id] = {{"kind", "builtin"}, {"name", "noop"}, {"idempotent", true}};
      edges.push_back({prev, id, 1.0});
      prev = id;
    }
    w = graph::load(nlohmann::json{{"format", "switchyard.workflow/v1"},
                                   {"name", "chain"},
                                   {"start", "Start"},
                                   {"goal", prev},
                                   {"tools", tools},
                                   {"edges", edges}}
                        .dump(),
                    "chain.json")
            .workflow;
  }
  const tools::BuiltinRegistry builtins = noop_builtins();
  auto tools = *tools::make_tool_set(*w, {.builtins = &builtins});
  ManualClock clock;
  monitors::HealthTable health(clock);
  auto journal = runtime::make_memory_journal();
  runtime::Engine engine(*journal, clock, health, runtime::EngineOptions{.threads = 1});
  constexpr int kRuns = 1000;
  for (auto _ : state) {
    std::atomic<int> failed{0};
    for (int i = 0; i < kRuns; ++i) {
      engine.start(w, tools, {}, [&failed](Result<runtime::RunReport> r) {
        if (!r.ok() || r->result.status != runtime::RunStatus::kCompleted) ++failed;
      });
    }
    engine.wait_idle();
    if (failed.load() > 0) state.SkipWithError("a run did not complete");
  }
  const double runs = static_cast<double>(state.iterations()) * kRuns;
  state.counters["us_per_run"] =
      benchmark::Counter(runs, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["us_per_branch_or_step"] =
      benchmark::Counter(runs * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Fanout)
    ->Args({8, 1})
    ->Args({8, 0})
    ->ArgNames({"n", "fanout"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Each of 2 threads posts `count` tiny handlers, each posting the next, to its own io_context
// (shared = false) or to one io_context that both threads run (shared = true).
void BM_PostTinyHandlers(benchmark::State& state) {
  const bool shared = state.range(0) != 0;
  constexpr int kThreads = 2;
  constexpr int kCount = 200000;
  for (auto _ : state) {
    std::vector<std::unique_ptr<boost::asio::io_context>> loops;
    for (int i = 0; i < (shared ? 1 : kThreads); ++i) {
      loops.push_back(std::make_unique<boost::asio::io_context>(shared ? kThreads : 1));
    }
    std::atomic<long> done{0};
    std::vector<std::function<void(int)>> chains(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      boost::asio::io_context* loop = loops[shared ? 0 : t].get();
      chains[t] = [&chains, &done, t, loop](int left) {
        done.fetch_add(1, std::memory_order_relaxed);
        if (left > 0) boost::asio::post(*loop, [&chains, t, left] { chains[t](left - 1); });
      };
      boost::asio::post(*loop, [&chains, t] { chains[t](kCount - 1); });
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { loops[shared ? 0 : t]->run(); });
    }
    for (auto& th : threads) th.join();
    benchmark::DoNotOptimize(done.load());
  }
  state.counters["handlers_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kThreads * kCount, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PostTinyHandlers)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"shared"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
