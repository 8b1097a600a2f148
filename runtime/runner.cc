#include "runtime/runner.h"

#include <chrono>
#include <random>
#include <thread>

#include "graph/router.h"
#include "runtime/hash.h"
#include "runtime/log.h"

namespace switchyard::runtime {
namespace {

std::int64_t unix_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock.now().time_since_epoch())
      .count();
}

// Stamps the machine's events with sequence and time and hands them to the journal in batches.
// The batch is written before a non-idempotent tool is invoked (so its step_started is in the
// journal first) and when the run ends.
class JournalSink final : public EventSink {
 public:
  JournalSink(Journal& journal, const Clock& clock, std::string run_id)
      : journal_(journal), clock_(clock), run_id_(std::move(run_id)) {}

  void emit(std::string_view type, nlohmann::json payload) override {
    Event e;
    e.run_id = run_id_;
    e.seq = ++seq_;
    e.time_ms = unix_ms(clock_);
    e.type = std::string(type);
    e.payload = std::move(payload);
    batch_.push_back(std::move(e));
  }

  Status flush() {
    if (batch_.empty() || !status_.ok()) return status_;
    status_ = journal_.append(batch_);
    batch_.clear();
    return status_;
  }

 private:
  Journal& journal_;
  const Clock& clock_;
  std::string run_id_;
  std::int64_t seq_ = 0;
  std::vector<Event> batch_;
  Status status_;
};

// What the process knows about tool health before a run, as router factors.
graph::FixedHealth known_health(const graph::Workflow& w, const monitors::HealthTable& table) {
  graph::FixedHealth health(w.tools().size());
  for (graph::ToolIndex t = 0; t < w.tools().size(); ++t) {
    if (table.is_down(w.tool(t).id)) health.exclude(t);
  }
  return health;
}

}  // namespace

nlohmann::json RunReport::to_json() const {
  nlohmann::json j = {{"run_id", run_id}};
  j.update(result.to_json());
  return j;
}

std::string new_run_id(const Clock& clock) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "r-%012llx%016llx",
                static_cast<unsigned long long>(unix_ms(clock)),
                static_cast<unsigned long long>(rng()));
  return buf;
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
  RunReport report;
  report.run_id = request.run_id.empty() ? new_run_id(clock_) : request.run_id;

  const graph::FixedHealth known = known_health(w, health_);
  std::vector<std::string> known_down;
  for (graph::ToolIndex t = 0; t < w.tools().size(); ++t) {
    if (known.excluded(t)) known_down.push_back(w.tool(t).id);
  }

  RunRecord record;
  record.run_id = report.run_id;
  record.workflow = w.name();
  record.workflow_hash = workflow_hash_;
  record.status = "running";
  record.started_ms = unix_ms(clock_);
  record.input = request.input;
  if (Status s = journal_.begin_run(record); !s.ok()) {
    logger().error("run {} of {}: cannot journal its start: {}", report.run_id, w.name(),
                   s.message());
    return s;
  }
  logger().debug("run {} of {} started", report.run_id, w.name());

  JournalSink sink(journal_, clock_, report.run_id);
  sink.emit("run_started", {{"workflow", w.name()},
                            {"workflow_hash", workflow_hash_},
                            {"input", request.input},
                            {"start", w.graph().node(w.graph().start()).id},
                            {"goal", w.graph().node(w.graph().goal()).id},
                            {"known_down", known_down}});

  RunMachineOptions machine_options;
  machine_options.budget = request.budget;
  RunMachine machine(w, std::move(request.input), known, sink, machine_options);
  auto* manual = dynamic_cast<ManualClock*>(&clock_);
  for (Action action = machine.next(); action.type == Action::Type::kInvoke;
       action = machine.next()) {
    if (!w.tool(action.tool).idempotent) {
      if (Status s = sink.flush(); !s.ok()) {
        logger().error("run {}: journal write failed, nothing more is invoked: {}", report.run_id,
                       s.message());
        return s;
      }
    }
    tools::Invocation call;
    call.workflow = &w;
    call.tool = action.tool;
    call.context = action.context;
    call.call_number = action.call_number;
    call.attempt = action.attempt;
    tools::Outcome outcome;
    tools_->at(action.tool).invoke(call, [&outcome](tools::Outcome o) { outcome = std::move(o); });
    if (options_.simulate_latency && outcome.latency.count() > 0) {
      if (manual != nullptr) manual->advance(outcome.latency);
      else std::this_thread::sleep_for(outcome.latency);
    }
    machine.complete(outcome);
  }

  report.result = machine.result();
  logger().info("run {} of {} {}: {} reroute(s), {} backtrack(s), {} LLM call(s)", report.run_id,
                w.name(), to_string(report.result.status), report.result.reroutes,
                report.result.backtracks, report.result.llm_calls);
  sink.emit("run_finished", report.result.to_json());
  if (Status s = sink.flush(); !s.ok()) return s;
  if (Status s = journal_.finish_run(report.run_id, std::string(to_string(report.result.status)),
                                     report.to_json(), unix_ms(clock_));
      !s.ok()) {
    return s;
  }
  return report;
}

}  // namespace switchyard::runtime
