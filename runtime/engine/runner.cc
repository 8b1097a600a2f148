#include "runtime/engine/runner.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "graph/router.h"
#include "runtime/base/crash_point.h"
#include "runtime/base/hash.h"
#include "runtime/base/log.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/reenact.h"
#include "runtime/engine/resume_plan.h"
#include "runtime/engine/run_setup.h"
#include "runtime/engine/tenant.h"
#include "runtime/engine/throttle.h"
#include "runtime/engine/tool_hints.h"
#include "runtime/engine/tool_progress.h"
#include "runtime/journal/checks.h"

namespace switchyard::runtime {
namespace {

// A scenario's resolution of call `call` of wait tool `tool` (docs/eval.md#scripting-waits):
// the step's outcome, its simulated latency set to the time until the resolution, and the
// wait_resolved event's payload, as the engine would journal them (docs/waits.md).
std::pair<tools::Outcome, nlohmann::json> scripted_wait(const graph::Workflow& w,
                                                        graph::ToolIndex tool, int call,
                                                        std::int64_t started_unix_ms) {
  using Decision = graph::Scenario::WaitScript::Decision;
  const graph::Tool& t = w.tool(tool);
  const auto& spec = std::get<graph::WaitTool>(t.spec);
  graph::Scenario::WaitScript step;
  const auto& waits = w.scenario()->waits;
  if (auto it = waits.find(tool);
      it != waits.end() && call >= 1 && static_cast<std::size_t>(call) <= it->second.size()) {
    step = it->second[static_cast<std::size_t>(call) - 1];
  } else {
    // Unscripted: resolved at once (a timer on its time).
    step.decision = spec.kind == graph::WaitTool::Kind::kApproval ? Decision::kApprove
                    : spec.kind == graph::WaitTool::Kind::kSignal ? Decision::kSignal
                                                                  : Decision::kFire;
    step.data = nullptr;
    if (step.decision == Decision::kFire) step.after = spec.delay;
  }
  const std::string id = wait_id(t, call);
  tools::Outcome o;
  nlohmann::json resolved = {{"wait", id}};
  switch (step.decision) {
    case Decision::kApprove:
      o = tools::Outcome::success({{"approved", true}, {"data", step.data}, {"by", "scenario"}});
      resolved.update({{"decision", "approved"}, {"by", "scenario"}});
      break;
    case Decision::kReject:
      o = tools::Outcome::failed(
          tools::FailureKind::kRejected,
          "rejected by scenario" + (step.reason.empty() ? std::string() : ": " + step.reason));
      resolved.update({{"decision", "rejected"}, {"by", "scenario"}, {"reason", step.reason}});
      break;
    case Decision::kSignal:
      o = tools::Outcome::success(step.data);
      resolved.update({{"decision", "signalled"}, {"by", "scenario"}});
      break;
    case Decision::kFire:
      o = tools::Outcome::success({{"fired_at_ms", started_unix_ms + step.after.count()}});
      resolved.update({{"decision", "fired"}, {"by", "timer"}});
      break;
    case Decision::kTimeout: {
      const std::string why = "no " + std::string(graph::to_string(spec.kind)) + " '" + spec.name +
                              "' within " + std::to_string(spec.timeout.count()) + " ms";
      o = tools::Outcome::failed(tools::FailureKind::kTimeout, why);
      resolved.update({{"decision", "timed_out"}, {"by", "timeout"}, {"reason", why}});
      break;
    }
  }
  o.simulated = true;
  o.latency = std::chrono::duration_cast<std::chrono::microseconds>(step.after);
  return {std::move(o), std::move(resolved)};
}

}  // namespace

nlohmann::json RunReport::to_json() const { return finished_result(run_id, result.to_json()); }

Runner::Runner(std::shared_ptr<const graph::Workflow> workflow,
               std::shared_ptr<tools::ToolSet> tools, Journal& journal, Clock& clock,
               monitors::HealthTable& health, RunnerOptions options)
    : workflow_(std::move(workflow)),
      tools_(std::move(tools)),
      journal_(journal),
      clock_(clock),
      health_(health),
      options_(options),
      identity_(identify(*workflow_)),
      limiter_(options.limiter != nullptr ? *options.limiter : journal.call_limiter()) {}

Result<RunReport> Runner::run(RunRequest request) { return start(std::move(request), true); }

Result<RunReport> Runner::start(RunRequest request, bool journal_row) {
  const graph::Workflow& w = *workflow_;
  if (request.run_id.empty()) request.run_id = new_run_id(clock_);
  EventBuffer events(clock_, request.run_id);
  RunHealth health(health_, w, options_.models);
  RunStart start = prepare_run(w, identity_, options_.models, request, clock_, health, events);
  prepare_llm(start, w, options_.history, events);
  RunReport report;
  report.run_id = request.run_id;
  if (Status s = journal_row ? journal_.begin_run(start.record) : Status(); !s.ok()) {
    logger().error("run {} of {}: cannot journal its start: {}", report.run_id, w.name(),
                   s.message());
    return s;
  }
  logger().debug("run {} of {} started", report.run_id, w.name());
  HistorySink sink(events, options_.history, w.name());
  RunMachine machine(w, std::move(request.input), start.known, sink, start.machine);
  RunTenant tenant(journal_.tenant_ledger(), request.tenant, report.run_id);
  // Started again under its id (resume of a run with no durable event): what it reserved is
  // charged its worst case.
  if (!journal_row) tenant.settle_left_open(events);
  if (Status s = drive(machine, events, health, {}, report.run_id, tenant); !s.ok()) return s;
  return finish(machine, events, std::move(report), /*finished_in_journal=*/false);
}

Status Runner::drive(RunMachine& machine, EventBuffer& events, RunHealth& health,
                     std::vector<Action> resumed, const std::string& run_id, RunTenant& tenant) {
  const graph::Workflow& w = *workflow_;
  // Calls left in flight when the drive ends (an error) are charged their worst case.
  struct AbandonLeft {
    RunTenant& tenant;
    EventBuffer& events;
    ~AbandonLeft() { tenant.abandon_all(events); }
  } abandon_left{tenant, events};
  auto wait = [&](std::chrono::microseconds d) {
    if (d.count() <= 0 || !options_.simulate_latency) return;
    if (!clock_.skip_wait(d)) std::this_thread::sleep_for(d);
  };
  // Calls in flight, by slot. Tools may answer on any thread (or before invoke() returns).
  // Answers are taken in the order of their (simulated) arrival: a mock's answer arrives at its
  // start + its latency, a real tool's when it came; so fan-out branches of mocks race as they
  // would on a real clock, deterministically.
  struct Call {
    std::shared_ptr<tools::CallCancel> cancel;
    graph::ToolIndex tool = graph::kNoIndex;
    std::optional<tools::Outcome> outcome;
    Clock::TimePoint due{};                   // when the answer counts as arrived
    std::shared_ptr<ProgressLog> progress{};  // what the tool reported while it ran
    int call_number = 0;
    nlohmann::json resolved = nullptr;  // a scenario's wait: its wait_resolved, once it is taken
  };
  // Shared with the tools' callbacks: an aborted call may answer after the run has ended.
  struct Calls {
    std::mutex mu;
    std::condition_variable answered;
    std::map<std::uint32_t, Call> by_slot;
  };
  auto state = std::make_shared<Calls>();
  std::mutex& mu = state->mu;
  std::condition_variable& answered = state->answered;
  std::map<std::uint32_t, Call>& calls = state->by_slot;
  bool outcome_unsaved = false;  // a non-idempotent call answered; its outcome is not committed
  ToolHints hints(w, *tools_);   // idempotent: the workflow's, else the tool's hint
  auto take_answer = [&]() -> std::pair<std::uint32_t, tools::Outcome> {
    std::unique_lock lock(mu);
    std::map<std::uint32_t, Call>::iterator first;
    answered.wait(lock, [&] {
      first = calls.end();
      for (auto it = calls.begin(); it != calls.end(); ++it) {
        if (it->second.outcome && (first == calls.end() || it->second.due < first->second.due)) {
          first = it;
        }
      }
      return first != calls.end();
    });
    std::pair<std::uint32_t, tools::Outcome> out{first->first, std::move(*first->second.outcome)};
    const auto due = first->second.due;
    const graph::ToolIndex tool = first->second.tool;
    const std::shared_ptr<ProgressLog> progress = std::move(first->second.progress);
    const int call_number = first->second.call_number;
    nlohmann::json resolved = std::move(first->second.resolved);
    calls.erase(first);
    lock.unlock();
    tenant.settle(out.first, out.second, events);
    if (progress && tool != graph::kNoIndex) progress->emit(events, w.tool(tool).id, call_number);
    if (out.second.simulated)
      wait(std::chrono::duration_cast<std::chrono::microseconds>(due - clock_.now()));
    if (!resolved.is_null()) {
      // A scenario's wait, resolved by its script: journaled like the engine's; a wait is no call
      // the health monitor watches.
      events.emit("wait_resolved", std::move(resolved));
    } else if (tool != graph::kNoIndex) {
      health.observe(tool, out.second, events);
      // A side effect's outcome: committed before the run goes on (below).
      if (!hints.idempotent(tool, events)) outcome_unsaved = true;
    }
    crash_point("after_call");
    return out;
  };
  // The rules of durability (docs/journal.md): before a non-idempotent tool is invoked, the
  // run's events so far (its step_started included) are committed; after a non-idempotent call
  // answered, its outcome is committed before the run invokes anything else or waits on other
  // calls, so that a crash leaves in doubt only a call that was truly in flight. A failed write
  // abandons the calls in flight: nothing more is invoked.
  auto commit = [&]() -> Status {
    const bool outcome = outcome_unsaved;
    outcome_unsaved = false;
    if (!events.empty()) {
      if (Status s = journal_.append(events.take()); !s.ok()) {
        logger().error("run {}: journal write failed, nothing more is invoked: {}", run_id,
                       s.message());
        std::vector<std::shared_ptr<tools::CallCancel>> in_flight;
        {
          std::lock_guard lock(mu);
          for (auto& [slot, call] : calls) in_flight.push_back(call.cancel);
          calls.clear();
        }
        for (auto& c : in_flight) c->cancel();
        return s;
      }
    }
    if (outcome) crash_point("after_outcome_commit");
    return Status();
  };
  // Resume: the calls the journal left in flight (or the machine handed out past its end) first.
  std::size_t first = 0;
  auto next_action = [&]() -> Action {
    if (first < resumed.size()) return resumed[first++];
    return machine.next();
  };
  for (Action action = next_action(); action.type != Action::Type::kDone; action = next_action()) {
    if (action.type == Action::Type::kWait) {
      if (outcome_unsaved) {
        if (Status s = commit(); !s.ok()) return s;
      }
      auto [slot, outcome] = take_answer();
      machine.complete(slot, std::move(outcome));
      continue;
    }
    if (action.type == Action::Type::kAbort) {
      tenant.abandon(action.slot, events);
      std::shared_ptr<tools::CallCancel> cancel;
      {
        std::lock_guard lock(mu);
        auto it = calls.find(action.slot);
        if (it != calls.end()) {
          cancel = std::move(it->second.cancel);
          calls.erase(it);  // a late answer finds no call and is dropped
        }
      }
      if (cancel) cancel->cancel();
      continue;
    }
    const bool side_effect = !hints.idempotent(action.tool, events);
    if (side_effect || outcome_unsaved) {
      if (Status s = commit(); !s.ok()) return s;
      if (side_effect) crash_point("before_invoke");
    }
    wait(action.delay);
    tools::Invocation call =
        invocation_of(w, action, run_id, std::make_shared<tools::CallCancel>());
    std::shared_ptr<ProgressLog> progress;
    if (w.tool(action.tool).kind == graph::ToolKind::kMcp) {  // (the one kind that reports)
      progress = std::make_shared<ProgressLog>();
      call.progress = ProgressLog::reporter(progress);
    }
    const std::uint32_t slot = action.slot;
    const Clock::TimePoint started = clock_.now();
    if (w.scenario() && w.tool(action.tool).kind == graph::ToolKind::kWait) {
      // Scenario mode: the wait is resolved by the scenario's script, on the run's clock.
      auto [outcome, resolved] = scripted_wait(w, action.tool, action.call_number, unix_ms(clock_));
      {
        std::lock_guard lock(mu);
        const Clock::TimePoint due = started + outcome.latency;
        calls[slot] = Call{call.cancel, action.tool, std::move(outcome), due,
                           nullptr,     0,           std::move(resolved)};
      }
      if (slot == 0) {
        auto [answered_slot, answer] = take_answer();
        machine.complete(answered_slot, std::move(answer));
      }
      continue;
    }
    // A call that is not made: its answer is `refused` (a branch's, taken in its turn).
    auto not_made = [&](tools::Outcome refused, Clock::TimePoint at) {
      if (slot != 0) {
        std::lock_guard lock(mu);
        calls[slot] = Call{call.cancel, graph::kNoIndex, std::move(refused), at};
        return;
      }
      machine.complete(0, std::move(refused));
    };
    if (auto refused = health.admit(action.tool, action.tier, events)) {
      // The monitor holds the tool down: no call; the run routes around it.
      not_made(std::move(*refused), started);
      continue;
    }
    if (auto refused = tenant.reserve(action, w, events)) {
      // Its tenant's budget cannot cover its worst case (docs/budgets.md#tenant-budgets): not
      // sent; the monitor learns nothing of the tool from it.
      health.abandon(action.tool);
      not_made(std::move(*refused), started);
      continue;
    }
    Permit permit;
    if (const graph::Tool& tool = w.tool(action.tool); tool.throttle) {
      // Its turn (docs/workflow-format.md#throttle): this driver waits for it on its own thread.
      std::optional<tools::Outcome> refused;
      for (;;) {
        TurnStep step = ask_turn(limiter_, tool, started, clock_.now());
        if (step.kind == TurnStep::Kind::kGo) {
          permit = std::move(step.permit);
          break;
        }
        if (step.kind == TurnStep::Kind::kFail) {
          refused = std::move(step.failure);
          break;
        }
        if (!clock_.skip_wait(step.wait)) std::this_thread::sleep_for(step.wait);
      }
      if (refused) {
        // Not sent: the monitor learns nothing of the tool from it.
        health.abandon(action.tool);
        not_made(std::move(*refused), clock_.now());
        continue;
      }
    }
    {
      std::lock_guard lock(mu);
      calls[slot] = Call{call.cancel, action.tool, std::nullopt, {}, progress, action.call_number};
    }
    CallLimiter* limiter = permit.lease != 0 ? &limiter_ : nullptr;
    tools_->at(action.tool)
        .invoke(call, [state, slot, cancel = call.cancel, started, clock = &clock_, limiter,
                       permit](tools::Outcome o) {
          if (limiter != nullptr) limiter->release(permit);
          std::lock_guard lock(state->mu);
          auto it = state->by_slot.find(slot);
          if (it == state->by_slot.end() || it->second.cancel != cancel) return;  // aborted
          it->second.due = o.simulated ? started + o.latency : clock->now();
          it->second.outcome = std::move(o);
          state->answered.notify_one();
        });
    // The run's own line waits for its call; a fan-out branch's call runs while others start.
    if (slot == 0) {
      auto [answered_slot, outcome] = take_answer();
      machine.complete(answered_slot, std::move(outcome));
    }
  }

  return Status();
}

namespace {
constexpr const char* kHeldAtWait = " is held at wait ";
}  // namespace

bool held_at_wait(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find(kHeldAtWait) != std::string::npos;
}

Result<RunReport> Runner::resume(const std::string& run_id) {
  const graph::Workflow& w = *workflow_;
  auto point = open_resume(journal_, w, identity_.hash, run_id);
  if (!point.ok()) return point.status();
  if (!point->reenacted) {
    // The process died before its first events were durable: nothing non-idempotent was called
    // (its step_started would be journaled), so the run starts again under its own id.
    if (Status s = journal_.claim_run(run_id); !s.ok()) return s;
    RunRequest request;
    request.run_id = run_id;
    request.input = point->run.input.is_object() ? point->run.input : nlohmann::json::object();
    request.tenant = point->run.tenant;  // a queued run's (PostgreSQL); "" otherwise
    return start(std::move(request), /*journal_row=*/false);
  }
  ResumePlan plan = plan_resume(w, *point);
  if (!plan.held.empty()) {
    // This driver cannot hold a run: resuming here would fail the wait, which the engine holds.
    const HeldWait& h = plan.held.front();
    return failed_precondition("run " + run_id + kHeldAtWait + h.wait_id +
                               " (docs/waits.md), which this synchronous runner cannot hold: "
                               "resume it on the engine (the embedding API's Runtime::resume)");
  }
  if (Status s = journal_.claim_run(run_id); !s.ok()) return s;
  Reenactment& r = *point->reenacted;
  EventBuffer events(clock_, run_id, r.last_seq());
  HistorySink sink(events, options_.history, w.name());
  r.set_live_sink(&sink);
  events.emit("resumed", std::move(plan.resumed));
  for (auto& [type, payload] : r.take_fresh()) events.emit(type, std::move(payload));
  logger().info("run {} of {} resumed after event #{}{}", run_id, w.name(), r.last_seq(),
                plan.interrupted ? " (interrupted by a service shutdown)" : "");
  RunHealth health(health_, w, options_.models);
  RunMachine& machine = r.machine();
  RunTenant tenant = RunTenant::resumed(journal_.tenant_ledger(), run_id, point->recorded);
  tenant.settle_left_open(events);
  if (!plan.doubt.empty()) machine.escalate_in_doubt(plan.doubt);
  if (Status s = drive(machine, events, health, std::move(plan.again), run_id, tenant); !s.ok()) {
    return s;
  }
  RunReport report;
  report.run_id = run_id;
  return finish(machine, events, std::move(report), r.finished());
}

Result<RunReport> Runner::finish(RunMachine& machine, EventBuffer& events, RunReport report,
                                 bool finished_in_journal) {
  const graph::Workflow& w = *workflow_;
  report.result = machine.result();
  logger().debug("run {} of {} {}: {} reroute(s), {} backtrack(s), {} LLM call(s)", report.run_id,
                 w.name(), to_string(report.result.status), report.result.reroutes,
                 report.result.backtracks, report.result.llm_calls);
  if (!finished_in_journal) events.emit("run_finished", report.result.to_json());
  if (!events.empty()) {
    if (Status s = journal_.append(events.take()); !s.ok()) return s;
  }
  // The result is the run_finished event's (Journal::finish_run).
  if (Status s = journal_.finish_run(report.run_id, std::string(to_string(report.result.status)),
                                     nullptr, unix_ms(clock_));
      !s.ok()) {
    return s;
  }
  return report;
}

}  // namespace switchyard::runtime
