// The SQLite Journal: one file, WAL mode, schema versioned by PRAGMA user_version.
// docs/journal.md describes the schema, the migrations and what is durable when.

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "runtime/journal.h"
#include "runtime/journal_checks.h"
#include "runtime/log.h"

namespace switchyard::runtime {
namespace {

// Schema migrations: kMigrations[v] takes a journal from version v to v + 1, in one transaction.
const char* const kMigrations[] = {
    // 0 -> 1: runs and their events.
    R"sql(
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
    )sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// The columns read_run() expects, in order.
constexpr const char* kRunColumns =
    "run_id, workflow, workflow_hash, status, started_ms, finished_ms, input, result";

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }
  // Resets and clears bindings for the next use.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// (Not named `bind`: std::bind would win overload resolution through ADL on std::string.)
void bind_value(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void bind_value(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : "";
}

nlohmann::json column_json(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return nullptr;
  return nlohmann::json::parse(column_text(s, i), nullptr, /*allow_exceptions=*/false);
}

class SqliteJournal final : public Journal {
 public:
  explicit SqliteJournal(std::string path) : path_(std::move(path)) {}
  // close_v2 defers the close until the prepared statements (members, destroyed after this body)
  // are finalized.
  ~SqliteJournal() override { sqlite3_close_v2(db_); }

  Status open(const JournalOptions& options) {
    std::error_code ec;
    if (!options.create_if_missing && !std::filesystem::exists(path_, ec)) {
      return not_found("journal not found: " + path_);
    }
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
                      (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return fail("cannot open");
    }
    sqlite3_busy_timeout(db_, 5000);
    auto version = user_version();  // the first read: fails on a file that is not SQLite
    if (!version.ok()) return version.status();
    if (*version > kSchemaVersion) {
      return io_error("journal " + path_ + " has schema version " + std::to_string(*version) +
                      ", newer than this build knows (" + std::to_string(kSchemaVersion) +
                      "): use a newer switchyard");
    }
    if (*version == 0) {
      auto tables = count("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
      if (!tables.ok()) return tables.status();
      if (*tables > 0) {
        return io_error("journal " + path_ + " is a SQLite database with tables of its own, not a "
                        "switchyard journal: refusing to touch it");
      }
    }
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                               "PRAGMA foreign_keys=ON"}) {
      if (Status s = exec(pragma); !s.ok()) return s;
    }
    for (int v = *version; v < kSchemaVersion; ++v) {
      if (Status s = migrate(v); !s.ok()) return s;
      logger().info("journal {}: schema upgraded to version {}", path_, v + 1);
    }
    return prepare_all();
  }

  Status begin_run(const RunRecord& run) override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* s = insert_run_.get();
    bind_value(s, 1, run.run_id);
    bind_value(s, 2, run.workflow);
    bind_value(s, 3, run.workflow_hash);
    bind_value(s, 4, run.status);
    bind_value(s, 5, run.started_ms);
    bind_value(s, 6, run.input.dump());
    const int rc = sqlite3_step(s);
    const int extended = sqlite3_extended_errcode(db_);
    if (rc != SQLITE_DONE) {
      Status error = extended == SQLITE_CONSTRAINT_PRIMARYKEY
                         ? invalid_argument("run " + run.run_id + " is already in the journal " + path_)
                         : fail("cannot record run " + run.run_id);
      insert_run_.reset();
      return error;
    }
    insert_run_.reset();
    last_seq_cache_[run.run_id] = 0;
    return Status();
  }

  using Journal::append;
  Status append(const std::vector<Event>& events) override {
    if (events.empty()) return Status();
    std::lock_guard lock(mu_);
    const std::string& run_id = events.front().run_id;
    auto last = last_seq(run_id);
    if (!last.ok()) return last.status();
    if (Status s = check_append(events, *last); !s.ok()) return s;
    if (Status s = exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    for (const Event& e : events) {
      sqlite3_stmt* s = insert_event_.get();
      bind_value(s, 1, e.run_id);
      bind_value(s, 2, e.seq);
      bind_value(s, 3, e.time_ms);
      bind_value(s, 4, e.type);
      bind_value(s, 5, e.payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      const int rc = sqlite3_step(s);
      insert_event_.reset();
      if (rc != SQLITE_DONE) {
        Status error = fail("cannot append event " + std::to_string(e.seq) + " of run " + run_id);
        exec("ROLLBACK").ok();
        return error;
      }
    }
    if (Status s = exec("COMMIT"); !s.ok()) {
      exec("ROLLBACK").ok();
      return s;
    }
    last_seq_cache_[run_id] = events.back().seq;
    return Status();
  }

  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* s = finish_.get();
    bind_value(s, 1, status);
    bind_value(s, 2, result.dump());
    bind_value(s, 3, finished_ms);
    bind_value(s, 4, run_id);
    const int rc = sqlite3_step(s);
    finish_.reset();
    if (rc != SQLITE_DONE) return fail("cannot finish run " + run_id);
    if (sqlite3_changes(db_) == 0) return not_found("run " + run_id + " is not in the journal");
    return Status();
  }

  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    std::lock_guard lock(mu_);
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1=1";
    if (filter.status) sql += " AND status = ?1";
    if (filter.workflow) sql += " AND workflow = ?2";
    if (filter.since_ms) sql += " AND started_ms >= ?3";
    if (filter.until_ms) sql += " AND started_ms < ?4";
    sql += " ORDER BY started_ms DESC, run_id DESC LIMIT ?5";
    Stmt stmt;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
      return fail("cannot list runs");
    }
    if (filter.status) bind_value(stmt.get(), 1, *filter.status);
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
    return read_run(stmt.get());
  }

  Result<std::vector<Event>> events(const std::string& run_id) const override {
    auto run = get_run(run_id);
    if (!run.ok()) return run.status();
    std::lock_guard lock(mu_);
    Stmt stmt;
    if (sqlite3_prepare_v2(db_,
                           "SELECT seq, time_ms, type, payload FROM events WHERE run_id = ?1 "
                           "ORDER BY seq",
                           -1, stmt.out(), nullptr) != SQLITE_OK) {
      return fail("cannot read events of run " + run_id);
    }
    bind_value(stmt.get(), 1, run_id);
    std::vector<Event> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      Event e;
      e.run_id = run_id;
      e.seq = sqlite3_column_int64(stmt.get(), 0);
      e.time_ms = sqlite3_column_int64(stmt.get(), 1);
      e.type = column_text(stmt.get(), 2);
      e.payload = column_json(stmt.get(), 3);
      if (e.payload.is_discarded()) {
        return io_error("journal " + path_ + ": event " + std::to_string(e.seq) + " of run " +
                        run_id + " has a payload that is not JSON");
      }
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return fail("cannot read events of run " + run_id);
    return out;
  }

  std::string location() const override { return path_; }

 private:
  Status fail(const std::string& what) const {
    return io_error("journal " + path_ + ": " + what + ": " +
                    (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }

  Status exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      Status s = io_error("journal " + path_ + ": " + (message ? message : sqlite3_errmsg(db_)));
      sqlite3_free(message);
      return s;
    }
    return Status();
  }

  Result<std::int64_t> count(const char* sql) {
    Stmt stmt;
    if (sqlite3_prepare_v2(db_, sql, -1, stmt.out(), nullptr) != SQLITE_OK ||
        sqlite3_step(stmt.get()) != SQLITE_ROW) {
      return fail("not a switchyard journal");
    }
    return sqlite3_column_int64(stmt.get(), 0);
  }

  Result<int> user_version() {
    auto v = count("PRAGMA user_version");
    if (!v.ok()) return v.status();
    return static_cast<int>(*v);
  }

  Status migrate(int from) {
    if (Status s = exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = exec(kMigrations[from]);
    if (s.ok()) s = exec(("PRAGMA user_version = " + std::to_string(from + 1)).c_str());
    if (s.ok()) s = exec("COMMIT");
    if (!s.ok()) exec("ROLLBACK").ok();
    return s;
  }

  Status prepare_all() {
    const std::pair<Stmt*, const char*> statements[] = {
        {&insert_run_,
         "INSERT INTO runs (run_id, workflow, workflow_hash, status, started_ms, input) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&insert_event_,
         "INSERT INTO events (run_id, seq, time_ms, type, payload) VALUES (?1, ?2, ?3, ?4, ?5)"},
        {&finish_, "UPDATE runs SET status = ?1, result = ?2, finished_ms = ?3 WHERE run_id = ?4"},
        {&last_seq_,
         "SELECT (SELECT count(*) FROM runs WHERE run_id = ?1), "
         "(SELECT coalesce(max(seq), 0) FROM events WHERE run_id = ?1)"},
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
  Result<std::int64_t> last_seq(const std::string& run_id) {
    if (auto it = last_seq_cache_.find(run_id); it != last_seq_cache_.end()) return it->second;
    sqlite3_stmt* s = last_seq_.get();
    bind_value(s, 1, run_id);
    const int rc = sqlite3_step(s);
    const bool exists = rc == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0;
    const std::int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
    last_seq_.reset();
    if (rc != SQLITE_ROW) return fail("cannot read run " + run_id);
    if (!exists) return not_found("run " + run_id + " is not in the journal " + path_);
    last_seq_cache_[run_id] = seq;
    return seq;
  }

  static RunRecord read_run(sqlite3_stmt* s) {
    RunRecord r;
    r.run_id = column_text(s, 0);
    r.workflow = column_text(s, 1);
    r.workflow_hash = column_text(s, 2);
    r.status = column_text(s, 3);
    r.started_ms = sqlite3_column_int64(s, 4);
    r.finished_ms = sqlite3_column_int64(s, 5);
    r.input = column_json(s, 6);
    r.result = column_json(s, 7);
    return r;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
  Stmt insert_run_, insert_event_, finish_, last_seq_;
  std::map<std::string, std::int64_t> last_seq_cache_;
};

}  // namespace

Result<std::unique_ptr<Journal>> open_sqlite_journal(const std::string& path,
                                                     const JournalOptions& options) {
  auto journal = std::make_unique<SqliteJournal>(path);
  if (Status s = journal->open(options); !s.ok()) return s;
  return std::unique_ptr<Journal>(std::move(journal));
}

}  // namespace switchyard::runtime
