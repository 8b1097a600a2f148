#include "runtime/engine/health_rebuild.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/load.h"
#include "runtime/engine/run_health.h"

namespace switchyard::runtime {
namespace {

std::optional<monitors::BreakerState> breaker_state(const std::string& s) {
  if (s == "closed") return monitors::BreakerState::kClosed;
  if (s == "open") return monitors::BreakerState::kOpen;
  if (s == "half_open") return monitors::BreakerState::kHalfOpen;
  return std::nullopt;
}

Clock::TimePoint at_ms(std::int64_t ms) {
  return Clock::TimePoint(
      std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::milliseconds(ms)));
}

bool replayed_type(const std::string& type) {
  return type == "run_started" || type == "step_succeeded" || type == "step_failed" ||
         type == "step_retry" || type == "breaker";
}

// The step outcome an event journaled, as the tool gave it.
tools::Outcome outcome_of(const Event& e) {
  tools::Outcome o;
  o.ok = e.type == "step_succeeded";
  o.latency = std::chrono::microseconds(e.payload.value("latency_us", std::int64_t{0}));
  if (!o.ok) {
    o.failure =
        tools::failure_kind(e.payload.value("failure", "")).value_or(tools::FailureKind::kInternal);
    o.reason = e.payload.value("reason", "");
    if (auto ms = e.payload.find("retry_after_ms"); ms != e.payload.end() && ms->is_number()) {
      o.retry_after = std::chrono::milliseconds(ms->get<std::int64_t>());
    }
    if (auto ms = e.payload.find("retry_at_ms"); ms != e.payload.end() && ms->is_number()) {
      o.retry_at = at_ms(ms->get<std::int64_t>());
    }
  }
  return o;
}

// The workflows of the runs, by hash (null: not in the journal, or no longer loadable).
class Workflows {
 public:
  explicit Workflows(const Journal& journal) : journal_(journal) {}

  Result<const graph::Workflow*> get(const std::string& hash) {
    auto it = by_hash_.find(hash);
    if (it != by_hash_.end()) return it->second.get();
    std::shared_ptr<const graph::Workflow> workflow;
    if (!hash.empty()) {
      auto source = journal_.workflow_source(hash);
      if (!source.ok() && source.status().code() != StatusCode::kNotFound) return source.status();
      if (source.ok()) {
        auto loaded = graph::load(*source, "journal:" + hash);
        if (loaded.ok()) workflow = loaded.workflow;
      }
    }
    return by_hash_.emplace(hash, std::move(workflow)).first->second.get();
  }

 private:
  const Journal& journal_;
  std::map<std::string, std::shared_ptr<const graph::Workflow>> by_hash_;
};

}  // namespace

Result<int> rebuild_health(const Journal& journal, monitors::HealthTable& table,
                           std::chrono::milliseconds window) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(table.clock().now().time_since_epoch())
          .count();
  RunFilter filter;
  filter.since_ms = now_ms - window.count();
  filter.limit = 100000;
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  std::map<std::string, std::string> hash_of;  // run id -> workflow hash
  std::vector<Event> events;
  for (auto run = runs->rbegin(); run != runs->rend(); ++run) {  // oldest first
    hash_of[run->run_id] = run->workflow_hash;
    auto e = journal.events(run->run_id);
    if (!e.ok()) return e.status();
    for (auto& event : *e) {
      if (replayed_type(event.type)) events.push_back(std::move(event));
    }
  }
  // Across runs, in the order things happened.
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time_ms < b.time_ms; });
  Workflows workflows(journal);
  int replayed = 0;
  for (const auto& e : events) {
    if (e.type == "run_started") {
      // As live: a run's start sets its workflow's breaker options on each of its tools.
      auto w = workflows.get(hash_of[e.run_id]);
      if (!w.ok()) return w.status();
      if (*w == nullptr) continue;
      const monitors::BreakerOptions options = breaker_options(**w, table.options());
      for (const auto& t : (*w)->tools()) table.tool(t.id, options);
      continue;
    }
    const std::string tool = e.payload.value("tool", "");
    if (tool.empty()) continue;
    auto& handle = table.tool(tool);
    if (e.type == "breaker") {
      if (auto state = breaker_state(e.payload.value("to", ""))) {
        table.restore(handle, *state, at_ms(e.time_ms));
      }
      continue;
    }
    const tools::Outcome outcome = outcome_of(e);
    if (!tells_health(outcome)) continue;
    table.record(handle, observation_of(outcome), at_ms(e.time_ms));
    ++replayed;
  }
  return replayed;
}

}  // namespace switchyard::runtime
