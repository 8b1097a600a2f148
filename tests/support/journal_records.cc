#include "tests/support/journal_records.h"

#include <gtest/gtest.h>

namespace switchyard::testing {

runtime::RunRecord run_record(const std::string& id, std::int64_t started_ms,
                              const std::string& workflow, const std::string& status) {
  runtime::RunRecord r;
  r.run_id = id;
  r.workflow = workflow;
  r.workflow_hash = "abc123";
  r.status = status;
  r.started_ms = started_ms;
  r.input = {{"customer", "ada"}};
  return r;
}

runtime::Event journal_event(const std::string& run, std::int64_t seq, const std::string& type,
                             std::optional<nlohmann::json> payload) {
  runtime::Event e;
  e.run_id = run;
  e.seq = seq;
  e.time_ms = 1000 + seq;
  e.type = !type.empty() ? type : (seq == 1 ? "run_started" : "plan");
  e.payload = payload ? std::move(*payload) : nlohmann::json{{"seq", seq}, {"text", "événement"}};
  return e;
}

runtime::TenantBudget tenant_row(runtime::TenantLedger& ledger, const std::string& key) {
  auto rows = ledger.list();
  EXPECT_TRUE(rows.ok()) << rows.status().message();
  for (const auto& t : rows.ok() ? *rows : std::vector<runtime::TenantBudget>{}) {
    if (t.key == key) return t;
  }
  ADD_FAILURE() << "no tenant " << key;
  return {};
}

}  // namespace switchyard::testing
