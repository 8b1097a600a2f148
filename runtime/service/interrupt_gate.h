#pragma once
// InterruptGate: a Journal decorator that lets the service interrupt runs at shutdown so that
// `switchyard resume` can continue them, without losing an event.
//
// The Engine ends a cancelled run by journaling `cancelled`, `run_finished` and its final row.
// For a run cancelled with reason kInterruptReason, the gate keeps every event before that
// `cancelled` (what the run did up to now, committed as usual) and drops the `cancelled` event,
// everything after it, and the final row: the run stays `running` in the journal, owned by a
// process that is about to exit, which is what resume continues (docs/journal.md#resume). Every
// other call is forwarded unchanged.
//
// Thread-safety: as the inner journal's.

#include <mutex>
#include <set>
#include <string>

#include "runtime/journal.h"

namespace switchyard::service {

// The cancel reason that marks a run interrupted by shutdown.
inline constexpr const char* kInterruptReason =
    "service shutdown: interrupted, resume continues it";

class InterruptGate final : public runtime::Journal {
 public:
  // REQUIRES: inner outlives the gate.
  explicit InterruptGate(runtime::Journal& inner) : inner_(inner) {}

  // The runs interrupted so far.
  std::set<std::string> interrupted() const;

  std::vector<Status> write_group(std::vector<Write>& writes) override;
  Result<std::string> workflow_source(const std::string& hash) const override;
  Status begin_run(const runtime::RunRecord& run) override;
  Status append(const std::vector<runtime::Event>& events) override;
  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override;
  Result<std::vector<runtime::RunRecord>> list_runs(const runtime::RunFilter& f) const override;
  Result<runtime::RunRecord> get_run(const std::string& run_id) const override;
  Result<std::vector<runtime::Event>> events(const std::string& run_id) const override;
  Status claim_run(const std::string& run_id) override;
  Result<runtime::GcStats> gc(std::int64_t finished_before_ms) override;
  std::string location() const override { return inner_.location(); }
  bool chains_events() const override { return inner_.chains_events(); }

 private:
  class Within;  // the gate's filtering over the journal a group's write is handed
  // The events of `events` to keep; marks runs interrupted.
  std::vector<runtime::Event> filter(const std::vector<runtime::Event>& events);
  bool is_interrupted(const std::string& run_id) const;

  runtime::Journal& inner_;
  mutable std::mutex mu_;
  std::set<std::string> interrupted_;  // under mu_
};

}  // namespace switchyard::service
