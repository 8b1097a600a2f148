#include "runtime/eval/baselines.h"

#include <algorithm>

#include "graph/router.h"
#include "tools/mock_tool.h"

namespace switchyard::runtime {
namespace {

using graph::NodeIndex;
using graph::NodeKind;

// Tool outcomes as the scenario scripts them, counted per tool like a real run.
class ScriptedWorld {
 public:
  explicit ScriptedWorld(const graph::Workflow& w) : w_(w), calls_(w.tools().size(), 0) {}

  // Whether entering `node` fails. Junctions never fail.
  bool fails(NodeIndex node) {
    const graph::Node& n = w_.graph().node(node);
    if (n.kind != NodeKind::kTool) return false;
    const auto& s = *w_.scenario();
    const int call = ++calls_[n.tool];
    if (std::find(s.down.begin(), s.down.end(), n.tool) != s.down.end()) return true;
    auto it = s.fail_calls.find(n.tool);
    if (it == s.fail_calls.end()) return false;
    graph::MockFail fail;
    fail.mode = graph::MockFail::Mode::kCalls;
    fail.calls = it->second;
    return tools::mock_fails(fail, call);
  }

 private:
  const graph::Workflow& w_;
  std::vector<int> calls_;
};

class Recorder {
 public:
  explicit Recorder(BaselineRun& run) : run_(run) {}
  void emit(const std::string& type, nlohmann::json payload) {
    Event e;
    e.seq = static_cast<std::int64_t>(run_.events.size()) + 1;
    e.type = type;
    e.payload = std::move(payload);
    run_.events.push_back(std::move(e));
  }
  void step(const std::string& id, bool ok) {
    emit("step_started", {{"node", id}, {"tool", id}});
    emit(ok ? "step_succeeded" : "step_failed", {{"node", id}, {"tool", id}});
  }
  void finish(const std::string& status) {
    run_.status = status;
    emit("run_finished", {{"status", status}, {"path", run_.path}});
  }

 private:
  BaselineRun& run_;
};

// Successors of `node`, cheapest edge first (ties by id).
std::vector<NodeIndex> options_by_cost(const graph::Graph& g, NodeIndex node) {
  std::vector<std::uint32_t> out = g.out_edges(node);
  std::sort(out.begin(), out.end(), [&](std::uint32_t a, std::uint32_t b) {
    const auto& ea = g.edges()[a];
    const auto& eb = g.edges()[b];
    return ea.cost != eb.cost ? ea.cost < eb.cost : ea.to < eb.to;
  });
  std::vector<NodeIndex> nodes;
  for (auto e : out) nodes.push_back(g.edges()[e].to);
  return nodes;
}

}  // namespace

BaselineRun run_react_baseline(const graph::Workflow& w) {
  BaselineRun run;
  Recorder rec(run);
  ScriptedWorld world(w);
  const graph::Graph& g = w.graph();
  run.llm_calls = 1;  // planning
  NodeIndex at = g.start();
  run.path.push_back(g.node(at).id);
  while (at != g.goal()) {
    ++run.llm_calls;  // choose the next tool
    bool moved = false;
    for (NodeIndex option : options_by_cost(g, at)) {
      const bool failed = world.fails(option);
      rec.step(g.node(option).id, !failed);
      if (failed) {
        ++run.llm_calls;  // observe it down, think again
        rec.emit("reroute", {{"failed_tool", g.node(option).id}});
        continue;
      }
      at = option;
      run.path.push_back(g.node(at).id);
      moved = true;
      break;
    }
    if (!moved) {
      run.llm_calls += 2;  // reason about backtracking, then give up
      rec.emit("escalated", {{"at", g.node(at).id}});
      rec.finish("escalated");
      return run;
    }
  }
  rec.finish("completed");
  return run;
}

BaselineRun run_static_baseline(const graph::Workflow& w) {
  BaselineRun run;
  Recorder rec(run);
  ScriptedWorld world(w);
  const graph::Graph& g = w.graph();
  graph::Router router(w, g);
  graph::FixedHealth healthy(w.tools().size());
  const graph::Route route = router.plan(g.start(), g.goal(), healthy);  // hard-coded at build time
  if (!route.found()) {
    rec.finish("escalated");
    return run;
  }
  run.path.push_back(g.node(route.nodes[0]).id);
  for (std::size_t i = 1; i < route.nodes.size(); ++i) {
    const NodeIndex node = route.nodes[i];
    const NodeIndex pred = route.nodes[i - 1];
    if (!world.fails(node)) {
      rec.step(g.node(node).id, true);
      run.path.push_back(g.node(node).id);
      continue;
    }
    rec.step(g.node(node).id, false);
    const auto siblings = options_by_cost(g, pred);
    NodeIndex fallback = graph::kNoIndex;
    for (NodeIndex s : siblings) {
      if (s != node) {
        fallback = s;
        break;
      }
    }
    if (fallback == graph::kNoIndex) {  // no pre-coded fallback: a visible error
      rec.emit("escalated", {{"at", g.node(pred).id}, {"blocked", {g.node(node).id}}});
      rec.finish("escalated");
      return run;
    }
    rec.emit("reroute", {{"failed_tool", g.node(node).id}, {"fallback", g.node(fallback).id}});
    if (!world.fails(fallback)) {
      rec.step(g.node(fallback).id, true);
      run.path.push_back(g.node(fallback).id);
      continue;
    }
    rec.step(g.node(fallback).id, false);
    // Every next tool of the predecessor down, and 3 or more of them: an empty fan-out, visible.
    const bool all_down =
        siblings.size() >= 3 && std::all_of(siblings.begin(), siblings.end(), [&](NodeIndex s) {
          return s == node || s == fallback || world.fails(s);
        });
    if (all_down) {
      rec.emit("escalated", {{"at", g.node(pred).id}});
      rec.finish("escalated");
      return run;
    }
    // Both down: the layer is skipped and the run goes on as if it had succeeded.
  }
  rec.finish("completed");
  return run;
}

}  // namespace switchyard::runtime
