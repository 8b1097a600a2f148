// The PostgreSQL Journal: the SQLite journal's rows, hash chain and group commit in a database
// on a server, reached through libpq. docs/journal.md#postgresql describes the URL, the schema
// and its versions. libpq stays in this file: a small RAII wrapper (connection, result,
// parameters as text, prepared statements), then the journal on it.

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "runtime/base/crash_point.h"
#include "runtime/base/hash.h"
#include "runtime/base/log.h"
#include "runtime/journal/checks.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/row_check.h"
#include "runtime/journal/rows.h"
#include "runtime/journal/sql_journal.h"
#include "runtime/journal/waiting.h"

namespace switchyard::runtime {
// Named inside the anonymous namespace: unity builds put this file beside the SQLite journal's.
namespace {
namespace pg {

// ---- libpq, RAII ----

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultFree>;

struct ConnFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConn = std::unique_ptr<PGconn, ConnFinish>;

// A statement's parameters, every one as text (or SQL NULL), as libpq sends them.
class Params {
 public:
  Params& text(std::string value) {
    values_.push_back(std::move(value));
    null_.push_back(false);
    return *this;
  }
  Params& integer(std::int64_t value) { return text(std::to_string(value)); }
  Params& null() {
    values_.emplace_back();
    null_.push_back(true);
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into the values, valid until the next change.
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) {
      out.push_back(null_[i] ? nullptr : values_[i].c_str());
    }
    return out;
  }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// A cell as text ("" when NULL), made valid UTF-8: the database may hold anything anyone wrote.
std::string cell(const PGresult* r, int row, int col) {
  return valid_utf8(std::string_view(PQgetvalue(r, row, col),
                                     static_cast<std::size_t>(PQgetlength(r, row, col))));
}
// The raw bytes of a cell, for what is decoded by the checked readers (rows.h) or hashed.
std::string_view raw(const PGresult* r, int row, int col) {
  return {PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col))};
}
bool is_null(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) != 0; }
// An integer cell; 0 when NULL or not an integer (the columns are bigint: only a schema edited
// by hand would hold anything else).
std::int64_t integer(const PGresult* r, int row, int col) {
  const std::string_view text = raw(r, row, col);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// libpq's message, on one line.
std::string one_line(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return valid_utf8(out);
}

// The SQLSTATE of a failed result ("" when none: the connection failed).
std::string sqlstate(const PGresult* r) {
  const char* code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return code ? code : "";
}

// libpq prints the server's notices (NOTICE: ... skipping) to stderr unless told otherwise.
void quiet_notices(void*, const char* message) {
  logger().debug("postgres: {}", one_line(message));
}

// One connection: every call is one round trip, its result checked. Not thread-safe.
class Connection {
 public:
  explicit Connection(std::string where) : where_(std::move(where)) {}

  Status connect(const std::string& url) {
    url_ = url;
    conn_.reset(PQconnectdb(url.c_str()));
    if (!conn_) return io_error(prefix("cannot connect") + "out of memory");
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return io_error(prefix("cannot connect") + said(PQerrorMessage(conn_.get())));
    }
    return configure("cannot connect");
  }

  bool broken() const { return !conn_ || PQstatus(conn_.get()) == CONNECTION_BAD; }
  // Connects again after the connection was lost (a restarted server): prepared statements are
  // gone with it.
  Status reset() {
    PQreset(conn_.get());
    prepared_.clear();
    pending_.clear();
    pipelining_ = false;
    if (broken()) return io_error(prefix("cannot reconnect") + said(PQerrorMessage(conn_.get())));
    return configure("cannot reconnect");
  }

  // Runs `sql` (no parameters; several statements allowed). Like every statement that waits for
  // its answer, first takes the answers of the statements sent before (flush): when one of them
  // failed, that is this statement's failure, and it is not run.
  Result<PgResult> exec(const std::string& sql, const std::string& what) {
    if (Status s = flush(); !s.ok()) return s;
    return checked(PgResult(PQexec(conn_.get(), sql.c_str())), what);
  }
  Result<PgResult> exec(const std::string& sql, const Params& params, const std::string& what) {
    if (Status s = flush(); !s.ok()) return s;
    const auto values = params.pointers();
    return checked(PgResult(PQexecParams(conn_.get(), sql.c_str(), params.size(), nullptr,
                                         values.data(), nullptr, nullptr, 0)),
                   what);
  }
  // Runs the statement prepared as `name` from `sql` (prepared on first use).
  Result<PgResult> run(const std::string& name, const std::string& sql, const Params& params,
                       const std::string& what) {
    if (Status s = prepare(name, sql, what); !s.ok()) return s;
    const auto values = params.pointers();
    return checked(PgResult(PQexecPrepared(conn_.get(), name.c_str(), params.size(), values.data(),
                                           nullptr, nullptr, 0)),
                   what);
  }

  // ---- pipeline mode: statements sent without waiting for their answers ----
  // send() and send_sql() put the connection in libpq's pipeline mode and send a statement
  // without waiting: its answer is read and checked by the next flush(), which the next
  // statement that waits for its answer (exec, run) makes first. A group of writes is then one
  // round trip to the server instead of one per statement. `rows` >= 0: the number of rows the
  // INSERT, UPDATE or DELETE `sql` must change; another number fails the statement on the
  // server (it is sent as a query over `sql ... RETURNING 1` that counts them), so that a
  // COMMIT sent behind it in the same pipeline is skipped. After a failed statement the server
  // skips the rest until the flush (the transaction is then failed: the caller rolls it back).
  Status send(const std::string& name, const std::string& sql, const Params& params,
              const std::string& what, int rows = -1) {
    if (rows >= 0) {
      Params counted = params;
      counted.integer(rows);
      return send(name + "_counted",
                  "WITH changed AS (" + sql + " RETURNING 1) SELECT CAST(CASE WHEN count(*) = $" +
                      std::to_string(counted.size()) +
                      " THEN '0' ELSE 'another number of rows changed than it must' END AS "
                      "integer) FROM changed",
                  counted, what);
    }
    if (Status s = prepare(name, sql, what); !s.ok()) return s;
    if (Status s = enter_pipeline(what); !s.ok()) return s;
    const auto values = params.pointers();
    if (PQsendQueryPrepared(conn_.get(), name.c_str(), params.size(), values.data(), nullptr,
                            nullptr, 0) != 1) {
      return sent_failed(what);
    }
    return sent(what);
  }
  Status send_sql(const char* sql, const std::string& what) {
    if (Status s = enter_pipeline(what); !s.ok()) return s;
    if (PQsendQueryParams(conn_.get(), sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
      return sent_failed(what);
    }
    return sent(what);
  }
  // Reads and checks the answers of every statement sent, and leaves pipeline mode. The first
  // failure (last_sent_failed(): whether it was the last statement sent's).
  Status flush() {
    if (!pipelining_) return Status();
    Status first;
    last_sent_failed_ = false;
    const bool synced = PQpipelineSync(conn_.get()) == 1;
    if (!synced) first = sent_failed("cannot send the statements");
    for (std::size_t i = 0; synced && i < pending_.size(); ++i) {
      PGresult* raw_result = PQgetResult(conn_.get());
      if (raw_result == nullptr) {  // the connection went away
        if (first.ok()) first = checked(PgResult(), pending_[i].what).status();
        break;
      }
      PgResult r(raw_result);
      while (PGresult* extra = PQgetResult(conn_.get())) PQclear(extra);  // the NULL after each
      if (!first.ok()) continue;
      const ExecStatusType st = PQresultStatus(r.get());
      if (st == PGRES_PIPELINE_ABORTED) {
        first = io_error(prefix(pending_[i].what) + "skipped after an earlier failure");
        continue;
      }
      auto checked_result = checked(std::move(r), pending_[i].what);
      if (!checked_result.ok()) {
        first = checked_result.status();
        last_sent_failed_ = i + 1 == pending_.size();
      }
    }
    // The answer to the sync itself.
    if (synced && !broken()) {
      while (PGresult* r = PQgetResult(conn_.get())) {
        const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync) break;
      }
    }
    pending_.clear();
    pipelining_ = false;
    if (PQexitPipelineMode(conn_.get()) != 1 && first.ok()) {
      first = io_error(prefix("cannot leave pipeline mode") + said(PQerrorMessage(conn_.get())));
    }
    return first;
  }
  bool pipelining() const { return pipelining_; }
  bool last_sent_failed() const { return last_sent_failed_; }

  // Statements other journal methods failed with: they name the SQLSTATE they met.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  // libpq's message on one line, without the password of the URL connected to: libpq quotes
  // the URI, or a part of it, when it cannot parse it.
  std::string said(const char* message) const { return without_password(one_line(message), url_); }

  // A new session's libpq settings: the server's notices to the log, text in UTF-8 both ways (a
  // SET of the session: a connection made again by reset() starts without it).
  Status configure(const char* what) {
    PQsetNoticeProcessor(conn_.get(), quiet_notices, nullptr);
    if (PQsetClientEncoding(conn_.get(), "UTF8") != 0) {
      return io_error(prefix(what) +
                      "the server does not speak UTF-8: " + said(PQerrorMessage(conn_.get())));
    }
    return Status();
  }

  std::string prefix(const std::string& what) const {
    return "journal " + where_ + ": " + what + ": ";
  }

  Result<PgResult> checked(PgResult r, const std::string& what) {
    last_sqlstate_.clear();
    const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    last_sqlstate_ = sqlstate(r.get());
    const std::string detail =
        said(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get()));
    const std::string message = prefix(what) + detail;
    if (last_sqlstate_.starts_with("53")) {  // insufficient resources: disk full, out of memory
      return Status(StatusCode::kResourceExhausted,
                    message +
                        "; nothing of this write was kept, every event committed before "
                        "is intact");
    }
    if (last_sqlstate_ == "55P03" || last_sqlstate_ == "40P01" || last_sqlstate_ == "40001") {
      return Status(StatusCode::kUnavailable,
                    message + "; nothing was written, try again when it is done");
    }
    if (broken()) {
      return Status(StatusCode::kUnavailable, prefix(what) +
                                                  "the connection to the database was lost (" +
                                                  detail + "); nothing of this write was kept");
    }
    return io_error(message);
  }

  // Prepares `sql` as `name` on first use (waiting for the answer: never in a pipeline).
  Status prepare(const std::string& name, const std::string& sql, const std::string& what) {
    if (prepared_.contains(name)) return Status();
    if (Status s = flush(); !s.ok()) return s;
    auto prepared =
        checked(PgResult(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr)), what);
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(name);
    return Status();
  }
  Status enter_pipeline(const std::string& what) {
    if (pipelining_) {
      // A long group: its answers are taken on the way, so that neither side's socket buffer
      // fills up while the other waits.
      if (pending_.size() < kMaxPending) return Status();
      if (Status s = flush(); !s.ok()) return s;
    }
    if (PQenterPipelineMode(conn_.get()) != 1) {
      return io_error(prefix(what) +
                      "cannot enter pipeline mode: " + said(PQerrorMessage(conn_.get())));
    }
    pipelining_ = true;
    return Status();
  }
  Status sent(const std::string& what) {
    pending_.push_back(Pending{what});
    return Status();
  }
  Status sent_failed(const std::string& what) {
    return Status(StatusCode::kUnavailable,
                  prefix(what) + said(PQerrorMessage(conn_.get())) + "; nothing was written");
  }
  // A statement sent and not yet answered.
  struct Pending {
    std::string what;
  };
  static constexpr std::size_t kMaxPending = 256;

  std::string where_;  // printable_location: never the password
  std::string url_;    // as given to connect(): may hold a password, never printed
  PgConn conn_;
  std::set<std::string> prepared_;
  std::string last_sqlstate_;
  bool pipelining_ = false;
  bool last_sent_failed_ = false;  // flush(): the first failure was the last statement's
  std::vector<Pending> pending_;
};

// ---- the schema ----

// The schema version this build writes (the schema_version table; its own numbering, not the
// SQLite journal's user_version).
constexpr int kSchemaVersion = 6;

// Serializes migrations of one database between processes (pg_advisory_xact_lock).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7420135311620)";

// Version 1: the SQLite journal's version-5 tables, in PostgreSQL's types. Payloads and results
// are text, not jsonb: the hash chain covers the text exactly as stored. The runs columns owner,
// lease_expires_ms and epoch are for workers that claim runs (docs/scale-out.md): version 2
// indexes them.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE schema_version (
  application text NOT NULL CHECK (application = 'switchyard'),
  version     integer NOT NULL
);
CREATE UNIQUE INDEX schema_version_one_row ON schema_version ((true));
INSERT INTO schema_version (application, version) VALUES ('switchyard', 1);
CREATE TABLE runs (
  run_id           text PRIMARY KEY,
  workflow         text NOT NULL,
  workflow_hash    text NOT NULL,
  status           text NOT NULL,
  started_ms       bigint NOT NULL,
  finished_ms      bigint,
  input            text NOT NULL,
  result           text,
  head_hash        text NOT NULL DEFAULT '',
  head_seq         bigint NOT NULL DEFAULT 0,
  owner_pid        bigint NOT NULL DEFAULT 0,
  owner            text,
  lease_expires_ms bigint,
  epoch            bigint NOT NULL DEFAULT 0
);
CREATE INDEX runs_running ON runs (started_ms) WHERE status = 'running';
CREATE INDEX runs_by_workflow ON runs (workflow);
CREATE INDEX runs_by_start ON runs (started_ms);
CREATE INDEX runs_by_finish ON runs (finished_ms);
CREATE TABLE events (
  run_id  text NOT NULL,
  seq     bigint NOT NULL,
  time_ms bigint NOT NULL,
  type    text NOT NULL,
  payload text NOT NULL,
  hash    text NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE workflows (
  hash   text PRIMARY KEY,
  name   text NOT NULL,
  source text NOT NULL
);
CREATE VIEW run_results AS
  SELECT r.run_id, r.workflow, r.status, r.started_ms, r.finished_ms,
         COALESCE(r.result, e.payload) AS result
  FROM runs r LEFT JOIN events e
    ON r.result IS NULL AND r.status <> 'running' AND e.run_id = r.run_id AND e.seq = r.head_seq
       AND e.type = 'run_finished';
)sql";

// Version 2: the run queue (docs/scale-out.md#workers): queued runs in admission order, the
// leases workers hold by expiry and by owner.
constexpr const char* kSchemaV2 = R"sql(
CREATE INDEX runs_queued ON runs (started_ms) WHERE status = 'queued';
CREATE INDEX runs_leases ON runs (lease_expires_ms) WHERE status = 'running' AND owner IS NOT NULL;
CREATE INDEX runs_by_owner ON runs (owner) WHERE status = 'running' AND owner IS NOT NULL;
UPDATE schema_version SET version = 2;
)sql";

// Version 3: the wait inbox (docs/waits.md#while-no-process-holds-the-run), as the SQLite
// journal's version 6.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE wait_inbox (
  id      bigserial PRIMARY KEY,
  run_id  text NOT NULL,
  wait_id text NOT NULL,
  time_ms bigint NOT NULL,
  body    text NOT NULL
);
CREATE INDEX wait_inbox_by_run ON wait_inbox (run_id, id);
UPDATE schema_version SET version = 3;
)sql";

// Version 4: shared health (docs/scale-out.md#shared-health). Each event row records the
// transaction that wrote it (`xid`, set by the column's default) and the journal object that
// wrote it (`origin`, a random number per open journal), and a partial index holds the step
// outcomes and breaker events in transaction order, for the processes that poll them. Rows
// written before the upgrade keep both NULL (no rewrite of the table), outside the index.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE events ADD COLUMN xid xid8;
ALTER TABLE events ADD COLUMN origin bigint;
ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX events_outcomes ON events (xid, run_id, seq) WHERE xid IS NOT NULL AND
  type IN ('step_succeeded', 'step_failed', 'step_retry', 'breaker', 'health_reset');
UPDATE schema_version SET version = 4;
)sql";

// The outcomes after a cursor ($1 xid, $2 run id, $3 seq) of transactions older than every one
// still running (pg_snapshot_xmin: a transaction with a smaller id can no longer commit
// anything), at most $4, without the payloads of journal $5's own rows. Its WHERE repeats the
// index's predicate, so that the planner uses events_outcomes.
constexpr const char* kOutcomesAfter =
    "SELECT xid::text, run_id, seq, time_ms, type, CASE WHEN origin = $5 THEN NULL ELSE payload "
    "END, hash FROM events WHERE xid IS NOT NULL AND type IN ('step_succeeded', 'step_failed', "
    "'step_retry', 'breaker', 'health_reset') AND (xid, run_id, seq) > ($1::xid8, $2, $3) AND "
    "xid < (SELECT pg_snapshot_xmin(pg_current_snapshot())) ORDER BY xid, run_id, seq LIMIT $4";

// Version 5: throttled tools' turns shared by every worker (docs/scale-out.md#limits-across-
// workers): per key, the earliest start of its next call (the rate), and the slots in flight as
// leases with an expiry that their holder renews, so that a dead worker's slots come free. One
// call of switchyard_throttle_acquire takes a turn atomically: the key's row is locked for the
// statement, times are the server's clock (every worker reads the same one).
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE throttle_keys (
  key           text PRIMARY KEY,
  next_start_ms bigint NOT NULL DEFAULT 0
);
CREATE TABLE throttle_leases (
  id         bigserial PRIMARY KEY,
  key        text NOT NULL,
  holder     text NOT NULL,
  expires_ms bigint NOT NULL
);
CREATE INDEX throttle_leases_by_key ON throttle_leases (key, expires_ms);
CREATE INDEX throttle_leases_by_holder ON throttle_leases (holder);
CREATE FUNCTION switchyard_throttle_acquire(p_key text, p_holder text, p_max integer,
                                            p_per_second double precision, p_lease_ms bigint,
                                            OUT lease bigint, OUT retry_ms bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  next_ms bigint;
  held bigint;
BEGIN
  lease := 0;
  retry_ms := 0;
  INSERT INTO throttle_keys (key) VALUES (p_key) ON CONFLICT (key) DO NOTHING;
  SELECT k.next_start_ms INTO next_ms FROM throttle_keys k WHERE k.key = p_key FOR UPDATE;
  DELETE FROM throttle_leases l WHERE l.key = p_key AND l.expires_ms <= now_ms;
  IF p_max > 0 THEN
    SELECT count(*) INTO held FROM throttle_leases l WHERE l.key = p_key;
    IF held >= p_max THEN
      RETURN;
    END IF;
  END IF;
  IF p_per_second > 0 THEN
    IF now_ms < next_ms THEN
      retry_ms := next_ms - now_ms;
      RETURN;
    END IF;
    UPDATE throttle_keys k SET next_start_ms = now_ms + ceil(1000.0 / p_per_second)::bigint
      WHERE k.key = p_key;
  END IF;
  INSERT INTO throttle_leases (key, holder, expires_ms)
    VALUES (p_key, p_holder, now_ms + p_lease_ms) RETURNING id INTO lease;
END
$fn$;
UPDATE schema_version SET version = 5;
)sql";

// Version 6: tenant budgets shared by every worker (docs/budgets.md#tenant-budgets): per tenant
// key its cap (NULL: none), what its runs spent and what their calls in flight reserved, in
// micro-dollars, and each call's reservation by (run, call); runs.tenant, the tenant a queued run
// was admitted with (NULL: none). switchyard_tenant_reserve decides a
// reservation in one statement under the tenant row's lock: granted iff spent + reserved + usd <=
// cap; the row as it was is returned with the answer.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE tenant_budgets (
  tenant          text PRIMARY KEY,
  cap_micros      bigint,
  spent_micros    bigint NOT NULL DEFAULT 0,
  reserved_micros bigint NOT NULL DEFAULT 0
);
CREATE TABLE tenant_reservations (
  run_id     text NOT NULL,
  call       bigint NOT NULL,
  tenant     text NOT NULL,
  usd_micros bigint NOT NULL,
  PRIMARY KEY (run_id, call)
);
ALTER TABLE runs ADD COLUMN tenant text;
CREATE FUNCTION switchyard_tenant_reserve(p_tenant text, p_run text, p_call bigint,
                                          p_usd bigint, OUT granted boolean, OUT cap bigint,
                                          OUT spent bigint, OUT reserved bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO tenant_budgets (tenant) VALUES (p_tenant) ON CONFLICT (tenant) DO NOTHING;
  SELECT b.cap_micros, b.spent_micros, b.reserved_micros INTO cap, spent, reserved
    FROM tenant_budgets b WHERE b.tenant = p_tenant FOR UPDATE;
  granted := cap IS NULL OR spent + reserved + p_usd <= cap;
  IF granted THEN
    INSERT INTO tenant_reservations (run_id, call, tenant, usd_micros)
      VALUES (p_run, p_call, p_tenant, p_usd);
    UPDATE tenant_budgets b SET reserved_micros = b.reserved_micros + p_usd
      WHERE b.tenant = p_tenant;
  END IF;
END
$fn$;
UPDATE schema_version SET version = 6;
)sql";

// The columns read_run() expects, in order: as the SQLite journal's (a run finished with a null
// result has it in its run_finished event, the last column).
constexpr const char* kRunColumns =
    "run_id, workflow, workflow_hash, status, started_ms, finished_ms, input, result, head_hash, "
    "head_seq, owner_pid, (SELECT e.payload FROM events e WHERE runs.result IS NULL AND "
    "runs.status <> 'running' AND e.run_id = runs.run_id AND e.seq = runs.head_seq AND "
    "e.type = 'run_finished'), owner, lease_expires_ms, epoch, tenant";

// Events inserted by one statement at most (a bigger append is several).
constexpr int kEventsPerInsert = 32;

// A random positive number naming one open journal in the rows it writes (events.origin).
std::int64_t new_origin() {
  std::random_device rd;
  const std::uint64_t high = rd(), low = rd();
  const auto value = static_cast<std::int64_t>(((high << 32) | low) >> 1);
  return value == 0 ? 1 : value;
}

// A connection of its own beside the journal's (the throttles', the tenants'): connected on first
// use, connected again after it was lost, its session configured by `settings` each time.
Status ready_side_connection(Connection& db, bool& connected, const std::string& url,
                             const char* settings, const char* what) {
  if (connected && !db.broken()) return Status();
  Status s = connected ? db.reset() : db.connect(url);
  if (!s.ok()) return s;
  connected = true;
  return db.exec(settings, what).status();
}

// Throttled tools' turns in the database (schema version 5), on a connection of its own (made on
// first use) so that asking never waits behind the journal's writes. Each statement is bounded by
// a statement_timeout: an engine thread asks in line. The slots this process holds are renewed
// by a thread of its own every third of the lease; the rest expire.
class PgCallLimiter final : public CallLimiter {
 public:
  PgCallLimiter(std::string url, std::string where, std::chrono::milliseconds lease)
      : url_(std::move(url)), where_(std::move(where)), lease_(lease), db_(where_) {
    char host[256] = {};
    (void)gethostname(host, sizeof host - 1);
    holder_ =
        std::string(host) + ":" + std::to_string(getpid()) + ":" +
        sha256_hex(url_ + std::to_string(reinterpret_cast<std::uintptr_t>(this)) +
                   std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
            .substr(0, 12);
  }
  ~PgCallLimiter() override {
    {
      std::lock_guard lock(renew_mu_);
      stop_ = true;
    }
    renew_cv_.notify_all();
    if (renewer_.joinable()) renewer_.join();
    std::lock_guard lock(mu_);
    if (connected_ && !db_.broken()) {
      // Slots of calls still in flight (a process shutting down) come free at once.
      (void)db_.exec("DELETE FROM throttle_leases WHERE holder = $1", Params().text(holder_),
                     "cannot give back the throttles' slots");
    }
  }

  Result<Turn> try_acquire(const ThrottleRequest& request) override {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    auto r = db_.run("throttle_acquire",
                     "SELECT lease, retry_ms FROM switchyard_throttle_acquire($1, $2, $3, $4, $5)",
                     Params()
                         .text(request.key)
                         .text(holder_)
                         .integer(request.max_in_flight)
                         .text(std::to_string(request.per_second))
                         .integer(lease_.count()),
                     "cannot take a throttle's turn");
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) != 1 || PQnfields(r->get()) != 2) {
      return io_error("journal " + where_ + ": cannot take a throttle's turn: unexpected reply");
    }
    Turn turn;
    const std::int64_t lease = integer(r->get(), 0, 0);
    const std::int64_t retry = integer(r->get(), 0, 1);
    if (lease > 0) {
      turn.granted = true;
      turn.permit = Permit{request.key, lease};
      start_renewer();
      std::lock_guard held(renew_mu_);
      ++held_;
    } else {
      turn.retry_after = retry > 0 ? std::chrono::milliseconds(retry) : kPgThrottlePoll;
    }
    return turn;
  }

  void release(const Permit& permit) override {
    if (permit.lease == 0) return;
    {
      std::lock_guard held(renew_mu_);
      if (held_ > 0) --held_;
    }
    std::lock_guard lock(mu_);
    Status s = ready();
    if (s.ok()) {
      s = db_.run("throttle_release", "DELETE FROM throttle_leases WHERE id = $1",
                  Params().integer(permit.lease), "cannot give back a throttle's slot")
              .status();
    }
    if (!s.ok()) {
      logger().warn("throttle '{}': slot {} not given back (it expires with its lease): {}",
                    permit.key, permit.lease, s.message());
    }
  }

 private:
  // How often a call that waits for a free slot asks again.
  static constexpr std::chrono::milliseconds kPgThrottlePoll{5};

  // Connected (or reconnected). REQUIRES: mu_ held.
  Status ready() {
    return ready_side_connection(db_, connected_, url_,
                                 "SET statement_timeout = 2000; SET lock_timeout = 1000;",
                                 "cannot configure the throttles' session");
  }

  void start_renewer() {
    std::lock_guard lock(renew_mu_);
    if (renewer_.joinable() || stop_) return;
    renewer_ = std::thread([this] { renew_loop(); });
  }

  void renew_loop() {
    std::unique_lock lock(renew_mu_);
    while (!stop_) {
      renew_cv_.wait_for(lock, lease_ / 3, [this] { return stop_; });
      if (stop_) return;
      if (held_ == 0) continue;
      lock.unlock();
      Status s;
      {
        std::lock_guard db_lock(mu_);
        s = ready();
        if (s.ok()) {
          s = db_.run("throttle_renew",
                      "UPDATE throttle_leases SET expires_ms = floor(extract(epoch FROM "
                      "clock_timestamp()) * 1000)::bigint + $2 WHERE holder = $1",
                      Params().text(holder_).integer(lease_.count()),
                      "cannot renew the throttles' slots")
                  .status();
        }
      }
      if (!s.ok()) logger().warn("throttles: {}", s.message());
      lock.lock();
    }
  }

  std::string url_;
  std::string where_;
  std::chrono::milliseconds lease_;
  std::string holder_;  // host:pid:random, unique to this limiter
  std::mutex mu_;       // db_
  Connection db_;
  bool connected_ = false;
  std::mutex renew_mu_;  // what follows
  std::condition_variable renew_cv_;
  bool stop_ = false;
  std::int64_t held_ = 0;  // slots granted and not given back
  std::thread renewer_;
};

// Tenant budgets in the database (schema version 6), on a connection of their own (made on first
// use), each decision one statement; bounded by a statement_timeout (an engine thread asks in
// line).
class PgTenantLedger final : public TenantLedger {
 public:
  PgTenantLedger(std::string url, std::string where)
      : url_(std::move(url)), where_(std::move(where)), db_(where_) {}

  Result<TenantDecision> reserve(const std::string& tenant, const std::string& run_id,
                                 std::int64_t call, std::int64_t usd) override {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    auto r = db_.run("tenant_reserve",
                     "SELECT granted, cap, spent, reserved FROM "
                     "switchyard_tenant_reserve($1, $2, $3, $4)",
                     Params().text(tenant).text(run_id).integer(call).integer(usd),
                     "cannot reserve against tenant '" + tenant + "'");
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) != 1 || PQnfields(r->get()) != 4) {
      return io_error("journal " + where_ + ": cannot reserve against tenant '" + tenant +
                      "': unexpected reply");
    }
    TenantDecision d;
    d.granted = raw(r->get(), 0, 0) == "t";
    if (!is_null(r->get(), 0, 1)) d.cap = integer(r->get(), 0, 1);
    d.spent = integer(r->get(), 0, 2);
    d.reserved = integer(r->get(), 0, 3);
    return d;
  }

  Result<bool> settle(const std::string& run_id, std::int64_t call, std::int64_t charged) override {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    auto r = db_.run("tenant_settle",
                     "WITH d AS (DELETE FROM tenant_reservations WHERE run_id = $1 AND call = $2 "
                     "RETURNING tenant, usd_micros) UPDATE tenant_budgets b SET reserved_micros "
                     "= b.reserved_micros - d.usd_micros, spent_micros = b.spent_micros + $3 "
                     "FROM d WHERE b.tenant = d.tenant RETURNING 1",
                     Params().text(run_id).integer(call).integer(charged),
                     "cannot settle call " + std::to_string(call) + " of run " + run_id);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) > 0;
  }

  Status charge(const std::string& tenant, std::int64_t usd) override {
    return upsert("tenant_charge",
                  "INSERT INTO tenant_budgets (tenant, spent_micros) VALUES ($1, $2) ON CONFLICT "
                  "(tenant) DO UPDATE SET spent_micros = tenant_budgets.spent_micros + $2",
                  tenant, usd, "cannot charge tenant '" + tenant + "'");
  }

  Result<std::vector<AbandonedReservation>> settle_abandoned(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    auto r = db_.run(
        "tenant_abandoned",
        "WITH d AS (DELETE FROM tenant_reservations WHERE run_id = $1 RETURNING tenant, call, "
        "usd_micros), u AS (UPDATE tenant_budgets b SET reserved_micros = b.reserved_micros - "
        "s.total, spent_micros = b.spent_micros + s.total FROM (SELECT tenant, sum(usd_micros) "
        "AS total FROM d GROUP BY tenant) s WHERE b.tenant = s.tenant) SELECT call, usd_micros "
        "FROM d ORDER BY call",
        Params().text(run_id), "cannot settle the open reservations of run " + run_id);
    if (!r.ok()) return r.status();
    std::vector<AbandonedReservation> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      out.push_back({integer(r->get(), i, 0), integer(r->get(), i, 1)});
    }
    return out;
  }

  Status set_cap(const std::string& tenant, std::int64_t cap) override {
    return upsert("tenant_set_cap",
                  "INSERT INTO tenant_budgets (tenant, cap_micros) VALUES ($1, $2) ON CONFLICT "
                  "(tenant) DO UPDATE SET cap_micros = $2",
                  tenant, cap, "cannot set tenant '" + tenant + "''s cap");
  }

  Result<std::vector<TenantBudget>> list() override {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    auto r = db_.run("tenant_list",
                     "SELECT tenant, cap_micros, spent_micros, reserved_micros FROM "
                     "tenant_budgets ORDER BY tenant COLLATE \"C\"",
                     Params(), "cannot read the tenants' budgets");
    if (!r.ok()) return r.status();
    std::vector<TenantBudget> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      TenantBudget t;
      t.key = cell(r->get(), i, 0);
      if (!is_null(r->get(), i, 1)) t.cap = integer(r->get(), i, 1);
      t.spent = integer(r->get(), i, 2);
      t.reserved = integer(r->get(), i, 3);
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  // Connected (or reconnected). REQUIRES: mu_ held.
  Status ready() {
    return ready_side_connection(db_, connected_, url_,
                                 "SET statement_timeout = 5000; SET lock_timeout = 2000;",
                                 "cannot configure the tenants' session");
  }

  // Runs statement `name` (`sql`, parameters: `tenant`, `amount`) with no result.
  Status upsert(const char* name, const char* sql, const std::string& tenant, std::int64_t amount,
                const std::string& what) {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    return db_.run(name, sql, Params().text(tenant).integer(amount), what).status();
  }

  std::string url_;
  std::string where_;
  std::mutex mu_;  // db_
  Connection db_;
  bool connected_ = false;
};

class PostgresJournal final : public SqlJournal, public RunQueue, public HealthFeed {
 public:
  explicit PostgresJournal(std::string url)
      : url_(std::move(url)),
        where_(printable_location(url_)),
        db_(where_),
        origin_(new_origin()) {}

  Status open(const JournalOptions& options) {
    limiter_ = std::make_unique<PgCallLimiter>(url_, where_, options.throttle_lease);
    tenants_ = std::make_unique<PgTenantLedger>(url_, where_);
    if (Status s = db_.connect(url_); !s.ok()) return s;
    settings_ = "SET lock_timeout = " + std::to_string(options.busy_timeout.count()) + ";";
    if (options.sync == JournalSync::kFull) settings_ += "SET synchronous_commit = on;";
    if (auto r = db_.exec(settings_, "cannot configure the session"); !r.ok()) return r.status();
    auto version = schema_version();
    if (!version.ok()) return version.status();
    if (*version == 0 && !options.create_if_missing) {
      return not_found("journal not found: " + where_ + " holds no switchyard journal");
    }
    for (int v = *version; v < kSchemaVersion; v = *version) {
      if (Status s = migrate(); !s.ok()) return s;
      version = schema_version();
      if (!version.ok()) return version.status();
      if (v > 0) logger().info("journal {}: schema upgraded to version {}", where_, *version);
    }
    return Status();
  }

  Status begin_run(const RunRecord& run) override {
    std::lock_guard lock(mu_);
    const bool store_workflow = must_store_workflow(run);
    Status st = atomically([&]() -> Status {
      if (store_workflow) {
        const char* sql =
            "INSERT INTO workflows (hash, name, source) VALUES ($1, $2, $3) "
            "ON CONFLICT (hash) DO NOTHING";
        Params params;
        params.text(run.workflow_hash).text(run.workflow).text(*run.workflow_source);
        const std::string what = "cannot record the workflow of run " + run.run_id;
        Status s = at_once_ ? db_.send("insert_workflow", sql, params, what)
                            : db_.run("insert_workflow", sql, params, what).status();
        if (!s.ok()) return s;
      }
      const char* sql =
          "INSERT INTO runs (run_id, workflow, workflow_hash, status, started_ms, "
          "input, owner_pid, tenant) VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''))";
      Params params;
      params.text(run.run_id)
          .text(run.workflow)
          .text(run.workflow_hash)
          .text(run.status)
          .integer(run.started_ms)
          .text(run.input.dump())
          .integer(::getpid())
          .text(run.tenant);
      const std::string what = "cannot record run " + run.run_id;
      // At once: a run id taken fails the group, which is then performed write by write.
      if (at_once_) return db_.send("insert_run", sql, params, what, 1);
      auto r = db_.run("insert_run", sql, params, what);
      if (!r.ok() && db_.last_sqlstate() == "23505") {  // unique_violation
        return invalid_argument("run " + run.run_id + " is already in the journal " + where_);
      }
      return r.status();
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
    if (!head.ok()) return noted(head.status());
    if (Status s = check_append(events, head->seq); !s.ok()) return s;
    Head next = *head;
    Status st = atomically([&]() -> Status {
      // At once, no row lock: the group's store_heads (or finish_run) changes the run's row only
      // at its epoch, and the group is performed again write by write when it did not.
      if (!at_once_) {
        if (Status s = check_fence(run_id); !s.ok()) return s;
      }
      for (std::size_t first = 0; first < events.size(); first += kEventsPerInsert) {
        const std::size_t n = std::min<std::size_t>(kEventsPerInsert, events.size() - first);
        Params params;
        for (std::size_t i = first; i < first + n; ++i) {
          const Event& e = events[i];
          std::string payload;
          if (Status s = link_event(run_id, e, next, payload); !s.ok()) return s;
          if (!e.payload_json.empty()) payload = e.payload_json;
          params.text(e.run_id)
              .integer(e.seq)
              .integer(e.time_ms)
              .text(e.type)
              .text(std::move(payload))
              .text(next.hash)
              .integer(origin_);
        }
        const std::string name = "insert_events_" + std::to_string(n);
        const std::string what =
            "cannot append event " + std::to_string(events[first].seq) + " of run " + run_id;
        Status s = at_once_ ? db_.send(name, insert_events_sql(n), params, what)
                            : db_.run(name, insert_events_sql(n), params, what).status();
        if (!s.ok()) return s;
        if (first == 0 && events.size() > 1) crash_point("inside_append");
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
    if (Status s = connected(); !s.ok()) return s;
    auto head = read_head(run_id);
    if (!head.ok()) return noted(head.status());
    Params params;
    params.text(status);
    if (result.is_null()) {
      params.null();  // the run_finished event's payload (kRunColumns)
    } else {
      params.text(result.dump());
    }
    params.integer(finished_ms).text(run_id).text(head->hash).integer(head->seq);
    fence_param(params, run_id);
    const char* sql =
        "UPDATE runs SET status = $1, result = $2, finished_ms = $3, head_hash = $5, "
        "head_seq = $6 WHERE run_id = $4 AND ($7::bigint IS NULL OR epoch = $7)";
    if (at_once_) {
      // No row changed (taken over, or gone): the group is performed again write by write,
      // which says which.
      if (Status s = db_.send("finish", sql, params, "cannot finish run " + run_id, 1); !s.ok()) {
        return noted(s);
      }
      finished(run_id, *head);
      return Status();
    }
    auto r = db_.run("finish", sql, params, "cannot finish run " + run_id);
    if (!r.ok()) return noted(r.status());
    if (std::string_view(PQcmdTuples(r->get())) == "0") {
      if (Status s = fence_refusal(run_id, "finish"); !s.ok()) return noted(s);
      return noted(not_found("run " + run_id + " is not in the journal"));
    }
    finished(run_id, *head);
    return Status();
  }

  Status claim_run(const std::string& run_id) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    Params params;
    params.integer(::getpid()).text(run_id);
    fence_param(params, run_id);
    auto r = db_.exec(
        "UPDATE runs SET owner_pid = $1 WHERE run_id = $2 AND status = 'running' AND "
        "($3::bigint IS NULL OR epoch = $3)",
        params, "cannot claim run " + run_id);
    if (!r.ok()) return r.status();
    if (std::string_view(PQcmdTuples(r->get())) == "1") return Status();
    if (Status s = fence_refusal(run_id, "claim"); !s.ok()) return s;
    auto exists = db_.exec("SELECT 1 FROM runs WHERE run_id = $1", Params().text(run_id),
                           "cannot claim run " + run_id);
    if (!exists.ok()) return exists.status();
    if (PQntuples(exists->get()) == 0) {
      return not_found("run " + run_id + " is not in the journal " + where_);
    }
    return failed_precondition("run " + run_id + " has already finished");
  }

  Status queue_resolution(const QueuedResolution& resolution) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    return atomically([&]() -> Status {
      auto r = db_.run("queue_resolution",
                       "INSERT INTO wait_inbox (run_id, wait_id, time_ms, body) SELECT $1, $2, "
                       "$3, $4 WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = $1)",
                       Params()
                           .text(resolution.run_id)
                           .text(resolution.wait_id)
                           .integer(resolution.time_ms)
                           .text(encode_resolution_body(resolution)),
                       "cannot queue a resolution for run " + resolution.run_id);
      if (!r.ok()) return r.status();
      if (std::string_view(PQcmdTuples(r->get())) == "0") {
        return not_found("run " + resolution.run_id + " is not in the journal " + where_);
      }
      return Status();
    });
  }

  Result<std::vector<QueuedResolution>> queued_resolutions(
      const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.run("queued_resolutions",
                     "SELECT id, wait_id, time_ms, body FROM wait_inbox WHERE run_id = $1 "
                     "ORDER BY id",
                     Params().text(run_id), "cannot read the queued resolutions of run " + run_id);
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    std::vector<QueuedResolution> out;
    for (int row = 0; row < PQntuples(rows); ++row) {
      auto q = decode_resolution_row(run_id, integer(rows, row, 0), cell(rows, row, 1),
                                     integer(rows, row, 2), raw(rows, row, 3));
      if (!q.ok()) return q.status();
      out.push_back(std::move(q).value());
    }
    return out;
  }

  Result<GcStats> gc(std::int64_t finished_before_ms) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    GcStats stats;
    Status st = atomically([&]() -> Status {
      const std::string where =
          " WHERE status <> 'running' AND finished_ms IS NOT NULL AND finished_ms < $1";
      const std::string what = "cannot remove old runs";
      auto inbox =
          db_.exec("DELETE FROM wait_inbox WHERE run_id IN (SELECT run_id FROM runs" + where + ")",
                   Params().integer(finished_before_ms), what);
      if (!inbox.ok()) return inbox.status();
      auto events =
          db_.exec("DELETE FROM events WHERE run_id IN (SELECT run_id FROM runs" + where + ")",
                   Params().integer(finished_before_ms), what);
      if (!events.ok()) return events.status();
      stats.events = integer_of(PQcmdTuples(events->get()));
      auto runs = db_.exec("DELETE FROM runs" + where, Params().integer(finished_before_ms), what);
      if (!runs.ok()) return runs.status();
      stats.runs = integer_of(PQcmdTuples(runs->get()));
      auto workflows = db_.exec(
          "DELETE FROM workflows w WHERE NOT EXISTS "
          "(SELECT 1 FROM runs r WHERE r.workflow_hash = w.hash)",
          what);
      if (!workflows.ok()) return workflows.status();
      stats.workflows = integer_of(PQcmdTuples(workflows->get()));
      return Status();
    });
    if (!st.ok()) return st;
    forget_cache();
    return stats;
  }

  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE true";
    Params params;
    auto next = [&params] { return "$" + std::to_string(params.size()); };
    if (filter.status && *filter.status == "running") {
      sql += " AND status = 'running'";  // the partial index runs_running
    } else if (filter.status) {
      params.text(*filter.status);
      sql += " AND status = " + next();
    }
    if (filter.workflow) {
      params.text(*filter.workflow);
      sql += " AND workflow = " + next();
    }
    if (filter.since_ms) {
      params.integer(*filter.since_ms);
      sql += " AND started_ms >= " + next();
    }
    if (filter.until_ms) {
      params.integer(*filter.until_ms);
      sql += " AND started_ms < " + next();
    }
    params.integer(filter.limit);
    sql += " ORDER BY started_ms DESC, run_id DESC LIMIT " + next();
    auto r = db_.exec(sql, params, "cannot list runs");
    if (!r.ok()) return r.status();
    std::vector<RunRecord> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) out.push_back(read_run(r->get(), row));
    return out;
  }

  Result<RunRecord> get_run(const std::string& run_id) const override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r =
        db_.run("get_run", std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = $1",
                Params().text(run_id), "cannot read run " + run_id);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) {
      return not_found("run " + run_id + " is not in the journal " + where_);
    }
    RunRecord run = read_run(r->get(), 0);
    if (!run.defect.empty()) return invalid_argument(run.defect);
    return run;
  }

  Result<std::vector<Event>> events(const std::string& run_id) const override {
    return events_after(run_id, 0);
  }

  Result<std::vector<Event>> events_after(const std::string& run_id,
                                          std::int64_t after_seq) const override {
    auto run = get_run(run_id);
    if (!run.ok()) return run.status();
    std::lock_guard lock(mu_);
    auto r =
        db_.run("events",
                "SELECT seq, time_ms, type, payload, hash FROM events WHERE run_id = $1 "
                "AND seq > $2 ORDER BY seq",
                Params().text(run_id).integer(after_seq), "cannot read events of run " + run_id);
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    std::vector<Event> out;
    out.reserve(static_cast<std::size_t>(PQntuples(rows)));
    for (int row = 0; row < PQntuples(rows); ++row) {
      auto e = decode_event_row(run_id, integer(rows, row, 0), integer(rows, row, 1),
                                cell(rows, row, 2), raw(rows, row, 3), cell(rows, row, 4));
      if (!e.ok()) return e.status();
      out.push_back(std::move(e).value());
    }
    return out;
  }

  // Only the rows that open and close waits (the run's other events are not read).
  Result<std::vector<std::string>> open_waits(const std::string& run_id) const override {
    auto run = get_run(run_id);
    if (!run.ok()) return run.status();
    std::lock_guard lock(mu_);
    auto r = db_.run("open_waits",
                     "SELECT seq, time_ms, type, payload, hash FROM events WHERE run_id = $1 "
                     "AND type IN ('wait_started', 'wait_resolved', 'fanout_joined') "
                     "ORDER BY seq",
                     Params().text(run_id), "cannot read the waits of run " + run_id);
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    std::vector<Event> events;
    for (int row = 0; row < PQntuples(rows); ++row) {
      auto e = decode_event_row(run_id, integer(rows, row, 0), integer(rows, row, 1),
                                cell(rows, row, 2), raw(rows, row, 3), cell(rows, row, 4));
      if (!e.ok()) return e.status();
      events.push_back(std::move(e).value());
    }
    return open_wait_ids(events);
  }

  Result<std::string> workflow_source(const std::string& hash) const override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.run("workflow_source", "SELECT source FROM workflows WHERE hash = $1",
                     Params().text(hash), "cannot read workflow " + hash);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) {
      return not_found("journal " + where_ + " does not hold workflow " + hash);
    }
    return std::string(raw(r->get(), 0, 0));
  }

  Result<JournalCheck> check() const override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    // One snapshot of the database, whatever other connections commit meanwhile.
    if (Status s = sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) return s;
    auto checked = check_snapshot();
    (void)sql("COMMIT");
    return checked;
  }

  std::string location() const override { return where_; }

  RunQueue* run_queue() override { return this; }
  HealthFeed* health_feed() override { return this; }

  Result<OutcomeCursor> outcomes_start() override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.run("outcomes_start", "SELECT pg_snapshot_xmin(pg_current_snapshot())::text",
                     Params(), "cannot read the outcomes of other processes");
    if (!r.ok()) return r.status();
    OutcomeCursor cursor;
    const std::string_view xid = raw(r->get(), 0, 0);
    std::from_chars(xid.data(), xid.data() + xid.size(), cursor.xid);
    // Rows of transaction xmin itself come after: every run id is after "".
    return cursor;
  }

  Result<OutcomeBatch> outcomes_after(OutcomeCursor& cursor, int limit) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.run("outcomes_after", kOutcomesAfter,
                     Params()
                         .text(std::to_string(cursor.xid))
                         .text(cursor.run_id)
                         .integer(cursor.seq)
                         .integer(std::max(limit, 1))
                         .integer(origin_),
                     "cannot read the outcomes of other processes");
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    OutcomeBatch out;
    out.rows = PQntuples(rows);
    for (int row = 0; row < out.rows; ++row) {
      const std::string_view xid = raw(rows, row, 0);
      std::from_chars(xid.data(), xid.data() + xid.size(), cursor.xid);
      cursor.run_id = std::string(raw(rows, row, 1));
      cursor.seq = integer(rows, row, 2);
      if (is_null(rows, row, 5)) continue;  // written here: this process knows it
      auto e = decode_event_row(cell(rows, row, 1), cursor.seq, integer(rows, row, 3),
                                cell(rows, row, 4), raw(rows, row, 5), cell(rows, row, 6));
      if (!e.ok()) {
        out.skipped.push_back(e.status().message());
        continue;
      }
      out.events.push_back(std::move(e).value());
    }
    return out;
  }
  CallLimiter& call_limiter() override { return *limiter_; }
  TenantLedger& tenant_ledger() override { return *tenants_; }

  // ---- RunQueue ----

  Status enqueue(const RunRecord& run) override {
    RunRecord queued = run;
    queued.status = "queued";
    if (Status s = begin_run(queued); !s.ok()) return s;
    std::lock_guard lock(mu_);
    forget_cache();  // begin_run cached an empty head for a run this process will not write
    return Status();
  }

  Result<std::optional<ClaimedRun>> claim(const std::string& owner,
                                          const std::vector<std::string>& workflow_hashes,
                                          std::int64_t now_ms, std::int64_t lease_ms) override {
    auto claimed = claim_many(owner, workflow_hashes, now_ms, lease_ms, 1);
    if (!claimed.ok()) return claimed.status();
    if (claimed->empty()) return std::optional<ClaimedRun>();
    return std::optional<ClaimedRun>(std::move(claimed->front()));
  }

  Result<std::vector<ClaimedRun>> claim_many(const std::string& owner,
                                             const std::vector<std::string>& workflow_hashes,
                                             std::int64_t now_ms, std::int64_t lease_ms,
                                             int limit) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    std::vector<ClaimedRun> out;
    if (limit < 1) return out;
    // Runs whose lease expired first (a worker died holding them), else the oldest queued ones;
    // rows another worker is claiming (or writing) are skipped, not waited for.
    auto r = db_.run(
        "queue_claim",
        "WITH expired AS (SELECT run_id, status, owner FROM runs WHERE status = 'running' AND "
        "owner IS NOT NULL AND lease_expires_ms < $3 AND workflow_hash = ANY($2::text[]) "
        "ORDER BY lease_expires_ms LIMIT $6 FOR UPDATE SKIP LOCKED), "
        "queued AS (SELECT run_id, status, owner FROM runs WHERE status = 'queued' AND "
        "workflow_hash = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM expired) "
        "ORDER BY started_ms, run_id LIMIT $6 FOR UPDATE SKIP LOCKED), "
        "picked AS (SELECT * FROM expired UNION ALL SELECT * FROM queued), "
        "claimed AS (UPDATE runs r SET status = 'running', owner = $1, lease_expires_ms = "
        "$3::bigint + $4::bigint, epoch = r.epoch + 1, owner_pid = $5 FROM picked WHERE "
        "r.run_id = picked.run_id RETURNING r.run_id, r.workflow_hash, r.epoch, picked.status, "
        "picked.owner, r.input, EXISTS (SELECT 1 FROM wait_inbox w WHERE w.run_id = r.run_id), "
        "r.started_ms, r.tenant) "
        "SELECT * FROM claimed ORDER BY started_ms, run_id",
        Params()
            .text(owner)
            .text(text_array(workflow_hashes))
            .integer(now_ms)
            .integer(lease_ms)
            .integer(::getpid())
            .integer(limit),
        "cannot claim a run");
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    for (int row = 0; row < PQntuples(rows); ++row) {
      ClaimedRun c;
      c.run_id = cell(rows, row, 0);
      c.workflow_hash = cell(rows, row, 1);
      c.epoch = integer(rows, row, 2);
      c.taken_over = cell(rows, row, 3) == "running";
      c.previous_owner = cell(rows, row, 4);
      c.tenant = cell(rows, row, 8);
      if (!c.taken_over && cell(rows, row, 6) == "f") {
        // A bad input is left to the resume path, which refuses it naming the run.
        if (auto input = decode_run_column(c.run_id, "input", raw(rows, row, 5));
            input.ok() && input->is_object()) {
          c.fresh_input = std::move(input).value();
        }
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<std::vector<std::pair<std::string, std::int64_t>>> renew(
      const std::string& owner, const std::vector<std::string>& run_ids, std::int64_t now_ms,
      std::int64_t lease_ms) override {
    std::lock_guard lock(mu_);
    if (run_ids.empty()) return std::vector<std::pair<std::string, std::int64_t>>();
    if (Status s = connected(); !s.ok()) return s;
    auto r =
        db_.run("queue_renew",
                "UPDATE runs SET lease_expires_ms = $2::bigint + $3::bigint WHERE owner = $1 AND "
                "status = 'running' AND run_id = ANY($4::text[]) RETURNING run_id, epoch",
                Params().text(owner).integer(now_ms).integer(lease_ms).text(text_array(run_ids)),
                "cannot renew the leases of " + owner);
    if (!r.ok()) return r.status();
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      out.emplace_back(cell(r->get(), row, 0), integer(r->get(), row, 1));
    }
    return out;
  }

  Status release(const std::string& owner, const std::string& run_id, std::int64_t epoch) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    return db_
        .run("queue_release",
             "UPDATE runs SET lease_expires_ms = 0 WHERE run_id = $1 AND owner = $2 AND "
             "epoch = $3 AND status = 'running'",
             Params().text(run_id).text(owner).integer(epoch), "cannot release run " + run_id)
        .status();
  }

  Result<std::int64_t> adopt(const std::string& run_id, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.run("queue_adopt",
                     "UPDATE runs SET owner = NULL, lease_expires_ms = NULL, epoch = epoch + 1, "
                     "owner_pid = $3 WHERE run_id = $1 AND status = 'running' AND "
                     "(owner IS NULL OR lease_expires_ms < $2) RETURNING epoch",
                     Params().text(run_id).integer(now_ms).integer(::getpid()),
                     "cannot take over run " + run_id);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 1) {
      const std::int64_t epoch = integer(r->get(), 0, 0);
      pending_fences();
      fences_[run_id] = epoch;
      forget_cache();
      return epoch;
    }
    auto row =
        db_.run("queue_why", "SELECT status, owner, lease_expires_ms FROM runs WHERE run_id = $1",
                Params().text(run_id), "cannot read run " + run_id);
    if (!row.ok()) return row.status();
    if (PQntuples(row->get()) == 0) {
      return not_found("run " + run_id + " is not in the journal " + where_);
    }
    const std::string status = cell(row->get(), 0, 0);
    if (status != "running") {
      return failed_precondition("run " + run_id + " is " + status + ", not running");
    }
    return failed_precondition("run " + run_id + " is held by worker " + cell(row->get(), 0, 1) +
                               " whose lease expires at " + cell(row->get(), 0, 2) +
                               " (Unix ms): it has not crashed");
  }

  // Fencing never waits for a group of writes in progress (a worker starting the runs it just
  // claimed would wait a group for each): a change made while one holds the journal is applied
  // by the next call that looks at fences or heads (pending_fences), before the run's first
  // write, which comes after it.
  void fence(const std::string& run_id, std::int64_t epoch) override {
    change_fence({run_id, epoch, FenceChange::kFence});
  }
  void fence_unstarted(const std::string& run_id, std::int64_t epoch) override {
    change_fence({run_id, epoch, FenceChange::kUnstarted});
  }
  void fence_started(const std::string& run_id, std::int64_t epoch, std::int64_t head_seq,
                     const std::string& head_hash) override {
    change_fence({run_id, epoch, FenceChange::kStarted, Head{head_seq, head_hash}});
  }
  // The starts of runs claimed on this connection, in one group (one round trip when it is sent
  // at once): each fenced at its epoch and known to have no events (no read of its row), so that
  // a run taken over meanwhile changes no row and its start is refused, nothing of it kept. This
  // connection writes nothing more of them: their fences and heads are dropped after.
  bool writes_starts() const override { return true; }
  std::vector<Status> write_starts(const std::vector<Start>& starts) override {
    std::lock_guard lock(mu_);
    pending_fences();
    std::vector<Write> writes;
    writes.reserve(starts.size());
    for (const auto& [epoch, events] : starts) {
      if (!events.empty()) {
        fences_[events.front().run_id] = epoch;
        known_empty(events.front().run_id);
      }
      writes.push_back([&events = events](Journal& j) { return j.append(events); });
    }
    std::vector<Status> out = write_group(writes);
    for (const auto& [epoch, events] : starts) {
      if (events.empty()) continue;
      fences_.erase(events.front().run_id);
      forget_head(events.front().run_id);
    }
    return out;
  }
  void unfence(const std::string& run_id) override {
    change_fence({run_id, 0, FenceChange::kUnfence});
  }

  Result<QueueStats> stats(std::int64_t now_ms) const override {
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.exec(
        "SELECT (SELECT count(*) FROM runs WHERE status = 'queued'), "
        "(SELECT count(*) FROM runs WHERE status = 'running' AND owner IS NOT NULL AND "
        "lease_expires_ms >= $1), (SELECT count(*) FROM runs WHERE status = 'running' AND "
        "owner IS NOT NULL AND lease_expires_ms < $1), "
        "(SELECT COALESCE(sum(epoch), 0) FROM runs)",
        Params().integer(now_ms), "cannot read the queue");
    if (!r.ok()) return r.status();
    return QueueStats{.queued = integer(r->get(), 0, 0),
                      .leased = integer(r->get(), 0, 1),
                      .expired = integer(r->get(), 0, 2),
                      .claims = integer(r->get(), 0, 3)};
  }

  Result<std::map<std::string, std::int64_t>> inbox_counts(
      const std::vector<std::string>& run_ids) const override {
    std::map<std::string, std::int64_t> out;
    if (run_ids.empty()) return out;
    std::lock_guard lock(mu_);
    if (Status s = connected(); !s.ok()) return s;
    auto r = db_.run("inbox_counts",
                     "SELECT run_id, count(*) FROM wait_inbox WHERE run_id = ANY($1::text[]) "
                     "GROUP BY run_id",
                     Params().text(text_array(run_ids)), "cannot read the wait inbox");
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    for (int row = 0; row < PQntuples(rows); ++row) {
      out[std::string(cell(rows, row, 0))] = integer(rows, row, 1);
    }
    return out;
  }

 private:
  // {"a","b"} as a PostgreSQL text[] literal.
  static std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += ",";
      out += "\"";
      for (char c : items[i]) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += "\"";
    }
    return out + "}";
  }

  struct FenceChange {
    std::string run_id;
    std::int64_t epoch = 0;
    enum Kind { kFence, kUnstarted, kStarted, kUnfence } kind = kFence;
    Head head{};  // kStarted: the run's head
  };
  void change_fence(FenceChange change) {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (lock.owns_lock()) {
      pending_fences();
      apply_fence(change);
      return;
    }
    std::lock_guard pending(fence_mu_);
    fence_changes_.push_back(std::move(change));
    fences_pending_.store(true, std::memory_order_release);
  }
  // The fence changes made while a group held the journal, in order. REQUIRES: mu_ held.
  void pending_fences() override {
    if (!fences_pending_.load(std::memory_order_acquire)) return;
    std::vector<FenceChange> changes;
    {
      std::lock_guard pending(fence_mu_);
      changes.swap(fence_changes_);
      fences_pending_.store(false, std::memory_order_release);
    }
    for (const FenceChange& change : changes) apply_fence(change);
  }
  void apply_fence(const FenceChange& c) {  // REQUIRES: mu_ held
    switch (c.kind) {
      case FenceChange::kFence:
        fences_[c.run_id] = c.epoch;
        // A head cached from an earlier hold of the run (before another worker took it over
        // and wrote) is stale: read it from the row again. (Only this run's: the others this
        // process holds are its own.)
        forget_head(c.run_id);
        return;
      case FenceChange::kUnstarted:
        fences_[c.run_id] = c.epoch;
        known_empty(c.run_id);
        return;
      case FenceChange::kStarted:
        fences_[c.run_id] = c.epoch;
        known_head(c.run_id, c.head);
        return;
      case FenceChange::kUnfence:
        fences_.erase(c.run_id);
        return;
    }
  }

  // The run's fencing epoch as a statement's last parameter (NULL: not fenced). REQUIRES: mu_.
  void fence_param(Params& params, const std::string& run_id) {
    pending_fences();
    if (auto it = fences_.find(run_id); it != fences_.end()) {
      params.integer(it->second);
    } else {
      params.null();
    }
  }

  // Why a fenced write to `run_id` changed no row. REQUIRES: mu_ held.
  // OK when the run is not fenced or its epoch is still ours: the write failed for another
  // reason, which the caller gives. REQUIRES: mu_ held.
  Status fence_refusal(const std::string& run_id, const std::string& what) {
    auto it = fences_.find(run_id);
    if (it == fences_.end()) return Status();
    auto row = db_.run("fence_why", "SELECT epoch, owner FROM runs WHERE run_id = $1",
                       Params().text(run_id), "cannot read run " + run_id);
    if (!row.ok()) return row.status();
    if (PQntuples(row->get()) == 0) return Status();
    const std::int64_t epoch = integer(row->get(), 0, 0);
    if (epoch == it->second) return Status();
    return refused(run_id, what, epoch, cell(row->get(), 0, 1));
  }

  Status refused(const std::string& run_id, const std::string& what, std::int64_t epoch,
                 const std::string& owner) const {
    auto it = fences_.find(run_id);
    const std::int64_t mine = it == fences_.end() ? 0 : it->second;
    return failed_precondition("run " + run_id + " was taken over (epoch " + std::to_string(epoch) +
                               ", held by " + (owner.empty() ? std::string("no worker") : owner) +
                               "); this process held it at epoch " + std::to_string(mine) +
                               ": its " + what + " is refused (fenced)");
  }

  // Before a fenced run's write in a transaction: locks the run's row (so that a takeover waits
  // for this transaction) and refuses the write when its epoch is no longer ours. Once per run
  // and transaction. REQUIRES: mu_ held, inside a transaction.
  Status check_fence(const std::string& run_id) {
    auto it = fences_.find(run_id);
    if (it == fences_.end() || fence_locked_.contains(run_id)) return Status();
    auto r =
        db_.run("fence_lock", "SELECT epoch, owner FROM runs WHERE run_id = $1 FOR NO KEY UPDATE",
                Params().text(run_id), "cannot append events of run " + run_id);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) return not_found("run " + run_id + " is not in the journal");
    const std::int64_t epoch = integer(r->get(), 0, 0);
    if (epoch != it->second) return refused(run_id, "write", epoch, cell(r->get(), 0, 1));
    fence_locked_.insert(run_id);
    return Status();
  }

  static std::int64_t integer_of(const char* text) {
    std::int64_t value = 0;
    const std::string_view s(text ? text : "");
    std::from_chars(s.data(), s.data() + s.size(), value);
    return value;
  }

  static std::string insert_events_sql(std::size_t n) {
    std::string sql =
        "INSERT INTO events (run_id, seq, time_ms, type, payload, hash, origin) VALUES ";
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t p = i * 7;
      if (i > 0) sql += ", ";
      sql += "(";
      for (std::size_t c = 1; c <= 7; ++c) sql += (c > 1 ? ", $" : "$") + std::to_string(p + c);
      sql += ")";
    }
    return sql;
  }

  // The connection, connected again if the server went away since the last call (outside a
  // group: a group's transaction dies with its connection). REQUIRES: mu_ held.
  Status connected() const {
    if (!db_.broken() || in_group_) return Status();
    logger().warn("journal {}: the connection to the database was lost; reconnecting", where_);
    if (Status s = db_.reset(); !s.ok()) return s;
    return db_.exec(settings_, "cannot configure the session").status();  // a new session
  }

  Status sql(const char* text) const { return db_.exec(text, "cannot execute").status(); }

  // The database's schema version: 0 when it holds no table at all; an error (refusing it,
  // untouched) when it is not a journal. REQUIRES: mu_ held or not yet shared.
  Result<int> schema_version() {
    auto exists = db_.exec(
        "SELECT to_regclass('schema_version') IS NOT NULL, (SELECT count(*) FROM "
        "pg_catalog.pg_tables WHERE schemaname = current_schema())",
        "cannot read the schema version");
    if (!exists.ok()) return exists.status();
    const bool has_version = std::string_view(PQgetvalue(exists->get(), 0, 0)) == "t";
    const std::int64_t tables = integer(exists->get(), 0, 1);
    const std::string foreign = "journal " + where_ +
                                " is a database with tables of its own, not a switchyard "
                                "journal: refusing to touch it";
    if (!has_version) {
      if (tables > 0) return io_error(foreign);
      return 0;
    }
    auto row = db_.exec("SELECT application, version FROM schema_version",
                        "cannot read the schema version");
    if (!row.ok() || PQntuples(row->get()) != 1 || PQnfields(row->get()) != 2 ||
        std::string_view(PQgetvalue(row->get(), 0, 0)) != "switchyard") {
      return io_error(foreign + " (its schema_version table is not a switchyard journal's)");
    }
    const std::int64_t version = integer(row->get(), 0, 1);
    if (version < 1)
      return io_error(foreign + " (its schema_version row says " + std::to_string(version) + ")");
    if (version > kSchemaVersion) {
      return io_error("journal " + where_ + " has schema version " + std::to_string(version) +
                      ", newer than this build knows (" + std::to_string(kSchemaVersion) +
                      "): use a newer switchyard");
    }
    return static_cast<int>(version);
  }

  // The next migration, in one transaction under an advisory lock: another process opening the
  // same database meanwhile waits, then finds the schema it made.
  Status migrate() {
    if (Status s = sql("BEGIN"); !s.ok()) return s;
    Status s = db_.exec(kMigrationLock, "cannot lock the schema").status();
    Result<int> version = s.ok() ? schema_version() : Result<int>(s);
    if (version.ok() && *version == 0) {
      s = db_.exec(kSchemaV1, "cannot create the journal's tables").status();
    } else if (version.ok() && *version == 1) {
      s = db_.exec(kSchemaV2, "cannot add the run queue's indexes").status();
    } else if (version.ok() && *version == 2) {
      s = db_.exec(kSchemaV3, "cannot add the wait inbox").status();
    } else if (version.ok() && *version == 3) {
      s = db_.exec(kSchemaV4, "cannot add the shared health's columns").status();
    } else if (version.ok() && *version == 4) {
      s = db_.exec(kSchemaV5, "cannot add the throttles' tables").status();
    } else if (version.ok() && *version == 5) {
      s = db_.exec(kSchemaV6, "cannot add the tenants' budgets").status();
    } else if (!version.ok()) {
      s = version.status();
    }
    if (s.ok()) s = sql("COMMIT");
    if (!s.ok()) (void)sql("ROLLBACK");
    return s;
  }

  bool writes_at_once() const override { return true; }
  Status begin_at_once() override {
    fence_locked_.clear();
    return db_.send_sql("BEGIN", "cannot begin a group of writes");
  }
  Status commit_at_once(bool* commit_failed) override {
    fence_locked_.clear();
    if (Status s = db_.send_sql("COMMIT", "cannot commit a group of writes"); !s.ok()) return s;
    Status s = db_.flush();
    // The COMMIT failed, or the connection was lost before its answer (it may have committed):
    // not performed again.
    *commit_failed = !s.ok() && (db_.last_sent_failed() || db_.broken());
    return s;
  }

  Status command(Command c) override {
    // Row locks taken in the transaction (check_fence) end with it, or with a rolled back write.
    if (c != Command::kSavepoint && c != Command::kRelease) fence_locked_.clear();
    // Statements of a group sent at once and not yet answered: their answers are of no use once
    // it is rolled back.
    if (c == Command::kRollback) (void)db_.flush();
    switch (c) {
      case Command::kBegin:
        return sql("BEGIN");
      case Command::kCommit:
        return sql("COMMIT");
      case Command::kRollback:
        return sql("ROLLBACK");
      case Command::kSavepoint:
        return sql("SAVEPOINT group_write");
      case Command::kRelease:
        return sql("RELEASE SAVEPOINT group_write");
      case Command::kRollbackTo:
        return sql("ROLLBACK TO SAVEPOINT group_write");
    }
    return Status(StatusCode::kInternal, "unknown command");
  }

  Status ready() override { return connected(); }

  Status store_head(const std::string& run_id, const Head& head) override {
    return db_
        .run("update_head", "UPDATE runs SET head_hash = $1, head_seq = $2 WHERE run_id = $3",
             Params().text(head.hash).integer(head.seq).text(run_id),
             "cannot append events of run " + run_id)
        .status();
  }

  Status store_heads(const std::vector<std::pair<std::string, Head>>& heads) override {
    if (at_once_) return store_heads_fenced(heads);
    if (heads.size() == 1) return store_head(heads.front().first, heads.front().second);
    std::vector<std::string> ids, hashes;
    std::string seqs = "{";
    for (const auto& [run_id, head] : heads) {
      ids.push_back(run_id);
      hashes.push_back(head.hash);
      if (seqs.size() > 1) seqs += ",";
      seqs += std::to_string(head.seq);
    }
    seqs += "}";
    return db_
        .run("update_heads",
             "UPDATE runs SET head_hash = v.hash, head_seq = v.seq FROM unnest($1::text[], "
             "$2::bigint[], $3::text[]) AS v(run_id, seq, hash) WHERE runs.run_id = v.run_id",
             Params().text(text_array(ids)).text(seqs).text(text_array(hashes)),
             "cannot append events of runs " + ids.front() + " and " +
                 std::to_string(ids.size() - 1) + " more")
        .status();
  }

  // store_heads in a group sent at once, its appends made without the fencing lock: a fenced
  // run's row gets its head only while it is still held at this process's epoch, and a run that
  // is not (taken over meanwhile) fails the group (the statement changes fewer rows than it
  // must), which is then performed again write by write. A takeover that commits before this
  // statement is seen by it; one that comes after waits for this transaction to end (the row
  // is locked by the update), and then finds its events.
  Status store_heads_fenced(const std::vector<std::pair<std::string, Head>>& heads) {
    std::vector<std::string> ids, hashes;
    std::string seqs = "{", epochs = "{";
    for (const auto& [run_id, head] : heads) {
      ids.push_back(run_id);
      hashes.push_back(head.hash);
      if (seqs.size() > 1) {
        seqs += ",";
        epochs += ",";
      }
      seqs += std::to_string(head.seq);
      auto fence = fences_.find(run_id);
      epochs += fence == fences_.end() ? std::string("NULL") : std::to_string(fence->second);
    }
    seqs += "}";
    epochs += "}";
    return db_.send("update_heads_fenced",
                    "UPDATE runs SET head_hash = v.hash, head_seq = v.seq FROM unnest($1::text[], "
                    "$2::bigint[], $3::text[], $4::bigint[]) AS v(run_id, seq, hash, epoch) WHERE "
                    "runs.run_id = v.run_id AND (v.epoch IS NULL OR runs.epoch = v.epoch)",
                    Params().text(text_array(ids)).text(seqs).text(text_array(hashes)).text(epochs),
                    "cannot append events of run " + ids.front() +
                        (ids.size() > 1 ? " and " + std::to_string(ids.size() - 1) + " more" : ""),
                    static_cast<int>(heads.size()));
  }

  // The run's head as its row holds it. REQUIRES: mu_ held.
  Result<Head> load_head(const std::string& run_id) override {
    auto r = db_.run("read_head", "SELECT head_seq, head_hash FROM runs WHERE run_id = $1",
                     Params().text(run_id), "cannot read run " + run_id);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) {
      return not_found("run " + run_id + " is not in the journal " + where_);
    }
    return Head{integer(r->get(), 0, 0), std::string(raw(r->get(), 0, 1))};
  }

  // A run's row (kRunColumns), its JSON columns decoded; what cannot be is in `defect`.
  static RunRecord read_run(const PGresult* s, int row) {
    RunRecord r;
    r.run_id = cell(s, row, 0);
    r.workflow = cell(s, row, 1);
    r.workflow_hash = cell(s, row, 2);
    r.status = cell(s, row, 3);
    r.started_ms = integer(s, row, 4);
    r.finished_ms = integer(s, row, 5);
    r.head_hash = cell(s, row, 8);
    r.head_seq = integer(s, row, 9);
    r.owner_pid = integer(s, row, 10);
    r.owner = cell(s, row, 12);
    r.lease_expires_ms = integer(s, row, 13);
    r.epoch = integer(s, row, 14);
    r.tenant = cell(s, row, 15);
    auto note = [&r](const Status& status) {
      if (r.defect.empty()) r.defect = status.message();
    };
    if (auto input = decode_run_column(r.run_id, "input", raw(s, row, 6)); input.ok()) {
      r.input = std::move(input).value();
    } else {
      note(input.status());
    }
    if (!is_null(s, row, 7)) {
      if (auto result = decode_run_column(r.run_id, "result", raw(s, row, 7)); result.ok()) {
        r.result = std::move(result).value();
      } else {
        note(result.status());
      }
    } else if (!is_null(s, row, 11)) {
      auto event = decode_event_row(r.run_id, r.head_seq, 0, "run_finished", raw(s, row, 11), "");
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

  // Journal::check's reads, inside its snapshot. REQUIRES: mu_ held.
  Result<JournalCheck> check_snapshot() const {
    RowChecker checker;
    const std::string what = "cannot check the journal";
    auto workflows = db_.exec("SELECT hash, source FROM workflows ORDER BY hash", what);
    if (!workflows.ok()) return workflows.status();
    for (int row = 0; row < PQntuples(workflows->get()); ++row) {
      checker.workflow(raw(workflows->get(), row, 0), raw(workflows->get(), row, 1));
    }
    auto runs = db_.exec(
        "SELECT run_id, input, result, head_hash, head_seq FROM runs ORDER BY run_id COLLATE \"C\"",
        what);
    if (!runs.ok()) return runs.status();
    for (int row = 0; row < PQntuples(runs->get()); ++row) {
      const PGresult* r = runs->get();
      const std::string result(raw(r, row, 2));
      checker.run(std::string(raw(r, row, 0)), raw(r, row, 1),
                  is_null(r, row, 2) ? nullptr : &result, std::string(raw(r, row, 3)),
                  integer(r, row, 4));
    }
    // Every event, run by run: a cursor, so that a big journal is not held in memory at once.
    if (Status s = sql("DECLARE check_events NO SCROLL CURSOR FOR SELECT run_id, seq, "
                       "time_ms, type, payload, hash FROM events "
                       "ORDER BY run_id COLLATE \"C\", seq");
        !s.ok()) {
      return s;
    }
    for (;;) {
      auto batch = db_.exec("FETCH 1000 FROM check_events", what);
      if (!batch.ok()) return batch.status();
      const PGresult* r = batch->get();
      if (PQntuples(r) == 0) break;
      for (int row = 0; row < PQntuples(r); ++row) {
        checker.event(std::string(raw(r, row, 0)), integer(r, row, 1), integer(r, row, 2),
                      raw(r, row, 3), raw(r, row, 4), raw(r, row, 5));
      }
    }
    auto inbox =
        db_.exec("SELECT run_id, id, wait_id, time_ms, body FROM wait_inbox ORDER BY id", what);
    if (!inbox.ok()) return inbox.status();
    for (int row = 0; row < PQntuples(inbox->get()); ++row) {
      const PGresult* r = inbox->get();
      checker.inbox(std::string(raw(r, row, 0)), integer(r, row, 1), std::string(raw(r, row, 2)),
                    integer(r, row, 3), raw(r, row, 4));
    }
    return checker.finish();
  }

  std::string url_;       // as given: may hold a password, never printed
  std::string where_;     // printable_location(url_)
  std::string settings_;  // the session's SET statements, made again on a new connection
  // Mutable: reads reconnect a lost connection and prepare their statements on first use.
  mutable Connection db_;
  const std::int64_t origin_;  // events.origin of the rows this object writes
  std::unordered_map<std::string, std::int64_t> fences_;  // fence(): run id -> epoch
  std::mutex fence_mu_;                                   // guards fence_changes_
  std::vector<FenceChange> fence_changes_;                // made while a group held mu_
  std::atomic<bool> fences_pending_{false};               // fence_changes_ is not empty
  std::set<std::string> fence_locked_;       // fenced runs whose row this transaction has locked
  std::unique_ptr<PgCallLimiter> limiter_;   // the throttles' turns, on a connection of its own
  std::unique_ptr<PgTenantLedger> tenants_;  // the tenants' budgets, on a connection of their own
};

}  // namespace pg
}  // namespace

Result<std::unique_ptr<Journal>> open_postgres_journal(const std::string& url,
                                                       const JournalOptions& options) {
  auto journal = std::make_unique<pg::PostgresJournal>(url);
  if (Status s = journal->open(options); !s.ok()) return s;
  return std::unique_ptr<Journal>(std::move(journal));
}

}  // namespace switchyard::runtime
