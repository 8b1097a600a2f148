// HTTP tools under load, against the raw libcurl limit measured in the same run.
//   build/tests/bench/http_bench
// - BM_HttpRuns: 1,000 runs in flight at once, each one http step (POST /ok/<n> on the local
//   fault-injection server), through the engine: requests/s.
// - BM_RawLibcurl: the same 1,000 requests with plain libcurl multi and curl_multi_poll on one
//   thread, no runtime at all: the ceiling on this machine. Both report requests_per_s; the
//   ratio is in docs/benchmarks.md.
// Each also reports cpu_us_per_request: CPU time of this process (all its threads, not the
// server's) per request, which, unlike requests/s, barely moves when other work shares the cores.

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine.h"
#include "runtime/system_clock.h"
#include "tests/support/fault_server.h"
#include "tools/tool_set.h"

namespace {

using namespace switchyard;

constexpr int kRequests = 1000;

testing::FaultServer& server() {
  static testing::FaultServer s;
  return s;
}

// CPU time used so far by this process, every thread (user + system), in microseconds.
double process_cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + static_cast<double>(t.tv_usec); };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

// Sets the counters every benchmark here reports, from the CPU time at its loop's start.
void report(benchmark::State& state, double cpu_us_at_start) {
  const double requests = static_cast<double>(state.iterations()) * kRequests;
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["cpu_us_per_request"] = (process_cpu_us() - cpu_us_at_start) / requests;
}

void BM_HttpRuns(benchmark::State& state) {
  const std::string url = server().url("/ok/{{input.n}}");
  auto loaded = graph::load(nlohmann::json{
      {"format", "switchyard.workflow/v1"}, {"name", "http"}, {"start", "Start"}, {"goal", "Call"},
      {"tools", {{"Call", {{"kind", "http"}, {"url", url}, {"idempotent", true}}}}},
      {"edges", {{"Start", "Call", 1.0}}}}.dump(), "http.json");
  auto w = loaded.workflow;
  auto tools = *tools::make_tool_set(*w);
  runtime::SystemClock clock;
  monitors::HealthTable health;
  auto journal = runtime::make_memory_journal();
  runtime::Engine engine(*journal, clock, health,
                         runtime::EngineOptions{.threads = static_cast<int>(state.range(0))});
  const double cpu_at_start = process_cpu_us();
  for (auto _ : state) {
    std::atomic<int> failed{0};
    for (int i = 0; i < kRequests; ++i) {
      runtime::RunRequest request;
      request.input = {{"n", i}};
      engine.start(w, tools, request, [&failed](Result<runtime::RunReport> r) {
        if (!r.ok() || r->result.status != runtime::RunStatus::kCompleted) ++failed;
      });
    }
    engine.wait_idle();
    if (failed.load() > 0) state.SkipWithError("a run did not complete");
  }
  report(state, cpu_at_start);
}
BENCHMARK(BM_HttpRuns)->Arg(1)->Arg(2)->ArgNames({"threads"})->Unit(benchmark::kMillisecond)->UseRealTime();

// The http tool alone (no run loop, no journal): 1,000 invocations in flight.
void BM_HttpToolCalls(benchmark::State& state) {
  auto loaded = graph::load(nlohmann::json{
      {"format", "switchyard.workflow/v1"}, {"name", "http"}, {"start", "Start"}, {"goal", "Call"},
      {"tools", {{"Call", {{"kind", "http"}, {"url", server().url("/ok/{{input.n}}")}}}}},
      {"edges", {{"Start", "Call", 1.0}}}}.dump(), "http.json");
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

void BM_RawLibcurl(benchmark::State& state) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 4096L);
  std::vector<CURL*> easies(kRequests);
  std::vector<std::string> urls(kRequests);
  const std::string body = R"({"input": {"n": 0}, "steps": {}})";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  for (int i = 0; i < kRequests; ++i) {
    easies[i] = curl_easy_init();
    urls[i] = server().url("/ok/" + std::to_string(i));
  }
  const double cpu_at_start = process_cpu_us();
  for (auto _ : state) {
    for (int i = 0; i < kRequests; ++i) {
      CURL* e = easies[i];
      curl_easy_setopt(e, CURLOPT_URL, urls[i].c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_multi_add_handle(multi, e);
    }
    int running = 1;
    while (running > 0) {
      curl_multi_perform(multi, &running);
      if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg == CURLMSG_DONE) {
        if (m->data.result != CURLE_OK) state.SkipWithError("a request failed");
        curl_multi_remove_handle(multi, m->easy_handle);
      }
    }
  }
  for (CURL* e : easies) curl_easy_cleanup(e);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  report(state, cpu_at_start);
}
BENCHMARK(BM_RawLibcurl)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
