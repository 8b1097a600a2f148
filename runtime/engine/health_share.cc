#include "runtime/engine/health_share.h"

#include "graph/json_read.h"
#include "runtime/base/log.h"
#include "runtime/engine/health_rebuild.h"
#include "runtime/engine/run_health.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {

Result<std::unique_ptr<HealthShare>> HealthShare::create(Journal& journal,
                                                         monitors::HealthTable& table,
                                                         HealthShareOptions options) {
  HealthFeed* feed = journal.health_feed();
  if (feed == nullptr) {
    return invalid_argument("journal " + printable_location(journal.location()) +
                            " is not shared between processes: shared health needs a "
                            "PostgreSQL journal (--journal postgresql://...)");
  }
  if (options.poll.count() <= 0) return invalid_argument("the health poll must be positive");
  if (options.batch < 1) options.batch = 1;
  auto cursor = feed->outcomes_start();
  if (!cursor.ok()) return cursor.status();
  return std::unique_ptr<HealthShare>(new HealthShare(*feed, table, options, *cursor));
}

HealthShare::HealthShare(HealthFeed& feed, monitors::HealthTable& table, HealthShareOptions options,
                         OutcomeCursor cursor)
    : feed_(feed), table_(table), options_(options), cursor_(std::move(cursor)) {}

HealthShare::~HealthShare() { stop(); }

bool HealthShare::apply(const Event& e) {
  const JsonView p(e.payload, "/payload");
  auto tool = p.string_or("tool", "");
  if (!tool.ok() || tool->empty()) return false;
  auto& handle = table_.tool(*tool);
  const Clock::TimePoint at = journaled_time(e.time_ms);
  std::optional<monitors::Transition> changed;
  bool outcome = false;
  if (e.type == "health_reset") {
    table_.reset(handle, at);
    logger().info("health: {} reset by an operator (run {}): its breaker is closed here too", *tool,
                  e.run_id);
    return false;
  }
  if (e.type == "breaker") {
    auto to = p.string_or("to", "");
    auto state = to.ok() ? journaled_breaker_state(*to) : std::nullopt;
    if (!state) return false;
    changed = table_.learn(handle, *state, at,
                           "another process's breaker went " + *to + " (run " + e.run_id + ")");
  } else {
    auto o = journaled_outcome(e);
    if (!o.ok()) {
      logger().warn("health: passed over an outcome another process journaled: {}",
                    row_error(e, o.status()).message());
      std::lock_guard lock(mu_);
      ++stats_.skipped;
      return false;
    }
    if (!tells_health(*o)) return false;
    changed = table_.record(handle, observation_of(*o), at);
    outcome = true;
  }
  if (changed) {
    logger().warn("health: {} breaker {} -> {} here, learned from another process: {}",
                  changed->tool, monitors::to_string(changed->from),
                  monitors::to_string(changed->to), changed->reason);
    std::lock_guard lock(mu_);
    ++stats_.transitions;
  }
  return outcome;
}

Result<int> HealthShare::poll_once() {
  int applied = 0;
  while (true) {
    auto batch = feed_.outcomes_after(cursor_, options_.batch);
    if (!batch.ok()) {
      std::lock_guard lock(mu_);
      ++stats_.errors;
      stats_.last_error = batch.status().message();
      return batch.status();
    }
    for (const auto& line : batch->skipped) {
      logger().warn("health: passed over a row another process journaled: {}", line);
    }
    std::int64_t outcomes = 0;
    for (const auto& e : batch->events) {
      if (apply(e)) ++outcomes;
      ++applied;
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.polls;
      stats_.outcomes += outcomes;
      stats_.skipped += static_cast<std::int64_t>(batch->skipped.size());
      stats_.last_error.clear();
    }
    if (batch->rows < options_.batch) return applied;
  }
}

void HealthShare::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    bool failing = false;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      auto polled = poll_once();
      if (!polled.ok() && !failing) {
        logger().error(
            "health: cannot read the outcomes of other processes (trying again every "
            "{} ms): {}",
            options_.poll.count(), polled.status().message());
      } else if (polled.ok() && failing) {
        logger().info("health: reading the outcomes of other processes again");
      }
      failing = !polled.ok();
      lock.lock();
      wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
    }
  });
}

void HealthShare::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

HealthShareStats HealthShare::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace switchyard::runtime
