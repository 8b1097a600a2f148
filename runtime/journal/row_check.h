#pragma once
// The checks of `switchyard journal check` on rows as stored, whatever stores them: a backend
// feeds its workflow copies, run rows and event rows (events in (run_id, seq) order) and gets
// every problem, one line each (docs/journal.md#checking-a-journal). Private to runtime/journal/.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

class RowChecker {
 public:
  // A stored workflow copy: decoded and loaded as a workflow.
  void workflow(std::string_view hash, std::string_view source);
  // A runs row: its JSON columns decoded (`result` null: none stored).
  void run(const std::string& run_id, std::string_view input, const std::string* result,
           std::string head_hash, std::int64_t head_seq);
  // An event row, in (run_id, seq) order after every run(): decoded and checked, its link
  // recomputed from the stored text and the previous row's stored link (so every edited row is
  // named, not only a run's first), gaps in seq named.
  void event(const std::string& run_id, std::int64_t seq, std::int64_t time_ms,
             std::string_view type, std::string_view payload, std::string_view hash);
  // A wait inbox row (Journal::queue_resolution), after every event(): its body decoded and
  // checked, its run in the runs table and its wait one the run's events started (a
  // wait_started of that id; a cancellation names none): a row for an unknown run or wait is
  // dangling, applied to nothing.
  void inbox(const std::string& run_id, std::int64_t id, const std::string& wait_id,
             std::int64_t time_ms, std::string_view body);
  // Closes the last run (its head against its events) and names the runs whose head names events
  // there are none of. Call once, after every row.
  JournalCheck finish();

  // A problem found elsewhere (the storage's own check).
  void problem(std::string line) { out_.problems.push_back(std::move(line)); }

 private:
  struct RunRow {
    std::string head_hash;
    std::int64_t head_seq = 0;
    bool has_events = false;
    std::set<std::string> waits;  // the wait ids its wait_started events name
  };
  void close_run();

  JournalCheck out_;
  std::map<std::string, RunRow> runs_;
  std::string run_id_;  // the run whose events are being read
  std::string prev_link_;
  std::int64_t last_seq_ = 0;
  std::int64_t count_ = 0;
  std::set<std::string> waits_;  // the wait ids started by the run whose events are being read
};

}  // namespace switchyard::runtime
