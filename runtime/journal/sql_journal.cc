#include "runtime/journal/sql_journal.h"

#include "runtime/base/hash.h"

namespace switchyard::runtime {

std::vector<Status> SqlJournal::write_group(std::vector<Write>& writes) {
  std::lock_guard lock(mu_);
  pending_fences();
  if (writes_at_once()) {
    if (auto done = write_group_at_once(writes)) return std::move(*done);
  }
  std::vector<Status> out;
  out.reserve(writes.size());
  Status opened = ready();
  if (opened.ok()) opened = command(Command::kBegin);
  if (!opened.ok()) {
    out.assign(writes.size(), opened);
    return out;
  }
  in_group_ = true;
  for (Write& w : writes) {
    // Each write is all or nothing on its own, whatever it does inside: one savepoint around it
    // (the methods it calls open none of their own), rolled back if it fails or if any journal
    // method it called failed. The first failed call is the reason: after a failed statement,
    // PostgreSQL refuses the write's next ones until the savepoint is rolled back.
    write_error_ = Status();
    Status s = command(Command::kSavepoint);
    if (s.ok()) s = w(*this);
    if (!write_error_.ok()) s = write_error_;
    if (s.ok()) s = command(Command::kRelease);
    if (s.ok()) {
      keep_write_heads();
    } else {
      (void)command(Command::kRollbackTo);
      (void)command(Command::kRelease);
      forget_cache();  // what it appended is gone: read heads again (group_heads_, the rows)
    }
    write_heads_.clear();
    out.push_back(std::move(s));
  }
  in_group_ = false;
  Status s = store_group_heads();
  if (s.ok()) s = command(Command::kCommit);
  if (!s.ok()) {
    (void)command(Command::kRollback);
    forget_cache();  // what the group appended is gone: read heads from the rows again
    out.assign(writes.size(), s);
  }
  group_heads_.clear();
  return out;
}

void SqlJournal::keep_write_heads() {
  for (auto& [run_id, head] : write_heads_) {
    if (head.stored) {
      group_heads_.erase(run_id);
    } else {
      group_heads_[run_id] = std::move(head);
    }
  }
}

std::optional<std::vector<Status>> SqlJournal::write_group_at_once(std::vector<Write>& writes) {
  if (Status s = ready(); !s.ok()) return std::nullopt;  // the savepoints' way says why
  if (Status s = begin_at_once(); !s.ok()) return std::nullopt;
  in_group_ = true;
  at_once_ = true;
  bool ok = true;
  for (Write& w : writes) {
    write_error_ = Status();
    Status s = w(*this);
    if (!write_error_.ok()) s = write_error_;
    if (!s.ok()) {
      ok = false;
      break;
    }
    keep_write_heads();
    write_heads_.clear();
  }
  write_heads_.clear();
  in_group_ = false;
  if (ok) ok = store_group_heads().ok();
  at_once_ = false;
  if (ok) {
    // The statements' answers and the COMMIT's come back together (one round trip).
    bool commit_failed = false;
    Status s = commit_at_once(&commit_failed);
    if (s.ok() || commit_failed) {
      std::vector<Status> out(writes.size());
      if (s.ok()) {
        undo_heads_.clear();
        undo_workflows_.clear();
      } else {
        (void)command(Command::kRollback);
        undo_at_once();
        forget_cache();
        out.assign(writes.size(), s);
      }
      group_heads_.clear();
      return out;
    }
  }
  // A write or a statement failed (or a fenced run is no longer this process's): nothing of the
  // group is kept; write_group performs it again, each write in its savepoint, on the cache as
  // it was before (as a stale run's cached head, which the refusal of its write relies on).
  (void)command(Command::kRollback);
  undo_at_once();
  group_heads_.clear();
  return std::nullopt;
}

void SqlJournal::remember_head(const std::string& run_id) {
  if (!at_once_ || undo_heads_.contains(run_id)) return;
  auto it = heads_.find(run_id);
  undo_heads_.emplace(run_id, it == heads_.end() ? std::nullopt : std::optional<Head>(it->second));
}

void SqlJournal::undo_at_once() {
  for (auto& [run_id, head] : undo_heads_) {
    if (head) {
      heads_[run_id] = std::move(*head);
    } else {
      heads_.erase(run_id);
    }
  }
  for (const std::string& hash : undo_workflows_) stored_workflows_.erase(hash);
  undo_heads_.clear();
  undo_workflows_.clear();
}

Status SqlJournal::noted(Status s) {
  if (in_group_ && !s.ok() && write_error_.ok()) write_error_ = s;
  return s;
}

Result<SqlJournal::Head> SqlJournal::read_head(const std::string& run_id) {
  pending_fences();
  if (auto it = heads_.find(run_id); it != heads_.end()) return it->second;
  // Appended by an earlier write of this group, not yet in the run's row.
  if (auto it = group_heads_.find(run_id); it != group_heads_.end()) {
    remember_head(run_id);
    heads_[run_id] = it->second.head;
    return it->second.head;
  }
  if (Status s = ready(); !s.ok()) return s;
  auto head = load_head(run_id);
  if (head.ok()) {
    remember_head(run_id);
    heads_[run_id] = *head;
  }
  return head;
}

Status SqlJournal::link_event(const std::string& run_id, const Event& e, Head& next,
                              std::string& payload) {
  if (!e.payload_json.empty()) {
    // Hashed by whoever sealed it: stored as it is, if it continues the chain.
    if (e.prev_hash != next.hash) {
      return Status(StatusCode::kInternal, "event " + std::to_string(e.seq) + " of run " + run_id +
                                               " was sealed after link '" + e.prev_hash +
                                               "' but the run's chain ends at '" + next.hash + "'");
    }
    next.hash = e.hash;
  } else {
    payload = canonical_json(e.payload);
    next.hash = event_link(next.hash, run_id, e.seq, e.time_ms, e.type, payload);
  }
  next.seq = e.seq;
  return Status();
}

void SqlJournal::began(const RunRecord& run, bool stored_workflow) {
  if (stored_workflow && stored_workflows_.insert(run.workflow_hash).second && at_once_) {
    undo_workflows_.push_back(run.workflow_hash);
  }
  remember_head(run.run_id);
  heads_[run.run_id] = Head{};
}

void SqlJournal::appended(const std::string& run_id, Head next) {
  if (in_group_) write_heads_[run_id] = PendingHead{next, false};
  remember_head(run_id);
  heads_[run_id] = std::move(next);
}

void SqlJournal::finished(const std::string& run_id, const Head& head) {
  if (in_group_) write_heads_[run_id] = PendingHead{head, true};
  remember_head(run_id);
  heads_.erase(run_id);
}

void SqlJournal::forget_cache() {
  heads_.clear();
  stored_workflows_.clear();
}

Status SqlJournal::store_group_heads() {
  if (group_heads_.empty()) return Status();
  std::vector<std::pair<std::string, Head>> heads;
  heads.reserve(group_heads_.size());
  for (const auto& [run_id, pending] : group_heads_) heads.emplace_back(run_id, pending.head);
  return store_heads(heads);
}

}  // namespace switchyard::runtime
