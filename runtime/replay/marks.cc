#include "runtime/replay/marks.h"

#include <algorithm>
#include <limits>

#include "graph/json_read.h"
#include "runtime/journal/text.h"

namespace switchyard::runtime {
namespace {

// Payloads are read through JsonView: a field that is absent or of another type reads as "",
// false or nothing (the journal's readers refuse such rows before they get here:
// runtime/journal/rows.h).
std::string name(const nlohmann::json& payload, const char* key) {
  auto v = JsonView(payload).string_or(key, "");
  return v.ok() ? std::move(v).value() : std::string();
}

bool flag(const nlohmann::json& payload, const char* key) {
  auto v = JsonView(payload).boolean_or(key, false);
  return v.ok() && *v;
}

Scope scope_of(const Event& e) {
  const JsonView p(e.payload);
  auto fanout = p.string_or("fanout", "");
  auto branch = p.integer_or("branch", -1);
  if (!fanout.ok() || fanout->empty() || !branch.ok() || *branch < 0 ||
      *branch > std::numeric_limits<int>::max()) {
    return {};
  }
  return {*fanout, static_cast<int>(*branch)};
}

// Where one graph's walk stands: the nodes walked so far and the route being followed.
struct Walk {
  std::vector<std::string> walked;
  std::vector<std::string> route;
  bool planned = false;
};

class Reader {
 public:
  explicit Reader(const graph::Workflow& w) : w_(w), scopes_(scopes_of(w)) {}

  RunMarks read(const std::vector<Event>& events) {
    marks_.goal = w_.graph().node(w_.graph().goal()).id;
    for (const auto& e : events) on_event(e);
    for (const auto& [scope, walk] : walks_) {
      for (std::size_t i = 0; i < walk.walked.size(); ++i) {
        node(scope, walk.walked[i]).reached = true;
        if (i > 0) edge(scope, walk.walked[i - 1], walk.walked[i]).taken = true;
      }
    }
    marks_.path = walks_[Scope{}].walked;
    return std::move(marks_);
  }

 private:
  NodeMarks& node(const Scope& s, const std::string& id) { return marks_.nodes[{s, id}]; }
  EdgeMarks& edge(const Scope& s, const std::string& from, const std::string& to) {
    return marks_.edges[{s, from, to}];
  }

  // Marks every node (in every graph) that runs one of `tools`.
  template <typename Mark>
  void mark_tools(const std::vector<std::string>& tools, Mark mark) {
    for (const auto& [scope, g] : scopes_) {
      for (const auto& n : g->nodes()) {
        if (n.kind != graph::NodeKind::kTool) continue;
        const std::string& tool = w_.tool(n.tool).id;
        if (std::find(tools.begin(), tools.end(), tool) != tools.end()) mark(node(scope, n.id));
      }
    }
  }

  // The walk reached `id`: append the route's nodes up to it (junctions have no events).
  void advance(const Scope& s, const std::string& id) {
    Walk& walk = walks_[s];
    if (!walk.walked.empty() && walk.walked.back() == id) return;
    auto route_at = walk.walked.empty()
                        ? walk.route.end()
                        : std::find(walk.route.begin(), walk.route.end(), walk.walked.back());
    auto target =
        route_at == walk.route.end() ? walk.route.end() : std::find(route_at, walk.route.end(), id);
    if (target == walk.route.end()) {
      walk.walked.push_back(id);
      return;
    }
    walk.walked.insert(walk.walked.end(), route_at + 1, target + 1);
  }

  void follow(const Scope& s, std::vector<std::string> route) {
    Walk& walk = walks_[s];
    if (walk.walked.empty() && !route.empty()) walk.walked.push_back(route.front());
    walk.route = std::move(route);
  }

  // A backtrack or demotion went back to `to`: what was walked after it is abandoned.
  void go_back(const Scope& s, const std::string& to, const std::vector<std::string>& abandoned) {
    Walk& walk = walks_[s];
    auto it = std::find(walk.walked.rbegin(), walk.walked.rend(), to);
    if (it != walk.walked.rend()) {
      const std::size_t keep = static_cast<std::size_t>(walk.walked.rend() - it);
      for (std::size_t i = keep; i < walk.walked.size(); ++i) {
        edge(s, walk.walked[i - 1], walk.walked[i]).abandoned = true;
      }
      walk.walked.resize(keep);
    }
    for (const auto& id : abandoned) node(s, id).abandoned = true;
  }

  void on_event(const Event& e) {
    const Scope s = scope_of(e);
    const nlohmann::json& p = e.payload;
    const std::string& t = e.type;
    if (t == "run_started") {
      mark_tools(payload_strings(p, "known_down"), [](NodeMarks& m) { m.known_down = true; });
    } else if (t == "plan") {
      const auto route = payload_strings(p, "route");
      Walk& walk = walks_[s];
      if (!walk.planned) {
        for (std::size_t i = 1; i < route.size(); ++i)
          edge(s, route[i - 1], route[i]).planned = true;
        walk.planned = true;
      }
      follow(s, route);
    } else if (t == "step_started") {
      NodeMarks& m = node(s, name(p, "node"));
      m.in_flight = true;
      m.interrupted = false;  // started again (resumed)
    } else if (t == "step_succeeded") {
      NodeMarks& m = node(s, name(p, "node"));
      m.in_flight = false;
      m.interrupted = false;
      m.succeeded = true;
      m.abandoned = false;  // run again after it was abandoned
      advance(s, name(p, "node"));
    } else if (t == "step_failed") {
      const std::string id = name(p, "node");
      NodeMarks& m = node(s, id);
      m.in_flight = false;
      m.interrupted = false;
      ++m.failures;
      m.failure = name(p, "failure");
      const Walk& walk = walks_[s];
      if (!walk.walked.empty()) edge(s, walk.walked.back(), id).tried = true;
    } else if (t == "fanout_joined") {
      on_join(p);
    } else if (t == "reroute") {
      const auto route = payload_strings(p, "new_route");
      ++reroutes_;
      if (route.size() >= 2) edge(s, route[0], route[1]).reroute = reroutes_;
      follow(s, route);
    } else if (t == "backtrack") {
      marks_.jumps.push_back(
          {Jump::Kind::kBacktrack, s, name(p, "from"), name(p, "to"), ++backtracks_});
      go_back(s, name(p, "to"), payload_strings(p, "abandoned"));
      walks_[s].route = payload_strings(p, "new_route");
    } else if (t == "goal_demoted") {
      marks_.jumps.push_back(
          {Jump::Kind::kDemotion, s, name(p, "from_goal"), name(p, "to_goal"), ++demotions_});
      const auto route = payload_strings(p, "route");
      if (!route.empty()) go_back(s, route.front(), payload_strings(p, "abandoned"));
      walks_[s].route = route;
      if (s == Scope{}) marks_.goal = name(p, "to_goal");
    } else if (t == "compensation") {
      NodeMarks& m = node(s, name(p, "for_tool"));
      m.compensated = true;
      m.compensation_failed = !flag(p, "ok");
      m.compensated_by = name(p, "tool");
    } else if (t == "cancelled") {
      const std::string in_flight = name(p, "in_flight");
      if (!in_flight.empty()) {
        node(s, in_flight).cancelled = true;
        node(s, in_flight).in_flight = false;
      }
    } else if (t == "run_interrupted") {
      // Every step in flight then is interrupted, whichever line it is on.
      for (auto& [key, m] : marks_.nodes) {
        if (m.in_flight) m.interrupted = true;
      }
      marks_.interrupted = true;
    } else if (t == "resumed") {
      marks_.interrupted = false;
    } else if (t == "escalated") {
      marks_.blocked = payload_strings(p, "blocked");
      mark_tools(marks_.blocked, [](NodeMarks& m) { m.blocked = true; });
    } else if (t == "run_finished") {
      auto path = payload_strings(p, "path");
      if (!path.empty()) walks_[Scope{}].walked = std::move(path);
      if (!name(p, "goal").empty()) marks_.goal = name(p, "goal");
    }
  }

  void on_join(const nlohmann::json& p) {
    const std::string fanout = name(p, "node");
    const bool ok = flag(p, "ok");
    NodeMarks& m = node(Scope{}, fanout);
    m.succeeded = ok;
    if (ok) {
      advance(Scope{}, fanout);
    } else {
      ++m.failures;
      m.failure = "join";
      const Walk& walk = walks_[Scope{}];
      if (!walk.walked.empty()) edge(Scope{}, walk.walked.back(), fanout).tried = true;
    }
    const graph::NodeIndex n = w_.graph().find(fanout);
    const bool known = n != graph::kNoIndex && w_.graph().node(n).kind == graph::NodeKind::kFanout;
    for (auto [key, outcome] : {std::pair{"succeeded", BranchOutcome::kSucceeded},
                                std::pair{"failed", BranchOutcome::kFailed},
                                std::pair{"cancelled", BranchOutcome::kCancelled}}) {
      auto list = JsonView(p).optional_field(key);
      const std::size_t count = list.ok() && *list && (*list)->is_array() ? (*list)->size() : 0;
      for (std::size_t i = 0; i < count; ++i) {
        auto b = (*list)->element(i);
        auto value = b.ok() ? b->integer() : Result<std::int64_t>(b.status());
        if (!value.ok() || *value < 0 || *value > std::numeric_limits<int>::max()) continue;
        const int index = static_cast<int>(*value);
        marks_.branches[{fanout, index}] = outcome;
        if (outcome != BranchOutcome::kSucceeded || !known) continue;
        const auto& branches = w_.fanouts()[w_.graph().node(n).fanout].branches;
        if (index < 0 || static_cast<std::size_t>(index) >= branches.size()) continue;
        const auto& g = branches[static_cast<std::size_t>(index)];
        advance(Scope{fanout, index}, g.node(g.goal()).id);
      }
    }
  }

  const graph::Workflow& w_;
  const std::vector<std::pair<Scope, const graph::Graph*>> scopes_;
  RunMarks marks_;
  std::map<Scope, Walk> walks_;
  int reroutes_ = 0;
  int backtracks_ = 0;
  int demotions_ = 0;
};

}  // namespace

const NodeMarks& RunMarks::node(const Scope& scope, const std::string& id) const {
  static const NodeMarks kNone;
  auto it = nodes.find({scope, id});
  return it == nodes.end() ? kNone : it->second;
}

const EdgeMarks& RunMarks::edge(const Scope& scope, const std::string& from,
                                const std::string& to) const {
  static const EdgeMarks kNone;
  auto it = edges.find({scope, from, to});
  return it == edges.end() ? kNone : it->second;
}

BranchOutcome RunMarks::branch(const std::string& fanout, int index) const {
  auto it = branches.find({fanout, index});
  return it == branches.end() ? BranchOutcome::kUnknown : it->second;
}

std::vector<std::pair<Scope, const graph::Graph*>> scopes_of(const graph::Workflow& workflow) {
  std::vector<std::pair<Scope, const graph::Graph*>> out{{Scope{}, &workflow.graph()}};
  for (const auto& n : workflow.graph().nodes()) {
    if (n.kind != graph::NodeKind::kFanout) continue;
    const auto& branches = workflow.fanouts()[n.fanout].branches;
    for (std::size_t b = 0; b < branches.size(); ++b) {
      out.push_back({Scope{n.id, static_cast<int>(b)}, &branches[b]});
    }
  }
  return out;
}

RunMarks read_marks(const graph::Workflow& workflow, const std::vector<Event>& events) {
  return Reader(workflow).read(events);
}

}  // namespace switchyard::runtime
