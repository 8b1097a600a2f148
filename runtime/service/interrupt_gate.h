#pragma once
// InterruptGate: a Journal decorator that lets the service interrupt runs at shutdown so that
// `switchyard resume` can continue them, without losing an event.
//
// The Engine ends a cancelled run by journaling `cancelled` (one per fan-out branch still
// running, then the run's own), `run_finished` and its final row, in one append. For a run
// cancelled with reason kInterruptReason, the gate keeps every event before the first of those
// `cancelled` events (what the run did up to now, committed as usual), puts one
// `run_interrupted` event in its place (same seq and time; the journal chains it as any other
// event), and drops the `cancelled` events, everything after them, and the final row: the run
// stays `running` in the journal, owned by a process that is about to exit, which is what resume
// continues (docs/journal.md#resume). Every other call is forwarded unchanged
// (runtime/journal/forwarding_journal.h).
//
// Thread-safety: as the inner journal's.

#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include "runtime/journal/forwarding_journal.h"

namespace switchyard::service {

// The cancel reason that marks a run interrupted by shutdown.
inline constexpr const char* kInterruptReason =
    "service shutdown: interrupted, resume continues it";

class InterruptGate final : public runtime::ForwardingJournal {
 public:
  // `grace`: the service's grace period, recorded in each run_interrupted event.
  // REQUIRES: inner outlives the gate.
  InterruptGate(runtime::Journal& inner, std::chrono::milliseconds grace)
      : ForwardingJournal(inner), grace_(grace) {}

  // The runs interrupted so far.
  std::set<std::string> interrupted() const;

  // Inside a group too (ForwardingJournal hands the group's writes this gate).
  Status append(const std::vector<runtime::Event>& events) override;
  Status append(std::vector<runtime::Event>&& events) override;
  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override;

 private:
  // The events of `events` to keep, with run_interrupted in place of an interruption; marks
  // runs interrupted.
  std::vector<runtime::Event> filter(const std::vector<runtime::Event>& events);
  bool is_interrupted(const std::string& run_id) const;
  // Whether `events` has nothing for the gate: no cancellation, no event of a run interrupted.
  bool passes(const std::vector<runtime::Event>& events) const;

  const std::chrono::milliseconds grace_;
  mutable std::mutex mu_;
  std::set<std::string> interrupted_;  // under mu_
};

}  // namespace switchyard::service
