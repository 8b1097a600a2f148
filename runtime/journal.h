#pragma once
// The journal: every run and every decision of a run, as events in order.
//
// Two implementations: a SQLite file in WAL mode (open_sqlite_journal; what users audit, replay
// and resume) and an in-memory one (make_memory_journal; evaluation and benchmarks only).
// A journal that cannot be opened or written is an error (StatusCode::kIo), never a silent
// fallback to memory.
//
// Thread-safety: every method may be called from any thread; calls are serialized internally.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/status.h"

namespace switchyard::runtime {

// One journaled event. `seq` is 1-based and dense within a run.
struct Event {
  std::string run_id;
  std::int64_t seq = 0;
  std::int64_t time_ms = 0;  // Unix time in milliseconds
  std::string type;          // run_started, plan, step_started, ... (docs/journal.md)
  nlohmann::json payload;    // an object
};

// One run's row.
struct RunRecord {
  std::string run_id;
  std::string workflow;       // the workflow's name
  std::string workflow_hash;  // hex SHA-256 of the workflow's canonical JSON
  std::string status;         // running, completed, demoted, escalated, failed
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;  // 0 while running
  nlohmann::json input;          // the run's input
  nlohmann::json result;         // the run's result (null while running)
};

struct RunFilter {
  std::optional<std::string> status;
  std::optional<std::string> workflow;
  std::optional<std::int64_t> since_ms;  // started at or after
  std::optional<std::int64_t> until_ms;  // started before
  int limit = 1000;
};

class Journal {
 public:
  virtual ~Journal() = default;

  // Records a new run (status "running"). Error if the run id exists.
  virtual Status begin_run(const RunRecord& run) = 0;
  // Appends events (seq must continue the run's sequence). All or nothing.
  virtual Status append(const std::vector<Event>& events) = 0;
  // The same, for events the caller no longer needs: an implementation that keeps them in
  // memory moves them in instead of copying.
  virtual Status append(std::vector<Event>&& events) {
    return append(static_cast<const std::vector<Event>&>(events));
  }
  // Sets the run's final status, result and finish time.
  virtual Status finish_run(const std::string& run_id, const std::string& status,
                            const nlohmann::json& result, std::int64_t finished_ms) = 0;

  // Runs matching `filter`, newest first.
  virtual Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const = 0;
  // One run. kNotFound if unknown.
  virtual Result<RunRecord> get_run(const std::string& run_id) const = 0;
  // The run's events in sequence order. kNotFound if the run is unknown.
  virtual Result<std::vector<Event>> events(const std::string& run_id) const = 0;

  // Where the journal lives ("" for memory).
  virtual std::string location() const = 0;
};

struct JournalOptions {
  // Create the file when it does not exist (run). Readers (runs, replay) pass false and get
  // kNotFound instead of an empty new journal.
  bool create_if_missing = true;
};

// Opens the SQLite journal at `path`, creating it (when allowed) and upgrading its schema if it
// is older. Errors: kNotFound (missing and not to be created); kIo: cannot create or open, not a
// journal (not SQLite, or a database with tables of its own), a newer schema than this build
// knows, locked by another process beyond the busy timeout. Nothing is changed on error.
Result<std::unique_ptr<Journal>> open_sqlite_journal(const std::string& path,
                                                     const JournalOptions& options = {});

// A journal in memory: lost when destroyed. For evaluation and benchmarks.
std::unique_ptr<Journal> make_memory_journal();

}  // namespace switchyard::runtime
