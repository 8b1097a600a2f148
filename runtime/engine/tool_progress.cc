#include "runtime/engine/tool_progress.h"

namespace switchyard::runtime {

std::function<void(nlohmann::json)> ProgressLog::reporter(const std::shared_ptr<ProgressLog>& log) {
  return [weak = std::weak_ptr<ProgressLog>(log)](nlohmann::json report) {
    if (auto l = weak.lock()) l->add(std::move(report));
  };
}

void ProgressLog::add(nlohmann::json report) {
  std::lock_guard lock(mu_);
  if (reports_.size() < kMaxProgressEvents) {
    reports_.push_back(std::move(report));
  } else {
    reports_.back() = std::move(report);  // the first ones and the last
  }
}

void ProgressLog::emit(EventSink& events, const std::string& tool, int call_number) {
  std::vector<nlohmann::json> reports;
  {
    std::lock_guard lock(mu_);
    reports.swap(reports_);
  }
  for (auto& r : reports) {
    nlohmann::json payload = {{"tool", tool}, {"call", call_number}};
    for (auto& [key, value] : r.items()) payload[key] = std::move(value);
    events.emit("tool_progress", std::move(payload));
  }
}

}  // namespace switchyard::runtime
