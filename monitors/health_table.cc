#include "monitors/health_table.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace switchyard::monitors {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

double reliability_of(std::uint64_t window, int fill) {
  return fill == 0 ? 1.0 : static_cast<double>(std::popcount(window)) / static_cast<double>(fill);
}

Factors factors_of(double ewma_ms, double reliability, double proximity) {
  return {std::max(0.5, ewma_ms / 100.0), 1.0 / std::max(0.01, reliability), 1.0 + 5.0 * proximity};
}

}  // namespace

class HealthTable::Tool {
 public:
  Tool(std::string id, BreakerOptions breaker) : id(std::move(id)), breaker(breaker) {}
  const std::string id;
  mutable std::mutex mu;
  Breaker breaker;
  bool held = false;
  std::string held_reason;
  double ewma_ms = 0;
  int samples = 0;
  std::uint64_t window = 0;  // newest outcome in bit 0; 1 = success
  int window_fill = 0;
  double header_proximity = 0;
  std::optional<Clock::TimePoint> blocked_until;  // Retry-After of a 429
  std::map<std::string, int> failures;
  std::string last_failure;
  Clock::TimePoint changed_at{};  // the breaker's last change of state here
};

HealthTable::HealthTable(const Clock& clock, MonitorOptions options)
    : clock_(clock), options_(options) {
  options_.window = std::clamp(options_.window, 1, 64);
  options_.warmup = std::max(options_.warmup, 1);
}

HealthTable::~HealthTable() = default;

HealthTable::Tool& HealthTable::tool(std::string_view id,
                                     const std::optional<BreakerOptions>& breaker) {
  {
    std::shared_lock lock(mu_);
    auto it = tools_.find(id);
    if (it != tools_.end()) {
      if (breaker) {
        std::lock_guard tool_lock(it->second->mu);
        const BreakerOptions& now = it->second->breaker.options();
        if (now.failures != breaker->failures || now.cooldown != breaker->cooldown ||
            now.half_open_trials != breaker->half_open_trials) {
          it->second->breaker.set_options(*breaker);
        }
      }
      return *it->second;
    }
  }
  std::unique_lock lock(mu_);
  auto& slot = tools_[std::string(id)];
  if (!slot) slot = std::make_unique<Tool>(std::string(id), breaker.value_or(options_.breaker));
  return *slot;
}

const HealthTable::Tool* HealthTable::find(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = tools_.find(id);
  return it == tools_.end() ? nullptr : it->second.get();
}

std::optional<Transition> HealthTable::record(Tool& t, const Observation& o,
                                              std::optional<Clock::TimePoint> at) {
  const auto now = at.value_or(clock_.now());
  std::lock_guard lock(t.mu);
  const BreakerState before = t.breaker.state(now);
  const double ms = static_cast<double>(o.latency.count()) / 1000.0;
  t.ewma_ms =
      t.samples == 0 ? ms : options_.latency_alpha * ms + (1 - options_.latency_alpha) * t.ewma_ms;
  ++t.samples;
  const std::uint64_t mask = options_.window == 64 ? ~0ULL : (1ULL << options_.window) - 1;
  t.window = ((t.window << 1) | (o.ok ? 1 : 0)) & mask;
  t.window_fill = std::min(t.window_fill + 1, options_.window);
  if (o.ratelimit_remaining && o.ratelimit_limit && *o.ratelimit_limit > 0) {
    t.header_proximity = std::clamp(1.0 - *o.ratelimit_remaining / *o.ratelimit_limit, 0.0, 1.0);
  } else if (o.ok) {
    t.header_proximity *= 0.5;  // no rate-limit headers: a 429's pressure fades with successes
  }
  if (o.rate_limited) {
    // A date is compared with this table's clock (injected), not with the caller's.
    t.blocked_until = o.retry_at && !o.retry_after
                          ? *o.retry_at
                          : now + o.retry_after.value_or(options_.default_retry_after);
    t.header_proximity = 1.0;
  }
  std::string reason;
  if (o.ok) {
    t.breaker.on_success(now);
    reason = "call succeeded";
  } else {
    ++t.failures[o.failure];
    t.last_failure = o.failure + ": " + o.reason;
    t.breaker.on_failure(now, o.hard);
    reason = o.hard ? "outage signal (" + o.failure + ")"
                    : std::to_string(t.breaker.consecutive_failures()) +
                          " consecutive failure(s), last " + o.failure;
  }
  const BreakerState after = t.breaker.state(now);
  if (after == before) return std::nullopt;
  t.changed_at = std::max(t.changed_at, now);
  return Transition{t.id, before, after, reason};
}

double HealthTable::factor(Tool& t) const {
  const auto now = clock_.now();
  std::lock_guard lock(t.mu);
  return factor_locked(t, now);
}

double HealthTable::factor_locked(const Tool& t, Clock::TimePoint now) const {
  if (t.held || t.breaker.state(now) == BreakerState::kOpen) return kInfinity;
  if (t.blocked_until && now < *t.blocked_until) return kInfinity;
  if (t.samples < options_.warmup) return 1.0;
  const Factors f =
      factors_of(t.ewma_ms, reliability_of(t.window, t.window_fill), t.header_proximity);
  return f.latency * f.reliability * f.rate_limit;
}

bool HealthTable::acquire(Tool& t, std::optional<Transition>* transition, BreakerPermit* permit) {
  const auto now = clock_.now();
  std::lock_guard lock(t.mu);
  if (permit != nullptr) *permit = BreakerPermit{};
  if (t.held) return false;
  if (t.blocked_until && now < *t.blocked_until) return false;
  const BreakerState stored = t.breaker.stored_state();
  const bool ok = t.breaker.try_acquire(now, permit);
  if (stored != t.breaker.stored_state()) t.changed_at = std::max(t.changed_at, now);
  if (transition != nullptr && stored != t.breaker.stored_state()) {
    *transition = Transition{t.id, stored, t.breaker.stored_state(), "cool-down over: trial call"};
  }
  return ok;
}

void HealthTable::release(Tool& t, const BreakerPermit& permit) {
  if (!permit.trial) return;
  std::lock_guard lock(t.mu);
  t.breaker.release(permit);
}

BreakerState HealthTable::breaker(Tool& t) const {
  std::lock_guard lock(t.mu);
  return t.breaker.state(clock_.now());
}

const std::string& HealthTable::id(const Tool& t) const { return t.id; }

void HealthTable::restore(Tool& t, BreakerState state, Clock::TimePoint at) {
  std::lock_guard lock(t.mu);
  t.breaker.restore(state, at);
  t.changed_at = std::max(t.changed_at, at);
}

std::optional<Transition> HealthTable::learn(Tool& t, BreakerState to, Clock::TimePoint at,
                                             const std::string& reason) {
  const auto now = clock_.now();
  std::lock_guard lock(t.mu);
  if (at < t.changed_at) return std::nullopt;
  const BreakerState before = t.breaker.state(now);
  const BreakerState stored = t.breaker.stored_state();
  switch (to) {
    case BreakerState::kOpen:
      if (stored == BreakerState::kOpen && t.breaker.opened_at() >= at) return std::nullopt;
      t.breaker.restore(BreakerState::kOpen, at);
      break;
    case BreakerState::kHalfOpen:
      if (stored != BreakerState::kOpen) return std::nullopt;
      t.breaker.restore(BreakerState::kOpen, at);
      break;
    case BreakerState::kClosed:
      if (stored == BreakerState::kClosed) return std::nullopt;
      t.breaker.restore(BreakerState::kClosed, at);
      break;
  }
  t.changed_at = at;
  const BreakerState after = t.breaker.state(now);
  if (after == before) return std::nullopt;
  return Transition{t.id, before, after, reason};
}

void HealthTable::reset(Tool& t, Clock::TimePoint at) {
  std::lock_guard lock(t.mu);
  t.breaker.restore(BreakerState::kClosed, at);
  t.changed_at = std::max(t.changed_at, at);
  t.held = false;
  t.held_reason.clear();
  t.ewma_ms = 0;
  t.samples = 0;
  t.window = 0;
  t.window_fill = 0;
  t.header_proximity = 0;
  t.blocked_until.reset();
  t.failures.clear();
  t.last_failure.clear();
}

void HealthTable::mark_down(std::string_view id, std::string reason) {
  Tool& t = tool(id);
  std::lock_guard lock(t.mu);
  t.held = true;
  t.held_reason = std::move(reason);
}

void HealthTable::mark_up(std::string_view id) {
  Tool& t = tool(id);
  std::lock_guard lock(t.mu);
  t.held = false;
  t.held_reason.clear();
  t.breaker.on_success(clock_.now());
  t.blocked_until.reset();
}

bool HealthTable::is_down(std::string_view id) const {
  const Tool* t = find(id);
  if (t == nullptr) return false;
  const auto now = clock_.now();
  std::lock_guard lock(t->mu);
  return factor_locked(*t, now) == kInfinity;
}

ToolHealth HealthTable::health_of(const Tool& t, Clock::TimePoint now) const {
  ToolHealth h;
  std::lock_guard lock(t.mu);
  h.tool = t.id;
  h.breaker = t.breaker.state(now);
  if (h.breaker != BreakerState::kClosed) h.opened_at = t.breaker.opened_at();
  h.held_down = t.held;
  h.held_reason = t.held_reason;
  h.latency_ms = t.ewma_ms;
  h.reliability = reliability_of(t.window, t.window_fill);
  h.rate_limit_proximity = t.header_proximity;
  h.samples = t.samples;
  h.warming_up = t.samples < options_.warmup;
  if (t.samples > 0) h.factors = factors_of(h.latency_ms, h.reliability, h.rate_limit_proximity);
  h.consecutive_failures = t.breaker.consecutive_failures();
  h.failures = t.failures;
  h.last_failure = t.last_failure;
  if (t.blocked_until && now < *t.blocked_until) h.retry_after_until = t.blocked_until;
  h.factor = factor_locked(t, now);
  return h;
}

std::map<std::string, std::string> HealthTable::down_tools() const {
  std::map<std::string, std::string> out;
  for (const auto& h : snapshot()) {
    if (h.factor != kInfinity) continue;
    out[h.tool] = h.held_down                        ? h.held_reason
                  : h.breaker == BreakerState::kOpen ? "breaker open: " + h.last_failure
                                                     : "rate limited (Retry-After)";
  }
  return out;
}

std::vector<ToolHealth> HealthTable::snapshot() const {
  std::vector<const Tool*> tools;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, t] : tools_) tools.push_back(t.get());
  }
  const auto now = clock_.now();
  std::vector<ToolHealth> out;
  for (const Tool* t : tools) out.push_back(health_of(*t, now));
  return out;
}

}  // namespace switchyard::monitors
