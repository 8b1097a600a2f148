#include "runtime/journal/check.h"

#include <limits>
#include <map>
#include <optional>
#include <set>

#include "graph/json_read.h"
#include "graph/load.h"
#include "runtime/base/hash.h"
#include "runtime/journal/row_check.h"
#include "runtime/journal/rows.h"
#include "runtime/journal/sqlite_util.h"

namespace switchyard::runtime {
namespace {

using sqlite::column_is_null;
using sqlite::column_text;
using sqlite::Stmt;

// Steps through every row of `sql`, calling `row` for each. An error stops it.
template <typename Row>
Status each_row(sqlite3* db, const std::string& path, const char* sql, Row&& row) {
  Stmt stmt;
  if (sqlite3_prepare_v2(db, sql, -1, stmt.out(), nullptr) != SQLITE_OK) {
    return sqlite::error_status(db, path, "cannot check the journal");
  }
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) row(stmt.get());
  if (rc != SQLITE_DONE) return sqlite::error_status(db, path, "cannot check the journal");
  return Status();
}

Result<JournalCheck> check_snapshot(sqlite3* db, const std::string& path) {
  RowChecker checker;
  // The file itself: pages, indexes, constraints.
  Status s = each_row(db, path, "PRAGMA integrity_check", [&](sqlite3_stmt* row) {
    const std::string verdict = column_text(row, 0);
    if (verdict != "ok") checker.problem("integrity: " + valid_utf8(verdict));
  });
  if (!s.ok()) return s;
  s = each_row(
      db, path, "SELECT hash, source FROM workflows ORDER BY hash",
      [&](sqlite3_stmt* row) { checker.workflow(column_text(row, 0), column_text(row, 1)); });
  if (!s.ok()) return s;
  s = each_row(db, path,
               "SELECT run_id, input, result, head_hash, head_seq FROM runs ORDER BY run_id",
               [&](sqlite3_stmt* row) {
                 const std::string result = column_text(row, 2);
                 checker.run(column_text(row, 0), column_text(row, 1),
                             column_is_null(row, 2) ? nullptr : &result, column_text(row, 3),
                             sqlite3_column_int64(row, 4));
               });
  if (!s.ok()) return s;
  s = each_row(db, path,
               "SELECT run_id, seq, time_ms, type, payload, hash FROM events ORDER BY run_id, seq",
               [&](sqlite3_stmt* row) {
                 checker.event(column_text(row, 0), sqlite3_column_int64(row, 1),
                               sqlite3_column_int64(row, 2), column_text(row, 3),
                               column_text(row, 4), column_text(row, 5));
               });
  if (!s.ok()) return s;
  s = each_row(db, path, "SELECT run_id, id, wait_id, time_ms, body FROM wait_inbox ORDER BY id",
               [&](sqlite3_stmt* row) {
                 checker.inbox(column_text(row, 0), sqlite3_column_int64(row, 1),
                               column_text(row, 2), sqlite3_column_int64(row, 3),
                               column_text(row, 4));
               });
  if (!s.ok()) return s;
  return checker.finish();
}

}  // namespace

Result<JournalCheck> check_sqlite_journal(sqlite3* db, const std::string& path) {
  // One read transaction: one snapshot of the file, whatever other processes commit meanwhile.
  if (Status s = sqlite::exec(db, path, "BEGIN"); !s.ok()) return s;
  auto checked = check_snapshot(db, path);
  sqlite::exec(db, path, "COMMIT").ok();
  return checked;
}

namespace {

// How `journal check` names wait inbox row `id` of run `run_id`.
std::string inbox_row_name(const std::string& run_id, std::int64_t id) {
  return "run " + valid_utf8(run_id) + " queued resolution " + std::to_string(id) + " (wait_inbox)";
}

// The problem of an inbox row whose wait no wait_started of its run names: applied to nothing.
std::string dangling_wait_problem(const std::string& row, const std::string& wait_id) {
  return row + ": the run has no wait '" + valid_utf8(wait_id) +
         "' (no wait_started names it): a dangling inbox row, applied to nothing";
}

std::string head_problem(const std::string& run_id, std::int64_t head_seq, std::int64_t last_seq,
                         std::int64_t events) {
  return "run " + valid_utf8(run_id) + ": its head names event #" + std::to_string(head_seq) +
         " but the journal holds " + std::to_string(events) + " event(s) ending at #" +
         std::to_string(last_seq) +
         " that chain to another head: events were deleted or the head edited";
}

}  // namespace

void RowChecker::workflow(std::string_view hash, std::string_view source) {
  ++out_.workflows;
  auto copy = decode_workflow_copy(hash, source);
  if (!copy.ok()) return problem(copy.status().message());
  const graph::LoadResult loaded = graph::load(std::string(source), "journal:" + std::string(hash));
  if (!loaded.ok()) {
    problem("workflow " + valid_utf8(hash.substr(0, 12)) +
            " (stored copy): does not load: " + valid_utf8(loaded.errors.front().to_string()));
  }
}

void RowChecker::run(const std::string& run_id, std::string_view input, const std::string* result,
                     std::string head_hash, std::int64_t head_seq) {
  ++out_.runs;
  auto decoded = decode_run_column(run_id, "input", input);
  if (!decoded.ok()) problem(decoded.status().message());
  if (result != nullptr) {
    auto r = decode_run_column(run_id, "result", *result);
    if (!r.ok()) problem(r.status().message());
  }
  runs_[run_id] = RunRow{std::move(head_hash), head_seq, false, {}};
}

void RowChecker::close_run() {
  if (run_id_.empty()) return;
  auto it = runs_.find(run_id_);
  if (it == runs_.end()) {
    problem("run " + valid_utf8(run_id_) + ": " + std::to_string(count_) +
            " event(s) but no row in runs");
    return;
  }
  it->second.has_events = true;
  it->second.waits = std::move(waits_);
  if (it->second.head_seq != last_seq_ || it->second.head_hash != prev_link_) {
    problem(head_problem(run_id_, it->second.head_seq, last_seq_, count_));
  }
}

void RowChecker::event(const std::string& run_id, std::int64_t seq, std::int64_t time_ms,
                       std::string_view type, std::string_view payload, std::string_view hash) {
  ++out_.events;
  if (run_id != run_id_) {
    close_run();
    run_id_ = run_id;
    prev_link_.clear();
    last_seq_ = 0;
    count_ = 0;
    waits_.clear();
  }
  ++count_;
  if (seq != last_seq_ + 1) {
    problem("run " + valid_utf8(run_id_) + ": event #" + std::to_string(last_seq_ + 1) +
            " is missing (the next one stored is #" + std::to_string(seq) +
            "): events were deleted");
  }
  auto decoded =
      decode_event_row(run_id_, seq, time_ms, std::string(type), payload, std::string(hash));
  if (!decoded.ok()) {
    problem(decoded.status().message());
  } else if (type == "wait_started") {
    waits_.insert(lenient_string(decoded->payload, "wait"));
  }
  if (event_link(prev_link_, run_id_, seq, time_ms, type, payload) != hash) {
    problem(row_name(run_id_, seq, type) +
            ": does not match its hash: it was edited, or events before it were reordered");
  }
  prev_link_ = std::string(hash);
  last_seq_ = seq;
}

void RowChecker::inbox(const std::string& run_id, std::int64_t id, const std::string& wait_id,
                       std::int64_t time_ms, std::string_view body) {
  if (!run_id_.empty()) {  // the events are over
    close_run();
    run_id_.clear();
  }
  ++out_.queued_resolutions;
  auto decoded = decode_resolution_row(run_id, id, wait_id, time_ms, body);
  if (!decoded.ok()) problem(decoded.status().message());
  const std::string row = inbox_row_name(run_id, id);
  auto run = runs_.find(run_id);
  if (run == runs_.end()) {
    return problem(row + ": the run is not in the journal: a dangling inbox row (its run was " +
                   "deleted, or the row's run_id edited)");
  }
  // A cancellation names no wait (decode_resolution_row checks that it names none).
  if (!wait_id.empty() && run->second.waits.count(wait_id) == 0) {
    problem(dangling_wait_problem(row, wait_id));
  }
}

JournalCheck RowChecker::finish() {
  close_run();
  run_id_.clear();
  for (const auto& [id, run] : runs_) {
    if (!run.has_events && run.head_seq != 0) problem(head_problem(id, run.head_seq, 0, 0));
  }
  return std::move(out_);
}

Result<std::vector<Event>> Journal::events_after(const std::string& run_id,
                                                 std::int64_t after_seq) const {
  auto all = events(run_id);
  if (!all.ok()) return all.status();
  std::vector<Event> out;
  for (Event& e : *all) {
    if (e.seq > after_seq) out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<ClaimedRun>> RunQueue::claim_many(
    const std::string& owner, const std::vector<std::string>& workflow_hashes, std::int64_t now_ms,
    std::int64_t lease_ms, int limit) {
  std::vector<ClaimedRun> out;
  while (static_cast<int>(out.size()) < limit) {
    auto one = claim(owner, workflow_hashes, now_ms, lease_ms);
    if (!one.ok()) {
      if (out.empty()) return one.status();
      break;  // those claimed are held: the caller starts them
    }
    if (!one->has_value()) break;
    out.push_back(std::move(**one));
  }
  return out;
}

Result<JournalCheck> Journal::check() const {
  JournalCheck out;
  RunFilter filter;
  filter.limit = std::numeric_limits<int>::max();
  auto runs = list_runs(filter);
  if (!runs.ok()) return runs.status();
  for (const RunRecord& run : *runs) {
    ++out.runs;
    if (!run.defect.empty()) {
      out.problems.push_back(run.defect);
      continue;
    }
    auto events = this->events(run.run_id);
    if (!events.ok()) {
      if (events.status().code() != StatusCode::kInvalidArgument) return events.status();
      out.problems.push_back(events.status().message());
      continue;
    }
    out.events += static_cast<std::int64_t>(events->size());
    // The run's wait inbox, as RowChecker::inbox reads the SQL journals' rows: each resolution's
    // wait must be one the run's events started (a cancellation names none). Its rows were
    // decoded and checked when queued; they go with their run, so none dangles without one.
    std::set<std::string> waits;
    for (const Event& e : *events) {
      if (e.type == "wait_started") waits.insert(lenient_string(e.payload, "wait"));
    }
    auto inbox = queued_resolutions(run.run_id);
    if (!inbox.ok()) {
      if (inbox.status().code() != StatusCode::kInvalidArgument) return inbox.status();
      out.problems.push_back(inbox.status().message());
      continue;
    }
    for (const QueuedResolution& q : *inbox) {
      ++out.queued_resolutions;
      if (!q.wait_id.empty() && waits.count(q.wait_id) == 0) {
        out.problems.push_back(dangling_wait_problem(inbox_row_name(run.run_id, q.id), q.wait_id));
      }
    }
  }
  return out;
}

}  // namespace switchyard::runtime
