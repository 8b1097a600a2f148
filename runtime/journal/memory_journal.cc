// The in-memory Journal: evaluation and benchmarks. Same rules as the SQLite one.

#include <algorithm>
#include <map>
#include <mutex>

#include "runtime/journal/checks.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {
namespace {

class MemoryJournal final : public Journal {
 public:
  Status begin_run(const RunRecord& run) override {
    std::lock_guard lock(mu_);
    if (!runs_.emplace(run.run_id, Entry{run, {}}).second) {
      return invalid_argument("run " + run.run_id + " is already in the journal");
    }
    order_.push_back(run.run_id);
    if (run.workflow_source) workflows_.emplace(run.workflow_hash, run.workflow_source);
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
    std::lock_guard lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return not_found("run " + run_id + " is not in the journal");
    it->second.run.status = status;
    it->second.run.result = result;
    it->second.run.finished_ms = finished_ms;
    return Status();
  }

  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    std::lock_guard lock(mu_);
    std::vector<RunRecord> out;
    for (auto id = order_.rbegin(); id != order_.rend(); ++id) {
      const Entry& entry = runs_.at(*id);
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
    if (it == workflows_.end()) return not_found("the journal does not hold workflow " + hash);
    return *it->second;
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

  Result<GcStats> gc(std::int64_t finished_before_ms) override {
    std::lock_guard lock(mu_);
    GcStats stats;
    std::erase_if(order_, [&](const std::string& id) {
      auto it = runs_.find(id);
      const RunRecord& r = it->second.run;
      if (r.status == "running" || r.finished_ms >= finished_before_ms) return false;
      stats.events += static_cast<std::int64_t>(it->second.events.size());
      ++stats.runs;
      runs_.erase(it);
      return true;
    });
    std::erase_if(workflows_, [&](const auto& entry) {
      for (const auto& [id, e] : runs_) {
        if (e.run.workflow_hash == entry.first) return false;
      }
      ++stats.workflows;
      return true;
    });
    return stats;
  }

  std::string location() const override { return ""; }

 private:
  struct Entry {
    RunRecord run;
    std::vector<Event> events;
  };
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
  mutable std::mutex mu_;
  std::map<std::string, Entry> runs_;
  std::vector<std::string> order_;                                       // insertion order
  std::map<std::string, std::shared_ptr<const std::string>> workflows_;  // by hash
};

}  // namespace

std::unique_ptr<Journal> make_memory_journal() { return std::make_unique<MemoryJournal>(); }

}  // namespace switchyard::runtime
