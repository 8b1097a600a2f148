// Building the small JSON objects the run loop journals at every step.
//   build/tests/bench/json_bench
// - BM_InitializerList: nlohmann's json{{"key", value}, ...}.
// - BM_JsonObject: graph/json_object.h, the same object built directly.

#include <benchmark/benchmark.h>

#include <string>

#include "graph/json_object.h"

namespace {

const std::string kNode = "Razorpay", kTool = "Razorpay", kKind = "builtin";

void BM_InitializerList(benchmark::State& state) {
  for (auto _ : state) {
    nlohmann::json j = {{"node", kNode}, {"tool", kTool},      {"kind", kKind},
                        {"attempt", 1},  {"call", 1},          {"idempotent", true}};
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_InitializerList);

void BM_JsonObject(benchmark::State& state) {
  for (auto _ : state) {
    nlohmann::json j = switchyard::json_object("attempt", 1, "call", 1, "idempotent", true,
                                               "kind", kKind, "node", kNode, "tool", kTool);
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_JsonObject);

}  // namespace
