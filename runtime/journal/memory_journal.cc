// The in-memory Journal: evaluation, benchmarks, and embedders that need no durability. Same
// rules as the SQLite one, and a bounded window of finished runs (MemoryJournalOptions).

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "runtime/journal/checks.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {
namespace {

class MemoryJournal final : public Journal {
 public:
  explicit MemoryJournal(MemoryJournalOptions options) : options_(options) {}

  Status begin_run(const RunRecord& run) override {
    std::lock_guard lock(mu_);
    if (!runs_.emplace(run.run_id, Entry{run, {}, next_order_, {}}).second) {
      return invalid_argument("run " + run.run_id + " is already in the journal");
    }
    order_.emplace(next_order_++, run.run_id);
    WorkflowCopy& copy = workflows_[run.workflow_hash];
    ++copy.runs;
    if (!copy.source) copy.source = run.workflow_source;
    return Status();
  }

  Status append(const std::vector<Event>& events) override {
    return append(std::vector<Event>(events));
  }

  Status append(std::vector<Event>&& events) override {
    if (events.empty()) return Status();
    std::lock_guard lock(mu_);
    auto it = runs_.find(events.front().run_id);
    if (it == runs_.end())
      return not_found("run " + events.front().run_id + " is not in the journal");
    auto& list = it->second.events;
    if (Status s = check_append(events, list.empty() ? 0 : list.back().seq); !s.ok()) return s;
    if (list.empty()) {
      list = std::move(events);  // a run's first batch: kept as it is, not moved event by event
    } else {
      list.insert(list.end(), std::make_move_iterator(events.begin()),
                  std::make_move_iterator(events.end()));
    }
    return Status();
  }

  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override {
    Forgotten forgotten;  // destroyed after the lock is released
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return not_found("run " + run_id + " is not in the journal");
    const bool was_running = it->second.run.status == "running";
    it->second.run.status = status;
    it->second.run.result = result;
    it->second.run.finished_ms = finished_ms;
    if (was_running) {
      finished_.push_back(run_id);
      // The window: the oldest finished runs are forgotten first.
      while (finished_.size() > options_.keep_finished_runs) {
        forget(finished_.front(), forgotten);
        finished_.pop_front();
      }
    }
    return Status();
  }

  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    std::lock_guard lock(mu_);
    std::vector<RunRecord> out;
    for (auto id = order_.rbegin(); id != order_.rend(); ++id) {
      const Entry& entry = runs_.at(id->second);
      if (matches(entry.run, filter)) out.push_back(record(entry));
    }
    std::stable_sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) {
      return a.started_ms > b.started_ms;
    });
    if (static_cast<int>(out.size()) > filter.limit)
      out.resize(static_cast<std::size_t>(filter.limit));
    return out;
  }

  Result<RunRecord> get_run(const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return not_found("run " + run_id + " is not in the journal");
    RunRecord run = record(it->second);
    if (!run.defect.empty()) return invalid_argument(run.defect);
    return run;
  }

  Result<std::vector<Event>> events(const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return not_found("run " + run_id + " is not in the journal");
    // Read back as the SQLite journal reads its rows: each checked (runtime/journal/rows.h).
    for (const Event& e : it->second.events) {
      if (Status s = check_event(e); !s.ok()) return s;
    }
    return it->second.events;
  }

  Result<std::string> workflow_source(const std::string& hash) const override {
    std::lock_guard lock(mu_);
    auto it = workflows_.find(hash);
    if (it == workflows_.end() || !it->second.source) {
      return not_found("the journal does not hold workflow " + hash);
    }
    return *it->second.source;
  }

  Status claim_run(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return not_found("run " + run_id + " is not in the journal");
    if (it->second.run.status != "running") {
      return failed_precondition("run " + run_id + " has already finished");
    }
    return Status();
  }

  Status queue_resolution(const QueuedResolution& resolution) override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(resolution.run_id);
    if (it == runs_.end()) return not_found("run " + resolution.run_id + " is not in the journal");
    QueuedResolution stored = resolution;
    stored.id = ++last_resolution_;
    // Stored as the SQL journals store it: the body's JSON, read back through the same checks.
    auto decoded = decode_resolution_row(stored.run_id, stored.id, stored.wait_id, stored.time_ms,
                                         encode_resolution_body(stored));
    if (!decoded.ok()) return decoded.status();
    it->second.inbox.push_back(std::move(*decoded));
    return Status();
  }

  Result<std::vector<QueuedResolution>> queued_resolutions(
      const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return std::vector<QueuedResolution>();
    return it->second.inbox;
  }

  Result<GcStats> gc(std::int64_t finished_before_ms) override {
    Forgotten forgotten;
    std::lock_guard lock(mu_);
    GcStats stats;
    std::erase_if(finished_, [&](const std::string& id) {
      const Entry& e = runs_.at(id);
      if (e.run.finished_ms >= finished_before_ms) return false;
      stats.events += static_cast<std::int64_t>(e.events.size());
      ++stats.runs;
      if (forget(id, forgotten)) ++stats.workflows;
      return true;
    });
    return stats;
  }

  std::string location() const override { return ""; }
  bool writes_inline() const override { return true; }
  TenantLedger& tenant_ledger() override { return tenants_; }

 private:
  struct Entry {
    RunRecord run;
    std::vector<Event> events;
    std::uint64_t order = 0;              // its key in order_
    std::vector<QueuedResolution> inbox;  // queue_resolution, in order of arrival
  };

  // A workflow's copy (null until a run journals one) and how many kept runs are of it.
  struct WorkflowCopy {
    std::shared_ptr<const std::string> source;
    int runs = 0;
  };

  // Runs taken out of the journal, to be destroyed once the lock is released: freeing a run's
  // events is most of the cost of forgetting it, and other threads' writes need not wait for it.
  using Forgotten = std::vector<std::map<std::string, Entry>::node_type>;

  // Drops finished run `id` (into `forgotten`) and, with the last kept run of its workflow, the
  // workflow's copy; true when a copy went. REQUIRES: mu_ held; the caller removes `id` from
  // finished_.
  bool forget(const std::string& id, Forgotten& forgotten) {
    auto it = runs_.find(id);
    order_.erase(it->second.order);
    auto copy = workflows_.find(it->second.run.workflow_hash);
    forgotten.push_back(runs_.extract(it));
    if (--copy->second.runs > 0) return false;
    const bool had_source = copy->second.source != nullptr;
    workflows_.erase(copy);
    return had_source;
  }

  // The run as get_run returns it: a null result is its run_finished event's.
  static RunRecord record(const Entry& entry) {
    RunRecord run = entry.run;
    if (run.result.is_null() && run.status != "running" && !entry.events.empty() &&
        entry.events.back().type == "run_finished") {
      const Event& last = entry.events.back();
      Status checked = check_event(last);
      auto result = checked.ok() ? decode_finished_result(run.run_id, last.seq, last.payload)
                                 : Result<nlohmann::json>(checked);
      if (result.ok()) {
        run.result = std::move(result).value();
      } else {
        run.defect = result.status().message();
      }
    }
    return run;
  }
  const MemoryJournalOptions options_;
  mutable std::mutex mu_;
  InProcessTenantLedger tenants_;  // the tenants' budgets of this journal
  std::map<std::string, Entry> runs_;
  std::map<std::uint64_t, std::string> order_;  // begin_run order: key -> run id
  std::uint64_t next_order_ = 0;
  std::int64_t last_resolution_ = 0;               // the id of the last queued resolution
  std::deque<std::string> finished_;               // finished runs still kept, oldest first
  std::map<std::string, WorkflowCopy> workflows_;  // by hash, for every kept run
};

}  // namespace

std::unique_ptr<Journal> make_memory_journal(MemoryJournalOptions options) {
  return std::make_unique<MemoryJournal>(options);
}

}  // namespace switchyard::runtime
