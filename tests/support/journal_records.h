#pragma once
// Runs and events to journal in journal tests: made-up but well-formed.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/journal/journal.h"

namespace switchyard::testing {

// A running run of workflow `workflow` (hash "abc123") with input {"customer": "ada"}.
runtime::RunRecord run_record(const std::string& id, std::int64_t started_ms = 1,
                              const std::string& workflow = "wf",
                              const std::string& status = "running");

// Event `seq` of `run`, at time 1000 + seq: of `type` (default: run_started for seq 1, plan after)
// with `payload` (default: {"seq": seq, "text": "événement"}, not ASCII on purpose).
runtime::Event journal_event(const std::string& run, std::int64_t seq, const std::string& type = "",
                             std::optional<nlohmann::json> payload = std::nullopt);

// Tenant `key`'s row of `ledger` (a test failure, and an empty row, when it has none).
runtime::TenantBudget tenant_row(runtime::TenantLedger& ledger, const std::string& key);

}  // namespace switchyard::testing
