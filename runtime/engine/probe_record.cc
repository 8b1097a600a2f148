#include "runtime/engine/probe_record.h"

#include "runtime/engine/run_health.h"
#include "runtime/engine/run_setup.h"

namespace switchyard::runtime {

Status journal_probe_transition(Journal& journal, const Clock& clock, const std::string& run_id,
                                const monitors::Transition& transition) {
  RunRecord run;
  run.run_id = run_id;
  run.workflow = kMonitorWorkflow;
  run.status = "running";
  run.started_ms = unix_ms(clock);
  run.input = {{"probe", transition.tool}};
  EventBuffer events(clock, run_id);
  emit_transition(transition, events);
  const nlohmann::json result = {{"probe", transition.tool},
                                 {"breaker", std::string(monitors::to_string(transition.to))}};
  if (Status s = journal.begin_run(run); !s.ok()) return s;
  if (Status s = journal.append(events.take()); !s.ok()) return s;
  return journal.finish_run(run_id, "completed", result, unix_ms(clock));
}

Status journal_health_reset(Journal& journal, const Clock& clock, const std::string& run_id,
                            const std::string& tool, monitors::BreakerState from,
                            const std::string& reason) {
  RunRecord run;
  run.run_id = run_id;
  run.workflow = kMonitorWorkflow;
  run.status = "running";
  run.started_ms = unix_ms(clock);
  run.input = {{"reset", tool}};
  EventBuffer events(clock, run_id);
  events.emit(
      "health_reset",
      {{"tool", tool}, {"from", std::string(monitors::to_string(from))}, {"reason", reason}});
  const nlohmann::json result = {{"reset", tool}, {"breaker", "closed"}};
  if (Status s = journal.begin_run(run); !s.ok()) return s;
  if (Status s = journal.append(events.take()); !s.ok()) return s;
  return journal.finish_run(run_id, "completed", result, unix_ms(clock));
}

}  // namespace switchyard::runtime
