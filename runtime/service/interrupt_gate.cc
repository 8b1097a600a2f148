#include "runtime/service/interrupt_gate.h"

namespace switchyard::service {
namespace {

// Whether `e` is the cancellation of an interrupted run. A sealed event's payload travels as
// canonical JSON text (runtime/journal.h).
bool is_interruption(const runtime::Event& e) {
  if (e.type != "cancelled") return false;
  const nlohmann::json payload =
      e.payload.is_null() && !e.payload_json.empty()
          ? nlohmann::json::parse(e.payload_json, nullptr, /*allow_exceptions=*/false)
          : e.payload;
  return payload.is_object() && payload.value("reason", std::string()) == kInterruptReason;
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
  for (const auto& e : events) {
    if (interrupted_.count(e.run_id)) continue;
    if (is_interruption(e)) {
      interrupted_.insert(e.run_id);
      continue;
    }
    kept.push_back(e);
  }
  return kept;
}

Status InterruptGate::append(const std::vector<Event>& events) {
  auto kept = filter(events);
  return kept.empty() ? Status() : inner().append(std::move(kept));
}

Status InterruptGate::finish_run(const std::string& run_id, const std::string& status,
                                 const nlohmann::json& result, std::int64_t finished_ms) {
  return is_interrupted(run_id) ? Status() : inner().finish_run(run_id, status, result, finished_ms);
}

}  // namespace switchyard::service
