// Routing decisions: one solve (weighting + reverse Dijkstra) plus route extraction.
//   build/tests/bench/router_bench

#include <benchmark/benchmark.h>

#include <random>
#include <set>
#include <string>

#include "graph/router.h"
#include "monitors/health_table.h"
#include "runtime/base/workflow_file.h"
#include "runtime/engine/run_health.h"
#include "tests/support/graph_builder.h"

namespace {

using namespace switchyard;

std::shared_ptr<const graph::Workflow> paper(const std::string& id) {
  auto loaded = runtime::load_workflow_file(std::string(SWITCHYARD_PAPER_DIR) + "/" + id + ".json");
  if (!loaded.ok()) std::abort();
  return loaded.workflow;
}

// One routing decision on a paper graph, with its scenario's known-down tools excluded.
void BM_RoutePaperGraph(benchmark::State& state, const char* id) {
  auto w = paper(id);
  graph::FixedHealth health(w->tools().size());
  for (auto t : w->scenario()->down) health.exclude(t);
  graph::Router router(*w, w->graph());
  for (auto _ : state) {
    auto route = router.plan(w->graph().start(), w->graph().goal(), health);
    benchmark::DoNotOptimize(route);
  }
}
BENCHMARK_CAPTURE(BM_RoutePaperGraph, CS_2, "CS-2");
BENCHMARK_CAPTURE(BM_RoutePaperGraph, TB_5, "TB-5");
BENCHMARK_CAPTURE(BM_RoutePaperGraph, CM_4, "CM-4");

// A random graph of N nodes and 4N edges (a chain keeps the goal reachable).
std::shared_ptr<const graph::Workflow> random_graph(int nodes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  switchyard::testing::TestGraphSpec spec;
  spec.start = "N0";
  spec.goal = "N" + std::to_string(nodes - 1);
  spec.junctions = {"N0"};
  std::set<std::pair<int, int>> used;
  for (int i = 0; i + 1 < nodes; ++i) {
    used.insert({i, i + 1});
    spec.edges.push_back({"N" + std::to_string(i), "N" + std::to_string(i + 1), 10.0});
  }
  while (static_cast<int>(spec.edges.size()) < 4 * nodes) {
    const int a = static_cast<int>(rng() % nodes), b = static_cast<int>(rng() % nodes);
    if (a == b || !used.insert({a, b}).second) continue;
    spec.edges.push_back({"N" + std::to_string(a), "N" + std::to_string(b),
                          static_cast<double>(rng() % 1000) / 100.0});
  }
  return switchyard::testing::build_workflow(spec);
}

void BM_RouteRandomGraph(benchmark::State& state) {
  auto w = random_graph(static_cast<int>(state.range(0)), 42);
  graph::FixedHealth health(w->tools().size());
  graph::Router router(*w, w->graph());
  for (auto _ : state) {
    auto route = router.plan(w->graph().start(), w->graph().goal(), health);
    benchmark::DoNotOptimize(route);
  }
  state.counters["nodes"] = static_cast<double>(w->graph().nodes().size());
  state.counters["edges"] = static_cast<double>(w->graph().edges().size());
}
BENCHMARK(BM_RouteRandomGraph)->Arg(10000)->Unit(benchmark::kMicrosecond);

// ---- with live monitors (issue: health monitors) ----

monitors::Observation sample(int i) {
  monitors::Observation o;
  o.ok = i % 7 != 0;
  o.failure = o.ok ? "" : "timeout";
  o.latency = std::chrono::microseconds(20000 + (i * 7919) % 200000);
  return o;
}

// Recording one outcome into a tool's monitor (EWMA, window, breaker): the per-call cost.
void BM_RecordOutcome(benchmark::State& state) {
  ManualClock clock;
  monitors::HealthTable table(clock);
  auto& tool = table.tool("T");
  int i = 0;
  for (auto _ : state) {
    auto t = table.record(tool, sample(i++ & 1023));
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_RecordOutcome);

// One routing decision whose weights are read live from the monitors (Eq. 1 per tool).
void route_live(benchmark::State& state, const std::shared_ptr<const graph::Workflow>& w) {
  ManualClock clock;
  monitors::HealthTable table(clock);
  runtime::RunHealth live(table, *w);
  for (graph::ToolIndex t = 0; t < w->tools().size(); ++t) {
    auto& tool = table.tool(w->tool(t).id);
    for (int i = 0; i < 5; ++i) table.record(tool, sample(static_cast<int>(t) * 5 + i));
  }
  graph::Router router(*w, w->graph());
  for (auto _ : state) {
    auto route = router.plan(w->graph().start(), w->graph().goal(), live);
    benchmark::DoNotOptimize(route);
  }
}

void BM_RouteLivePaperGraph(benchmark::State& state, const char* id) {
  route_live(state, paper(id));
}
BENCHMARK_CAPTURE(BM_RouteLivePaperGraph, CS_2, "CS-2");
BENCHMARK_CAPTURE(BM_RouteLivePaperGraph, TB_5, "TB-5");
BENCHMARK_CAPTURE(BM_RouteLivePaperGraph, CM_4, "CM-4");

void BM_RouteLiveRandomGraph(benchmark::State& state) {
  route_live(state, random_graph(static_cast<int>(state.range(0)), 42));
}
BENCHMARK(BM_RouteLiveRandomGraph)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
