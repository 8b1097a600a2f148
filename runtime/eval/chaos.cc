#include "runtime/eval/chaos.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "graph/load.h"
#include "graph/router.h"
#include "runtime/eval/eval.h"

namespace switchyard::runtime {
namespace {

// The tools a run can call: on an edge of the outer graph or of a fan-out branch.
std::vector<graph::ToolIndex> routed_tools(const graph::Workflow& w) {
  std::set<graph::ToolIndex> tools;
  auto add = [&](const graph::Graph& g) {
    for (const auto& n : g.nodes()) {
      if (n.kind == graph::NodeKind::kTool) tools.insert(n.tool);
    }
  };
  add(w.graph());
  for (const auto& f : w.fanouts()) {
    for (const auto& b : f.branches) add(b);
  }
  return {tools.begin(), tools.end()};
}

// Every subset of `n` items of size 0..k, by size then lexicographically.
std::vector<std::vector<int>> subsets(int n, int k) {
  std::vector<std::vector<int>> out;
  std::vector<int> current;
  for (int size = 0; size <= k && size <= n; ++size) {
    std::function<void(int)> pick = [&](int from) {
      if (static_cast<int>(current.size()) == size) {
        out.push_back(current);
        return;
      }
      for (int i = from; i < n; ++i) {
        current.push_back(i);
        pick(i + 1);
        current.pop_back();
      }
    };
    pick(0);
  }
  return out;
}

}  // namespace

nlohmann::json ChaosReport::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  std::map<std::string, int> by_status;
  for (const auto& r : rows) {
    ++by_status[r.status];
    rows_json.push_back({{"down", r.down},
                         {"status", r.status},
                         {"path", r.path},
                         {"reroutes", r.reroutes},
                         {"llm_calls", r.llm_calls},
                         {"silent_failures", r.silent_failures},
                         {"side_effects_abandoned", r.side_effects_abandoned},
                         {"findings", r.findings}});
  }
  return {{"workflow", workflow},
          {"max_down", options.max_down},
          {"known", !options.unknown},
          {"tools", tools},
          {"sets", rows_json},
          {"minimal_cut_sets", minimal_cut_sets},
          {"totals",
           {{"runs", rows.size()},
            {"by_status", by_status},
            {"silent_failures", silent_failures},
            {"side_effects_abandoned", side_effects_abandoned}}}};
}

Result<ChaosReport> run_chaos(const graph::Workflow& w, const ChaosOptions& options) {
  if (options.max_down < 0 || options.max_down > 8) {
    return invalid_argument("--max-down must be between 0 and 8, got " +
                            std::to_string(options.max_down));
  }
  ChaosReport report;
  report.workflow = w.name();
  report.options = options;
  const auto tools = routed_tools(w);
  for (auto t : tools) report.tools.push_back(w.tool(t).id);
  const auto sets = subsets(static_cast<int>(tools.size()), options.max_down);

  // Minimal cut sets, from the router alone, with the workflow's conditions as they stand at the
  // start of the chaos runs (input {}): an edge a condition on the input closes is no way to the
  // goal, and one whose condition reads a step is undecided there and counts as open.
  {
    graph::Router router(w, w.graph());
    const graph::Graph& g = w.graph();
    router.set_closed_edges(graph::closed_edges(
        g, {{"input", nlohmann::json::object()}, {"steps", nlohmann::json::object()}},
        g.node(g.start()).kind == graph::NodeKind::kJunction ? g.start() : graph::kNoIndex));
    std::vector<std::set<int>> minimal;
    for (const auto& set : sets) {
      const std::set<int> s(set.begin(), set.end());
      bool has_smaller = false;
      for (const auto& m : minimal) {
        has_smaller = has_smaller || std::includes(s.begin(), s.end(), m.begin(), m.end());
      }
      if (has_smaller || set.empty()) continue;
      graph::FixedHealth health(w.tools().size());
      for (int i : set) health.exclude(tools[i]);
      router.solve(w.graph().goal(), health);
      // The start itself counts: a tool or a fan-out there runs too.
      const bool cut = !router.reachable(w.graph().start()) || !router.usable(w.graph().start());
      if (!cut) continue;
      minimal.push_back(s);
      std::vector<std::string> names;
      for (int i : set) names.push_back(w.tool(tools[i]).id);
      report.minimal_cut_sets.push_back(std::move(names));
    }
  }

  // One scenario run per set, in parallel.
  report.rows.resize(sets.size());
  std::vector<Status> errors(sets.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < sets.size(); i = next++) {
      nlohmann::json doc = w.source();
      nlohmann::json down = nlohmann::json::array();
      for (int t : sets[i]) down.push_back(w.tool(tools[t]).id);
      doc["scenario"] = {{"id", "chaos-" + std::to_string(i)},
                         {"down", down},
                         {"known", !options.unknown},
                         {"expect", {{"status", "completed"}}}};
      auto loaded = graph::load(doc.dump(), w.name() + " (chaos)");
      ChaosRow& row = report.rows[i];
      row.down = down.get<std::vector<std::string>>();
      if (!loaded.ok()) {
        errors[i] = invalid_argument("chaos: cannot re-load " + w.name() +
                                     " as a scenario: " + loaded.errors[0].to_string());
        continue;
      }
      ScenarioResult r = evaluate_scenario(*loaded.workflow, "");
      row.status = r.status;
      row.path = r.path;
      row.reroutes = r.reroutes;
      row.llm_calls = r.llm_calls;
      row.silent_failures = r.silent_failures;
      row.side_effects_abandoned = r.side_effects_abandoned;
      for (auto& f : r.findings) {  // chaos has no expectations: only the audit's findings
        if (f.rfind("expected status", 0) != 0) row.findings.push_back(std::move(f));
      }
    }
  };
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (!e.ok()) return e;
  }
  for (const auto& r : report.rows) {
    report.silent_failures += r.silent_failures;
    report.side_effects_abandoned += r.side_effects_abandoned;
  }
  return report;
}

}  // namespace switchyard::runtime
