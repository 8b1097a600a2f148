// Building the small JSON objects the run loop journals at every step.
//   build/tests/bench/json_bench
// - BM_InitializerList: nlohmann's json{{"key", value}, ...}.
// - BM_JsonObject: graph/json_object.h, the same object built directly.
// - BM_NlohmannDump / BM_CanonicalJson: serializing a step_succeeded payload for the hash chain,
//   with nlohmann's dump and with runtime/base/hash.h's canonical_json (the same bytes).

#include <benchmark/benchmark.h>

#include <string>

#include "graph/json_object.h"
#include "runtime/base/hash.h"

namespace {

const std::string kNode = "Razorpay", kTool = "Razorpay", kKind = "builtin";

void BM_InitializerList(benchmark::State& state) {
  for (auto _ : state) {
    nlohmann::json j = {{"node", kNode}, {"tool", kTool}, {"kind", kKind},
                        {"attempt", 1},  {"call", 1},     {"idempotent", true}};
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_InitializerList);

void BM_JsonObject(benchmark::State& state) {
  for (auto _ : state) {
    nlohmann::json j = switchyard::json_object("attempt", 1, "call", 1, "idempotent", true, "kind",
                                               kKind, "node", kNode, "tool", kTool);
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_JsonObject);

nlohmann::json step_succeeded() {
  return switchyard::json_object("attempt", 1, "latency_us", 1234, "node", kNode, "output",
                                 nlohmann::json{{"id", "pay_123"}, {"ok", true}}, "tool", kTool);
}

void BM_NlohmannDump(benchmark::State& state) {
  const nlohmann::json doc = step_succeeded();
  for (auto _ : state) {
    std::string text = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_NlohmannDump);

void BM_CanonicalJson(benchmark::State& state) {
  const nlohmann::json doc = step_succeeded();
  for (auto _ : state) {
    std::string text = switchyard::runtime::canonical_json(doc);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_CanonicalJson);

}  // namespace
