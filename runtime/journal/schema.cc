#include "runtime/journal/schema.h"

#include <iterator>
#include <vector>

#include "runtime/base/hash.h"
#include "runtime/journal/sqlite_util.h"

namespace switchyard::runtime {
namespace {

using sqlite::bind_value;
using sqlite::column_text;

// 0 -> 1: runs and their events.
constexpr const char* kVersion1 = R"sql(
    CREATE TABLE runs (
      run_id        TEXT PRIMARY KEY,
      workflow      TEXT NOT NULL,
      workflow_hash TEXT NOT NULL,
      status        TEXT NOT NULL,
      started_ms    INTEGER NOT NULL,
      finished_ms   INTEGER,
      input         TEXT NOT NULL,
      result        TEXT
    );
    CREATE INDEX runs_by_status ON runs(status);
    CREATE INDEX runs_by_workflow ON runs(workflow);
    CREATE INDEX runs_by_start ON runs(started_ms);
    CREATE TABLE events (
      run_id  TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
      seq     INTEGER NOT NULL,
      time_ms INTEGER NOT NULL,
      type    TEXT NOT NULL,
      payload TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    )sql";

// 1 -> 2: the hash chain (events.hash, runs.head_hash/head_seq), the owner of a run (resume),
// and the workflows themselves (replay and resume rebuild them).
constexpr const char* kVersion2 = R"sql(
    ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN head_hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN head_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN owner_pid INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_by_finish ON runs(finished_ms);
    CREATE TABLE workflows (
      hash   TEXT PRIMARY KEY,
      name   TEXT NOT NULL,
      source TEXT NOT NULL
    ) WITHOUT ROWID;
    )sql";

// 2 -> 3: events in insertion order (a rowid table) with a unique index on (run_id, seq),
// instead of a table clustered on (run_id, seq) that references runs. Many runs append at once:
// clustered, each append lands at its own place of the big tree (page splits, one dirty page per
// run per commit); in insertion order the rows of a commit share the last pages and only the
// small index entries scatter. gc deletes a run's events itself (no more ON DELETE CASCADE), and
// an append no longer looks its run up (the journal checks the run's head anyway).
constexpr const char* kVersion3 = R"sql(
    CREATE TABLE events_v3 (
      run_id  TEXT NOT NULL,
      seq     INTEGER NOT NULL,
      time_ms INTEGER NOT NULL,
      type    TEXT NOT NULL,
      payload TEXT NOT NULL,
      hash    TEXT NOT NULL DEFAULT ''
    );
    INSERT INTO events_v3 (run_id, seq, time_ms, type, payload, hash)
      SELECT run_id, seq, time_ms, type, payload, hash FROM events ORDER BY run_id, seq;
    DROP TABLE events;
    ALTER TABLE events_v3 RENAME TO events;
    CREATE UNIQUE INDEX events_by_run ON events(run_id, seq);
    )sql";

// 3 -> 4: the runs still running in a partial index, instead of every run in runs_by_status.
// Finishing a run then removes one small entry instead of moving its entry from 'running' to the
// end of its final status's range (an insert into the middle of the index, which split pages);
// `resume --all` and `runs --status running` find the running runs in it.
constexpr const char* kVersion4 = R"sql(
    DROP INDEX runs_by_status;
    CREATE INDEX runs_running ON runs(started_ms) WHERE status = 'running';
    )sql";

// 4 -> 5: a run may be finished with a NULL result: its result is then its run_finished event's
// payload (with run_id), not stored a second time in its row, whose update at the run's end no
// longer grows it by the whole result. The view run_results gives every finished run's result
// either way, for the sqlite3 shell. An older switchyard, which would read such runs as having
// no result, refuses the journal.
constexpr const char* kVersion5 = R"sql(
    CREATE VIEW run_results AS
      SELECT r.run_id, r.workflow, r.status, r.started_ms, r.finished_ms,
             COALESCE(r.result, e.payload) AS result
      FROM runs r LEFT JOIN events e
        ON r.result IS NULL AND r.status != 'running' AND e.run_id = r.run_id
           AND e.seq = r.head_seq AND e.type = 'run_finished';
    )sql";

// 5 -> 6: the wait inbox (docs/waits.md#while-no-process-holds-the-run): resolutions of waits
// sent while no process held their run, applied when the run is resumed. `body` holds the
// decision, data, reason, by and key as JSON.
constexpr const char* kVersion6 = R"sql(
    CREATE TABLE wait_inbox (
      id      INTEGER PRIMARY KEY,
      run_id  TEXT NOT NULL,
      wait_id TEXT NOT NULL,
      time_ms INTEGER NOT NULL,
      body    TEXT NOT NULL
    );
    CREATE INDEX wait_inbox_by_run ON wait_inbox(run_id, id);
    )sql";

// 6 -> 7: tenant budgets (docs/budgets.md#tenant-budgets): per tenant key its cap (NULL: none),
// what its runs spent and what their calls in flight reserved, in micro-dollars; and each call's
// reservation by (run, call), so that a run taken over or resumed finds the ones never settled.
constexpr const char* kVersion7 = R"sql(
    CREATE TABLE tenant_budgets (
      tenant          TEXT PRIMARY KEY,
      cap_micros      INTEGER,
      spent_micros    INTEGER NOT NULL DEFAULT 0,
      reserved_micros INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE tenant_reservations (
      run_id     TEXT NOT NULL,
      call       INTEGER NOT NULL,
      tenant     TEXT NOT NULL,
      usd_micros INTEGER NOT NULL,
      PRIMARY KEY (run_id, call)
    ) WITHOUT ROWID;
    )sql";

// Version 2 chains the events a version-1 journal already holds, in seq order per run, so that
// `replay --verify` covers them too (their content is what it was; from now on it is sealed).
Status chain_existing_events(sqlite3* db, const std::string& path) {
  sqlite::Stmt read, write, head;
  if (sqlite3_prepare_v2(db,
                         "SELECT run_id, seq, time_ms, type, payload FROM events "
                         "ORDER BY run_id, seq",
                         -1, read.out(), nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE events SET hash = ?1 WHERE run_id = ?2 AND seq = ?3", -1,
                         write.out(), nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE runs SET head_hash = ?1, head_seq = ?2 WHERE run_id = ?3", -1,
                         head.out(), nullptr) != SQLITE_OK) {
    return sqlite::error_status(db, path, "cannot upgrade to version 2");
  }
  std::string run, link;
  std::int64_t last_seq = 0;
  auto close_run = [&]() -> bool {
    if (run.empty()) return true;
    bind_value(head.get(), 1, link);
    bind_value(head.get(), 2, last_seq);
    bind_value(head.get(), 3, run);
    const bool ok = sqlite3_step(head.get()) == SQLITE_DONE;
    head.reset();
    return ok;
  };
  int rc;
  while ((rc = sqlite3_step(read.get())) == SQLITE_ROW) {
    std::string id = column_text(read.get(), 0);
    if (id != run) {
      if (!close_run()) return sqlite::error_status(db, path, "cannot upgrade to version 2");
      run = std::move(id);
      link.clear();
    }
    last_seq = sqlite3_column_int64(read.get(), 1);
    link = event_link(link, run, last_seq, sqlite3_column_int64(read.get(), 2),
                      column_text(read.get(), 3), column_text(read.get(), 4));
    bind_value(write.get(), 1, link);
    bind_value(write.get(), 2, run);
    bind_value(write.get(), 3, last_seq);
    const bool ok = sqlite3_step(write.get()) == SQLITE_DONE;
    write.reset();
    if (!ok) return sqlite::error_status(db, path, "cannot upgrade to version 2");
  }
  if (rc != SQLITE_DONE || !close_run()) {
    return sqlite::error_status(db, path, "cannot upgrade to version 2");
  }
  return Status();
}

struct Migration {
  const char* sql;
  Status (*after)(sqlite3*, const std::string&);  // may be null
};
const Migration kMigrations[] = {
    {kVersion1, nullptr},                // runs, events
    {kVersion2, chain_existing_events},  // the hash chain, workflows
    {kVersion3, nullptr},                // events in insertion order
    {kVersion4, nullptr},                // runs_running
    {kVersion5, nullptr},                // results in run_finished
    {kVersion6, nullptr},                // the wait inbox
    {kVersion7, nullptr},                // tenant budgets
};

}  // namespace

int journal_schema_version() { return static_cast<int>(std::size(kMigrations)); }

Status migrate_journal(sqlite3* db, const std::string& path, int from) {
  if (Status s = sqlite::exec(db, path, "BEGIN IMMEDIATE"); !s.ok()) return s;
  const Migration& m = kMigrations[from];
  Status s = sqlite::exec(db, path, m.sql);
  if (s.ok() && m.after != nullptr) s = m.after(db, path);
  const std::string set_version = "PRAGMA user_version = " + std::to_string(from + 1);
  if (s.ok()) s = sqlite::exec(db, path, set_version.c_str());
  if (s.ok()) s = sqlite::exec(db, path, "COMMIT");
  if (!s.ok()) sqlite::exec(db, path, "ROLLBACK").ok();
  return s;
}

}  // namespace switchyard::runtime
