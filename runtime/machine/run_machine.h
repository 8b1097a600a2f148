#pragma once
// RunMachine: the decisions of one run, as a deterministic state machine.
//
// The machine decides; a driver executes. The driver asks next() for an Action, performs it (calls
// a tool, synchronously or on an event loop) and hands the Outcome back with complete(). The
// machine emits every decision as an event (plan, reroute, backtrack, goal_demoted, escalated...)
// through an EventSink. Given the same workflow, input, starting health and outcomes, it makes the
// same decisions and emits the same events: this is what replay re-verifies and resume re-drives.
//
// How a run heals (docs/architecture.md, "How one run flows"):
//  - plan from the run's current node; tools known down are excluded before any step runs;
//  - a failed step (after its retries) excludes its tool for the rest of the run and re-plans from
//    the current node (reroute);
//  - no route from the current node: backtrack to the nearest earlier node of the path that has
//    one, compensating the abandoned steps in reverse order (saga);
//  - no route at all: demote to the best reachable `demote_to` goal (asking the advisor when the
//    workflow names one and there is a choice to make), or escalate with the blocked tools.
//
// The code: run_machine.cc (the loop: plan, steps, retries, cancel), healing.cc (reroute,
// backtrack, demote, escalate, compensate), fanout.cc (fan-out nodes), spend.cc (each call's
// reservation held and settled; the choices are the BudgetController's, budget_controller.h).
//
// Thread-compatible: one machine per run, driven from one thread at a time.

#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/router.h"
#include "graph/workflow.h"
#include "runtime/machine/budget.h"
#include "runtime/machine/budget_controller.h"
#include "tools/tool.h"

namespace switchyard::runtime {

enum class RunStatus { kRunning, kCompleted, kDemoted, kEscalated, kFailed };
std::string_view to_string(RunStatus status);

// Receives the machine's events in order. The driver stamps them with sequence and time.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(std::string_view type, nlohmann::json payload) = 0;
};

// What the driver must do next.
//
// While a fan-out node runs, several calls are in flight at once, one per `slot` (0: the run's
// own line; b + 1: branch b of the running fan-out). next() then hands out every call that can
// start, kAbort for a call whose result is no longer wanted (a join was decided: abort it and
// never complete() it), and kWait when every branch waits on a call: complete one, then call
// next() again. Without fan-out, only slot 0 is used and kWait/kAbort never occur.
struct Action {
  enum class Type { kInvoke, kWait, kAbort, kDone };
  enum class Purpose { kStep, kCompensate, kAdvisor };
  Type type = Type::kDone;
  Purpose purpose = Purpose::kStep;
  graph::ToolIndex tool = graph::kNoIndex;
  graph::NodeIndex node = graph::kNoIndex;  // kStep: the node being entered
  int call_number = 1;                      // this tool's call count in the run, 1-based
  int attempt = 1;                          // kStep: 1-based attempt (retries)
  std::uint32_t slot = 0;                   // which in-flight call this is (see above)
  int tier = -1;                            // llm steps: the tier chosen (-1: none)
  std::chrono::milliseconds delay{0};       // wait this long before invoking (retry backoff)
  // What the tool sees (templates, stdin, body): {"input", "steps", ...}. Owned by the machine;
  // valid until the action is completed.
  const nlohmann::json* context = nullptr;
  // The USD the run's budget reserved for this call (its worst case; 0: none, as for a
  // compensation): what a run's tenant reserves too (docs/budgets.md#tenant-budgets).
  double reserved_usd = 0;
};

// The call a kInvoke `action` asks for, as its tool sees it: a call of `workflow` in run `run_id`
// (which must outlive the tool's invoke()), abortable through `cancel` (null: it cannot be).
// What every driver hands the tool.
inline tools::Invocation invocation_of(const graph::Workflow& workflow, const Action& action,
                                       std::string_view run_id,
                                       std::shared_ptr<tools::CallCancel> cancel) {
  tools::Invocation call;
  call.workflow = &workflow;
  call.tool = action.tool;
  call.context = action.context;
  call.call_number = action.call_number;
  call.attempt = action.attempt;
  call.tier = action.tier;
  call.run_id = run_id;
  call.cancel = std::move(cancel);
  return call;
}

// The id of the wait a wait step's call `call_number` of `tool` is held at: "<tool id>#<call>",
// unique within its run (call numbers count the tool's calls across the run and its branches).
inline std::string wait_id(const graph::Tool& tool, int call_number) {
  return tool.id + "#" + std::to_string(call_number);
}

struct RunResult {
  RunStatus status = RunStatus::kRunning;
  std::string goal;               // the goal reached or last pursued (after demotion: the new one)
  std::vector<std::string> path;  // the final route as far as it completed, from start
  int reroutes = 0;
  int backtracks = 0;
  int llm_calls = 0;
  double spent_usd = 0;
  std::int64_t tokens = 0;
  std::vector<std::string> blocked;  // escalated: the tools that cut the goal off
  std::string message;               // escalated / failed: why
  // What the run returns (docs/cli.md#what-a-run-returns): `output`, the goal step's output (a
  // junction goal: that of the last step on the path; null unless the run completed or was
  // demoted), and `outputs`, the last output of each step on the final path by tool id (a fan-out:
  // by node id), as templates see them (`steps.ID.output`). Together at most the workflow's
  // limits.max_output_bytes of compact JSON: past it `output` is null with output_truncated, and
  // `outputs` loses its largest entries first, named in outputs_dropped.
  nlohmann::json output;
  nlohmann::json outputs = nlohmann::json::object();
  bool output_truncated = false;
  std::vector<std::string> outputs_dropped;  // in the order dropped (largest first)
  nlohmann::json to_json() const;            // the fields of `run --json` (docs/cli.md) minus ids
};

struct RunMachineOptions {
  // Per-run caps; absent: the workflow's budget.
  graph::Budget budget;
  // The model tiers `llm` calls may use, cheapest first (docs/budgets.md). Empty: llm calls are
  // made without tier choice (scenario mode: mock models); their tokens and call count are still
  // reserved.
  std::vector<TierPrice> tiers;
  // Learned escalation: llm tools that start above the cheapest tier, with why (from history,
  // decided before the run and journaled in run_started).
  std::map<graph::ToolIndex, std::pair<int, std::string>> learned_start;
  // Seed of the retry jitter (journaled in run_started, so a replay draws the same delays).
  std::uint64_t seed = 0;
  // Retry backoff: attempt n waits min(cap, base x 2^(n-1)) x a jitter factor in [0.5, 1.5).
  std::chrono::milliseconds retry_base{100};
  std::chrono::milliseconds retry_cap{10000};
};

class RunMachine {
 public:
  // REQUIRES: `workflow` outlives the machine. `known` is the health the process knows before the
  // run starts (tools with factor +infinity are down); it is copied. `sink` outlives the machine.
  RunMachine(const graph::Workflow& workflow, nlohmann::json input, const graph::HealthView& known,
             EventSink& sink, RunMachineOptions options = {});
  ~RunMachine();

  // The next action. After kDone, result() is final. REQUIRES: without a fan-out running, the
  // previous kInvoke has been completed.
  Action next();
  // The outcome of the kInvoke in flight in `slot`.
  void complete(std::uint32_t slot, tools::Outcome outcome);
  void complete(tools::Outcome outcome) { complete(0, std::move(outcome)); }
  // Stops the run (a request or a deadline): emits `cancelled` naming the step in flight, if any,
  // and ends the run `failed`. No effect on a finished run. The driver must not complete() an
  // invoke that was in flight.
  void cancel(const std::string& reason);

  // Resume: the call(s) in flight when the process died may or may not have taken effect and
  // cannot be repeated safely. Ends the run `escalated` with reason `in_doubt` and `message`
  // (naming the step); running fan-out branches stop; nothing is compensated. The driver
  // must not complete() the calls that were in flight.
  void escalate_in_doubt(const std::string& message);

  bool done() const { return result_.status != RunStatus::kRunning; }
  const RunResult& result() const { return result_; }

 private:
  enum class Awaiting { kNothing, kStep, kCompensate, kAdvisor };
  enum class AfterCompensation { kContinue, kEscalate };
  struct Compensation {
    graph::ToolIndex for_tool;  // the abandoned step's tool
    graph::ToolIndex tool;      // its `compensate` tool
    nlohmann::json output;      // what the abandoned step returned
  };
  struct DemoteOption {
    graph::NodeIndex goal;
    std::size_t path_index;  // the nearest path node from which `goal` is reachable
  };

  struct Branch;
  struct FanoutRun;
  // A branch of a fan-out node of `parent`: routes `graph` with the run's shared health, budget
  // and call counts; its events name the fan-out node and the branch.
  RunMachine(RunMachine& parent, const graph::Graph& graph, graph::NodeIndex fanout_node,
             std::uint32_t branch);
  bool is_branch() const { return root_ != this; }
  graph::FixedHealth& health() const;

  void start();
  void walk();
  void start_fanout(graph::NodeIndex node);
  bool step_fanout(Action& out);
  void branch_done(std::size_t b);
  void resolve_fanout(bool ok);
  nlohmann::json branch_output() const;
  void collect_compensations(std::deque<Compensation>& out);
  Action invoke(Action::Purpose purpose, graph::ToolIndex tool, graph::NodeIndex node,
                const nlohmann::json* context);
  void on_step(tools::Outcome outcome);
  // ---- the budget (runtime/machine/budget_controller.h) ----
  using TierChoice = BudgetController::TierChoice;
  // The run's budget controller (the root's: branches share it).
  BudgetController& controller() const { return root_->budget_controller_; }
  // Reserves `choice` for the call about to be made (one per machine at a time).
  void hold(const TierChoice& choice);
  void start_llm_step(graph::NodeIndex node, graph::ToolIndex tool, const TierChoice& choice,
                      const std::string& reason);
  // A call ended: settles its reservation (if any) with what it cost, journals llm_call and, for a
  // tiered call, llm_settled. Returns the call's tier (-1: none).
  int settle(const tools::Outcome& outcome, graph::ToolIndex tool, graph::NodeIndex node,
             std::string_view purpose);
  // The call in flight will never be completed (cancel, abort): charged its worst case if it may
  // have been sent, released if not.
  void drop_held(bool sent);
  void sync_spend();
  void step_failed(const tools::Outcome& outcome);
  void on_compensation(const tools::Outcome& outcome);
  void on_advisor(const tools::Outcome& outcome);
  // Routes around `failed` (a tool id under "failed_tool", or a fan-out node under
  // "failed_node").
  void heal(std::string_view field, const std::string& failed, const std::string& reason);
  void abandon_after(std::size_t path_index);
  void dead_end(const std::string& reason);
  std::vector<DemoteOption> demote_options();
  void demote(const DemoteOption& option, const std::string& decided_by,
              const std::vector<graph::ToolIndex>& blocked);
  void escalate(const std::string& reason, const std::string& message, bool compensate);
  std::chrono::milliseconds backoff(graph::ToolIndex tool, int call) const;
  // ---- conditions (runtime/machine/conditions.cc) ----
  // Every solve of the run's router goes through here: the graph's conditions are evaluated over
  // the run's context for where it stands (edges out of its node decided, the others looked
  // ahead: graph/condition.h), the edges found false are closed, and the router is solved for
  // `goal` under the run's health.
  void solve(graph::NodeIndex goal);
  void apply_conditions();
  // At a node the run has just reached (walk()): the planning point of the conditions on its
  // way on. Re-plans (a `plan` event) when an edge out of the node has a condition or a
  // condition's verdict (closed or open) has changed since the last solve; with no route left,
  // the run ends like any other dead end (demoted or escalated). False when it cannot go on.
  bool plan_on_arrival();
  // The values of the conditions in the last solve, for events: [{"from", "to", "value"}].
  nlohmann::json conditions_json() const;
  // "; closed by their conditions: A -> B, C -> D" for the closed edges, or "".
  std::string closed_text() const;
  // `payload` with "conditions": conditions_json() when the graph has conditions.
  nlohmann::json with_conditions(nlohmann::json payload) const;
  void finish(RunStatus status);

  // Positions on the path: an index into path_, or "before start" when the start node is a tool
  // that has not run yet.
  static constexpr std::size_t kBeforeStart = std::numeric_limits<std::size_t>::max();
  std::size_t position() const;
  bool reaches(std::size_t position) const;  // after router_.solve()
  void follow_route_from(std::size_t position);
  std::vector<graph::NodeIndex> remaining_route() const;
  std::vector<graph::ToolIndex> blocked_tools();
  bool excluded(graph::ToolIndex tool) const;
  const std::string& node_id(graph::NodeIndex n) const;
  nlohmann::json names(const std::vector<graph::NodeIndex>& nodes) const;
  nlohmann::json tool_names(const std::vector<graph::ToolIndex>& tools) const;

  std::unique_ptr<EventSink> branch_sink_;  // branches: tags events, forwards to the parent's
  RunMachine* root_ = this;                 // the run's top machine (shared health and ledger)
  const graph::Workflow& workflow_;
  const graph::Graph& graph_;
  nlohmann::json input_;
  EventSink& sink_;
  graph::Budget budget_;
  // Root: the run's view of tool health: what the process knew at the start, plus the tools this
  // run saw fail (excluded for the rest of the run).
  std::unique_ptr<graph::FixedHealth> health_;
  graph::Router router_;

  graph::NodeIndex goal_;
  bool demoted_ = false;
  std::vector<graph::NodeIndex> tried_goals_;
  std::vector<graph::NodeIndex> path_;  // completed nodes, from start
  graph::Route route_;                  // planned route; route_.nodes[next_] is entered next
  std::size_t next_ = 0;
  // Conditions: per guarded edge of graph_, its value in the last solve; per edge, closed or
  // not; and next_ as it was when the route was last planned (next_ moves on arrival).
  std::vector<graph::Truth> conditions_;
  std::vector<bool> closed_;
  std::size_t planned_next_ = 0;
  int attempt_ = 1;
  int heals_ = 0;
  nlohmann::json context_;      // {"input", "steps": {tool id: {"output"}}}: what steps see
  nlohmann::json aux_context_;  // what a compensation or the advisor sees
  std::optional<Action> pending_;
  graph::NodeIndex step_node_ = graph::kNoIndex;     // the node of the step in flight
  int step_call_ = 0;                                // its call number (its tool's calls)
  graph::ToolIndex current_tool_ = graph::kNoIndex;  // the tool of the last invoke
  std::vector<int> calls_;                           // root: calls made so far, by tool
  std::deque<Compensation> compensations_;
  RunMachineOptions options_;
  std::chrono::milliseconds retry_delay_{0};
  AfterCompensation after_compensation_ = AfterCompensation::kContinue;
  std::vector<DemoteOption> advisor_options_;
  Awaiting awaiting_ = Awaiting::kNothing;
  bool started_ = false;
  RunResult result_;
  // Fan-out: the one running (at most one per machine), calls to abort, and per fan-out node on
  // the path the compensations of its kept branch steps (newest first), for a later backtrack.
  std::unique_ptr<FanoutRun> fanout_;
  std::deque<std::uint32_t> aborts_;
  std::map<graph::NodeIndex, std::vector<Compensation>> fanout_kept_;
  // Root: the run's tier choice, spend and the reservations of its calls in flight.
  BudgetController budget_controller_;
  std::optional<TierChoice> held_;  // this machine's call in flight (or pending): its reservation
  tools::FailureKind last_failure_ = tools::FailureKind::kNone;  // of the last failed step
};

}  // namespace switchyard::runtime
