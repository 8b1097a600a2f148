#pragma once
// What the two SQL journals (SQLite: sqlite_journal.cc; PostgreSQL: postgres_journal.cc) share,
// so that both keep the same guarantees by the same code (docs/journal.md):
// - group commit: write_group, one transaction with one savepoint around each write, each write
//   all or nothing, the heads of the runs a group appended to stored once at its end; or, on a
//   backend that can (PostgreSQL), first without savepoints, every statement of the group sent
//   at once, the group performed again write by write only when something failed;
// - the hash chain: linking each event after its run's head (a sealed event is checked to
//   continue the chain; another is serialized and hashed here);
// - the cache of run heads and of the workflow copies known to be stored.
// A backend supplies its statements: the transaction commands, reading and storing a run's head.
//
// Thread-safety: the backend's methods lock mu_ (recursive: a group's writes call the others);
// every member below REQUIRES mu_ held.

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

class SqlJournal : public Journal {
 public:
  // One transaction; each write in its own savepoint; heads stored at the end (journal.h).
  std::vector<Status> write_group(std::vector<Write>& writes) final;
  bool chains_events() const final { return true; }

 protected:
  // A run's last seq and chain link.
  struct Head {
    std::int64_t seq = 0;
    std::string hash;
  };
  // A head a write of the group left: to store in the run's row, or stored (by finish_run).
  struct PendingHead {
    Head head;
    bool stored = false;
  };
  enum class Command { kBegin, kCommit, kRollback, kSavepoint, kRelease, kRollbackTo };

  // Runs a transaction command (kSavepoint and its kin name one savepoint, "group_write").
  virtual Status command(Command c) = 0;
  // Before a statement outside a group: a backend that can lose its connection restores it.
  virtual Status ready() { return Status(); }
  // Under mu_, before a group and before a head is read: a backend applies what was changed
  // while mu_ was held by another thread (PostgreSQL: fences set meanwhile).
  virtual void pending_fences() {}
  // The run's head as its row holds it; kNotFound naming the run when there is no row.
  virtual Result<Head> load_head(const std::string& run_id) = 0;
  // Writes `head` into the run's row.
  virtual Status store_head(const std::string& run_id, const Head& head) = 0;
  // Writes each head into its run's row, at a group's end: store_head for each, unless the
  // backend has one statement for them all (a round trip per run saved on a server).
  virtual Status store_heads(const std::vector<std::pair<std::string, Head>>& heads) {
    for (const auto& [run_id, head] : heads) {
      if (Status s = store_head(run_id, head); !s.ok()) return s;
    }
    return Status();
  }

  // Group commit at once (write_group_at_once): a backend that can send a group's statements
  // without waiting for each answer (PostgreSQL's pipeline mode) says so here, and then:
  // begin_at_once() begins the group's transaction; while at_once_ is set its writes send their
  // statements without waiting, with no savepoints and no fencing locks, and store_heads makes
  // sure (by the rows it changes) that every fenced run is still held at its epoch;
  // commit_at_once() sends the COMMIT after them and waits for every answer: OK when every
  // statement did what it must have and the group is committed. A statement that did not fails
  // on the server, which then skips the COMMIT: nothing of the group is kept. `commit_failed`
  // is set when every statement did what it must and the COMMIT itself failed, or when it
  // cannot be known whether the group committed (the connection was lost): every write of the
  // group then fails, and it is not performed again.
  virtual bool writes_at_once() const { return false; }
  virtual Status begin_at_once() { return Status(StatusCode::kInternal, "not at once"); }
  virtual Status commit_at_once(bool* /*commit_failed*/) {
    return Status(StatusCode::kInternal, "not at once");
  }

  // Runs `body` all or nothing: in its own transaction, or as part of a write of a group, which
  // the group rolls back whole if `body` fails.
  template <typename Body>
  Status atomically(Body&& body) {
    if (in_group_) return noted(body());
    if (Status s = ready(); !s.ok()) return s;
    if (Status s = command(Command::kBegin); !s.ok()) return s;
    Status s = body();
    if (s.ok()) s = command(Command::kCommit);
    if (!s.ok()) (void)command(Command::kRollback);
    return s;
  }

  // A failure inside a write of a group fails the write (write_group rolls it back), even if the
  // write went on.
  Status noted(Status s);

  // The run's head: cached, left by an earlier write of this group, or its row's.
  Result<Head> read_head(const std::string& run_id);

  // Links event `e` of `run_id` after `next`, which it advances to `e`. A sealed event
  // (Event::payload_json) must continue the chain (kInternal otherwise); another is serialized
  // into `payload` and hashed. What to store as its payload is then stored_payload(e, payload).
  static Status link_event(const std::string& run_id, const Event& e, Head& next,
                           std::string& payload);
  static const std::string& stored_payload(const Event& e, const std::string& payload) {
    return e.payload_json.empty() ? payload : e.payload_json;
  }

  // Whether begin_run is to store `run`'s workflow copy (not known to be stored already).
  bool must_store_workflow(const RunRecord& run) const {
    return run.workflow_source && !stored_workflows_.contains(run.workflow_hash);
  }
  // begin_run stored `run` (and its workflow copy when `stored_workflow`).
  void began(const RunRecord& run, bool stored_workflow);
  // append stored events up to `next`: in a group, the run's row gets it at the group's end.
  void appended(const std::string& run_id, Head next);
  // finish_run stored `head` in the run's row: it gets no more events.
  void finished(const std::string& run_id, const Head& head);
  // What the cache holds may no longer be in the database (a rollback, gc): read it again.
  void forget_cache();

  // Forgets the cached head of `run_id` (another process may have written it since).
  void forget_head(const std::string& run_id) { heads_.erase(run_id); }
  // `run_id` has no events and no head yet (claimed from the queue, never started): its first
  // append needs no read of its row.
  void known_empty(const std::string& run_id) { heads_[run_id] = Head{}; }
  // `run_id`'s head is `head` (its first events committed by another journal object).
  void known_head(const std::string& run_id, Head head) { heads_[run_id] = std::move(head); }

  mutable std::recursive_mutex mu_;
  bool in_group_ = false;
  bool at_once_ = false;  // in write_group_at_once: statements are sent, answered at its end
  Status write_error_;    // the first failure of a journal method inside the current write

 private:
  // The heads the group's appends left, of runs it did not finish.
  Status store_group_heads();
  // The group without savepoints, its statements sent at once (writes_at_once): nullopt when a
  // write or statement failed, after rolling everything back (write_group then performs the
  // group again, write by write, each in its savepoint, to fail only the writes that fail).
  std::optional<std::vector<Status>> write_group_at_once(std::vector<Write>& writes);
  // After a write succeeded: the heads it left are the group's.
  void keep_write_heads();

  std::unordered_map<std::string, Head> heads_;  // runs still being written
  // In a group: the heads its committed writes left, and those the current write leaves.
  std::unordered_map<std::string, PendingHead> group_heads_, write_heads_;
  std::set<std::string> stored_workflows_;  // hashes known to be in `workflows`
  // In write_group_at_once: what the cache held before the group touched it (nullopt: nothing),
  // and the workflow copies it noted as stored, to put back when the group is rolled back (the
  // writes performed again then meet the cache as it was, as the database is).
  std::unordered_map<std::string, std::optional<Head>> undo_heads_;
  std::vector<std::string> undo_workflows_;
  void remember_head(const std::string& run_id);
  void undo_at_once();
};

}  // namespace switchyard::runtime
