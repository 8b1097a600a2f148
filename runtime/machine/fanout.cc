// RunMachine: fan-out nodes. Each branch is a RunMachine of its own (a branch machine) that
// shares the run's health, budget and call counts; the join (all, any, quorum) is decided as
// branches end, then the branches still running are cancelled and their calls aborted, the steps
// the join keeps stay (compensated on a later backtrack) and the others are compensated.

#include "runtime/machine/fanout.h"

#include <deque>
#include <string>

#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

using graph::kNoIndex;
using graph::NodeIndex;
using graph::NodeKind;

namespace {

// A branch's events go to the run's sink, naming the fan-out node and the branch.
class BranchSink : public EventSink {
 public:
  BranchSink(EventSink& parent, std::string fanout, std::uint32_t branch)
      : parent_(parent), fanout_(std::move(fanout)), branch_(branch) {}
  void emit(std::string_view type, nlohmann::json payload) override {
    payload["fanout"] = fanout_;
    payload["branch"] = branch_;
    parent_.emit(type, std::move(payload));
  }

 private:
  EventSink& parent_;
  std::string fanout_;
  std::uint32_t branch_;
};

}  // namespace

RunMachine::RunMachine(RunMachine& parent, const graph::Graph& graph, NodeIndex fanout_node,
                       std::uint32_t branch)
    : branch_sink_(std::make_unique<BranchSink>(parent.sink_, parent.node_id(fanout_node), branch)),
      root_(parent.root_),
      workflow_(parent.workflow_),
      graph_(graph),
      input_(parent.input_),
      sink_(*branch_sink_),
      budget_(parent.budget_),
      router_(parent.workflow_, graph),
      goal_(graph.goal()),
      context_(parent.context_),
      options_(parent.options_) {}

void RunMachine::start_fanout(NodeIndex node) {
  const graph::Fanout& spec = workflow_.fanouts()[graph_.node(node).fanout];
  fanout_ = std::make_unique<FanoutRun>();
  fanout_->node = node;
  fanout_->need = spec.quorum;
  for (std::uint32_t b = 0; b < spec.branches.size(); ++b) {
    Branch branch;
    branch.machine.reset(new RunMachine(*this, spec.branches[b], node, b));
    fanout_->branches.push_back(std::move(branch));
  }
  static constexpr const char* kJoins[] = {"all", "any", "quorum"};
  sink_.emit("fanout_started", {{"node", node_id(node)},
                                {"join", kJoins[static_cast<int>(spec.join)]},
                                {"need", spec.quorum},
                                {"branches", spec.branches.size()}});
}

// Hands out the next call of a branch that can start, kWait while all wait on calls; false when
// the fan-out has been resolved (the caller goes on with the run).
bool RunMachine::step_fanout(Action& out) {
  FanoutRun& f = *fanout_;
  bool waiting = false;
  for (std::size_t b = 0; b < f.branches.size(); ++b) {
    Branch& branch = f.branches[b];
    if (branch.state != Branch::State::kRunning) continue;
    if (branch.in_flight) {
      waiting = true;
      continue;
    }
    Action a = branch.machine->next();
    if (a.type == Action::Type::kInvoke) {
      branch.in_flight = true;
      a.slot = static_cast<std::uint32_t>(b) + 1;
      out = a;
      return true;
    }
    branch_done(b);
    if (!fanout_) return false;  // the join was decided
  }
  if (waiting) {
    out = Action{};
    out.type = Action::Type::kWait;
    return true;
  }
  resolve_fanout(f.succeeded >= f.need);  // unreachable in practice: the join decides first
  return false;
}

void RunMachine::branch_done(std::size_t b) {
  FanoutRun& f = *fanout_;
  Branch& branch = f.branches[b];
  const bool ok = branch.machine->result().status == RunStatus::kCompleted;
  branch.state = ok ? Branch::State::kSucceeded : Branch::State::kFailed;
  ++(ok ? f.succeeded : f.failed);
  result_.reroutes += branch.machine->result().reroutes;
  result_.backtracks += branch.machine->result().backtracks;
  const int total = static_cast<int>(f.branches.size());
  if (f.succeeded >= f.need) return resolve_fanout(true);
  if (f.failed > total - f.need) return resolve_fanout(false);
}

// The join is decided: cancel the branches still running, keep what the join used, compensate
// the rest, and continue the run (or route around the node when the join failed).
void RunMachine::resolve_fanout(bool ok) {
  std::unique_ptr<FanoutRun> f = std::move(fanout_);
  const NodeIndex node = f->node;
  nlohmann::json succeeded = nlohmann::json::array(), failed = nlohmann::json::array(),
                 cancelled = nlohmann::json::array(), kept = nlohmann::json::array();
  for (std::uint32_t b = 0; b < f->branches.size(); ++b) {
    Branch& branch = f->branches[b];
    if (branch.state == Branch::State::kRunning) {
      if (branch.in_flight) aborts_.push_back(b + 1);  // the driver aborts the call in flight
      branch.machine->cancel("join of " + node_id(node) + " decided");
      branch.state = Branch::State::kCancelled;
    }
    switch (branch.state) {
      case Branch::State::kSucceeded:
        succeeded.push_back(b);
        break;
      case Branch::State::kFailed:
        failed.push_back(b);
        break;
      default:
        cancelled.push_back(b);
        break;
    }
  }
  nlohmann::json outputs = nlohmann::json::object();
  std::vector<Compensation> kept_steps;  // newest first
  std::deque<Compensation> undo;         // steps the join does not use, newest first
  for (std::uint32_t b = static_cast<std::uint32_t>(f->branches.size()); b-- > 0;) {
    Branch& branch = f->branches[b];
    std::deque<Compensation> steps;
    branch.machine->collect_compensations(steps);
    if (ok && branch.state == Branch::State::kSucceeded) {
      outputs[std::to_string(b)] = branch.machine->branch_output();
      for (auto& c : steps) {
        kept.push_back(workflow_.tool(c.for_tool).id);
        context_["steps"][workflow_.tool(c.for_tool).id] = {{"output", c.output}};
        kept_steps.push_back(std::move(c));
      }
    } else {
      for (auto& c : steps) {
        if (c.tool != kNoIndex) undo.push_back(std::move(c));
      }
    }
  }
  sink_.emit("fanout_joined", {{"node", node_id(node)},
                               {"ok", ok},
                               {"succeeded", succeeded},
                               {"failed", failed},
                               {"cancelled", cancelled},
                               {"kept", kept}});
  for (auto& c : undo) compensations_.push_back(std::move(c));
  if (ok) {
    context_["steps"][node_id(node)] = {{"output", outputs}};
    fanout_kept_[node] = std::move(kept_steps);
    path_.push_back(node);
    ++next_;
    return;
  }
  router_.exclude_node(node);
  heal("failed_node", node_id(node),
       "fan-out " + node_id(node) + ": " + std::to_string(f->succeeded) + " of " +
           std::to_string(f->need) + " needed branch(es) succeeded");
}

// The output of a finished branch: that of its last completed tool step (null without one).
nlohmann::json RunMachine::branch_output() const {
  for (std::size_t j = path_.size(); j-- > 0;) {
    const graph::Node& node = graph_.node(path_[j]);
    if (node.kind != NodeKind::kTool) continue;
    auto it = context_["steps"].find(workflow_.tool(node.tool).id);
    if (it != context_["steps"].end()) return (*it)["output"];
  }
  return nullptr;
}

// Every completed tool step on this branch's path, newest first, with its compensation tool
// (kNoIndex when it has none) and output.
void RunMachine::collect_compensations(std::deque<Compensation>& out) {
  for (std::size_t j = path_.size(); j-- > 0;) {
    const graph::Node& node = graph_.node(path_[j]);
    if (node.kind != NodeKind::kTool) continue;
    const graph::Tool& tool = workflow_.tool(node.tool);
    auto it = context_["steps"].find(tool.id);
    out.push_back({node.tool, tool.compensate,
                   it != context_["steps"].end() ? (*it)["output"] : nlohmann::json(nullptr)});
  }
}

}  // namespace switchyard::runtime
