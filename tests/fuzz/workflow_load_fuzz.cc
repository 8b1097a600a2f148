// Fuzz target: the workflow loader (graph::load) on any bytes, then the router on what loaded.
// Checks: no crash, no exception; every diagnostic is JSON-safe (validate --json and the
// service's 400 body print them); a loaded workflow routes from start without a crash.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "graph/load.h"
#include "graph/router.h"
#include "tests/fuzz/fuzz_checks.h"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Scenario files (eval) and plain workflows (run, serve) differ in one block: alternate.
  const graph::LoadOptions options{.allow_scenario = size % 2 == 0};
  const graph::LoadResult loaded = graph::load(text, "fuzz.json", options);
  for (const auto* list : {&loaded.errors, &loaded.warnings}) {
    for (const auto& d : *list) {
      fuzz::expect_json_safe(d.message, "diagnostic message");
      fuzz::expect_json_safe(d.pointer, "diagnostic pointer");
      fuzz::expect_json_safe(d.to_string(), "diagnostic");
    }
  }
  if (!loaded.ok()) return 0;
  const graph::Workflow& w = *loaded.workflow;
  (void)w.source().dump();
  // Route with every tool healthy, then with the tools the input's bytes pick excluded.
  graph::FixedHealth health(w.tools().size());
  graph::Router router(w, w.graph());
  const graph::Route route = router.plan(w.graph().start(), w.graph().goal(), health);
  for (std::size_t i = 0; i < w.tools().size() && i < size; ++i) {
    if (data[i] % 3 == 0) health.exclude(static_cast<graph::ToolIndex>(i));
  }
  router.solve(w.graph().goal(), health);
  if (!router.reachable(w.graph().start())) (void)router.blocked(w.graph().start());
  (void)router.route(w.graph().start());
  for (const auto& fanout : w.fanouts()) {
    for (const auto& branch : fanout.branches) {
      graph::Router branch_router(w, branch);
      (void)branch_router.plan(branch.start(), branch.goal(), health);
    }
  }
  (void)route;
  return 0;
}
