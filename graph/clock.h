#pragma once
// Clock: where time comes from. Components that need time take a Clock&; only runtime/ makes the
// real one (runtime/base/system_clock.h). Tests and evaluation use ManualClock and advance it by
// hand, so nothing ever sleeps to test time. Defined here, with the model, because every layer
// shares it; graph/ itself never reads a clock.

#include <atomic>
#include <chrono>

namespace switchyard {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  // The current wall time. Thread-safe in every implementation.
  virtual TimePoint now() const = 0;
  // Waiting `d` on this clock without anyone waiting, where the clock allows it: a ManualClock
  // moves forward by `d` at once and returns true. A real clock returns false: the caller waits
  // `d` itself (sleeps, or sets a timer). How the drivers simulate latencies and backoff on a
  // manual clock (evaluation, tests) and really wait on the real one. Thread-safe.
  virtual bool skip_wait(std::chrono::nanoseconds d) {
    (void)d;
    return false;
  }
};

// A clock that moves only when told. Thread-safe.
class ManualClock : public Clock {
 public:
  // Starts at `start` (default: 2026-01-01T00:00:00Z, so journals made in tests are stable).
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::seconds(1767225600)))
      : now_ns_(start.time_since_epoch().count()) {}
  TimePoint now() const override {
    return TimePoint(TimePoint::duration(now_ns_.load(std::memory_order_acquire)));
  }
  void advance(std::chrono::nanoseconds d) {
    now_ns_.fetch_add(std::chrono::duration_cast<TimePoint::duration>(d).count(),
                      std::memory_order_acq_rel);
  }
  bool skip_wait(std::chrono::nanoseconds d) override {
    advance(d);
    return true;
  }

 private:
  std::atomic<TimePoint::duration::rep> now_ns_;
};

}  // namespace switchyard
