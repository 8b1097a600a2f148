#include "runtime/engine/health_json.h"

#include <cmath>

namespace switchyard::runtime {
namespace {

nlohmann::json factor_json(double f) {
  return std::isinf(f) ? nlohmann::json("inf") : nlohmann::json(f);
}

nlohmann::json time_json(const std::optional<Clock::TimePoint>& t) {
  return t ? nlohmann::json(unix_ms_of(*t)) : nlohmann::json(nullptr);
}

}  // namespace

std::int64_t unix_ms_of(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

nlohmann::json tool_health_json(const monitors::ToolHealth& h) {
  auto text_or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  return {{"tool", h.tool},
          {"breaker", std::string(monitors::to_string(h.breaker))},
          {"breaker_opened_ms", time_json(h.opened_at)},
          {"held_down", h.held_down},
          {"held_reason", text_or_null(h.held_reason)},
          {"retry_after_until_ms", time_json(h.retry_after_until)},
          {"factor", factor_json(h.factor)},
          {"factors",
           {{"latency", h.factors.latency},
            {"reliability", h.factors.reliability},
            {"rate_limit", h.factors.rate_limit}}},
          {"warming_up", h.warming_up},
          {"latency_ms", h.latency_ms},
          {"reliability", h.reliability},
          {"rate_limit_proximity", h.rate_limit_proximity},
          {"samples", h.samples},
          {"consecutive_failures", h.consecutive_failures},
          {"failures", h.failures},
          {"last_failure", text_or_null(h.last_failure)}};
}

}  // namespace switchyard::runtime
