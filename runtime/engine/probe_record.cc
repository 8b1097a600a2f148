#include "runtime/engine/probe_record.h"

#include "runtime/engine/run_health.h"
#include "runtime/engine/run_setup.h"

namespace switchyard::runtime {

namespace {

// A `switchyard.monitor` run with id `run_id` and `input`, whose events are what `emit` emits,
// finished `completed` at once with `result`.
template <typename Emit>
Status journal_monitor_run(Journal& journal, const Clock& clock, const std::string& run_id,
                           nlohmann::json input, Emit emit, const nlohmann::json& result) {
  RunRecord run;
  run.run_id = run_id;
  run.workflow = kMonitorWorkflow;
  run.status = "running";
  run.started_ms = unix_ms(clock);
  run.input = std::move(input);
  EventBuffer events(clock, run_id);
  emit(events);
  if (Status s = journal.begin_run(run); !s.ok()) return s;
  if (Status s = journal.append(events.take()); !s.ok()) return s;
  return journal.finish_run(run_id, "completed", result, unix_ms(clock));
}

}  // namespace

Status journal_probe_transition(Journal& journal, const Clock& clock, const std::string& run_id,
                                const monitors::Transition& transition) {
  return journal_monitor_run(
      journal, clock, run_id, {{"probe", transition.tool}},
      [&](EventBuffer& events) { emit_transition(transition, events); },
      {{"probe", transition.tool}, {"breaker", std::string(monitors::to_string(transition.to))}});
}

Status journal_health_reset(Journal& journal, const Clock& clock, const std::string& run_id,
                            const std::string& tool, monitors::BreakerState from,
                            const std::string& reason) {
  return journal_monitor_run(
      journal, clock, run_id, {{"reset", tool}},
      [&](EventBuffer& events) {
        events.emit(
            "health_reset",
            {{"tool", tool}, {"from", std::string(monitors::to_string(from))}, {"reason", reason}});
      },
      {{"reset", tool}, {"breaker", "closed"}});
}

}  // namespace switchyard::runtime
