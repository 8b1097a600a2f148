// The PostgreSQL journal against the SQLite journal, in the same run, on the same machine.
//   build/tests/bench/postgres_bench
// - BM_JournaledSteps: 1,000 runs of a 10-step workflow of builtin tools in flight at once on 2
//   engine threads, every event journaled with group commit by the engine's journal writer;
//   journal:0 a SQLite file (WAL, synchronous=NORMAL), journal:1 PostgreSQL (a throwaway cluster
//   of the Debian server started by the benchmark, tests/support/postgres_cluster.h, with fsync
//   on and synchronous_commit on, over its unix socket); side:0 every step idempotent, side:1
//   every other step not (a commit before and after each such call). Counters: steps_per_s,
//   runs_per_s, and the journal writer's CPU time per step.
// - BM_QueuedRuns: the same 1,000 runs of the 10-step workflow (every step idempotent) admitted
//   into the PostgreSQL journal's queue first (not timed), then run by `workers` in-process
//   Workers (runtime/worker/worker.h), each with its own connection and a 1-thread engine, as
//   `switchyard worker` processes would (poll 1 ms, up to max_runs runs each: 64, the default,
//   8 or 256, claiming up to 16 per statement); claims:0 the worker claims and renews on its
//   journal's connection, claims:1 on a second connection of its own (what `switchyard worker`
//   does). Timed: from the workers' start until every run finished. Counters: runs_per_s,
//   steps_per_s, and claim-to-start latency (claim_to_start_p50_ms, _p99_ms): from a worker's claim
//   statement returning to the run's run_started event being committed. Run it with
//   BM_JournaledSteps/journal:0/side:0 (the same runs on the SQLite journal without a queue) for
//   the ratio.
// - BM_GroupOfOneEvent: the floor under claim-to-start: one group commit (Journal::write_group)
//   holding one write of one event, on an idle journal, one after another (what a claimed run's
//   run_started costs when the writer has nothing in flight): the time per iteration is one
//   group's, a round trip and the server's fsync of its WAL.
// - BM_HealthSharePoll: the cost of shared health (runtime/engine/health_share.h) to the process
//   that polls: one HealthShare::poll_once on its own journal connection, with `new` outcomes
//   another journal object committed since the last poll (0: the steady state of an idle
//   deployment), over a journal already holding 20,000 older outcome rows. Timed: the poll only
//   (the other process's writes are not): the time per iteration is the time per poll.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/health_share.h"
#include "runtime/journal/event_feed.h"
#include "runtime/worker/worker.h"
#include "tests/bench/bench_logs.h"
#include "tests/support/forwarding_run_queue.h"
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

// A run queue that notes when each claim returned (steady clock), forwarding everything.
class TimedQueue final : public testing::ForwardingRunQueue {
 public:
  // `own_connection`: `inner` is a claims connection of its own (claims:1), which then writes the
  // starts of the runs claimed fresh (Worker); claims:0 keeps the engine writing them.
  TimedQueue(runtime::RunQueue& inner, bool own_connection)
      : ForwardingRunQueue(inner), own_connection_(own_connection) {}
  Result<std::optional<runtime::ClaimedRun>> claim(const std::string& owner,
                                                   const std::vector<std::string>& hashes,
                                                   std::int64_t now_ms,
                                                   std::int64_t lease_ms) override {
    auto claimed = inner().claim(owner, hashes, now_ms, lease_ms);
    if (claimed.ok() && claimed->has_value()) {
      std::lock_guard lock(mu_);
      claimed_at_[(*claimed)->run_id] = std::chrono::steady_clock::now();
    }
    return claimed;
  }
  Result<std::vector<runtime::ClaimedRun>> claim_many(const std::string& owner,
                                                      const std::vector<std::string>& hashes,
                                                      std::int64_t now_ms, std::int64_t lease_ms,
                                                      int limit) override {
    auto claimed = inner().claim_many(owner, hashes, now_ms, lease_ms, limit);
    if (claimed.ok()) {
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard lock(mu_);
      for (const auto& c : *claimed) claimed_at_[c.run_id] = now;
    }
    return claimed;
  }
  bool writes_starts() const override { return own_connection_ && inner().writes_starts(); }
  std::optional<std::chrono::steady_clock::time_point> claimed_at(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = claimed_at_.find(id);
    if (it == claimed_at_.end()) return std::nullopt;
    return it->second;
  }

 private:
  const bool own_connection_;
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> claimed_at_;
};

// A worker: its own PostgreSQL connection, an EventFeed over it (to see run_started and
// run_finished committed: what its engine writes through), and the timed queue it claims on: the
// same connection's (claims:0), or a second connection's (claims:1).
struct BenchWorker {
  std::unique_ptr<runtime::Journal> pg;
  std::unique_ptr<runtime::Journal> claims_pg;  // claims:1
  std::unique_ptr<runtime::EventFeed> feed;
  std::unique_ptr<TimedQueue> queue;
  std::unique_ptr<runtime::Engine> engine;
  std::unique_ptr<runtime::Worker> worker;
  runtime::EventFeed::Subscription subscription;
};

double percentile_ms(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[at];
}

void BM_QueuedRuns(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const bool own_claims = state.range(1) != 0;
  const int max_runs = static_cast<int>(state.range(2));
  bench::quiet_logs(spdlog::level::warn);  // a worker logs each claim and end at info
  auto w = builtin_chain(false);
  tools::BuiltinRegistry builtins;
  builtins.add("noop", [](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json{{"ok", true}};
  });
  auto tools = *tools::make_tool_set(*w, {.builtins = &builtins});
  ManualClock clock;
  monitors::HealthTable health(clock);
  testing::PostgresCluster& cluster = testing::PostgresCluster::shared(/*fsync=*/true);
  if (!cluster.ok()) {
    state.SkipWithError(cluster.error().c_str());
    return;
  }
  std::vector<double> latencies;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string location = cluster.create_database("queue");
    auto admin = runtime::open_journal(location);
    if (!admin.ok()) {
      state.SkipWithError(admin.status().message().c_str());
      return;
    }
    for (int i = 0; i < kRuns; ++i) {
      auto id = runtime::enqueue_run(*(*admin)->run_queue(), *w, nlohmann::json::object(), clock,
                                     "q" + std::to_string(i));
      if (!id.ok()) {
        state.SkipWithError(id.status().message().c_str());
        return;
      }
    }
    std::atomic<int> finished{0};
    std::mutex mu;
    std::map<std::string, std::chrono::steady_clock::time_point> started_at;
    std::vector<BenchWorker> pool(static_cast<std::size_t>(workers));
    for (int i = 0; i < workers; ++i) {
      BenchWorker& b = pool[static_cast<std::size_t>(i)];
      auto pg = runtime::open_journal(location);
      if (!pg.ok()) {
        state.SkipWithError(pg.status().message().c_str());
        return;
      }
      b.pg = std::move(*pg);
      if (own_claims) {
        auto claims = runtime::open_journal(location);
        if (!claims.ok()) {
          state.SkipWithError(claims.status().message().c_str());
          return;
        }
        b.claims_pg = std::move(*claims);
      }
      b.feed = std::make_unique<runtime::EventFeed>(*b.pg);
      b.queue = std::make_unique<TimedQueue>(
          own_claims ? *b.claims_pg->run_queue() : *b.pg->run_queue(), own_claims);
      b.subscription = b.feed->subscribe([&](const runtime::Event& e) {
        if (e.type == "run_started") {
          std::lock_guard lock(mu);
          started_at[e.run_id] = std::chrono::steady_clock::now();
        } else if (e.type == "run_finished") {
          finished.fetch_add(1);
        }
      });
      b.engine = std::make_unique<runtime::Engine>(*b.feed, clock, health,
                                                   runtime::EngineOptions{.threads = 1});
      auto worker = runtime::Worker::create(*b.feed, *b.engine, clock, {{w, tools}},
                                            {.name = "w" + std::to_string(i),
                                             .poll = std::chrono::milliseconds(1),
                                             .max_runs = max_runs},
                                            b.queue.get());
      if (!worker.ok()) {
        state.SkipWithError(worker.status().message().c_str());
        return;
      }
      b.worker = std::move(*worker);
    }
    state.ResumeTiming();
    std::vector<std::thread> threads;
    for (auto& b : pool) threads.emplace_back([&b] { b.worker->run(); });
    while (finished.load() < kRuns) std::this_thread::sleep_for(std::chrono::microseconds(200));
    state.PauseTiming();
    for (auto& b : pool) b.worker->stop();
    for (auto& t : threads) t.join();
    for (auto& [id, at] : started_at) {
      for (auto& b : pool) {
        if (auto claimed = b.queue->claimed_at(id)) {
          latencies.push_back(std::chrono::duration<double, std::milli>(at - *claimed).count());
          break;
        }
      }
    }
    for (auto& b : pool) {
      b.worker.reset();
      b.engine.reset();
      b.subscription.reset();
    }
    pool.clear();
    admin->reset();
    state.ResumeTiming();
  }
  const double runs = static_cast<double>(state.iterations()) * kRuns;
  state.counters["runs_per_s"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  state.counters["steps_per_s"] = benchmark::Counter(runs * kSteps, benchmark::Counter::kIsRate);
  state.counters["claim_to_start_p50_ms"] = percentile_ms(latencies, 0.50);
  state.counters["claim_to_start_p99_ms"] = percentile_ms(latencies, 0.99);
}
BENCHMARK(BM_QueuedRuns)
    ->ArgsProduct({{1, 2, 4}, {0, 1}, {64}})
    ->ArgsProduct({{1, 2, 4}, {1}, {8}})
    ->Args({1, 1, 256})
    ->Args({4, 1, 256})
    ->ArgNames({"workers", "claims", "max_runs"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A running run `id` of a workflow that is not stored ("w", hash "h"), with an empty input.
runtime::RunRecord bench_running_run(const std::string& id) {
  runtime::RunRecord run;
  run.run_id = id;
  run.workflow = "w";
  run.workflow_hash = "h";
  run.status = "running";
  run.input = nlohmann::json::object();
  return run;
}

void BM_GroupOfOneEvent(benchmark::State& state) {
  auto& cluster = testing::PostgresCluster::shared(/*fsync=*/true);
  if (!cluster.ok()) {
    state.SkipWithError(cluster.error().c_str());
    return;
  }
  auto journal = runtime::open_journal(cluster.create_database("floor"));
  if (!journal.ok()) {
    state.SkipWithError(journal.status().message().c_str());
    return;
  }
  const runtime::RunRecord run = bench_running_run("r-floor");
  if (!(*journal)->begin_run(run).ok()) {
    state.SkipWithError("cannot record the run");
    return;
  }
  std::int64_t seq = 0;
  for (auto _ : state) {
    runtime::Event e;
    e.run_id = run.run_id;
    e.seq = ++seq;
    e.time_ms = 1767225600000 + seq;
    e.type = seq == 1 ? "run_started" : "plan";
    e.payload = {{"seq", seq}};
    std::vector<runtime::Journal::Write> group = {
        [&e](runtime::Journal& j) { return j.append(std::vector<runtime::Event>{e}); }};
    if (!(*journal)->write_group(group).front().ok()) state.SkipWithError("the group failed");
  }
}
BENCHMARK(BM_GroupOfOneEvent)->Unit(benchmark::kMicrosecond)->UseRealTime();

// `n` step outcomes of tool Pay, appended to `run` from seq `*seq` + 1, in appends of 100.
bool append_outcomes(runtime::Journal& journal, const std::string& run, std::int64_t* seq, int n) {
  for (int done = 0; done < n;) {
    std::vector<runtime::Event> batch;
    for (int i = 0; i < 100 && done < n; ++i, ++done) {
      runtime::Event e;
      e.run_id = run;
      e.seq = ++*seq;
      e.time_ms = 1767225600000 + *seq;
      e.type = *seq % 2 ? "step_succeeded" : "step_failed";
      e.payload = {{"tool", "Pay"}, {"latency_us", 1000}, {"failure", "timeout"}};
      batch.push_back(std::move(e));
    }
    if (!journal.append(batch).ok()) return false;
  }
  return true;
}

void BM_HealthSharePoll(benchmark::State& state) {
  const int fresh = static_cast<int>(state.range(0));
  bench::quiet_logs(spdlog::level::err);  // what the share learns is logged at warn
  auto& cluster = testing::PostgresCluster::shared(/*fsync=*/true);
  if (!cluster.ok()) {
    state.SkipWithError(cluster.error().c_str());
    return;
  }
  const std::string url = cluster.create_database("health");
  auto other = runtime::open_journal(url);
  auto own = runtime::open_journal(url);
  if (!other.ok() || !own.ok()) {
    state.SkipWithError("cannot open the journal");
    return;
  }
  const runtime::RunRecord run = bench_running_run("r-other");
  std::int64_t seq = 0;
  if (!(*other)->begin_run(run).ok() || !append_outcomes(**other, run.run_id, &seq, 20000)) {
    state.SkipWithError("cannot write the older outcomes");
    return;
  }
  ManualClock clock;
  monitors::HealthTable health(clock);
  auto share = runtime::HealthShare::create(**own, health);
  if (!share.ok()) {
    state.SkipWithError(share.status().message().c_str());
    return;
  }
  for (auto _ : state) {
    if (fresh > 0) {
      state.PauseTiming();
      if (!append_outcomes(**other, run.run_id, &seq, fresh)) state.SkipWithError("append");
      state.ResumeTiming();
    }
    auto applied = (*share)->poll_once();
    if (!applied.ok() || *applied != fresh) state.SkipWithError("the poll did not read them all");
  }
}
BENCHMARK(BM_HealthSharePoll)
    ->Arg(0)
    ->Arg(10)
    ->Arg(1000)
    ->ArgName("new")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
