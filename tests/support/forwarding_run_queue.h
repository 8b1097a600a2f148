#pragma once
// A run queue that forwards every call to another: the base of a test's or a benchmark's queue
// that looks at (or does something around) some of the calls a Worker makes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::testing {

class ForwardingRunQueue : public runtime::RunQueue {
 public:
  // REQUIRES: `inner` outlives this queue.
  explicit ForwardingRunQueue(runtime::RunQueue& inner) : inner_(inner) {}

  Status enqueue(const runtime::RunRecord& run) override { return inner_.enqueue(run); }
  Result<std::optional<runtime::ClaimedRun>> claim(const std::string& owner,
                                                   const std::vector<std::string>& hashes,
                                                   std::int64_t now_ms,
                                                   std::int64_t lease_ms) override {
    return inner_.claim(owner, hashes, now_ms, lease_ms);
  }
  Result<std::vector<runtime::ClaimedRun>> claim_many(const std::string& owner,
                                                      const std::vector<std::string>& hashes,
                                                      std::int64_t now_ms, std::int64_t lease_ms,
                                                      int limit) override {
    return inner_.claim_many(owner, hashes, now_ms, lease_ms, limit);
  }
  Result<std::vector<std::pair<std::string, std::int64_t>>> renew(
      const std::string& owner, const std::vector<std::string>& ids, std::int64_t now_ms,
      std::int64_t lease_ms) override {
    return inner_.renew(owner, ids, now_ms, lease_ms);
  }
  Status release(const std::string& owner, const std::string& id, std::int64_t epoch) override {
    return inner_.release(owner, id, epoch);
  }
  Result<std::int64_t> adopt(const std::string& id, std::int64_t now_ms) override {
    return inner_.adopt(id, now_ms);
  }
  void fence(const std::string& id, std::int64_t epoch) override { inner_.fence(id, epoch); }
  void fence_unstarted(const std::string& id, std::int64_t epoch) override {
    inner_.fence_unstarted(id, epoch);
  }
  void fence_started(const std::string& id, std::int64_t epoch, std::int64_t seq,
                     const std::string& hash) override {
    inner_.fence_started(id, epoch, seq, hash);
  }
  bool writes_starts() const override { return inner_.writes_starts(); }
  std::vector<Status> write_starts(const std::vector<Start>& starts) override {
    return inner_.write_starts(starts);
  }
  void unfence(const std::string& id) override { inner_.unfence(id); }
  Result<runtime::QueueStats> stats(std::int64_t now_ms) const override {
    return inner_.stats(now_ms);
  }
  Result<std::map<std::string, std::int64_t>> inbox_counts(
      const std::vector<std::string>& run_ids) const override {
    return inner_.inbox_counts(run_ids);
  }

 protected:
  runtime::RunQueue& inner() const { return inner_; }

 private:
  runtime::RunQueue& inner_;
};

}  // namespace switchyard::testing
