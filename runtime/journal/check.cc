#include "runtime/journal/check.h"

#include <limits>
#include <map>
#include <optional>

#include "graph/load.h"
#include "runtime/base/hash.h"
#include "runtime/journal/rows.h"
#include "runtime/journal/sqlite_util.h"

namespace switchyard::runtime {
namespace {

using sqlite::column_is_null;
using sqlite::column_text;
using sqlite::Stmt;

// What the events of a run must end at: its row's head.
struct RunRow {
  std::string head_hash;
  std::int64_t head_seq = 0;
  bool has_events = false;
};

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

std::string head_problem(const std::string& run_id, const RunRow& run, std::int64_t last_seq,
                         std::int64_t events) {
  return "run " + valid_utf8(run_id) + ": its head names event #" + std::to_string(run.head_seq) +
         " but the journal holds " + std::to_string(events) + " event(s) ending at #" +
         std::to_string(last_seq) +
         " that chain to another head: events were deleted or the head edited";
}

Result<JournalCheck> check_snapshot(sqlite3* db, const std::string& path) {
  JournalCheck out;
  auto problem = [&out](std::string line) { out.problems.push_back(std::move(line)); };

  // The file itself: pages, indexes, constraints.
  Status s = each_row(db, path, "PRAGMA integrity_check", [&](sqlite3_stmt* row) {
    const std::string verdict = column_text(row, 0);
    if (verdict != "ok") problem("integrity: " + valid_utf8(verdict));
  });
  if (!s.ok()) return s;

  s = each_row(
      db, path, "SELECT hash, source FROM workflows ORDER BY hash", [&](sqlite3_stmt* row) {
        ++out.workflows;
        const std::string hash = column_text(row, 0);
        const std::string source = column_text(row, 1);
        auto copy = decode_workflow_copy(hash, source);
        if (!copy.ok()) return problem(copy.status().message());
        const graph::LoadResult loaded = graph::load(source, "journal:" + hash);
        if (!loaded.ok()) {
          problem("workflow " + valid_utf8(hash.substr(0, 12)) + " (stored copy): does not load: " +
                  valid_utf8(loaded.errors.front().to_string()));
        }
      });
  if (!s.ok()) return s;

  std::map<std::string, RunRow> runs;
  s = each_row(db, path,
               "SELECT run_id, input, result, head_hash, head_seq FROM runs ORDER BY run_id",
               [&](sqlite3_stmt* row) {
                 ++out.runs;
                 const std::string run_id = column_text(row, 0);
                 auto input = decode_run_column(run_id, "input", column_text(row, 1));
                 if (!input.ok()) problem(input.status().message());
                 if (!column_is_null(row, 2)) {
                   auto result = decode_run_column(run_id, "result", column_text(row, 2));
                   if (!result.ok()) problem(result.status().message());
                 }
                 runs[run_id] = RunRow{column_text(row, 3), sqlite3_column_int64(row, 4)};
               });
  if (!s.ok()) return s;

  // Events in chain order. A link is recomputed from the row's stored text and the previous
  // row's stored link: an edited row breaks its own link only, so each one is named.
  std::string run_id;  // the run whose events are being read
  std::string prev_link;
  std::int64_t last_seq = 0;
  std::int64_t count = 0;
  auto close_run = [&] {
    if (run_id.empty()) return;
    auto it = runs.find(run_id);
    if (it == runs.end()) {
      problem("run " + valid_utf8(run_id) + ": " + std::to_string(count) +
              " event(s) but no row in runs");
      return;
    }
    it->second.has_events = true;
    if (it->second.head_seq != last_seq || it->second.head_hash != prev_link) {
      problem(head_problem(run_id, it->second, last_seq, count));
    }
  };
  s = each_row(
      db, path, "SELECT run_id, seq, time_ms, type, payload, hash FROM events ORDER BY run_id, seq",
      [&](sqlite3_stmt* row) {
        ++out.events;
        std::string id = column_text(row, 0);
        if (id != run_id) {
          close_run();
          run_id = std::move(id);
          prev_link.clear();
          last_seq = 0;
          count = 0;
        }
        ++count;
        const std::int64_t seq = sqlite3_column_int64(row, 1);
        const std::int64_t time_ms = sqlite3_column_int64(row, 2);
        const std::string type = column_text(row, 3);
        const std::string payload = column_text(row, 4);
        const std::string hash = column_text(row, 5);
        if (seq != last_seq + 1) {
          problem("run " + valid_utf8(run_id) + ": event #" + std::to_string(last_seq + 1) +
                  " is missing (the next one stored is #" + std::to_string(seq) +
                  "): events were deleted");
        }
        auto decoded = decode_event_row(run_id, seq, time_ms, type, payload, hash);
        if (!decoded.ok()) problem(decoded.status().message());
        if (event_link(prev_link, run_id, seq, time_ms, type, payload) != hash) {
          problem(row_name(run_id, seq, type) +
                  ": does not match its hash: it was edited, or events before it were reordered");
        }
        prev_link = hash;
        last_seq = seq;
      });
  if (!s.ok()) return s;
  close_run();
  for (const auto& [id, run] : runs) {
    if (!run.has_events && run.head_seq != 0) problem(head_problem(id, run, 0, 0));
  }
  return out;
}

}  // namespace

Result<JournalCheck> check_sqlite_journal(sqlite3* db, const std::string& path) {
  // One read transaction: one snapshot of the file, whatever other processes commit meanwhile.
  if (Status s = sqlite::exec(db, path, "BEGIN"); !s.ok()) return s;
  auto checked = check_snapshot(db, path);
  sqlite::exec(db, path, "COMMIT").ok();
  return checked;
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
  }
  return out;
}

}  // namespace switchyard::runtime
