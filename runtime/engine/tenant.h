#pragma once
// A run's tenant budget (docs/budgets.md#tenant-budgets), as both drivers apply it: before a call
// is sent (after the monitor admitted it, before its throttle's turn), the worst case its run's
// budget reserved is reserved against the run's tenant in the journal's ledger, and the decision
// is journaled (`tenant_reserved`); a refusal is the step's outcome, failed `budget_exhausted`
// naming the tenant (not sent, not retried, routed around). When the call ends its reservation is
// settled with what the call was charged (`tenant_settled`): a call aborted or cancelled in
// flight, or whose usage is unknown, is charged its worst case. Compensations are charged without
// a check. A run resumed or taken over first charges the reservations its previous holder left
// open their worst case.
//
// `tenant_settled` is journaled only once the ledger took the settlement. One the ledger could not
// take (its database unreachable) is asked again before the run's next tenant decision and when
// the run ends (abandon_all); one still not taken then leaves its reservation open in the ledger,
// counted against the cap (never overspent) and unsettled in the journal, so that the run's next
// resume or take-over charges it its worst case (settle_left_open).
//
// Thread-compatible: one per run, used where its driver completes the run's calls (the events go
// to the run's EventSink on that thread).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/workflow.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"
#include "tools/tool.h"

namespace switchyard::runtime {

class RunTenant {
 public:
  // No tenant: every method does nothing.
  RunTenant() = default;
  // Run `run_id` of `tenant` ("" : none) on `ledger`; its next tenant call is `next_call`.
  RunTenant(TenantLedger& ledger, std::string tenant, std::string run_id,
            std::int64_t next_call = 1);
  // The tenant of the run that `recorded` (its journaled events, from run_started) holds, its
  // next call after the recorded ones.
  static RunTenant resumed(TenantLedger& ledger, const std::string& run_id,
                           const std::vector<Event>& recorded);

  bool active() const { return ledger_ != nullptr && !tenant_.empty(); }
  const std::string& tenant() const { return tenant_; }

  // Before call `action` (slot `action.slot`) of `workflow` is sent. Nullopt: go on; else the
  // call's outcome (budget_exhausted: refused, or the ledger could not be asked).
  std::optional<tools::Outcome> reserve(const Action& action, const graph::Workflow& workflow,
                                        EventSink& events);
  // The call in `slot` ended with `outcome`: charged what it cost, its reservation released.
  void settle(std::uint32_t slot, const tools::Outcome& outcome, EventSink& events);
  // The call in `slot` will never be completed (aborted, cancelled, its run stopped): charged its
  // worst case. No effect on a slot without an open call.
  void abandon(std::uint32_t slot, EventSink& events);
  // The run ends: every call still open is abandoned, and settlements the ledger could not take
  // are asked once more.
  void abandon_all(EventSink& events);
  // Resume and take-over: the reservations of this run left open by its previous holder are
  // charged their worst case (journaled with left_open).
  void settle_left_open(EventSink& events);

 private:
  struct Open {
    std::int64_t call = 0;  // 0: nothing reserved (a compensation, a call with no worst case)
    double reserved_usd = 0;
    double price_usd = 0;  // the tool's price, charged with the call's own cost
    std::string tool;
  };
  // A settlement of call `open` (in `slot`) the ledger has yet to take.
  struct Closing {
    std::uint32_t slot = 0;
    Open open;
    std::int64_t charged = 0;  // micro-dollars
    bool aborted = false;
    bool retried = false;  // asked again at least once (logged at debug from then on)
  };
  void close(std::uint32_t slot, const Open& open, double charged, bool aborted, EventSink& events);
  // Asks the ledger to take `c`; journals tenant_settled when it did. False: it could not.
  bool take(const Closing& c, EventSink& events);
  // Asks again for the settlements the ledger could not take (unsettled_), in order.
  void retry_unsettled(EventSink& events);

  TenantLedger* ledger_ = nullptr;
  std::string tenant_;
  std::string run_id_;
  std::int64_t next_call_ = 1;
  std::map<std::uint32_t, Open> open_;  // by slot
  std::vector<Closing> unsettled_;      // the ledger could not take them yet
};

// The message of a tenant's refusal (journaled in the step's failure).
std::string tenant_refusal(const std::string& tenant, const TenantDecision& d, double usd);

}  // namespace switchyard::runtime
