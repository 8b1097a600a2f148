#pragma once
// What a run did to each node and edge of its workflow, read back from its journaled events:
// the marks that replay's pictures draw (runtime/replay/render.h). Pure; thread-safe.

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "graph/workflow.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// One routed graph of a workflow: the outer graph, or one branch of a fan-out node.
struct Scope {
  std::string fanout;  // the fan-out node's id; "" for the outer graph
  int branch = -1;     // the branch's index; -1 for the outer graph
  auto operator<=>(const Scope&) const = default;
};

struct NodeMarks {
  bool reached = false;      // on the path the run walked (it finished there or went through)
  bool succeeded = false;    // its step succeeded (a fan-out node: its join held)
  int failures = 0;          // step_failed events (a fan-out node: 1 when its join failed)
  std::string failure;       // the last failure's kind ("injected", "timeout", ..., "join")
  bool abandoned = false;    // it completed, then the run backtracked or demoted past it
  bool compensated = false;  // its compensating tool ran ...
  bool compensation_failed = false;  // ... and failed
  std::string compensated_by;        // that tool's id
  bool known_down = false;           // its tool was known to be down when the run started
  bool blocked = false;              // its tool is in the escalation's cut set
  bool cancelled = false;    // its call was aborted (a fan-out branch or the run was cancelled)
  bool in_flight = false;    // started with no outcome journaled (a run that did not finish)
  bool interrupted = false;  // in flight when a service shutdown interrupted the run
};

struct EdgeMarks {
  bool taken = false;      // on the path the run walked
  bool tried = false;      // led to a step that failed
  bool abandoned = false;  // walked, then given up by a backtrack or a goal demotion
  bool planned = false;    // on the first plan of its graph
  int reroute = 0;         // > 0: the new route of reroute number `reroute` starts here
};

// A move that is not along an edge: a backtrack (to an earlier node) or a goal demotion (from
// the old goal to the new one).
struct Jump {
  enum class Kind { kBacktrack, kDemotion };
  Kind kind = Kind::kBacktrack;
  Scope scope;
  std::string from;
  std::string to;
  int number = 0;  // 1-based, per kind, in journal order
};

enum class BranchOutcome { kUnknown, kSucceeded, kFailed, kCancelled };

struct RunMarks {
  using NodeKey = std::pair<Scope, std::string>;
  using EdgeKey = std::tuple<Scope, std::string, std::string>;
  std::map<NodeKey, NodeMarks> nodes;
  std::map<EdgeKey, EdgeMarks> edges;
  std::vector<Jump> jumps;
  std::map<std::pair<std::string, int>, BranchOutcome> branches;  // (fan-out, index) -> outcome
  std::vector<std::string> path;     // the outer nodes walked, in order
  std::string goal;                  // the goal pursued last (after demotions)
  std::vector<std::string> blocked;  // the escalation's cut set (tool ids), if it escalated
  bool interrupted = false;  // it stands interrupted by a service shutdown (not resumed since)

  // The marks of a node or an edge (all false when the run did not touch it).
  const NodeMarks& node(const Scope& scope, const std::string& id) const;
  const EdgeMarks& edge(const Scope& scope, const std::string& from, const std::string& to) const;
  BranchOutcome branch(const std::string& fanout, int index) const;
};

// Every routed graph of `workflow` with its scope: the outer graph first, then each fan-out
// node's branches in node order. The pointers live as long as `workflow`.
std::vector<std::pair<Scope, const graph::Graph*>> scopes_of(const graph::Workflow& workflow);

// Reads the marks of one run of `workflow` from its events (in sequence order). Events it does
// not know are ignored; so are names that are not in the workflow.
RunMarks read_marks(const graph::Workflow& workflow, const std::vector<Event>& events);

}  // namespace switchyard::runtime
