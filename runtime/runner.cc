#include "runtime/runner.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "graph/router.h"
#include "runtime/hash.h"
#include "runtime/log.h"
#include "runtime/llm_history.h"
#include "runtime/run_setup.h"

namespace switchyard::runtime {

nlohmann::json RunReport::to_json() const {
  nlohmann::json j = {{"run_id", run_id}};
  j.update(result.to_json());
  return j;
}

Runner::Runner(std::shared_ptr<const graph::Workflow> workflow,
               std::shared_ptr<tools::ToolSet> tools, Journal& journal, Clock& clock,
               monitors::HealthTable& health, RunnerOptions options)
    : workflow_(std::move(workflow)),
      tools_(std::move(tools)),
      journal_(journal),
      clock_(clock),
      health_(health),
      options_(options),
      identity_(identify(*workflow_)) {}

Result<RunReport> Runner::run(RunRequest request) {
  const graph::Workflow& w = *workflow_;
  if (request.run_id.empty()) request.run_id = new_run_id(clock_);
  EventBuffer events(clock_, request.run_id);
  RunHealth health(health_, w, options_.models);
  RunStart start = prepare_run(w, identity_, options_.models, request, clock_, health, events);
  prepare_llm(start, w, options_.history, events);
  RunReport report;
  report.run_id = request.run_id;
  if (Status s = journal_.begin_run(start.record); !s.ok()) {
    logger().error("run {} of {}: cannot journal its start: {}", report.run_id, w.name(),
                   s.message());
    return s;
  }
  logger().debug("run {} of {} started", report.run_id, w.name());
  auto flush = [&]() -> Status {
    if (events.empty()) return Status();
    return journal_.append(events.take());
  };

  HistorySink sink(events, options_.history, w.name());
  RunMachine machine(w, std::move(request.input), start.known, sink, start.machine);
  auto* manual = dynamic_cast<ManualClock*>(&clock_);
  auto wait = [&](std::chrono::microseconds d) {
    if (d.count() <= 0 || !options_.simulate_latency) return;
    if (manual != nullptr) manual->advance(d);
    else std::this_thread::sleep_for(d);
  };
  // Calls in flight, by slot. Tools may answer on any thread (or before invoke() returns).
  // Answers are taken in the order of their (simulated) arrival: a mock's answer arrives at its
  // start + its latency, a real tool's when it came; so fan-out branches of mocks race as they
  // would on a real clock, deterministically.
  struct Call {
    std::shared_ptr<tools::CallCancel> cancel;
    graph::ToolIndex tool = graph::kNoIndex;
    std::optional<tools::Outcome> outcome;
    Clock::TimePoint due{};  // when the answer counts as arrived
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
    calls.erase(first);
    lock.unlock();
    if (out.second.simulated) wait(std::chrono::duration_cast<std::chrono::microseconds>(due - clock_.now()));
    if (tool != graph::kNoIndex) health.observe(tool, out.second, events);
    return out;
  };
  for (Action action = machine.next(); action.type != Action::Type::kDone; action = machine.next()) {
    if (action.type == Action::Type::kWait) {
      auto [slot, outcome] = take_answer();
      machine.complete(slot, std::move(outcome));
      continue;
    }
    if (action.type == Action::Type::kAbort) {
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
    if (!w.tool(action.tool).idempotent) {
      if (Status s = flush(); !s.ok()) {
        logger().error("run {}: journal write failed, nothing more is invoked: {}", report.run_id,
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
    wait(action.delay);
    tools::Invocation call;
    call.workflow = &w;
    call.tool = action.tool;
    call.context = action.context;
    call.call_number = action.call_number;
    call.attempt = action.attempt;
    call.tier = action.tier;
    call.cancel = std::make_shared<tools::CallCancel>();
    const std::uint32_t slot = action.slot;
    const Clock::TimePoint started = clock_.now();
    if (auto refused = health.admit(action.tool, action.tier, events)) {
      // The monitor holds the tool down: no call; the run routes around it.
      if (slot != 0) {
        std::lock_guard lock(mu);
        calls[slot] = Call{call.cancel, graph::kNoIndex, std::move(refused), started};
        continue;
      }
      machine.complete(0, std::move(*refused));
      continue;
    }
    {
      std::lock_guard lock(mu);
      calls[slot] = Call{call.cancel, action.tool, std::nullopt, {}};
    }
    tools_->at(action.tool).invoke(call, [state, slot, cancel = call.cancel, started,
                                          clock = &clock_](tools::Outcome o) {
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

  report.result = machine.result();
  logger().debug("run {} of {} {}: {} reroute(s), {} backtrack(s), {} LLM call(s)", report.run_id,
                w.name(), to_string(report.result.status), report.result.reroutes,
                report.result.backtracks, report.result.llm_calls);
  events.emit("run_finished", report.result.to_json());
  if (Status s = flush(); !s.ok()) return s;
  if (Status s = journal_.finish_run(report.run_id, std::string(to_string(report.result.status)),
                                     report.to_json(), unix_ms(clock_));
      !s.ok()) {
    return s;
  }
  return report;
}

}  // namespace switchyard::runtime
