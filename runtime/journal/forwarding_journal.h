#pragma once
// ForwardingJournal: a Journal that forwards every call to another one. The base of journal
// decorators (EventFeed, the service's InterruptGate, test doubles): override what the
// decorator changes, inherit the rest.
//
// write_group runs the writes inside the inner journal's group, each handed this journal instead
// of the inner one, so that the calls a write makes go through the decorator too. (Every journal
// hands a group's writes the journal write_group was called on, so calling the inner journal's
// methods from a write is calling them inside its group.)
//
// Thread-safety: as the inner journal's.

#include <string>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

class ForwardingJournal : public Journal {
 public:
  // REQUIRES: `inner` outlives this journal.
  explicit ForwardingJournal(Journal& inner) : inner_(inner) {}

  std::vector<Status> write_group(std::vector<Write>& writes) override {
    std::vector<Write> through_this;
    through_this.reserve(writes.size());
    for (Write& w : writes) through_this.push_back([this, &w](Journal&) { return w(*this); });
    return inner_.write_group(through_this);
  }
  Result<std::string> workflow_source(const std::string& hash) const override {
    return inner_.workflow_source(hash);
  }
  Status begin_run(const RunRecord& run) override { return inner_.begin_run(run); }
  Status append(const std::vector<Event>& events) override { return inner_.append(events); }
  Status append(std::vector<Event>&& events) override { return inner_.append(std::move(events)); }
  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override {
    return inner_.finish_run(run_id, status, result, finished_ms);
  }
  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    return inner_.list_runs(filter);
  }
  Result<RunRecord> get_run(const std::string& run_id) const override {
    return inner_.get_run(run_id);
  }
  Result<std::vector<Event>> events(const std::string& run_id) const override {
    return inner_.events(run_id);
  }
  Result<std::vector<Event>> events_after(const std::string& run_id,
                                          std::int64_t after_seq) const override {
    return inner_.events_after(run_id, after_seq);
  }
  Result<std::vector<std::string>> open_waits(const std::string& run_id) const override {
    return inner_.open_waits(run_id);
  }
  Status claim_run(const std::string& run_id) override { return inner_.claim_run(run_id); }
  Status queue_resolution(const QueuedResolution& resolution) override {
    return inner_.queue_resolution(resolution);
  }
  Result<std::vector<QueuedResolution>> queued_resolutions(
      const std::string& run_id) const override {
    return inner_.queued_resolutions(run_id);
  }
  Result<GcStats> gc(std::int64_t finished_before_ms) override {
    return inner_.gc(finished_before_ms);
  }
  Result<JournalCheck> check() const override { return inner_.check(); }
  std::string location() const override { return inner_.location(); }
  bool chains_events() const override { return inner_.chains_events(); }
  void announce(const std::vector<Event>& events) override { inner_.announce(events); }
  bool writes_inline() const override { return inner_.writes_inline(); }
  // The inner journal's queue: its fences apply to the writes that reach it through this one.
  RunQueue* run_queue() override { return inner_.run_queue(); }
  HealthFeed* health_feed() override { return inner_.health_feed(); }
  CallLimiter& call_limiter() override { return inner_.call_limiter(); }
  TenantLedger& tenant_ledger() override { return inner_.tenant_ledger(); }

 protected:
  Journal& inner() const { return inner_; }

 private:
  Journal& inner_;
};

}  // namespace switchyard::runtime
