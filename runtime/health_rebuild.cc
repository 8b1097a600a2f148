#include "runtime/health_rebuild.h"

#include <algorithm>

namespace switchyard::runtime {
namespace {

std::optional<monitors::BreakerState> breaker_state(const std::string& s) {
  if (s == "closed") return monitors::BreakerState::kClosed;
  if (s == "open") return monitors::BreakerState::kOpen;
  if (s == "half_open") return monitors::BreakerState::kHalfOpen;
  return std::nullopt;
}

Clock::TimePoint at_ms(std::int64_t ms) {
  return Clock::TimePoint(std::chrono::duration_cast<Clock::TimePoint::duration>(
      std::chrono::milliseconds(ms)));
}

}  // namespace

Result<int> rebuild_health(const Journal& journal, monitors::HealthTable& table,
                           std::chrono::milliseconds window) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          table.clock().now().time_since_epoch())
                          .count();
  RunFilter filter;
  filter.since_ms = now_ms - window.count();
  filter.limit = 100000;
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  std::vector<Event> events;
  for (const auto& run : *runs) {
    auto e = journal.events(run.run_id);
    if (!e.ok()) return e.status();
    for (auto& event : *e) {
      if (event.type == "step_succeeded" || event.type == "step_failed" ||
          event.type == "step_retry" || event.type == "breaker") {
        events.push_back(std::move(event));
      }
    }
  }
  // Across runs, in the order things happened.
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time_ms < b.time_ms; });
  int replayed = 0;
  for (const auto& e : events) {
    const std::string tool = e.payload.value("tool", "");
    if (tool.empty()) continue;
    auto& handle = table.tool(tool);
    if (e.type == "breaker") {
      if (auto state = breaker_state(e.payload.value("to", ""))) {
        table.restore(handle, *state, at_ms(e.time_ms));
      }
      continue;
    }
    monitors::Observation o;
    o.ok = e.type == "step_succeeded";
    o.latency = std::chrono::microseconds(e.payload.value("latency_us", std::int64_t{0}));
    if (!o.ok) {
      o.failure = e.payload.value("failure", "");
      o.reason = e.payload.value("reason", "");
      if (o.failure == "cancelled" || o.failure == "template" || o.failure == "budget_exhausted" ||
          (o.failure == "unavailable" && o.reason.find(": not called: ") != std::string::npos)) {
        continue;  // not the tool's doing, or a call the breaker refused (not a call)
      }
      o.hard = o.failure == "connect";
      o.rate_limited = o.failure == "rate_limited";
    }
    table.record(handle, o, at_ms(e.time_ms));
    ++replayed;
  }
  return replayed;
}

}  // namespace switchyard::runtime
