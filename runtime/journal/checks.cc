#include "runtime/journal/checks.h"

namespace switchyard::runtime {

Status check_append(const std::vector<Event>& events, std::int64_t last_seq) {
  for (const Event& e : events) {
    if (e.run_id != events.front().run_id) {
      return invalid_argument("journal append mixes runs " + events.front().run_id + " and " +
                              e.run_id);
    }
    if (e.seq != last_seq + 1) {
      return failed_precondition("journal append for run " + e.run_id + ": event seq " +
                                 std::to_string(e.seq) + " does not follow " +
                                 std::to_string(last_seq));
    }
    // A sealed event's payload is its canonical JSON (an object's starts with '{').
    if (e.payload_json.empty() ? !e.payload.is_object() : e.payload_json.front() != '{') {
      return invalid_argument("journal event " + std::to_string(e.seq) + " of run " + e.run_id +
                              ": payload must be a JSON object");
    }
    last_seq = e.seq;
  }
  return Status();
}

nlohmann::json finished_result(const std::string& run_id, nlohmann::json run_finished_payload) {
  if (run_finished_payload.is_object()) run_finished_payload["run_id"] = run_id;
  return run_finished_payload;
}

bool matches(const RunRecord& run, const RunFilter& filter) {
  if (filter.status && run.status != *filter.status) return false;
  if (filter.workflow && run.workflow != *filter.workflow) return false;
  if (filter.since_ms && run.started_ms < *filter.since_ms) return false;
  if (filter.until_ms && run.started_ms >= *filter.until_ms) return false;
  return true;
}

}  // namespace switchyard::runtime
