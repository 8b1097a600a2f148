// The SQLite Journal: one file, WAL mode, schema versioned by PRAGMA user_version.
// docs/journal.md describes the schema, the migrations, the hash chain and what is durable when.

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <unordered_map>

#include "runtime/base/crash_point.h"
#include "runtime/base/hash.h"
#include "runtime/base/log.h"
#include "runtime/journal/check.h"
#include "runtime/journal/checks.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/rows.h"
#include "runtime/journal/schema.h"
#include "runtime/journal/sql_journal.h"
#include "runtime/journal/sqlite_tenants.h"
#include "runtime/journal/sqlite_util.h"
#include "runtime/journal/waiting.h"
#include "runtime/journal/wal_checkpointer.h"

namespace switchyard::runtime {
namespace {

using sqlite::bind_static;
using sqlite::bind_value;
using sqlite::column_is_null;
using sqlite::column_text;
using sqlite::column_utf8;
using sqlite::Stmt;

// The columns read_run() expects, in order. A run finished with a null result (schema version
// 5) has it in its last event, run_finished: its payload is the last column (the same rule as
// the view run_results, journal_schema.cc, and the memory journal's record()).
constexpr const char* kRunColumns =
    "run_id, workflow, workflow_hash, status, started_ms, finished_ms, input, result, head_hash, "
    "head_seq, owner_pid, (SELECT e.payload FROM events e WHERE runs.result IS NULL AND "
    "runs.status != 'running' AND e.run_id = runs.run_id AND e.seq = runs.head_seq AND "
    "e.type = 'run_finished')";

class SqliteJournal final : public SqlJournal {
 public:
  explicit SqliteJournal(std::string path) : path_(std::move(path)) {}
  // close_v2 defers the close until the prepared statements (members, destroyed after this body)
  // are finalized.
  ~SqliteJournal() override {
    checkpointer_.reset();  // its connection closes first: the writer's close ends the log
    sqlite3_close_v2(db_);
  }

  Status open(const JournalOptions& options) {
    std::error_code ec;
    if (!options.create_if_missing && !std::filesystem::exists(path_, ec)) {
      return not_found("journal not found: " + path_);
    }
    // No mutex of SQLite's own on the connection: every use of db_ holds mu_ (binding an
    // event's six parameters would otherwise lock and unlock it six times).
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                      (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return fail("cannot open");
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
    auto version = user_version();  // the first read: fails on a file that is not SQLite
    if (!version.ok()) return version.status();
    const int current = journal_schema_version();
    if (*version > current) {
      return io_error("journal " + path_ + " has schema version " + std::to_string(*version) +
                      ", newer than this build knows (" + std::to_string(current) +
                      "): use a newer switchyard");
    }
    if (*version == 0) {
      auto tables = count("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
      if (!tables.ok()) return tables.status();
      if (*tables > 0) {
        return io_error("journal " + path_ +
                        " is a SQLite database with tables of its own, not a "
                        "switchyard journal: refusing to touch it");
      }
    }
    const std::string sync = options.sync == JournalSync::kFull ? "PRAGMA synchronous=FULL"
                                                                : "PRAGMA synchronous=NORMAL";
    // A 64 MiB page cache: many runs append at once, each at its own place of the events tree.
    // Temporary files in memory: every write of a group has its savepoint, whose sub-journal
    // (the pages' content before the write) would otherwise spill to a file on disk.
    for (const char* pragma : {"PRAGMA journal_mode=WAL", sync.c_str(), "PRAGMA foreign_keys=ON",
                               "PRAGMA cache_size=-65536", "PRAGMA temp_store=MEMORY"}) {
      if (Status s = exec(pragma); !s.ok()) return s;
    }
    if (options.max_bytes > 0) {
      auto page = count("PRAGMA page_size");
      if (!page.ok()) return page.status();
      const std::string limit = "PRAGMA max_page_count = " + std::to_string(std::max<std::int64_t>(
                                                                 1, options.max_bytes / *page));
      if (Status s = exec(limit.c_str()); !s.ok()) return s;
    }
    for (int v = *version; v < current; ++v) {
      if (Status s = migrate_journal(db_, path_, v); !s.ok()) return s;
      if (*version > 0) logger().info("journal {}: schema upgraded to version {}", path_, v + 1);
    }
    if (Status s = prepare_all(); !s.ok()) return s;
    // Checkpoints leave the writer's thread (runtime/journal/wal_checkpointer.h).
    tenants_ = sqlite_tenant_ledger(path_, options.busy_timeout);
    checkpointer_ = std::make_unique<WalCheckpointer>(
        db_, path_, static_cast<int>(options.busy_timeout.count()), options.on_checkpoint);
    return Status();
  }

  Status begin_run(const RunRecord& run) override {
    std::lock_guard lock(mu_);
    const bool store_workflow = must_store_workflow(run);
    Status st = atomically([&]() -> Status {
      if (store_workflow) {
        sqlite3_stmt* w = insert_workflow_.get();
        bind_value(w, 1, run.workflow_hash);
        bind_value(w, 2, run.workflow);
        bind_value(w, 3, *run.workflow_source);
        const int rc = sqlite3_step(w);
        insert_workflow_.reset();
        if (rc != SQLITE_DONE) return fail("cannot record the workflow of run " + run.run_id);
      }
      sqlite3_stmt* s = insert_run_.get();
      bind_value(s, 1, run.run_id);
      bind_value(s, 2, run.workflow);
      bind_value(s, 3, run.workflow_hash);
      bind_value(s, 4, run.status);
      bind_value(s, 5, run.started_ms);
      bind_value(s, 6, run.input.dump());
      bind_value(s, 7, static_cast<std::int64_t>(::getpid()));
      const int rc = sqlite3_step(s);
      Status error;
      if (rc != SQLITE_DONE) {
        error = sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY
                    ? invalid_argument("run " + run.run_id + " is already in the journal " + path_)
                    : fail("cannot record run " + run.run_id);
      }
      insert_run_.reset();
      return error;
    });
    if (!st.ok()) return st;
    began(run, store_workflow);
    return Status();
  }

  using Journal::append;
  Status append(const std::vector<Event>& events) override {
    if (events.empty()) return Status();
    std::lock_guard lock(mu_);
    const std::string& run_id = events.front().run_id;
    auto head = read_head(run_id);
    if (!head.ok()) return head.status();
    if (Status s = check_append(events, head->seq); !s.ok()) return s;
    Head next = *head;
    Status st = atomically([&]() -> Status {
      std::string payload;  // of an event that is not sealed
      for (const Event& e : events) {
        if (Status s = link_event(run_id, e, next, payload); !s.ok()) return s;
        sqlite3_stmt* s = insert_event_.get();
        // Static: the strings outlive the step, and every parameter is bound again each time.
        bind_static(s, 1, e.run_id);
        bind_value(s, 2, e.seq);
        bind_value(s, 3, e.time_ms);
        bind_static(s, 4, e.type);
        bind_static(s, 5, stored_payload(e, payload));
        bind_static(s, 6, next.hash);
        const int rc = sqlite3_step(s);
        insert_event_.reset();
        if (rc != SQLITE_DONE) {
          return fail("cannot append event " + std::to_string(e.seq) + " of run " + run_id);
        }
        if (&e == &events.front() && events.size() > 1) crash_point("inside_append");
      }
      // In a group, the run's row gets its head once, at the end of the group or with
      // finish_run, however many of its appends the group holds.
      if (in_group_) return Status();
      return store_head(run_id, next);
    });
    if (!st.ok()) return st;
    appended(run_id, std::move(next));
    return st;
  }

  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override {
    std::lock_guard lock(mu_);
    // The run's row gets its final state and its head in one update.
    auto head = read_head(run_id);
    if (!head.ok()) return noted(head.status());
    sqlite3_stmt* s = finish_.get();
    bind_value(s, 1, status);
    if (result.is_null()) {
      sqlite3_bind_null(s, 2);  // the run_finished event's payload (kRunColumns)
    } else {
      bind_value(s, 2, result.dump());
    }
    bind_value(s, 3, finished_ms);
    bind_value(s, 4, run_id);
    bind_static(s, 5, head->hash);
    bind_value(s, 6, head->seq);
    const int rc = sqlite3_step(s);
    finish_.reset();
    if (rc != SQLITE_DONE) return noted(fail("cannot finish run " + run_id));
    if (sqlite3_changes(db_) == 0) {
      return noted(not_found("run " + run_id + " is not in the journal"));
    }
    finished(run_id, *head);
    return Status();
  }

  Status claim_run(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    Stmt stmt;
    if (sqlite3_prepare_v2(
            db_, "UPDATE runs SET owner_pid = ?1 WHERE run_id = ?2 AND status = 'running'", -1,
            stmt.out(), nullptr) != SQLITE_OK) {
      return fail("cannot claim run " + run_id);
    }
    bind_value(stmt.get(), 1, static_cast<std::int64_t>(::getpid()));
    bind_value(stmt.get(), 2, run_id);
    if (sqlite3_step(stmt.get()) != SQLITE_DONE) return fail("cannot claim run " + run_id);
    if (sqlite3_changes(db_) == 1) return Status();
    auto exists = count_for("SELECT count(*) FROM runs WHERE run_id = ?1", run_id);
    if (!exists.ok()) return exists.status();
    if (*exists == 0) return not_found("run " + run_id + " is not in the journal " + path_);
    return failed_precondition("run " + run_id + " has already finished");
  }

  Status queue_resolution(const QueuedResolution& resolution) override {
    std::lock_guard lock(mu_);
    const std::string body = encode_resolution_body(resolution);
    return atomically([&]() -> Status {
      Stmt stmt;
      if (sqlite3_prepare_v2(db_,
                             "INSERT INTO wait_inbox (run_id, wait_id, time_ms, body) SELECT ?1, "
                             "?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?1)",
                             -1, stmt.out(), nullptr) != SQLITE_OK) {
        return fail("cannot queue a resolution for run " + resolution.run_id);
      }
      bind_value(stmt.get(), 1, resolution.run_id);
      bind_value(stmt.get(), 2, resolution.wait_id);
      bind_value(stmt.get(), 3, resolution.time_ms);
      bind_value(stmt.get(), 4, body);
      if (sqlite3_step(stmt.get()) != SQLITE_DONE) {
        return fail("cannot queue a resolution for run " + resolution.run_id);
      }
      if (sqlite3_changes(db_) == 0) {
        return not_found("run " + resolution.run_id + " is not in the journal " + path_);
      }
      return Status();
    });
  }

  Result<std::vector<QueuedResolution>> queued_resolutions(
      const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    Stmt stmt;
    if (sqlite3_prepare_v2(db_,
                           "SELECT id, wait_id, time_ms, body FROM wait_inbox WHERE run_id = ?1 "
                           "ORDER BY id",
                           -1, stmt.out(), nullptr) != SQLITE_OK) {
      return fail("cannot read the queued resolutions of run " + run_id);
    }
    bind_value(stmt.get(), 1, run_id);
    std::vector<QueuedResolution> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      sqlite3_stmt* row = stmt.get();
      auto r = decode_resolution_row(run_id, sqlite3_column_int64(row, 0), column_utf8(row, 1),
                                     sqlite3_column_int64(row, 2), column_utf8(row, 3));
      if (!r.ok()) return r.status();
      out.push_back(std::move(r).value());
    }
    if (rc != SQLITE_DONE) return fail("cannot read the queued resolutions of run " + run_id);
    return out;
  }

  Result<GcStats> gc(std::int64_t finished_before_ms) override {
    std::lock_guard lock(mu_);
    GcStats stats;
    Status st = atomically([&]() -> Status {
      const std::string cutoff = std::to_string(finished_before_ms);
      const std::string where =
          " WHERE status != 'running' AND finished_ms IS NOT NULL AND finished_ms < " + cutoff;
      auto events = count(
          ("SELECT count(*) FROM events WHERE run_id IN (SELECT run_id FROM runs" + where + ")")
              .c_str());
      if (!events.ok()) return events.status();
      stats.events = *events;
      if (Status s =
              exec(("DELETE FROM wait_inbox WHERE run_id IN (SELECT run_id FROM runs" + where + ")")
                       .c_str());
          !s.ok()) {
        return s;
      }
      if (Status s =
              exec(("DELETE FROM events WHERE run_id IN (SELECT run_id FROM runs" + where + ")")
                       .c_str());
          !s.ok()) {
        return s;
      }
      if (Status s = exec(("DELETE FROM runs" + where).c_str()); !s.ok()) return s;
      stats.runs = sqlite3_changes(db_);
      if (Status s = exec("DELETE FROM workflows WHERE hash NOT IN "
                          "(SELECT DISTINCT workflow_hash FROM runs)");
          !s.ok()) {
        return s;
      }
      stats.workflows = sqlite3_changes(db_);
      return Status();
    });
    if (!st.ok()) return st;
    forget_cache();
    return stats;
  }

  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    std::lock_guard lock(mu_);
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1=1";
    // Running runs are in the partial index runs_running, which the planner uses only for
    // this literal condition.
    const bool running = filter.status && *filter.status == "running";
    if (running) {
      sql += " AND status = 'running'";
    } else if (filter.status) {
      sql += " AND status = ?1";
    }
    if (filter.workflow) sql += " AND workflow = ?2";
    if (filter.since_ms) sql += " AND started_ms >= ?3";
    if (filter.until_ms) sql += " AND started_ms < ?4";
    sql += " ORDER BY started_ms DESC, run_id DESC LIMIT ?5";
    Stmt stmt;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
      return fail("cannot list runs");
    }
    if (filter.status && !running) bind_value(stmt.get(), 1, *filter.status);
    if (filter.workflow) bind_value(stmt.get(), 2, *filter.workflow);
    if (filter.since_ms) bind_value(stmt.get(), 3, *filter.since_ms);
    if (filter.until_ms) bind_value(stmt.get(), 4, *filter.until_ms);
    bind_value(stmt.get(), 5, static_cast<std::int64_t>(filter.limit));
    std::vector<RunRecord> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.push_back(read_run(stmt.get()));
    if (rc != SQLITE_DONE) return fail("cannot list runs");
    return out;
  }

  Result<RunRecord> get_run(const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    Stmt stmt;
    const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?1";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
      return fail("cannot read run " + run_id);
    }
    bind_value(stmt.get(), 1, run_id);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return not_found("run " + run_id + " is not in the journal " + path_);
    if (rc != SQLITE_ROW) return fail("cannot read run " + run_id);
    RunRecord run = read_run(stmt.get());
    if (!run.defect.empty()) return invalid_argument(run.defect);
    return run;
  }

  Result<std::vector<Event>> events(const std::string& run_id) const override {
    return read_events(run_id, "", "cannot read events of run ");
  }

  // Only the rows that open and close waits (the run's other events are not read).
  Result<std::vector<std::string>> open_waits(const std::string& run_id) const override {
    auto rows =
        read_events(run_id, " AND type IN ('wait_started', 'wait_resolved', 'fanout_joined')",
                    "cannot read the waits of run ");
    if (!rows.ok()) return rows.status();
    return open_wait_ids(*rows);
  }

  Result<std::string> workflow_source(const std::string& hash) const override {
    std::lock_guard lock(mu_);
    Stmt stmt;
    if (sqlite3_prepare_v2(db_, "SELECT source FROM workflows WHERE hash = ?1", -1, stmt.out(),
                           nullptr) != SQLITE_OK) {
      return fail("cannot read workflow " + hash);
    }
    bind_value(stmt.get(), 1, hash);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) {
      return not_found("journal " + path_ + " does not hold workflow " + hash +
                       " (runs journaled before schema version 2 did not store it)");
    }
    if (rc != SQLITE_ROW) return fail("cannot read workflow " + hash);
    return column_text(stmt.get(), 0);
  }

  Result<JournalCheck> check() const override {
    std::lock_guard lock(mu_);
    return check_sqlite_journal(db_, path_);
  }

  std::string location() const override { return path_; }
  TenantLedger& tenant_ledger() override { return *tenants_; }

 private:
  // The events of `run_id` (known, else kNotFound) whose rows also match `and_where` (SQL, "" for
  // all), in sequence order, each decoded and checked; `failure` leads the message of a failed
  // read.
  Result<std::vector<Event>> read_events(const std::string& run_id, const std::string& and_where,
                                         const std::string& failure) const {
    auto run = get_run(run_id);
    if (!run.ok()) return run.status();
    std::lock_guard lock(mu_);
    Stmt stmt;
    const std::string sql =
        "SELECT seq, time_ms, type, payload, hash FROM events WHERE run_id = ?1" + and_where +
        " ORDER BY seq";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
      return fail(failure + run_id);
    }
    bind_value(stmt.get(), 1, run_id);
    std::vector<Event> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      sqlite3_stmt* row = stmt.get();
      const auto* payload = reinterpret_cast<const char*>(sqlite3_column_text(row, 3));
      auto e = decode_event_row(
          run_id, sqlite3_column_int64(row, 0), sqlite3_column_int64(row, 1), column_utf8(row, 2),
          payload
              ? std::string_view(payload, static_cast<std::size_t>(sqlite3_column_bytes(row, 3)))
              : std::string_view(),
          column_utf8(row, 4));
      if (!e.ok()) return e.status();
      out.push_back(std::move(e).value());
    }
    if (rc != SQLITE_DONE) return fail(failure + run_id);
    return out;
  }

  Status fail(const std::string& what) const { return sqlite::error_status(db_, path_, what); }
  Status exec(const char* sql) { return sqlite::exec(db_, path_, sql); }

  // Steps a statement that returns no rows. REQUIRES: mu_ held.
  Status step(Stmt& stmt) {
    Status s;
    if (sqlite3_step(stmt.get()) != SQLITE_DONE) s = fail("cannot execute");
    sqlite3_reset(stmt.get());
    return s;
  }

  Status command(Command c) override {
    switch (c) {
      case Command::kBegin:
        return step(begin_);
      case Command::kCommit:
        return step(commit_);
      case Command::kRollback:
        return exec("ROLLBACK");
      case Command::kSavepoint:
        return step(savepoint_);
      case Command::kRelease:
        return step(release_);
      case Command::kRollbackTo:
        return step(rollback_to_);
    }
    return Status(StatusCode::kInternal, "unknown command");
  }

  // REQUIRES: mu_ held.
  Status store_head(const std::string& run_id, const Head& head) override {
    sqlite3_stmt* h = update_head_.get();
    bind_static(h, 1, head.hash);
    bind_value(h, 2, head.seq);
    bind_static(h, 3, run_id);
    const int rc = sqlite3_step(h);
    update_head_.reset();
    return rc == SQLITE_DONE ? Status() : fail("cannot append events of run " + run_id);
  }

  Result<std::int64_t> count(const char* sql) const {
    Stmt stmt;
    if (sqlite3_prepare_v2(db_, sql, -1, stmt.out(), nullptr) != SQLITE_OK ||
        sqlite3_step(stmt.get()) != SQLITE_ROW) {
      return fail("cannot read it");
    }
    return sqlite3_column_int64(stmt.get(), 0);
  }

  Result<std::int64_t> count_for(const char* sql, const std::string& arg) const {
    Stmt stmt;
    if (sqlite3_prepare_v2(db_, sql, -1, stmt.out(), nullptr) != SQLITE_OK)
      return fail("cannot read it");
    bind_value(stmt.get(), 1, arg);
    if (sqlite3_step(stmt.get()) != SQLITE_ROW) return fail("cannot read it");
    return sqlite3_column_int64(stmt.get(), 0);
  }

  Result<int> user_version() {
    auto v = count("PRAGMA user_version");
    if (!v.ok()) return v.status();
    return static_cast<int>(*v);
  }

  Status prepare_all() {
    const std::pair<Stmt*, const char*> statements[] = {
        {&insert_run_,
         "INSERT INTO runs (run_id, workflow, workflow_hash, status, started_ms, input, owner_pid) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&insert_workflow_,
         "INSERT OR IGNORE INTO workflows (hash, name, source) VALUES (?1, ?2, ?3)"},
        {&insert_event_,
         "INSERT INTO events (run_id, seq, time_ms, type, payload, hash) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&update_head_, "UPDATE runs SET head_hash = ?1, head_seq = ?2 WHERE run_id = ?3"},
        {&finish_,
         "UPDATE runs SET status = ?1, result = ?2, finished_ms = ?3, head_hash = ?5, "
         "head_seq = ?6 WHERE run_id = ?4"},
        {&begin_, "BEGIN IMMEDIATE"},
        {&commit_, "COMMIT"},
        {&savepoint_, "SAVEPOINT group_write"},
        {&release_, "RELEASE group_write"},
        {&rollback_to_, "ROLLBACK TO group_write"},
        {&read_head_, "SELECT head_seq, head_hash FROM runs WHERE run_id = ?1"},
    };
    for (const auto& [stmt, sql] : statements) {
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt->out(), nullptr) !=
          SQLITE_OK) {
        return fail("cannot prepare statements");
      }
    }
    return Status();
  }

  // REQUIRES: mu_ held.
  Result<Head> load_head(const std::string& run_id) override {
    sqlite3_stmt* s = read_head_.get();
    bind_value(s, 1, run_id);
    const int rc = sqlite3_step(s);
    Head head;
    if (rc == SQLITE_ROW) {
      head.seq = sqlite3_column_int64(s, 0);
      head.hash = column_text(s, 1);
    }
    read_head_.reset();
    if (rc == SQLITE_DONE) return not_found("run " + run_id + " is not in the journal " + path_);
    if (rc != SQLITE_ROW) return fail("cannot read run " + run_id);
    return head;
  }

  // A run's row (kRunColumns), its JSON columns decoded; what cannot be is in `defect`.
  static RunRecord read_run(sqlite3_stmt* s) {
    RunRecord r;
    r.run_id = column_utf8(s, 0);
    r.workflow = column_utf8(s, 1);
    r.workflow_hash = column_utf8(s, 2);
    r.status = column_utf8(s, 3);
    r.started_ms = sqlite3_column_int64(s, 4);
    r.finished_ms = sqlite3_column_int64(s, 5);
    r.head_hash = column_utf8(s, 8);
    r.head_seq = sqlite3_column_int64(s, 9);
    r.owner_pid = sqlite3_column_int64(s, 10);
    auto note = [&r](const Status& status) {
      if (r.defect.empty()) r.defect = status.message();
    };
    if (auto input = decode_run_column(r.run_id, "input", column_text(s, 6)); input.ok()) {
      r.input = std::move(input).value();
    } else {
      note(input.status());
    }
    if (!column_is_null(s, 7)) {
      if (auto result = decode_run_column(r.run_id, "result", column_text(s, 7)); result.ok()) {
        r.result = std::move(result).value();
      } else {
        note(result.status());
      }
    } else if (!column_is_null(s, 11)) {
      // Its run_finished event, decoded as events() decodes it.
      auto event =
          decode_event_row(r.run_id, r.head_seq, 0, "run_finished", column_text(s, 11), "");
      auto result = event.ok()
                        ? decode_finished_result(r.run_id, r.head_seq, std::move(event->payload))
                        : Result<nlohmann::json>(event.status());
      if (result.ok()) {
        r.result = std::move(result).value();
      } else {
        note(result.status());
      }
    }
    return r;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<TenantLedger> tenants_;  // on a connection of its own (sqlite_tenants.h)
  Stmt insert_run_, insert_workflow_, insert_event_, update_head_, finish_, read_head_;
  Stmt begin_, commit_, savepoint_, release_, rollback_to_;
};

}  // namespace

std::vector<Status> Journal::write_group(std::vector<Write>& writes) {
  std::vector<Status> out;
  out.reserve(writes.size());
  for (Write& w : writes) out.push_back(w(*this));
  return out;
}

Result<std::unique_ptr<Journal>> open_sqlite_journal(const std::string& path,
                                                     const JournalOptions& options) {
  auto journal = std::make_unique<SqliteJournal>(path);
  if (Status s = journal->open(options); !s.ok()) return s;
  return std::unique_ptr<Journal>(std::move(journal));
}

}  // namespace switchyard::runtime
