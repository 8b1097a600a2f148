#pragma once
// HealthTable: the health monitor. What the process knows about each tool, keyed by tool id and
// shared by every run of the process: one run's failure is every run's knowledge.
//
// Per tool it keeps live telemetry — an EWMA of latency, the success ratio over a sliding window,
// rate-limit proximity (from 429s, Retry-After and X-RateLimit-Remaining/Limit), the failure kinds
// seen — and a circuit breaker (monitors/breaker.h). From them it gives the router a weight factor
// per the paper's Eq. 1 (docs/monitors.md):
//
//   factor = max(0.5, latency_ms / 100) x 1 / max(0.01, reliability) x (1 + 5 x proximity)
//
// 1 until a tool has `warmup` samples; +infinity while its breaker is open, while a 429's
// Retry-After has not passed, or while it is held down by mark_down().
//
// Thread-safe. Lookups by id take a shared lock; the hot path (record, factor, acquire) goes
// through a Tool handle resolved once per workflow and locks only that tool.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "graph/clock.h"
#include "monitors/breaker.h"

namespace switchyard::monitors {

struct MonitorOptions {
  double latency_alpha = 0.2;  // weight of the newest latency sample in the EWMA
  int window = 20;             // outcomes in the success-ratio window (1..64)
  int warmup = 3;              // samples before telemetry changes the factor from 1
  std::chrono::milliseconds default_retry_after{1000};  // a 429 without Retry-After
  BreakerOptions breaker;  // defaults; a workflow's policy.breaker overrides per tool
};

// What a finished call tells the monitor (built by the runtime from a tool's outcome).
struct Observation {
  bool ok = false;
  std::string failure;  // kind ("timeout", "connect", ...) when failed
  std::string reason;   // when failed
  bool hard = false;    // an outage signal (connection refused, DNS): opens the breaker at once
  std::chrono::microseconds latency{0};
  bool rate_limited = false;                             // a 429
  std::optional<std::chrono::milliseconds> retry_after;  // a delay, from when it is recorded
  std::optional<Clock::TimePoint> retry_at;  // an HTTP-date Retry-After: the moment itself
  std::optional<double> ratelimit_remaining, ratelimit_limit;  // X-RateLimit-* headers
};

// A breaker transition, for the journal: {tool, old, new, reason}.
struct Transition {
  std::string tool;
  BreakerState from;
  BreakerState to;
  std::string reason;
};

// The three factors of Eq. 1 from a tool's telemetry (each 1 for a tool without samples).
struct Factors {
  double latency = 1;      // max(0.5, latency_ms / 100)
  double reliability = 1;  // 1 / max(0.01, reliability)
  double rate_limit = 1;   // 1 + 5 x rate_limit_proximity
};

// One tool's state, as `switchyard health` shows it.
struct ToolHealth {
  std::string tool;
  BreakerState breaker = BreakerState::kClosed;
  std::optional<Clock::TimePoint> opened_at;  // when the breaker last opened (open, half-open)
  bool held_down = false;
  std::string held_reason;
  double factor = 1;        // what the router uses now (1 while warming up, +inf when down)
  Factors factors;          // Eq. 1's three factors from the telemetry, warm-up aside
  bool warming_up = false;  // fewer samples than MonitorOptions::warmup: factor 1
  double latency_ms = 0;    // EWMA
  double reliability = 1;   // successes / outcomes in the window
  double rate_limit_proximity = 0;
  int samples = 0;
  int consecutive_failures = 0;
  std::map<std::string, int> failures;  // by kind, since the process started (or the rebuild)
  std::string last_failure;
  std::optional<Clock::TimePoint> retry_after_until;
};

class HealthTable {
 public:
  class Tool;  // one tool's state; stable for the table's life

  // Time comes from `clock` (which must outlive the table).
  explicit HealthTable(const Clock& clock, MonitorOptions options = {});
  ~HealthTable();

  // The handle of tool `id` (made on first use), with its breaker per `breaker`.
  Tool& tool(std::string_view id, const std::optional<BreakerOptions>& breaker = std::nullopt);

  // Records a finished call (at `at`, or now). Returns the breaker transition it caused, if any.
  std::optional<Transition> record(Tool& tool, const Observation& observation,
                                   std::optional<Clock::TimePoint> at = std::nullopt);
  // The router's weight factor for the tool now (see above).
  double factor(Tool& tool) const;
  // Whether a call may be made now: false while open; in half-open, true for the limited trial
  // calls only (each acquire takes one). Returns the transition open -> half-open when it happens,
  // and in `*permit` what the call holds (REQUIRES: every admitted call hands its permit back to
  // release() when it ends, whether or not its outcome was recorded).
  bool acquire(Tool& tool, std::optional<Transition>* transition = nullptr,
               BreakerPermit* permit = nullptr);
  // Gives back the trial slot a call held, unless its outcome already decided the trial.
  void release(Tool& tool, const BreakerPermit& permit);
  // The breaker's state now.
  BreakerState breaker(Tool& tool) const;
  const std::string& id(const Tool& tool) const;
  // Reapplies a journaled transition (restart): sets the breaker as it was at `at`.
  void restore(Tool& tool, BreakerState state, Clock::TimePoint at);
  // Applies a breaker transition another process sharing the journal made, as of `at` (shared
  // health, docs/scale-out.md#shared-health). A transition older than the last change of this
  // tool's breaker here is stale and ignored. Otherwise:
  //   open:      opens it as of `at` (unless it is open here since `at` or later);
  //   half_open: the other process is trying the tool: a breaker open here stays open, its
  //              cool-down restarted at `at`, so that this process waits for that trial's
  //              outcome instead of trying too (ignored when not open here);
  //   closed:    closes it (a trial there succeeded).
  // Returns the change of state it made here, if any, with `reason`.
  std::optional<Transition> learn(Tool& tool, BreakerState to, Clock::TimePoint at,
                                  const std::string& reason);
  // Forgets what the table knows of the tool (an operator fixed it: `switchyard health --reset`):
  // its telemetry, failures and Retry-After are dropped, a hold is lifted, and the breaker is
  // closed as of `at`. Outcomes recorded after it count afresh.
  void reset(Tool& tool, Clock::TimePoint at);

  // Holds a tool down (known down from outside: an operator, a scenario's `known` tools) until
  // mark_up(). Held tools weigh +infinity whatever their telemetry says.
  void mark_down(std::string_view tool, std::string reason);
  void mark_up(std::string_view tool);
  // Whether the tool cannot be used now (held, breaker open, or waiting for Retry-After).
  bool is_down(std::string_view tool) const;
  // Every tool down now, with why, in id order.
  std::map<std::string, std::string> down_tools() const;
  // Every tool's state, in id order.
  std::vector<ToolHealth> snapshot() const;

  const Clock& clock() const { return clock_; }
  const MonitorOptions& options() const { return options_; }

 private:
  ToolHealth health_of(const Tool& tool, Clock::TimePoint now) const;
  // REQUIRES: the tool's mutex is held.
  double factor_locked(const Tool& tool, Clock::TimePoint now) const;
  const Tool* find(std::string_view id) const;

  const Clock& clock_;
  MonitorOptions options_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<Tool>, std::less<>> tools_;
};

}  // namespace switchyard::monitors
