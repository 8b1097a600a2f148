#pragma once
// The journal: every run and every decision of a run, as events in order.
//
// Three implementations: a SQLite file in WAL mode (open_sqlite_journal; what users audit, replay
// and resume, the default), a PostgreSQL database (open_postgres_journal; the same, on a server:
// docs/journal.md#postgresql) and an in-memory one (make_memory_journal; evaluation and
// benchmarks only). open_journal picks the first two by the journal argument's form.
// A journal that cannot be opened or written is an error (StatusCode::kIo), never a silent
// fallback to memory.
//
// Thread-safety: every method may be called from any thread; calls are serialized internally.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/call_limiter.h"
#include "runtime/journal/tenant_ledger.h"

namespace switchyard::runtime {

// One journaled event. `seq` is 1-based and dense within a run.
struct Event {
  std::string run_id;
  std::int64_t seq = 0;
  std::int64_t time_ms = 0;  // Unix time in milliseconds
  std::string type;          // run_started, plan, step_started, ... (docs/journal.md)
  nlohmann::json payload;    // an object
  // The event's link in its run's hash chain (docs/journal.md#hash-chain): lower-case hex
  // SHA-256 of the previous link and this event's canonical JSON. Set by the SQLite journal when
  // it stores or reads the event; empty in memory.
  std::string hash;
  // Sealed events only (EventBuffer::seal_from, for a journal that chains_events()): the payload's
  // canonical JSON, already serialized (then `payload` is null: the tree was freed by whoever
  // sealed it), and the link `hash` was computed from, which must be the run's head in the
  // journal. Sealing moves this work off the journal's single writer. Empty otherwise.
  std::string payload_json;
  std::string prev_hash;
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
  std::string head_hash;         // the hash of the run's last event ("" before any)
  std::int64_t head_seq = 0;     // the seq of the run's last event
  std::int64_t owner_pid = 0;    // the process that started (or resumed) it; 0: unknown
  // A run a worker claimed from the queue (PostgreSQL only; docs/scale-out.md): the worker that
  // holds it ("" when none does), until when (Unix ms; 0: no lease), and its fencing epoch (how
  // many times it was claimed or taken over; 0: never).
  std::string owner;
  std::int64_t lease_expires_ms = 0;
  std::int64_t epoch = 0;
  // begin_run: the workflow's canonical JSON (workflow_hash is its hash), stored once per hash so
  // that replay and resume can rebuild the workflow (null: not stored). Reads leave it null: see
  // Journal::workflow_source().
  std::shared_ptr<const std::string> workflow_source;
  // Set when a column of the stored row cannot be decoded (runtime/journal/rows.h): what could
  // not, naming the run ("run r-abc: /input: not JSON: ..."); those columns are null. list_runs
  // returns such a row, so that it hides no other; get_run and events refuse the run with this
  // message (kInvalidArgument).
  std::string defect;
  // A run admitted into the queue (RunQueue::enqueue) with a tenant: its budget key
  // (docs/budgets.md#tenant-budgets), which the worker that claims it starts it with; "" none.
  // Read back by the PostgreSQL journal only.
  std::string tenant;
};

// What `gc` removed.
struct GcStats {
  std::int64_t runs = 0;
  std::int64_t events = 0;
  std::int64_t workflows = 0;
};

// What Journal::check found.
struct JournalCheck {
  std::int64_t runs = 0;                // run rows read
  std::int64_t events = 0;              // event rows read
  std::int64_t workflows = 0;           // stored workflow copies read
  std::int64_t queued_resolutions = 0;  // wait inbox rows read (Journal::queue_resolution)
  // One line per problem ("run r-abc seq 7 (step_failed): /payload/tool: expected a string, got
  // an array"); empty when the journal is sound.
  std::vector<std::string> problems;
};

// A wait's resolution sent while no process held its run
// (docs/waits.md#while-no-process-holds-the-run): kept in the journal's inbox, and applied by
// whoever resumes the run to the wait it names when the run holds that wait again (then journaled
// as wait_resolved, as any resolution).
//
// The inbox also carries cancellations (decision "cancel", no wait id): a cancel of a run that no
// process here holds (a worker runs it, or it waits to be resumed), applied by whoever holds or
// resumes it (docs/scale-out.md#cancelling-and-resolving-runs-that-workers-run).
struct QueuedResolution {
  std::string run_id{};
  std::int64_t id = 0;     // set by the journal: increasing in order of arrival
  std::string wait_id{};   // the wait it resolves ("Approve#1"); "" for a cancel
  std::string decision{};  // approve, reject, signal, cancel
  nlohmann::json data = nullptr;
  std::string reason{};      // reject, cancel: why
  std::string by{};          // who (journaled with wait_resolved)
  std::string key{};         // idempotency key ("" for none)
  std::int64_t time_ms = 0;  // when it was queued (Unix ms)
};

struct RunFilter {
  // A status of the journal's rows (running, completed, ...). `waiting` is no row's status: it is
  // the status list_runs_showing_waits (runtime/journal/waiting.h) gives a running run held at a
  // wait; Journal::list_runs itself lists no run for it.
  std::optional<std::string> status;
  std::optional<std::string> workflow;
  std::optional<std::int64_t> since_ms;  // started at or after
  std::optional<std::int64_t> until_ms;  // started before
  int limit = 1000;
};

class RunQueue;
class HealthFeed;

class Journal {
 public:
  // One write of a group (write_group).
  using Write = std::function<Status(Journal&)>;

  virtual ~Journal() = default;

  // Group commit: performs `writes` in order as one unit of durability (one transaction in the
  // SQLite journal). Each write is all or nothing on its own: a failed one leaves no trace and
  // does not stop the others. None is durable before the group is; when the group cannot be
  // committed, every write of it fails with that error. Returns one status per write.
  // A write may be called more than once: a journal may perform the group, roll it back and
  // perform it again (the PostgreSQL journal does when a write fails in a group sent at once),
  // so a write must do the same journal calls each time (not consume what it writes).
  virtual std::vector<Status> write_group(std::vector<Write>& writes);

  // The canonical JSON of the workflow stored under `hash` (by begin_run). kNotFound when the
  // journal does not have it.
  virtual Result<std::string> workflow_source(const std::string& hash) const = 0;

  // Records a new run (status "running") and, when given, its workflow's source. Error if the
  // run id exists.
  virtual Status begin_run(const RunRecord& run) = 0;
  // Appends events (seq must continue the run's sequence). All or nothing.
  virtual Status append(const std::vector<Event>& events) = 0;
  // The same, for events the caller no longer needs: an implementation that keeps them in
  // memory moves them in instead of copying.
  virtual Status append(std::vector<Event>&& events) {
    return append(static_cast<const std::vector<Event>&>(events));
  }
  // Sets the run's final status, result and finish time. A null `result` says the run's result
  // is its last event, run_finished: that event's payload with "run_id" added (what `run --json`
  // prints), which the journal then need not store twice. get_run and list_runs return it as the
  // result either way; a null result without a run_finished event stays null.
  virtual Status finish_run(const std::string& run_id, const std::string& status,
                            const nlohmann::json& result, std::int64_t finished_ms) = 0;

  // Runs matching `filter`, newest first. A row that cannot be decoded in full is listed with
  // RunRecord::defect set.
  virtual Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const = 0;
  // One run. kNotFound if unknown; kInvalidArgument naming the run when its row cannot be
  // decoded (RunRecord::defect).
  virtual Result<RunRecord> get_run(const std::string& run_id) const = 0;
  // The run's events in sequence order, each decoded and checked (runtime/journal/rows.h).
  // kNotFound if the run is unknown; kInvalidArgument naming the first row that cannot be
  // decoded ("run r-abc seq 7 (step_failed): /payload/tool: expected a string, got an array"),
  // or the run's own row. Only that run is refused: every other stays readable.
  virtual Result<std::vector<Event>> events(const std::string& run_id) const = 0;
  // The run's events after seq `after_seq`, in sequence order, read and checked as events() reads
  // them: for a reader that follows a run another process writes (the service's event streams
  // of runs that workers run, docs/scale-out.md). Errors as events(). This default filters
  // events(); the PostgreSQL journal reads only the new rows.
  virtual Result<std::vector<Event>> events_after(const std::string& run_id,
                                                  std::int64_t after_seq) const;

  // The waits run `run_id` is held at according to its journal, oldest first: the ids of its
  // wait_started events with no outcome after them (no wait_resolved for that wait, and, in a
  // fan-out branch, no fanout_joined of its fan-out: a decided join drops the waits of the
  // branches it cancels). Empty for a run held at none. The run's status is not looked at: a
  // finished run is held at nothing, whatever its events say. Errors as events(). This default
  // reads events(); the SQL journals read only the rows of those three types.
  virtual Result<std::vector<std::string>> open_waits(const std::string& run_id) const;

  // Takes over an unfinished run for this process (resume): records this process as its owner.
  // kNotFound if unknown; kFailedPrecondition if it is finished.
  virtual Status claim_run(const std::string& run_id) = 0;

  // The wait inbox (QueuedResolution). queue_resolution stores one (its id and run_id as given
  // are ignored / must name a run: kNotFound otherwise); queued_resolutions lists a run's in
  // order of arrival (empty for a run with none). The callers decide what may be queued
  // (runtime/engine/wait_inbox.h); the journal only keeps them, until gc removes the run.
  virtual Status queue_resolution(const QueuedResolution& resolution) = 0;
  virtual Result<std::vector<QueuedResolution>> queued_resolutions(
      const std::string& run_id) const = 0;

  // Removes finished runs (not `running`) that finished before `finished_before_ms`, their
  // events, their queued resolutions, and the workflows no remaining run refers to.
  virtual Result<GcStats> gc(std::int64_t finished_before_ms) = 0;

  // Reads the whole journal and reports every problem, one line each: the storage's own check
  // (the SQLite journal: PRAGMA integrity_check), every run's hash chain and head (journals
  // that chain_events()), every row that cannot be decoded (events, runs, stored workflow copies,
  // which must load as workflows), events without a run. Errors: only when it cannot be read
  // at all. This default reads through list_runs, events (the first bad row of each run) and
  // queued_resolutions (each resolution's wait one the run's events started).
  virtual Result<JournalCheck> check() const;

  // Where the journal lives ("" for memory).
  virtual std::string location() const = 0;

  // True when the journal stores each event's hash-chain link: then it also accepts sealed
  // events (Event::payload_json and prev_hash set, `hash` computed with event_link), stored as
  // they are once their prev_hash is found to continue the run's chain.
  virtual bool chains_events() const { return false; }

  // Events of runs this journal's process holds that another journal object on the same database
  // has committed (a worker's claimed runs' starts, written on its claims connection right after
  // the claim, docs/scale-out.md#workers): a journal that tells listeners of what it commits
  // (EventFeed) tells them of these too, as if it had committed them. This default does nothing.
  virtual void announce(const std::vector<Event>& events) { (void)events; }

  // True when every write is quick and never waits on I/O (the journal in memory): an Engine then
  // performs a run's writes on the run's own thread, in line, instead of handing them to its
  // journal-writer thread and waiting for the acknowledgement (docs/engine.md#journal-writes).
  virtual bool writes_inline() const { return false; }

  // The journal's run queue and leases, for workers (docs/scale-out.md); null when it has none
  // (only the PostgreSQL journal has one). Lives as long as the journal.
  virtual RunQueue* run_queue() { return nullptr; }
  // The outcomes other processes journal, for a health monitor shared between the processes of
  // one journal (docs/scale-out.md#shared-health); null when it has none (only the PostgreSQL
  // journal has one: the others serve one process). Lives as long as the journal.
  virtual HealthFeed* health_feed() { return nullptr; }

  // Where throttled tools take their turns (docs/workflow-format.md#throttle): the PostgreSQL
  // journal's is shared by every worker of the database; every other journal hands out the
  // process's own (process_call_limiter()). Lives as long as the journal.
  virtual CallLimiter& call_limiter() { return process_call_limiter(); }

  // Where runs with a tenant reserve against its shared USD budget (docs/budgets.md#tenant-
  // budgets): the PostgreSQL and SQLite journals keep the budgets in their database (shared by
  // every process on it); the memory journal in process. Lives as long as the journal.
  virtual TenantLedger& tenant_ledger() { return process_tenant_ledger(); }
};

// A position in a journal's HealthFeed: the events after it are still to be read.
struct OutcomeCursor {
  std::uint64_t xid = 0;  // the writing transaction's id (PostgreSQL's xid8)
  std::string run_id{};
  std::int64_t seq = 0;
};

// What one HealthFeed read gave.
struct OutcomeBatch {
  std::vector<Event> events;  // other journal objects' outcomes, oldest transaction first
  int rows = 0;               // rows read, this object's own included (== limit: more may wait)
  // Rows that cannot be decoded, passed over, one line each ("run r-abc seq 7 (step_failed):
  // /payload: ...").
  std::vector<std::string> skipped;
};

// The step outcomes and breaker events (types step_succeeded, step_failed, step_retry, breaker,
// health_reset) that other journal objects, in this process or others, commit to a shared
// journal: what a process's health monitor learns from the others (runtime/engine/
// health_share.h). A row is read once its transaction and every older one still running
// on the database server ended, so that a reader never skips one committed late; each row is
// read once. Thread-safe, as the journal.
class HealthFeed {
 public:
  virtual ~HealthFeed() = default;
  // The position now: outcomes committed from now on (and those still being written) come after.
  virtual Result<OutcomeCursor> outcomes_start() = 0;
  // At most `limit` rows after `cursor`, leaving out the events this journal object wrote itself
  // (its own process already knows them); `cursor` moves past every row read, its own included.
  // Errors: the database's (the cursor is then unchanged).
  virtual Result<OutcomeBatch> outcomes_after(OutcomeCursor& cursor, int limit) = 0;
};

// A run a worker claimed (RunQueue::claim).
struct ClaimedRun {
  std::string run_id;
  std::string workflow_hash;
  std::int64_t epoch = 0;  // its fencing epoch now: the claim raised it by one
  // Another worker held it and its lease expired: this claim takes it over (resume rules); false
  // for a run claimed from the queue.
  bool taken_over = false;
  std::string previous_owner;  // taken over: the worker that held it
  // A run claimed from the queue that never started (no events) and has nothing in the wait
  // inbox: its input, so that the worker starts it as a new run without reading it back
  // (Engine::start_claimed). Absent otherwise (taken over; a cancellation queued for it; an input
  // that is not a JSON object): the worker resumes it.
  std::optional<nlohmann::json> fresh_input;
  // The tenant it was enqueued with ("" none): a run that never started is started with it.
  std::string tenant;
};

// Queue depth and leases, for metrics and tests.
struct QueueStats {
  std::int64_t queued = 0;
  std::int64_t leased = 0;   // running, held by a worker whose lease has not expired
  std::int64_t expired = 0;  // running, held by a worker whose lease has expired
  // Claims ever made of the runs in the journal: the sum of their fencing epochs (each claim
  // from the queue, take-over and adopt raises a run's epoch by one). Runs removed by gc no longer
  // count.
  std::int64_t claims = 0;
};

// The run queue of a journal shared by workers (docs/scale-out.md#workers). A run is admitted as
// `queued` (enqueue); a worker claims it (status `running`, owner, lease, epoch + 1) and holds it
// by renewing its lease; a run whose lease expired is claimed again by any worker, which takes it
// over with a higher epoch. Fencing: once fence(run, epoch) is called, every write of this
// journal object to that run (append, finish_run, claim_run) first locks the run's row and is
// refused with kAborted when the row's epoch is no longer `epoch`: another worker took it over.
// Times are Unix ms of the caller's clock: workers sharing a queue need clocks in sync to well
// within the lease. Thread-safe, as the journal.
class RunQueue {
 public:
  virtual ~RunQueue() = default;
  // Admits `run` (its workflow copy stored as begin_run stores it) with status `queued`, no
  // owner, epoch 0. kInvalidArgument when the run id is already in the journal.
  virtual Status enqueue(const RunRecord& run) = 0;
  // Claims one run for `owner`, of a workflow whose hash is in `workflow_hashes`: the oldest
  // queued one, else the running one whose lease expired first (before `now_ms`), skipping rows
  // another transaction has locked (SELECT ... FOR UPDATE SKIP LOCKED). The claimed run is
  // `running`, held by `owner` until now_ms + lease_ms, its epoch one higher. nullopt: none.
  virtual Result<std::optional<ClaimedRun>> claim(const std::string& owner,
                                                  const std::vector<std::string>& workflow_hashes,
                                                  std::int64_t now_ms, std::int64_t lease_ms) = 0;
  // Claims up to `limit` runs for `owner` with one statement, as claim() claims one: runs whose
  // lease expired first (when there are any, only those), else the oldest queued ones; oldest
  // first. Empty: none. This default calls claim() until it finds none or has `limit`.
  virtual Result<std::vector<ClaimedRun>> claim_many(
      const std::string& owner, const std::vector<std::string>& workflow_hashes,
      std::int64_t now_ms, std::int64_t lease_ms, int limit);
  // Renews, to now_ms + lease_ms, the lease of each of `run_ids` that `owner` still holds
  // (running, its owner), and returns those (run id and epoch). One it believes it holds and
  // that is not returned was taken over (or finished).
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> renew(
      const std::string& owner, const std::vector<std::string>& run_ids, std::int64_t now_ms,
      std::int64_t lease_ms) = 0;
  // Ends `owner`'s lease on `run_id` at once (a worker shutting down) when it still holds it at
  // `epoch`, so that another worker takes it over without waiting for the lease to expire.
  virtual Status release(const std::string& owner, const std::string& run_id,
                         std::int64_t epoch) = 0;
  // Takes unfinished run `run_id` out of the workers' hands for a process that resumes it
  // itself (`switchyard resume`): no owner, no lease, its epoch one higher (so the worker that
  // held it can write no more), and fences this journal's writes at that epoch. Refused with
  // kFailedPrecondition while a worker's lease on it has not expired at `now_ms`; kNotFound,
  // kFailedPrecondition (finished or queued) as claim_run. Returns the new epoch.
  virtual Result<std::int64_t> adopt(const std::string& run_id, std::int64_t now_ms) = 0;
  // Fences this journal object's writes to `run_id` at `epoch` (see above); unfence stops.
  virtual void fence(const std::string& run_id, std::int64_t epoch) = 0;
  // fence() for a run claimed from the queue that never started (ClaimedRun::taken_over false):
  // it has no events, so that its first write needs no read of its row. This default: fence().
  virtual void fence_unstarted(const std::string& run_id, std::int64_t epoch) {
    fence(run_id, epoch);
  }
  virtual void unfence(const std::string& run_id) = 0;
  // fence() for a run claimed from the queue whose first events another journal object committed
  // (write_starts, on a worker's claims connection): its head is `head_seq` and `head_hash`, so
  // that its next write needs no read of its row. This default: fence() (the head read back).
  virtual void fence_started(const std::string& run_id, std::int64_t epoch, std::int64_t head_seq,
                             const std::string& head_hash) {
    (void)head_seq;
    (void)head_hash;
    fence(run_id, epoch);
  }
  // Commits the first events of runs freshly claimed on this queue's connection (each
  // ClaimedRun::fresh_input, never started), all in one group, each run's events all or nothing
  // on their own: `starts` holds each run's fencing epoch and its events (sealed, continuing an
  // empty chain). A start of a run whose epoch is no longer the one given (another worker took
  // it over meanwhile) is refused (kFailedPrecondition, "refused (fenced)") and nothing of it is
  // written. One status per start. Only when writes_starts(); this default refuses each.
  using Start = std::pair<std::int64_t, std::vector<Event>>;  // epoch, events
  virtual bool writes_starts() const { return false; }
  virtual std::vector<Status> write_starts(const std::vector<Start>& starts) {
    return std::vector<Status>(starts.size(),
                               failed_precondition("this run queue does not write starts"));
  }
  virtual Result<QueueStats> stats(std::int64_t now_ms) const = 0;
  // How many rows the wait inbox holds (resolutions and cancellations, Journal::queue_resolution)
  // for each of `run_ids` that has any: a worker looks for new ones for the runs it holds with
  // one query per poll, and applies them when a count grows.
  virtual Result<std::map<std::string, std::int64_t>> inbox_counts(
      const std::vector<std::string>& run_ids) const = 0;
};

// How hard a commit is pushed to disk (SQLite's PRAGMA synchronous in WAL mode).
enum class JournalSync {
  // A committed group survives a crash of the process (kill -9); a power loss or OS crash may
  // lose the last groups. The default.
  kNormal,
  // Every commit is fsync'ed before it is acknowledged: it survives a power loss too.
  kFull,
};

struct JournalOptions {
  // Create the file when it does not exist (run). Readers (runs, replay) pass false and get
  // kNotFound instead of an empty new journal.
  bool create_if_missing = true;
  JournalSync sync = JournalSync::kNormal;
  // How long a write waits for a lock held by another process before it fails (kUnavailable).
  std::chrono::milliseconds busy_timeout{5000};
  // The largest the file may grow to, in bytes; 0: no limit but the disk's. A write that would
  // grow it past the limit fails as a full disk does (kResourceExhausted), and loses nothing
  // committed before.
  std::int64_t max_bytes = 0;
  // Told of each checkpoint run off the writer's thread (docs/journal.md#durability): how many
  // pages the log held and how many of them are now in the database file. Called on the
  // checkpointer's thread. Observability and tests; null: nobody is told.
  std::function<void(int log_pages, int checkpointed_pages)> on_checkpoint = nullptr;
  // PostgreSQL only: how long a throttled call's slot is held without being renewed
  // (docs/scale-out.md#limits-across-workers): the slots of a worker that died are free again
  // this long after its last renewal. Renewed every third of it while the call runs.
  std::chrono::milliseconds throttle_lease{10000};
};

// Opens the SQLite journal at `path`, creating it (when allowed) and upgrading its schema if it
// is older. Errors: kNotFound (missing and not to be created); kIo: cannot create or open, not a
// journal (not SQLite, or a database with tables of its own), a newer schema than this build
// knows, locked by another process beyond the busy timeout. Nothing is changed on error.
Result<std::unique_ptr<Journal>> open_sqlite_journal(const std::string& path,
                                                     const JournalOptions& options = {});

// True when `location` names a PostgreSQL database: it starts with "postgresql://" or
// "postgres://" (libpq's connection URI). Anything else is a SQLite file's path.
bool is_postgres_location(const std::string& location);

// `location` fit to print (logs, errors, JSON, /readyz): a PostgreSQL URI's password, in its
// user-info ("user:secret@") or as a `password=` parameter, is replaced by "***". Anything else
// is returned as it is.
std::string printable_location(const std::string& location);

// `text` (a message of libpq's, which may quote the URI or a part of it: "invalid
// percent-encoded token: ...") with `location` replaced by printable_location(location) and every
// password it holds (as written and percent-decoded) by "***". Anything else is returned as it is.
std::string without_password(std::string text, const std::string& location);

// Opens the PostgreSQL journal in the database `url` names (a libpq connection URI,
// postgresql://[user@][host][:port]/dbname[?param=value...]), creating its tables when the
// database has none (and `options.create_if_missing`) and upgrading an older schema, each
// migration in one transaction under an advisory lock. A password is best given by PGPASSWORD
// or ~/.pgpass (libpq reads them); one in the URL is used but never printed (printable_location).
// Errors: kNotFound (no journal in the database and not to be created); kIo: cannot connect
// (libpq's reason), not a journal (tables of its own without ours, or a schema_version table
// that is not ours), a newer schema than this build knows. Nothing is changed on error.
// options.busy_timeout bounds how long a statement waits for a lock (lock_timeout);
// options.sync: kFull sets synchronous_commit=on, kNormal keeps the server's setting;
// options.max_bytes and on_checkpoint do not apply.
Result<std::unique_ptr<Journal>> open_postgres_journal(const std::string& url,
                                                       const JournalOptions& options = {});

// The journal `location` names: open_postgres_journal for a PostgreSQL URI
// (is_postgres_location), open_sqlite_journal for anything else.
Result<std::unique_ptr<Journal>> open_journal(const std::string& location,
                                              const JournalOptions& options = {});

// How much a journal in memory keeps.
struct MemoryJournalOptions {
  // Finished runs kept (their records, events and workflow copies); past it the oldest finished
  // run is forgotten when another finishes: get_run/events then answer kNotFound for it, and its
  // id may be used again. Runs in flight are always kept. 0: a run is forgotten as it finishes.
  std::size_t keep_finished_runs = kDefaultKeepFinishedRuns;
  static constexpr std::size_t kDefaultKeepFinishedRuns = 10000;
};

// A journal in memory: lost when destroyed. For evaluation, benchmarks and embedders that need
// no durability; its memory is bounded by the runs in flight and `options.keep_finished_runs`.
std::unique_ptr<Journal> make_memory_journal(MemoryJournalOptions options = {});

}  // namespace switchyard::runtime
