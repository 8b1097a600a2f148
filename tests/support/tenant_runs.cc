#include "tests/support/tenant_runs.h"

#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/replay/verify.h"
#include "tests/support/journal_records.h"

namespace switchyard::testing {

void check_two_engines_share_a_tenant(runtime::Journal& a, runtime::Journal& b,
                                      const std::shared_ptr<const graph::Workflow>& workflow,
                                      const std::shared_ptr<tools::ToolSet>& tools, double cap_usd,
                                      int paid) {
  using runtime::RunReport;
  runtime::SystemClock clock;
  monitors::HealthTable health_a(clock), health_b(clock);
  std::vector<RunReport> reports;
  {
    const runtime::EngineOptions options{.threads = 2,
                                         .probe_interval = std::chrono::milliseconds(0)};
    runtime::Engine one(a, clock, health_a, options);
    runtime::Engine two(b, clock, health_b, options);
    std::vector<std::future<Result<RunReport>>> runs;
    for (int i = 0; i < 4; ++i) {
      runs.push_back(
          one.submit(workflow, tools, {.run_id = "a" + std::to_string(i), .tenant = "acme"}));
      runs.push_back(
          two.submit(workflow, tools, {.run_id = "b" + std::to_string(i), .tenant = "acme"}));
    }
    for (auto& f : runs) {
      auto report = f.get();
      ASSERT_TRUE(report.ok()) << report.status().message();
      EXPECT_EQ(report->result.status, runtime::RunStatus::kCompleted);
      reports.push_back(std::move(*report));
    }
  }
  double spent = 0;
  int called = 0, refused = 0;
  for (const RunReport& r : reports) {
    spent += r.result.spent_usd;
    called += r.result.path.size() > 1 && r.result.path[1] == "Pay" ? 1 : 0;
    auto events = a.events(r.run_id);
    ASSERT_TRUE(events.ok()) << events.status().message();
    for (const runtime::Event& e : *events) {
      if (e.type != "step_failed") continue;
      ++refused;
      EXPECT_EQ(e.payload.value("failure", ""), "budget_exhausted");
      EXPECT_NE(e.payload.value("reason", "").find("tenant budget 'acme'"), std::string::npos);
    }
    auto verified = runtime::verify_run(b, r.run_id);
    ASSERT_TRUE(verified.ok()) << verified.status().message();
    EXPECT_TRUE(verified->ok()) << r.run_id << ": " << verified->decisions.message();
  }
  EXPECT_EQ(called, paid) << "the first calls that fit the cap are granted";
  EXPECT_EQ(refused, 8 - paid);
  EXPECT_LE(spent, cap_usd + 1e-9);
  const runtime::TenantBudget row = tenant_row(b.tenant_ledger(), "acme");
  EXPECT_EQ(row.spent, runtime::usd_micros(spent))
      << "the tenant's spend is the sum of its runs' charges";
  EXPECT_EQ(row.reserved, 0);
}

}  // namespace switchyard::testing
