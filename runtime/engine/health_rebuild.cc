#include "runtime/engine/health_rebuild.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/json_read.h"
#include "graph/load.h"
#include "runtime/engine/run_health.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {
namespace {

Clock::TimePoint at_ms(std::int64_t ms) { return journaled_time(ms); }

bool replayed_type(const std::string& type) {
  return type == "run_started" || type == "step_succeeded" || type == "step_failed" ||
         type == "step_retry" || type == "breaker" || type == "health_reset";
}

}  // namespace

std::optional<monitors::BreakerState> journaled_breaker_state(const std::string& s) {
  if (s == "closed") return monitors::BreakerState::kClosed;
  if (s == "open") return monitors::BreakerState::kOpen;
  if (s == "half_open") return monitors::BreakerState::kHalfOpen;
  return std::nullopt;
}

Clock::TimePoint journaled_time(std::int64_t ms) {
  return Clock::TimePoint(
      std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::milliseconds(ms)));
}

Result<tools::Outcome> journaled_outcome(const Event& e) {
  const JsonView p(e.payload, "/payload");
  tools::Outcome o;
  o.ok = e.type == "step_succeeded";
  SWITCHYARD_ASSIGN_OR_RETURN(const std::int64_t latency, p.integer_or("latency_us", 0));
  o.latency = std::chrono::microseconds(latency);
  if (!o.ok) {
    SWITCHYARD_ASSIGN_OR_RETURN(const std::string failure, p.string_or("failure", ""));
    o.failure = tools::failure_kind(failure).value_or(tools::FailureKind::kInternal);
    SWITCHYARD_ASSIGN_OR_RETURN(o.reason, p.string_or("reason", ""));
    SWITCHYARD_ASSIGN_OR_RETURN(auto after, p.optional_field("retry_after_ms"));
    if (after) {
      SWITCHYARD_ASSIGN_OR_RETURN(const std::int64_t ms, after->integer());
      o.retry_after = std::chrono::milliseconds(ms);
    }
    SWITCHYARD_ASSIGN_OR_RETURN(auto at, p.optional_field("retry_at_ms"));
    if (at) {
      SWITCHYARD_ASSIGN_OR_RETURN(const std::int64_t ms, at->integer());
      o.retry_at = at_ms(ms);
    }
  }
  return o;
}

namespace {

// The workflows of the runs, by hash (null: not in the journal, or no longer loadable).
class Workflows {
 public:
  Workflows(const Journal& journal, std::vector<std::string>& skipped)
      : journal_(journal), skipped_(skipped) {}

  Result<const graph::Workflow*> get(const std::string& hash) {
    auto it = by_hash_.find(hash);
    if (it != by_hash_.end()) return it->second.get();
    std::shared_ptr<const graph::Workflow> workflow;
    if (!hash.empty()) {
      auto source = journal_.workflow_source(hash);
      if (!source.ok() && source.status().code() != StatusCode::kNotFound) return source.status();
      if (source.ok()) {
        auto loaded = graph::load(*source, "journal:" + hash);
        if (loaded.ok()) {
          workflow = loaded.workflow;
        } else {
          skipped_.push_back("workflow " + valid_utf8(hash.substr(0, 12)) +
                             " (stored copy): does not load, its runs rebuild with the default "
                             "breaker options: " +
                             valid_utf8(loaded.errors.front().to_string()));
        }
      }
    }
    return by_hash_.emplace(hash, std::move(workflow)).first->second.get();
  }

 private:
  const Journal& journal_;
  std::vector<std::string>& skipped_;
  std::map<std::string, std::shared_ptr<const graph::Workflow>> by_hash_;
};

// Records one journaled event into `table` (run_started: `workflow`'s breaker options); false
// when it is not a step outcome that counts. Errors name the field that cannot be read.
Result<bool> replay_event(const Event& e, const graph::Workflow* workflow,
                          monitors::HealthTable& table) {
  if (e.type == "run_started") {
    // As live: a run's start sets its workflow's breaker options on each of its tools.
    if (workflow == nullptr) return false;
    const monitors::BreakerOptions options = breaker_options(*workflow, table.options());
    for (const auto& t : workflow->tools()) table.tool(t.id, options);
    return false;
  }
  const JsonView p(e.payload, "/payload");
  SWITCHYARD_ASSIGN_OR_RETURN(const std::string tool, p.string_or("tool", ""));
  if (tool.empty()) return false;
  auto& handle = table.tool(tool);
  if (e.type == "health_reset") {  // an operator's `switchyard health --reset`
    table.reset(handle, at_ms(e.time_ms));
    return false;
  }
  if (e.type == "breaker") {
    SWITCHYARD_ASSIGN_OR_RETURN(const std::string to, p.string_or("to", ""));
    if (auto state = journaled_breaker_state(to)) table.restore(handle, *state, at_ms(e.time_ms));
    return false;
  }
  SWITCHYARD_ASSIGN_OR_RETURN(const tools::Outcome outcome, journaled_outcome(e));
  if (!tells_health(outcome)) return false;
  table.record(handle, observation_of(outcome), at_ms(e.time_ms));
  return true;
}

}  // namespace

Result<HealthRebuild> rebuild_health(const Journal& journal, monitors::HealthTable& table,
                                     std::chrono::milliseconds window) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(table.clock().now().time_since_epoch())
          .count();
  RunFilter filter;
  filter.since_ms = now_ms - window.count();
  filter.limit = 100000;
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  HealthRebuild out;
  std::map<std::string, std::string> hash_of;  // run id -> workflow hash
  std::vector<Event> events;
  for (auto run = runs->rbegin(); run != runs->rend(); ++run) {  // oldest first
    auto e = journal.events(run->run_id);
    if (!e.ok()) {
      // A run with a row that cannot be decoded is passed over; every other is read.
      if (e.status().code() != StatusCode::kInvalidArgument) return e.status();
      out.skipped.push_back(e.status().message());
      continue;
    }
    hash_of[run->run_id] = run->workflow_hash;
    for (auto& event : *e) {
      if (replayed_type(event.type)) events.push_back(std::move(event));
    }
  }
  // Across runs, in the order things happened.
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time_ms < b.time_ms; });
  Workflows workflows(journal, out.skipped);
  for (const auto& e : events) {
    const graph::Workflow* workflow = nullptr;
    if (e.type == "run_started") {
      auto w = workflows.get(hash_of[e.run_id]);
      if (!w.ok()) return w.status();
      workflow = *w;
    }
    auto counted = replay_event(e, workflow, table);
    if (!counted.ok()) {
      out.skipped.push_back(row_error(e, counted.status()).message());
      continue;
    }
    if (*counted) ++out.replayed;
  }
  return out;
}

}  // namespace switchyard::runtime
