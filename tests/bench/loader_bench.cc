// The workflow loader on a generated 1,000-tool workflow (parse + validate + build the graph).
//   build/tests/bench/loader_bench

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "graph/load.h"

namespace {

std::string big_workflow(int tools) {
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", "big"},
                      {"start", "Start"},
                      {"goal", "T" + std::to_string(tools - 1)}};
  nlohmann::json t = nlohmann::json::object();
  nlohmann::json edges = nlohmann::json::array();
  for (int i = 0; i < tools; ++i) {
    t["T" + std::to_string(i)] = {{"kind", "mock"}, {"latency_ms", 1}, {"output", {{"i", i}}}};
    if (i == 0) edges.push_back({"Start", "T0", 0.1});
    if (i + 1 < tools) edges.push_back({"T" + std::to_string(i), "T" + std::to_string(i + 1), 0.1});
    if (i + 7 < tools) edges.push_back({"T" + std::to_string(i), "T" + std::to_string(i + 7), 0.9});
  }
  w["tools"] = t;
  w["edges"] = edges;
  return w.dump();
}

void BM_Load1000Tools(benchmark::State& state) {
  const std::string text = big_workflow(1000);
  for (auto _ : state) {
    auto result = switchyard::graph::load(text, "big.json");
    if (!result.ok()) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Load1000Tools)->Unit(benchmark::kMillisecond);

}  // namespace
