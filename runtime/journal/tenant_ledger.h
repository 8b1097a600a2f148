#pragma once
// TenantLedger: USD budgets shared by every run that names the same tenant (a budget key), with
// the reservation rule of a run's own budget (docs/budgets.md#tenant-budgets).
//
// Before a call whose worst case is > 0, a run with a tenant reserves that worst case against the
// tenant: granted iff spent + reserved + worst <= cap, decided atomically where the ledger lives
// (the PostgreSQL journal: one function under the tenant row's lock; the SQLite journal: one
// write transaction, safe for several processes on one file; the memory journal: a mutex). When
// the call ends its reservation is removed and what it cost is added to `spent`. Reservations are
// rows keyed by (run, call), the run's own count of its tenant calls, so that a run taken over or
// resumed after a crash finds the reservations its previous holder never settled and charges them
// their worst case (the call may have been billed), never releasing them silently.
//
// A tenant without a cap is not capped: its calls are granted and counted.
//
// Amounts are integers of micro-dollars (usd_micros): the database adds and compares them exactly.
//
// Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/status.h"

namespace switchyard::runtime {

// USD as micro-dollars (rounded to the nearest) and back.
std::int64_t usd_micros(double usd);
double micros_usd(std::int64_t micros);

// Checks a tenant key and a cap given by a person or a request: the key non-empty, at most 200
// bytes, printable UTF-8 without control characters; the cap a finite number >= 0 below 10^12.
// kInvalidArgument naming what is wrong.
Status check_tenant_key(const std::string& key);
Status check_tenant_cap(double usd);

// One tenant's row.
struct TenantBudget {
  std::string key;
  std::optional<std::int64_t> cap;  // micro-dollars; nullopt: no cap
  std::int64_t spent = 0;
  std::int64_t reserved = 0;  // by calls in flight
};

// A reservation's answer, with the tenant's row as it was when it was decided.
struct TenantDecision {
  bool granted = false;
  std::optional<std::int64_t> cap;
  std::int64_t spent = 0;
  std::int64_t reserved = 0;
};

// A reservation that was still open, charged its worst case (settle_abandoned).
struct AbandonedReservation {
  std::int64_t call = 0;
  std::int64_t usd = 0;
};

class TenantLedger {
 public:
  virtual ~TenantLedger() = default;
  // Reserves `usd` (> 0) for call `call` of run `run_id` against `tenant`, when it fits.
  // Errors (kIo, kUnavailable): the ledger could not be asked; nothing reserved.
  virtual Result<TenantDecision> reserve(const std::string& tenant, const std::string& run_id,
                                         std::int64_t call, std::int64_t usd) = 0;
  // Call `call` of run `run_id` ended: its reservation is removed and `charged` added to what the
  // tenant spent. False when the reservation was no longer there (settle_abandoned charged it
  // already: a run taken over): nothing is charged again.
  virtual Result<bool> settle(const std::string& run_id, std::int64_t call,
                              std::int64_t charged) = 0;
  // Adds `usd` to what `tenant` spent without a reservation (compensations are not checked).
  virtual Status charge(const std::string& tenant, std::int64_t usd) = 0;
  // Charges every reservation of run `run_id` still open at its worst case and removes it: what
  // a run taken over or resumed does first. Returns them by call.
  virtual Result<std::vector<AbandonedReservation>> settle_abandoned(const std::string& run_id) = 0;
  // Sets `tenant`'s cap (micro-dollars >= 0), creating its row if needed.
  virtual Status set_cap(const std::string& tenant, std::int64_t cap) = 0;
  // Every tenant row, by key.
  virtual Result<std::vector<TenantBudget>> list() = 0;
};

// The ledger of one process (the memory journal's).
class InProcessTenantLedger final : public TenantLedger {
 public:
  Result<TenantDecision> reserve(const std::string& tenant, const std::string& run_id,
                                 std::int64_t call, std::int64_t usd) override;
  Result<bool> settle(const std::string& run_id, std::int64_t call, std::int64_t charged) override;
  Status charge(const std::string& tenant, std::int64_t usd) override;
  Result<std::vector<AbandonedReservation>> settle_abandoned(const std::string& run_id) override;
  Status set_cap(const std::string& tenant, std::int64_t cap) override;
  Result<std::vector<TenantBudget>> list() override;

 private:
  struct Held {
    std::string tenant;
    std::int64_t usd = 0;
  };
  std::mutex mu_;
  std::map<std::string, TenantBudget> tenants_;
  std::map<std::pair<std::string, std::int64_t>, Held> held_;  // by (run, call)
};

// The ledger of every journal without one of its own.
TenantLedger& process_tenant_ledger();

}  // namespace switchyard::runtime
