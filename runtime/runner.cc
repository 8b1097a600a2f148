#include "runtime/runner.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "graph/router.h"
#include "runtime/hash.h"
#include "runtime/log.h"
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
      workflow_hash_(sha256_hex(canonical_json(workflow_->source()))) {}

Result<RunReport> Runner::run(RunRequest request) {
  const graph::Workflow& w = *workflow_;
  if (request.run_id.empty()) request.run_id = new_run_id(clock_);
  EventBuffer events(clock_, request.run_id);
  RunStart start = prepare_run(w, workflow_hash_, request, clock_, health_, events);
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

  RunMachine machine(w, std::move(request.input), start.known, events, start.machine);
  auto* manual = dynamic_cast<ManualClock*>(&clock_);
  auto wait = [&](std::chrono::microseconds d) {
    if (d.count() <= 0 || !options_.simulate_latency) return;
    if (manual != nullptr) manual->advance(d);
    else std::this_thread::sleep_for(d);
  };
  for (Action action = machine.next(); action.type == Action::Type::kInvoke;
       action = machine.next()) {
    if (!w.tool(action.tool).idempotent) {
      if (Status s = flush(); !s.ok()) {
        logger().error("run {}: journal write failed, nothing more is invoked: {}", report.run_id,
                       s.message());
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
    // This driver is synchronous: it waits for the tool's answer, whichever thread gives it
    // (without allocating: most tools answer before invoke() returns).
    struct Answer {
      std::mutex mu;
      std::condition_variable ready;
      std::optional<tools::Outcome> outcome;
    } answer;
    tools_->at(action.tool).invoke(call, [&answer](tools::Outcome o) {
      std::lock_guard lock(answer.mu);
      answer.outcome = std::move(o);
      answer.ready.notify_one();
    });
    std::unique_lock lock(answer.mu);
    answer.ready.wait(lock, [&answer] { return answer.outcome.has_value(); });
    tools::Outcome outcome = std::move(*answer.outcome);
    lock.unlock();
    wait(outcome.latency);
    machine.complete(outcome);
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
