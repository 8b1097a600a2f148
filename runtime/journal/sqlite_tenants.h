#pragma once
// The SQLite journal's tenant budgets (schema version 7: tenant_budgets, tenant_reservations), on
// a connection of its own: each decision is one write transaction (BEGIN IMMEDIATE), so that
// several processes on one file never overspend a tenant. Internal to runtime/journal.

#include <chrono>
#include <memory>
#include <string>

#include "runtime/journal/tenant_ledger.h"

namespace switchyard::runtime {

// The ledger of the journal file at `path` (opened on first use), waiting up to `busy` for
// another process's write.
std::unique_ptr<TenantLedger> sqlite_tenant_ledger(std::string path,
                                                   std::chrono::milliseconds busy);

}  // namespace switchyard::runtime
