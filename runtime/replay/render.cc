// render_dot: the workflow's graphs as DOT, marked with runtime/run_marks.h. render_html is in
// replay_html.cc.

#include "runtime/replay/render.h"

#include <iterator>
#include <sstream>

#include "runtime/replay/html_escape.h"
#include "runtime/replay/marks.h"

namespace switchyard::runtime {
namespace {

// The palette; the legend (below) explains it.
constexpr const char* kGreen = "#2e7d32";
constexpr const char* kGreenFill = "#c8e6c9";
constexpr const char* kRed = "#c62828";
constexpr const char* kRedFill = "#ffcdd2";
constexpr const char* kOrange = "#ef6c00";
constexpr const char* kPurple = "#6a1b9a";
constexpr const char* kMagenta = "#ad1457";
constexpr const char* kBlue = "#1e88e5";
constexpr const char* kGrey = "#757575";
constexpr const char* kGreyFill = "#eeeeee";
constexpr const char* kLightGrey = "#bdbdbd";
constexpr const char* kAmber = "#f9a825";
constexpr const char* kAmberFill = "#fff8e1";
constexpr const char* kFont = "Helvetica,Arial,sans-serif";

// A DOT quoted string ("..."), with `\n` kept as a line break.
std::string dot_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string cost_text(double cost) {
  std::ostringstream out;
  out << cost;
  return out.str();
}

std::string join_text(const graph::Fanout& f) {
  switch (f.join) {
    case graph::JoinKind::kAll:
      return "all";
    case graph::JoinKind::kAny:
      return "any";
    case graph::JoinKind::kQuorum:
      return std::to_string(f.quorum) + " of " + std::to_string(f.branches.size());
  }
  return "";
}

// DOT attributes ([label=..., ...]) for a node with these marks.
std::string node_attrs(const std::string& label_head, const NodeMarks& m, bool is_goal,
                       bool is_junction) {
  std::string label = label_head;
  std::string color = kLightGrey;
  std::string fill = "white";
  std::string font = "#616161";
  std::string style = "rounded,filled";
  double penwidth = 1;
  if (m.reached || m.succeeded) {
    color = kGreen;
    fill = m.reached ? kGreenFill : "#f1f8e9";
    font = "black";
  }
  if (m.in_flight) {
    color = kAmber;
    fill = kAmberFill;
    font = "black";
    label += m.interrupted ? "\ninterrupted (shutdown)" : "\nin flight";
  }
  if (m.cancelled) {
    color = kAmber;
    fill = kAmberFill;
    font = "black";
    label += "\ncancelled";
  }
  if (m.abandoned) {
    color = kGrey;
    fill = kGreyFill;
    font = "black";
    style += ",dashed";
    label += "\nabandoned";
  }
  if (m.failures > 0) {
    color = kRed;
    fill = kRedFill;
    font = "black";
    label += "\nfailed: " + m.failure;
    if (m.failures > 1) label += " (x" + std::to_string(m.failures) + ")";
  }
  if (m.known_down) {
    color = kRed;
    font = kRed;
    style += ",dashed";
    label += "\nknown down";
  }
  if (m.compensated) {
    label += m.compensation_failed ? "\ncompensation " + m.compensated_by + " FAILED"
                                   : "\ncompensated by " + m.compensated_by;
  }
  if (m.blocked) {
    color = "#b71c1c";
    penwidth = 3;
    label += "\nblocked (cut set)";
  }
  std::string attrs = "label=" + dot_string(label) + ", color=\"" + color + "\", fillcolor=\"" +
                      fill + "\", fontcolor=\"" + font + "\", style=\"" + style + "\"";
  if (penwidth != 1) attrs += ", penwidth=" + cost_text(penwidth);
  if (is_goal) attrs += ", peripheries=2";
  if (is_junction) attrs += ", shape=ellipse";
  return "[" + attrs + "]";
}

std::string edge_attrs(const graph::Edge& e, const EdgeMarks& m) {
  std::string label = cost_text(e.cost);
  std::string color = kLightGrey;
  std::string style = "solid";
  std::string font = kGrey;
  double penwidth = 1;
  if (m.planned) {
    color = kBlue;
    style = "dotted";
    penwidth = 1.5;
  }
  if (m.abandoned) {
    color = kGrey;
    style = "dashed";
    penwidth = 1.5;
  }
  if (m.tried) {
    color = kRed;
    style = "dashed";
    penwidth = 2;
  }
  if (m.reroute > 0) {
    color = kOrange;
    style = "dashed";
    penwidth = 2;
    font = kOrange;
    label += "\nreroute " + std::to_string(m.reroute);
  }
  if (m.taken) {
    color = kGreen;
    style = "solid";
    penwidth = 3;
  }
  return "[label=" + dot_string(label) + ", color=\"" + color + "\", fontcolor=\"" + font +
         "\", style=" + style + ", penwidth=" + cost_text(penwidth) + "]";
}

// The legend: a small table, node marks on the left, edge marks on the right.
std::string legend() {
  struct Mark {
    const char* fill;  // a node's fill; "" for an edge
    const char* color;
    const char* text;
  };
  const Mark nodes[] = {
      {kGreenFill, kGreen, "step on the path taken"},
      {kRedFill, kRed, "step failed"},
      {kGreyFill, kGrey, "abandoned (backtrack, demotion)"},
      {kAmberFill, kAmber, "cancelled or in flight"},
      {"white", kRed, "known down at start (dashed)"},
      {"white", "#b71c1c", "blocked: escalation's cut set"},
      {"white", kLightGrey, "not reached"},
  };
  const Mark edges[] = {
      {"", kGreen, "path taken"},
      {"", kRed, "led to a failure"},
      {"", kOrange, "reroute: new route starts here"},
      {"", kBlue, "first plan, not taken"},
      {"", kPurple, "backtrack"},
      {"", kMagenta, "goal demoted"},
      {"", kLightGrey, "not walked"},
  };
  auto cells = [](const Mark& m) {
    std::string swatch = *m.fill != '\0' ? std::string("<TD BGCOLOR=\"") + m.fill + "\" COLOR=\"" +
                                               m.color + "\" WIDTH=\"24\"> </TD>"
                                         : std::string("<TD><FONT COLOR=\"") + m.color +
                                               "\"><B>&#8594;</B></FONT></TD>";
    return swatch + "<TD ALIGN=\"LEFT\">" + html_escape(m.text) + "</TD>";
  };
  std::string out =
      "<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"6\">"
      "<TR><TD COLSPAN=\"4\"><B>Legend</B></TD></TR>";
  static_assert(std::size(nodes) == std::size(edges));
  for (std::size_t i = 0; i < std::size(nodes); ++i) {
    out += "<TR>" + cells(nodes[i]) + cells(edges[i]) + "</TR>";
  }
  return out + "</TABLE>>";
}

class DotWriter {
 public:
  DotWriter(const graph::Workflow& w, const RunRecord& run, const RunMarks& marks)
      : w_(w), run_(run), marks_(marks) {}

  std::string write() {
    const graph::Graph& g = w_.graph();
    out_ << "digraph run {\n"
         << "  graph [rankdir=LR, nodesep=0.35, ranksep=0.55, fontname=" << dot_string(kFont)
         << ", fontsize=16, labelloc=t, labeljust=l, label="
         << dot_string("run " + run_.run_id + " of " + run_.workflow + ": " + run_.status +
                       (marks_.interrupted ? ", interrupted by a service shutdown" : "") +
                       " (goal " + marks_.goal + ")")
         << "];\n"
         << "  node [shape=box, fontname=" << dot_string(kFont) << ", fontsize=12];\n"
         << "  edge [fontname=" << dot_string(kFont) << ", fontsize=10, arrowsize=0.7];\n";
    for (graph::NodeIndex n = 0; n < g.nodes().size(); ++n) {
      const graph::Node& node = g.node(n);
      if (node.kind == graph::NodeKind::kFanout) {
        fanout(n);
      } else {
        out_ << "  " << outer_id(n) << " "
             << node_attrs(node.id, marks_.node({}, node.id), node.id == marks_.goal,
                           node.kind == graph::NodeKind::kJunction)
             << ";\n";
      }
    }
    for (const graph::Edge& e : g.edges()) {
      const bool from_fanout = g.node(e.from).kind == graph::NodeKind::kFanout;
      out_ << "  " << (from_fanout ? outer_id(e.from) + "j" : outer_id(e.from)) << " -> "
           << outer_id(e.to) << " "
           << edge_attrs(e, marks_.edge({}, g.node(e.from).id, g.node(e.to).id)) << ";\n";
    }
    jumps();
    out_ << "  legend [shape=plaintext, fontsize=10, label=" << legend() << "];\n}\n";
    return out_.str();
  }

 private:
  static std::string outer_id(graph::NodeIndex n) { return "o" + std::to_string(n); }

  // The DOT id of `id` in `scope` (outer nodes and branch nodes alike), or "" if unknown.
  std::string scoped_id(const Scope& scope, const std::string& id) const {
    const graph::Graph& g = w_.graph();
    if (scope.fanout.empty()) {
      const graph::NodeIndex n = g.find(id);
      return n == graph::kNoIndex ? "" : outer_id(n);
    }
    const graph::NodeIndex f = g.find(scope.fanout);
    if (f == graph::kNoIndex || g.node(f).kind != graph::NodeKind::kFanout) return "";
    const auto& branches = w_.fanouts()[g.node(f).fanout].branches;
    if (scope.branch < 0 || static_cast<std::size_t>(scope.branch) >= branches.size()) return "";
    const graph::NodeIndex n = branches[static_cast<std::size_t>(scope.branch)].find(id);
    return n == graph::kNoIndex ? "" : branch_id(f, scope.branch, n);
  }
  static std::string branch_id(graph::NodeIndex fanout, int branch, graph::NodeIndex n) {
    return outer_id(fanout) + "b" + std::to_string(branch) + "n" + std::to_string(n);
  }

  static const char* outcome_color(BranchOutcome o) {
    switch (o) {
      case BranchOutcome::kSucceeded:
        return kGreen;
      case BranchOutcome::kFailed:
        return kRed;
      case BranchOutcome::kCancelled:
        return kAmber;
      case BranchOutcome::kUnknown:
        return kLightGrey;
    }
    return kLightGrey;
  }
  static const char* outcome_text(BranchOutcome o) {
    switch (o) {
      case BranchOutcome::kSucceeded:
        return ": succeeded";
      case BranchOutcome::kFailed:
        return ": failed";
      case BranchOutcome::kCancelled:
        return ": cancelled";
      case BranchOutcome::kUnknown:
        return "";
    }
    return "";
  }

  // A fan-out node: a cluster holding its fork (the node itself), one sub-cluster per branch,
  // and its join.
  void fanout(graph::NodeIndex n) {
    const graph::Node& node = w_.graph().node(n);
    const graph::Fanout& f = w_.fanouts()[node.fanout];
    const NodeMarks& m = marks_.node({}, node.id);
    const char* color = m.failures > 0 ? kRed : m.succeeded ? kGreen : kLightGrey;
    const std::string id = outer_id(n);
    out_ << "  subgraph cluster_" << id << " {\n"
         << "    graph [label=" << dot_string(node.id + ": fan-out, join " + join_text(f))
         << ", style=rounded, color=\"" << color << "\", fontsize=12];\n"
         << "    " << id << " " << node_attrs(node.id, m, node.id == marks_.goal, false) << ";\n"
         << "    " << id << "j [shape=circle, width=0.3, fixedsize=false, fontsize=10, label="
         << dot_string(join_text(f)) << ", color=\"" << color << "\"];\n";
    for (std::size_t b = 0; b < f.branches.size(); ++b) {
      const int index = static_cast<int>(b);
      const graph::Graph& g = f.branches[b];
      const Scope scope{node.id, index};
      const BranchOutcome outcome = marks_.branch(node.id, index);
      out_ << "    subgraph cluster_" << id << "b" << b << " {\n"
           << "      graph [label="
           << dot_string("branch " + std::to_string(b) + outcome_text(outcome))
           << ", style=\"rounded,dashed\", color=\"" << outcome_color(outcome) << "\"];\n";
      for (graph::NodeIndex k = 0; k < g.nodes().size(); ++k) {
        const graph::Node& bn = g.node(k);
        out_ << "      " << branch_id(n, index, k) << " "
             << node_attrs(bn.id, marks_.node(scope, bn.id), false,
                           bn.kind == graph::NodeKind::kJunction)
             << ";\n";
      }
      for (const graph::Edge& e : g.edges()) {
        out_ << "      " << branch_id(n, index, e.from) << " -> " << branch_id(n, index, e.to)
             << " " << edge_attrs(e, marks_.edge(scope, g.node(e.from).id, g.node(e.to).id))
             << ";\n";
      }
      out_ << "    }\n";
      const char* link = outcome_color(outcome);
      out_ << "    " << id << " -> " << branch_id(n, index, g.start()) << " [style=dashed, color=\""
           << link << "\", arrowhead=none];\n"
           << "    " << branch_id(n, index, g.goal()) << " -> " << id << "j [style=dashed, color=\""
           << link << "\"];\n";
    }
    out_ << "  }\n";
  }

  void jumps() {
    for (const Jump& j : marks_.jumps) {
      const std::string from = scoped_id(j.scope, j.from);
      const std::string to = scoped_id(j.scope, j.to);
      if (from.empty() || to.empty()) continue;
      const bool backtrack = j.kind == Jump::Kind::kBacktrack;
      const char* color = backtrack ? kPurple : kMagenta;
      out_ << "  " << from << " -> " << to
           << " [constraint=false, style=dashed, penwidth=2, color=\"" << color
           << "\", fontcolor=\"" << color << "\", label="
           << dot_string((backtrack ? "backtrack " : "goal demoted ") + std::to_string(j.number))
           << "];\n";
    }
  }

  const graph::Workflow& w_;
  const RunRecord& run_;
  const RunMarks& marks_;
  std::ostringstream out_;
};

}  // namespace

std::string render_dot(const graph::Workflow& workflow, const RunRecord& run,
                       const std::vector<Event>& events) {
  const RunMarks marks = read_marks(workflow, events);
  return DotWriter(workflow, run, marks).write();
}

}  // namespace switchyard::runtime
