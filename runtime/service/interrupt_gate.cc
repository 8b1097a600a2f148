#include "runtime/service/interrupt_gate.h"

#include <map>

#include "graph/json_read.h"
#include "runtime/journal/rows.h"

namespace switchyard::service {
namespace {

// A sealed event's payload travels as canonical JSON text (runtime/journal/journal.h).
nlohmann::json payload_of(const runtime::Event& e) {
  if (!e.payload.is_null() || e.payload_json.empty()) return e.payload;
  auto payload = parse_untrusted(e.payload_json, runtime::journal_row_limits());
  return payload.ok() ? std::move(payload).value() : nlohmann::json(nullptr);
}

// Whether `payload` is that of the cancellation of an interrupted run (or of one of its fan-out
// branches).
bool is_interruption(const std::string& type, const nlohmann::json& payload) {
  if (type != "cancelled") return false;
  auto reason = JsonView(payload).string_or("reason", "");
  return reason.ok() && *reason == kInterruptReason;
}

// What an interruption's `cancelled` event says was in flight: {"tool"} for the run's own line,
// {"tool", "fanout", "branch"} for a fan-out branch; nothing when no call was.
void add_in_flight(const nlohmann::json& cancelled, nlohmann::json& in_flight) {
  auto tool = cancelled.find("in_flight");
  if (tool == cancelled.end() || !tool->is_string()) return;
  nlohmann::json entry = {{"tool", *tool}};
  for (const char* key : {"fanout", "branch"}) {
    if (auto it = cancelled.find(key); it != cancelled.end()) entry[key] = *it;
  }
  in_flight.push_back(std::move(entry));
}

}  // namespace

using runtime::Event;

std::set<std::string> InterruptGate::interrupted() const {
  std::lock_guard lock(mu_);
  return interrupted_;
}

bool InterruptGate::is_interrupted(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  return interrupted_.count(run_id) > 0;
}

std::vector<Event> InterruptGate::filter(const std::vector<Event>& events) {
  std::vector<Event> kept;
  kept.reserve(events.size());
  std::lock_guard lock(mu_);
  // The run_interrupted event being made (an index into `kept`), per run of this append.
  std::map<std::string, std::size_t> marking;
  for (const auto& e : events) {
    if (auto it = marking.find(e.run_id); it != marking.end()) {
      // After the interruption: its other `cancelled` events name calls in flight too.
      const nlohmann::json payload = payload_of(e);
      if (is_interruption(e.type, payload))
        add_in_flight(payload, kept[it->second].payload["in_flight"]);
      continue;
    }
    if (interrupted_.count(e.run_id)) continue;
    if (e.type == "cancelled") {
      const nlohmann::json payload = payload_of(e);
      if (is_interruption(e.type, payload)) {
        interrupted_.insert(e.run_id);
        // Not sealed: the journal chains it from the run's head, which is where the
        // cancellation's link started (the events before it are kept).
        Event mark;
        mark.run_id = e.run_id;
        mark.seq = e.seq;
        mark.time_ms = e.time_ms;
        mark.type = "run_interrupted";
        mark.payload = {{"reason", "shutdown"},
                        {"message", "the service shut down before the run finished (grace " +
                                        std::to_string(grace_.count()) +
                                        " ms): `switchyard resume` continues it"},
                        {"grace_ms", grace_.count()},
                        {"in_flight", nlohmann::json::array()}};
        add_in_flight(payload, mark.payload["in_flight"]);
        marking[e.run_id] = kept.size();
        kept.push_back(std::move(mark));
        continue;
      }
    }
    kept.push_back(e);
  }
  return kept;
}

bool InterruptGate::passes(const std::vector<Event>& events) const {
  std::lock_guard lock(mu_);
  for (const auto& e : events) {
    if (e.type == "cancelled" || interrupted_.count(e.run_id)) return false;
  }
  return true;
}

Status InterruptGate::append(const std::vector<Event>& events) {
  if (passes(events)) return inner().append(events);
  auto kept = filter(events);
  return kept.empty() ? Status() : inner().append(std::move(kept));
}

Status InterruptGate::append(std::vector<Event>&& events) {
  // Almost every append has nothing to hold back: passed on as it is, not copied.
  if (passes(events)) return inner().append(std::move(events));
  auto kept = filter(events);
  return kept.empty() ? Status() : inner().append(std::move(kept));
}

Status InterruptGate::finish_run(const std::string& run_id, const std::string& status,
                                 const nlohmann::json& result, std::int64_t finished_ms) {
  return is_interrupted(run_id) ? Status()
                                : inner().finish_run(run_id, status, result, finished_ms);
}

}  // namespace switchyard::service
