// HTTP tools under load, against the raw libcurl limit measured in the same run.
//   build/tests/bench/http_bench
// - BM_HttpRuns: 1,000 runs in flight at once, each one http step (POST /ok/<n> on the local
//   fault-injection server), through the engine: requests/s.
// - BM_RawLibcurl: the same 1,000 requests with plain libcurl multi and curl_multi_poll on one
//   thread, no runtime at all: the ceiling on this machine. Both report requests_per_s.
// - BM_HttpRunsVsRaw: the two alternated batch by batch in one benchmark, and their ratio (the
//   goal: runs at >= 70% of raw libcurl), which the machine's noise moves far less.
// Each also reports cpu_us_per_request: CPU time of this process (all its threads, not the
// server's) per request, which, unlike requests/s, barely moves when other work shares the cores.

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "tests/support/fault_server.h"
#include "tests/support/process_stats.h"
#include "tools/tool_set.h"

namespace {

using namespace switchyard;

constexpr int kRequests = 1000;

testing::FaultServer& server() {
  static testing::FaultServer s;
  return s;
}

// CPU time used so far by this process, every thread (user + system), in microseconds.
double process_cpu_us() { return testing::process_cpu_s() * 1e6; }

// Sets the counters every benchmark here reports, from the CPU time at its loop's start.
void report(benchmark::State& state, double cpu_us_at_start) {
  const double requests = static_cast<double>(state.iterations()) * kRequests;
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["cpu_us_per_request"] = (process_cpu_us() - cpu_us_at_start) / requests;
}

// 1,000 one-step http runs through an engine, all in flight at once.
class HttpRunBatch {
 public:
  explicit HttpRunBatch(int threads)
      : workflow_(graph::load(nlohmann::json{{"format", "switchyard.workflow/v1"},
                                             {"name", "http"},
                                             {"start", "Start"},
                                             {"goal", "Call"},
                                             {"tools",
                                              {{"Call",
                                                {{"kind", "http"},
                                                 {"url", server().url("/ok/{{input.n}}")},
                                                 {"idempotent", true}}}}},
                                             {"edges", {{"Start", "Call", 1.0}}}}
                                  .dump(),
                              "http.json")
                      .workflow),
        tools_(*tools::make_tool_set(*workflow_)),
        journal_(runtime::make_memory_journal()),
        engine_(*journal_, clock_, health_, runtime::EngineOptions{.threads = threads}) {}

  // True if every run completed.
  bool run() {
    std::atomic<int> failed{0};
    for (int i = 0; i < kRequests; ++i) {
      runtime::RunRequest request;
      request.input = {{"n", i}};
      engine_.start(workflow_, tools_, request, [&failed](Result<runtime::RunReport> r) {
        if (!r.ok() || r->result.status != runtime::RunStatus::kCompleted) ++failed;
      });
    }
    engine_.wait_idle();
    return failed.load() == 0;
  }

 private:
  std::shared_ptr<const graph::Workflow> workflow_;
  std::shared_ptr<tools::ToolSet> tools_;
  runtime::SystemClock clock_;
  monitors::HealthTable health_{clock_};
  std::unique_ptr<runtime::Journal> journal_;
  runtime::Engine engine_;
};

void BM_HttpRuns(benchmark::State& state) {
  HttpRunBatch batch(static_cast<int>(state.range(0)));
  const double cpu_at_start = process_cpu_us();
  for (auto _ : state) {
    if (!batch.run()) state.SkipWithError("a run did not complete");
  }
  report(state, cpu_at_start);
}
BENCHMARK(BM_HttpRuns)
    ->Arg(1)
    ->Arg(2)
    ->ArgNames({"threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The http tool alone (no run loop, no journal): 1,000 invocations in flight.
void BM_HttpToolCalls(benchmark::State& state) {
  auto loaded = graph::load(
      nlohmann::json{
          {"format", "switchyard.workflow/v1"},
          {"name", "http"},
          {"start", "Start"},
          {"goal", "Call"},
          {"tools", {{"Call", {{"kind", "http"}, {"url", server().url("/ok/{{input.n}}")}}}}},
          {"edges", {{"Start", "Call", 1.0}}}}
          .dump(),
      "http.json");
  auto tools = *tools::make_tool_set(*loaded.workflow);
  std::vector<nlohmann::json> contexts(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    contexts[i] = {{"input", {{"n", i}}}, {"steps", nlohmann::json::object()}};
  }
  const double cpu_at_start = process_cpu_us();
  for (auto _ : state) {
    std::atomic<int> left{kRequests}, failed{0};
    std::mutex mu;
    std::condition_variable done;
    for (int i = 0; i < kRequests; ++i) {
      tools::Invocation inv;
      inv.context = &contexts[i];
      tools->at(0).invoke(inv, [&](tools::Outcome o) {
        if (!o.ok) ++failed;
        if (--left == 0) {
          std::lock_guard lock(mu);
          done.notify_one();
        }
      });
    }
    std::unique_lock lock(mu);
    done.wait(lock, [&] { return left.load() == 0; });
    if (failed.load() > 0) state.SkipWithError("a call failed");
  }
  report(state, cpu_at_start);
}
BENCHMARK(BM_HttpToolCalls)->Unit(benchmark::kMillisecond)->UseRealTime();

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// The same 1,000 requests with plain libcurl multi and curl_multi_poll on one thread.
class RawBatch {
 public:
  RawBatch() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 4096L);
    headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Expect:");
    for (int i = 0; i < kRequests; ++i) {
      easies_.push_back(curl_easy_init());
      urls_.push_back(server().url("/ok/" + std::to_string(i)));
    }
  }
  ~RawBatch() {
    for (CURL* e : easies_) curl_easy_cleanup(e);
    curl_slist_free_all(headers_);
    curl_multi_cleanup(multi_);
  }

  // True if every request succeeded.
  bool run() {
    for (int i = 0; i < kRequests; ++i) {
      CURL* e = easies_[i];
      curl_easy_setopt(e, CURLOPT_URL, urls_[i].c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, kBody);
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_multi_add_handle(multi_, e);
    }
    int running = 1;
    while (running > 0) {
      curl_multi_perform(multi_, &running);
      if (running > 0) curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
    }
    bool ok = true;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
      if (m->msg == CURLMSG_DONE) {
        ok = ok && m->data.result == CURLE_OK;
        curl_multi_remove_handle(multi_, m->easy_handle);
      }
    }
    return ok;
  }

 private:
  static constexpr const char* kBody = R"({"input": {"n": 0}, "steps": {}})";
  CURLM* multi_ = nullptr;
  std::vector<CURL*> easies_;
  std::vector<std::string> urls_;
  curl_slist* headers_ = nullptr;
};

void BM_RawLibcurl(benchmark::State& state) {
  RawBatch batch;
  const double cpu_at_start = process_cpu_us();
  for (auto _ : state) {
    if (!batch.run()) state.SkipWithError("a request failed");
  }
  report(state, cpu_at_start);
}
BENCHMARK(BM_RawLibcurl)->Unit(benchmark::kMillisecond)->UseRealTime();

// The goal's ratio, measured pairwise: each iteration runs one raw batch and one batch of runs
// (2 engine threads) back to back, so that both see the same machine; ratio = runs/s over raw/s.
void BM_HttpRunsVsRaw(benchmark::State& state) {
  RawBatch raw;
  HttpRunBatch runs(2);
  double raw_s = 0, runs_s = 0;
  auto timed = [](auto& batch, double& seconds) {
    const auto start = std::chrono::steady_clock::now();
    const bool ok = batch.run();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return ok;
  };
  for (auto _ : state) {
    if (!timed(raw, raw_s) || !timed(runs, runs_s)) state.SkipWithError("a request failed");
  }
  const double requests = static_cast<double>(state.iterations()) * kRequests;
  state.counters["raw_requests_per_s"] = requests / raw_s;
  state.counters["runs_requests_per_s"] = requests / runs_s;
  state.counters["ratio"] = raw_s / runs_s;
}
BENCHMARK(BM_HttpRunsVsRaw)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
