// Tenant budgets (docs/budgets.md#tenant-budgets): the ledger's rule (granted iff spent + reserved
// + worst <= cap) in process and in a SQLite file; runs of one tenant on two engines sharing a
// SQLite file never overspending it, a refusal failing `budget_exhausted` naming the tenant and
// routed around (with the engine and the runner); a resumed run charging the reservation its
// crashed process left open its worst case; and a settlement the ledger could not take journaled
// only once taken, its reservation kept open (counted) until then.

#include "runtime/engine/tenant.h"

#include <gtest/gtest.h>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/schema.h"
#include "runtime/journal/tenant_ledger.h"
#include "runtime/replay/verify.h"
#include "tests/support/journal_records.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"
#include "tests/support/tenant_runs.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// S -> Pay (priced 0.03, `pay_fields` added) -> Done, or S -> Free -> Done when Pay fails.
std::shared_ptr<const graph::Workflow> tn_workflow(const std::string& pay_fields = "") {
  auto loaded = graph::load(
      R"({"format": "switchyard.workflow/v1", "name": "tenant", "start": "S", "goal": "Done",
    "tools": {"Pay": {"kind": "mock", "price_usd": 0.03, "output": {"paid": true})" +
          pay_fields + R"(},
              "Free": {"kind": "mock", "idempotent": true},
              "Done": {"kind": "mock", "idempotent": true}},
    "edges": [["S", "Pay", 1], ["S", "Free", 5], ["Pay", "Done", 1], ["Free", "Done", 1]]})",
      "tenant.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

RunRequest tn_request(const std::string& id, const std::string& tenant) {
  RunRequest request;
  request.run_id = id;
  request.tenant = tenant;
  return request;
}

const Event* tn_event(const std::vector<Event>& events, const std::string& type,
                      const std::string& tool = "") {
  for (const auto& e : events) {
    if (e.type == type && (tool.empty() || e.payload.value("tool", "") == tool)) return &e;
  }
  return nullptr;
}

// Reserve, settle and settle_abandoned on `ledger`: the rule and its bookkeeping.
void tn_check_ledger(TenantLedger& ledger) {
  ASSERT_TRUE(ledger.set_cap("acme", 100).ok());
  auto a = ledger.reserve("acme", "r1", 1, 60);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(a->granted);
  EXPECT_EQ(a->cap, 100);
  EXPECT_EQ(a->reserved, 0);
  auto b = ledger.reserve("acme", "r2", 1, 41);  // 0 + 60 + 41 > 100
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->granted);
  EXPECT_EQ(b->reserved, 60);
  auto c = ledger.reserve("acme", "r2", 2, 40);  // exactly the cap
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->granted);
  // The call cost less than its worst case: the rest comes free.
  EXPECT_TRUE(*ledger.settle("r1", 1, 25));
  EXPECT_EQ(testing::tenant_row(ledger, "acme").spent, 25);
  EXPECT_EQ(testing::tenant_row(ledger, "acme").reserved, 40);
  EXPECT_TRUE(ledger.reserve("acme", "r3", 1, 35)->granted);
  // r2's process died: its open reservation is charged its worst case, once.
  auto left = ledger.settle_abandoned("r2");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].call, 2);
  EXPECT_EQ((*left)[0].usd, 40);
  EXPECT_FALSE(*ledger.settle("r2", 2, 1)) << "its stale holder charges nothing again";
  const TenantBudget row = testing::tenant_row(ledger, "acme");
  EXPECT_EQ(row.spent, 65);
  EXPECT_EQ(row.reserved, 35);
  // A tenant without a cap is granted and counted; compensations are charged unchecked.
  EXPECT_TRUE(ledger.reserve("free", "r4", 1, 1000000)->granted);
  EXPECT_TRUE(ledger.charge("acme", 50).ok());
  EXPECT_EQ(testing::tenant_row(ledger, "acme").spent, 115);
  EXPECT_FALSE(testing::tenant_row(ledger, "free").cap.has_value());
}

TEST(TenantLedger, GrantsWhileSpentPlusReservedPlusWorstFitsTheCapInProcess) {
  InProcessTenantLedger ledger;
  tn_check_ledger(ledger);
}

TEST(TenantLedger, ASqliteFileKeepsTheSameRuleAndItsRowsAcrossOpens) {
  testing::TempDir dir;
  {
    auto journal = open_sqlite_journal(dir.file("j.db"));
    ASSERT_TRUE(journal.ok()) << journal.status().message();
    tn_check_ledger((*journal)->tenant_ledger());
  }
  auto again = open_sqlite_journal(dir.file("j.db"), {.create_if_missing = false});
  ASSERT_TRUE(again.ok());
  const TenantBudget row = testing::tenant_row((*again)->tenant_ledger(), "acme");
  EXPECT_EQ(row.cap, 100);
  EXPECT_EQ(row.spent, 115);
  EXPECT_EQ(row.reserved, 35);
  EXPECT_EQ(testing::query_text(dir.file("j.db"), "PRAGMA user_version"),
            std::to_string(journal_schema_version()));
}

TEST(TenantLedger, KeysAndCapsAreChecked) {
  EXPECT_TRUE(check_tenant_key("acme-1").ok());
  EXPECT_EQ(check_tenant_key("").message(), "a tenant key must not be empty");
  EXPECT_FALSE(check_tenant_key("a\nb").ok());
  EXPECT_FALSE(check_tenant_key(std::string(201, 'k')).ok());
  EXPECT_TRUE(check_tenant_cap(0).ok());
  EXPECT_FALSE(check_tenant_cap(-0.01).ok());
  EXPECT_FALSE(check_tenant_cap(std::nan("")).ok());
  EXPECT_FALSE(check_tenant_cap(1e300).ok());
}

TEST(TenantRuns, ARefusalFailsBudgetExhaustedNamingTheTenantAndIsRoutedAround) {
  auto w = tn_workflow();
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok());
  ManualClock clock;
  monitors::HealthTable health(clock);
  auto journal = make_memory_journal();
  TenantLedger& ledger = journal->tenant_ledger();
  ASSERT_TRUE(ledger.set_cap("acme", usd_micros(0.05)).ok());
  Runner runner(w, *tools, *journal, clock, health);
  auto first = runner.run(tn_request("r1", "acme"));  // fits: $0.03 of $0.05
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->result.path, (std::vector<std::string>{"S", "Pay", "Done"}));
  Engine engine(*journal, clock, health, {.threads = 1});
  auto second = engine.run(w, *tools, tn_request("e1", "acme"));  // $0.02 left: refused
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->result.status, RunStatus::kCompleted);
  EXPECT_EQ(second->result.path, (std::vector<std::string>{"S", "Free", "Done"}));
  EXPECT_EQ(second->result.spent_usd, 0) << "a refused call is not sent, not charged";
  auto third = runner.run(tn_request("r2", "acme"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->result.path, (std::vector<std::string>{"S", "Free", "Done"}));
  // Another tenant, and a run with none, are not held back by acme's budget.
  EXPECT_EQ(runner.run(tn_request("r3", "other"))->result.spent_usd, 0.03);
  EXPECT_EQ(runner.run(tn_request("r4", ""))->result.spent_usd, 0.03);
  for (const char* run : {"e1", "r2"}) {
    auto events = journal->events(run);
    ASSERT_TRUE(events.ok());
    const Event* reserved = tn_event(*events, "tenant_reserved");
    ASSERT_NE(reserved, nullptr) << run;
    EXPECT_EQ(reserved->payload, (nlohmann::json{{"tenant", "acme"},
                                                 {"call", 1},
                                                 {"tool", "Pay"},
                                                 {"usd", 0.03},
                                                 {"granted", false},
                                                 {"cap_usd", 0.05},
                                                 {"spent_usd", 0.03},
                                                 {"reserved_usd", 0.0}}))
        << run;
    const Event* failed = tn_event(*events, "step_failed", "Pay");
    ASSERT_NE(failed, nullptr) << run;
    EXPECT_EQ(failed->payload["failure"], "budget_exhausted");
    EXPECT_EQ(failed->payload["reason"],
              "tenant budget 'acme': $0.02 left of its $0.05 cap ($0.03 spent, $0.00 reserved by "
              "calls in flight), the call needs $0.03 (Pay)");
    EXPECT_EQ(tn_event(*events, "step_retry"), nullptr) << "a refusal is not retried";
  }
  auto events = journal->events("r1");
  ASSERT_TRUE(events.ok());
  const Event* settled = tn_event(*events, "tenant_settled");
  ASSERT_NE(settled, nullptr);
  EXPECT_EQ(settled->payload["charged_usd"], 0.03);
  EXPECT_EQ(settled->payload["reserved_usd"], 0.03);
  const TenantBudget acme = testing::tenant_row(ledger, "acme");
  EXPECT_EQ(acme.spent, usd_micros(0.03));
  EXPECT_EQ(acme.reserved, 0);
  EXPECT_EQ(testing::tenant_row(ledger, "other").spent, usd_micros(0.03));
}

TEST(TenantRuns, EightRunsOnTwoEnginesSharingASqliteFileNeverOverspendTheTenant) {
  // Pay answers after 30 ms (simulated on the system clock): the runs' reservations are in
  // flight together. The cap fits three calls.
  auto w = tn_workflow(R"(, "latency_ms": 30)");
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok());
  testing::TempDir dir;
  auto a = open_sqlite_journal(dir.file("j.db"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto b = open_sqlite_journal(dir.file("j.db"));
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE((*a)->tenant_ledger().set_cap("acme", usd_micros(0.10)).ok());
  testing::check_two_engines_share_a_tenant(**a, **b, w, *tools, 0.10, 3);
}

TEST(TenantRuns, ResumeChargesTheReservationItsCrashedProcessLeftOpenItsWorstCase) {
  auto w = tn_workflow(R"(, "idempotent": true)");
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok());
  testing::TempDir dir;
  const std::string path = dir.file("j.db");
  ManualClock clock;
  monitors::HealthTable health(clock);
  {
    auto journal = open_sqlite_journal(path);
    ASSERT_TRUE(journal.ok());
    Runner runner(w, *tools, **journal, clock, health);
    ASSERT_TRUE(runner.run(tn_request("r1", "acme")).ok());
  }
  // The process died while Pay was in flight: the journal ends at its tenant_reserved, and the
  // reservation is still open in the ledger (as the dead process left it).
  const std::string seq = testing::query_text(
      path, "SELECT seq FROM events WHERE run_id = 'r1' AND type = 'tenant_reserved'");
  ASSERT_FALSE(seq.empty());
  ASSERT_EQ(testing::exec_sql(
                path, "DELETE FROM events WHERE run_id = 'r1' AND seq > " + seq +
                          "; UPDATE runs SET status = 'running', finished_ms = NULL, result = "
                          "NULL, head_seq = " +
                          seq + ", head_hash = (SELECT hash FROM events WHERE run_id = 'r1' AND " +
                          "seq = " + seq +
                          "); UPDATE tenant_budgets SET spent_micros = 0, reserved_micros = 30000;"
                          " INSERT INTO tenant_reservations VALUES ('r1', 1, 'acme', 30000);"),
            "");
  auto journal = open_sqlite_journal(path, {.create_if_missing = false});
  ASSERT_TRUE(journal.ok());
  Runner runner(w, *tools, **journal, clock, health);
  auto resumed = runner.resume("r1");
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(resumed->result.status, RunStatus::kCompleted);
  const TenantBudget row = testing::tenant_row((*journal)->tenant_ledger(), "acme");
  EXPECT_EQ(row.spent, usd_micros(0.06)) << "the call left open (worst case) and its new call";
  EXPECT_EQ(row.reserved, 0);
  auto events = (*journal)->events("r1");
  ASSERT_TRUE(events.ok());
  std::vector<nlohmann::json> settled;
  for (const Event& e : *events) {
    if (e.type == "tenant_settled") settled.push_back(e.payload);
  }
  ASSERT_EQ(settled.size(), 2u);
  EXPECT_EQ(settled[0], (nlohmann::json{{"tenant", "acme"},
                                        {"call", 1},
                                        {"reserved_usd", 0.03},
                                        {"charged_usd", 0.03},
                                        {"left_open", true}}));
  EXPECT_EQ(settled[1]["call"], 2) << "the call made again reserves anew";
  EXPECT_EQ(testing::query_text(path, "SELECT count(*) FROM tenant_reservations"), "0");
  auto verified = verify_run(**journal, "r1");
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->decisions.message();
}

// A ledger whose settlements and charges fail while `down` (its database unreachable).
class TnFlakyLedger final : public TenantLedger {
 public:
  bool down = false;
  InProcessTenantLedger real;

  Result<TenantDecision> reserve(const std::string& tenant, const std::string& run_id,
                                 std::int64_t call, std::int64_t usd) override {
    return real.reserve(tenant, run_id, call, usd);
  }
  Result<bool> settle(const std::string& run_id, std::int64_t call, std::int64_t charged) override {
    if (down) return Status(StatusCode::kUnavailable, "the ledger is down");
    return real.settle(run_id, call, charged);
  }
  Status charge(const std::string& tenant, std::int64_t usd) override {
    if (down) return Status(StatusCode::kUnavailable, "the ledger is down");
    return real.charge(tenant, usd);
  }
  Result<std::vector<AbandonedReservation>> settle_abandoned(const std::string& run_id) override {
    return real.settle_abandoned(run_id);
  }
  Status set_cap(const std::string& tenant, std::int64_t cap) override {
    return real.set_cap(tenant, cap);
  }
  Result<std::vector<TenantBudget>> list() override { return real.list(); }
};

struct TnEvents final : EventSink {
  std::vector<std::pair<std::string, nlohmann::json>> emitted;
  void emit(std::string_view type, nlohmann::json payload) override {
    emitted.emplace_back(std::string(type), std::move(payload));
  }
  std::vector<nlohmann::json> of(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& [t, p] : emitted) {
      if (t == type) out.push_back(p);
    }
    return out;
  }
};

// Pay's call in `slot`, its worst case $0.03 reserved by the run's budget.
Action tn_pay(const graph::Workflow& w, std::uint32_t slot) {
  Action a;
  a.type = Action::Type::kInvoke;
  a.tool = w.find_tool("Pay");
  a.slot = slot;
  a.reserved_usd = 0.03;
  return a;
}

TEST(TenantRuns, ASettlementTheLedgerCouldNotTakeIsJournaledOnlyOnceTakenAskedAgainBeforeTheNext) {
  auto w = tn_workflow();
  ASSERT_NE(w, nullptr);
  TnFlakyLedger ledger;
  ASSERT_TRUE(ledger.set_cap("acme", usd_micros(0.10)).ok());
  RunTenant tenant(ledger, "acme", "r1");
  TnEvents events;
  const auto paid = tools::Outcome::success({{"paid", true}});
  ASSERT_EQ(tenant.reserve(tn_pay(*w, 0), *w, events), std::nullopt);
  ledger.down = true;
  tenant.settle(0, paid, events);
  EXPECT_TRUE(events.of("tenant_settled").empty()) << "not journaled: the ledger did not take it";
  TenantBudget row = testing::tenant_row(ledger, "acme");
  EXPECT_EQ(row.reserved, usd_micros(0.03)) << "still counted against the cap";
  EXPECT_EQ(row.spent, 0);
  // The ledger is back: the next decision first settles what it could not take.
  ledger.down = false;
  ASSERT_EQ(tenant.reserve(tn_pay(*w, 0), *w, events), std::nullopt);
  ASSERT_EQ(events.of("tenant_settled").size(), 1u);
  EXPECT_EQ(events.of("tenant_settled")[0], (nlohmann::json{{"tenant", "acme"},
                                                            {"call", 1},
                                                            {"tool", "Pay"},
                                                            {"reserved_usd", 0.03},
                                                            {"charged_usd", 0.03}}));
  EXPECT_EQ(events.emitted.back().first, "tenant_reserved") << "settled before call 2 reserved";
  tenant.settle(0, paid, events);
  row = testing::tenant_row(ledger, "acme");
  EXPECT_EQ(row.spent, usd_micros(0.06));
  EXPECT_EQ(row.reserved, 0);
}

TEST(TenantRuns, ASettlementStillNotTakenWhenTheRunEndsLeavesItsReservationForTheNextResume) {
  auto w = tn_workflow();
  ASSERT_NE(w, nullptr);
  TnFlakyLedger ledger;
  ASSERT_TRUE(ledger.set_cap("acme", usd_micros(0.10)).ok());
  TnEvents events;
  {
    RunTenant tenant(ledger, "acme", "r1");
    ASSERT_EQ(tenant.reserve(tn_pay(*w, 1), *w, events), std::nullopt);
    ledger.down = true;
    tenant.settle(1, tools::Outcome::success({{"paid", true}}), events);
    tenant.abandon_all(events);  // the run ends; the ledger is still down
  }
  EXPECT_TRUE(events.of("tenant_settled").empty());
  TenantBudget row = testing::tenant_row(ledger, "acme");
  EXPECT_EQ(row.reserved, usd_micros(0.03)) << "never released unpaid: the tenant cannot overspend";
  EXPECT_TRUE(ledger.reserve("acme", "r2", 1, usd_micros(0.07))->granted) << "0.03 + 0.07 fit";
  EXPECT_FALSE(ledger.reserve("acme", "r3", 1, usd_micros(0.01))->granted);
  // The run resumed (or taken over) charges it its worst case, journaled as left open.
  ledger.down = false;
  std::vector<Event> recorded(1);
  recorded[0].type = "run_started";
  recorded[0].payload = {{"tenant", "acme"}};
  for (const auto& [type, payload] : events.emitted) {
    recorded.emplace_back();
    recorded.back().type = type;
    recorded.back().payload = payload;
  }
  RunTenant resumed = RunTenant::resumed(ledger, "r1", recorded);
  TnEvents after;
  resumed.settle_left_open(after);
  ASSERT_EQ(after.of("tenant_settled").size(), 1u);
  EXPECT_EQ(after.of("tenant_settled")[0], (nlohmann::json{{"tenant", "acme"},
                                                           {"call", 1},
                                                           {"reserved_usd", 0.03},
                                                           {"charged_usd", 0.03},
                                                           {"left_open", true}}));
  row = testing::tenant_row(ledger, "acme");
  EXPECT_EQ(row.spent, usd_micros(0.03));
  EXPECT_EQ(row.reserved, usd_micros(0.07));
}

TEST(TenantRuns, RunsWhoseSettlementTheSqliteFileRefusesEndWithTheirReservationsOpenAndVerify) {
  auto w = tn_workflow();
  ASSERT_NE(w, nullptr);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok());
  testing::TempDir dir;
  const std::string path = dir.file("j.db");
  auto journal = open_sqlite_journal(path);
  ASSERT_TRUE(journal.ok()) << journal.status().message();
  ASSERT_TRUE((*journal)->tenant_ledger().set_cap("acme", usd_micros(0.10)).ok());
  // Every settlement fails in the database (as when it cannot be written).
  ASSERT_EQ(testing::exec_sql(path,
                              "CREATE TRIGGER tn_refuse BEFORE DELETE ON tenant_reservations "
                              "BEGIN SELECT RAISE(ABORT, 'settlements refused'); END;"),
            "");
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, *tools, **journal, clock, health);
  auto by_runner = runner.run(tn_request("r1", "acme"));
  ASSERT_TRUE(by_runner.ok()) << by_runner.status().message();
  EXPECT_EQ(by_runner->result.path, (std::vector<std::string>{"S", "Pay", "Done"}));
  Engine engine(**journal, clock, health, {.threads = 1});
  auto by_engine = engine.run(w, *tools, tn_request("e1", "acme"));
  ASSERT_TRUE(by_engine.ok()) << by_engine.status().message();
  EXPECT_EQ(by_engine->result.path, (std::vector<std::string>{"S", "Pay", "Done"}));
  for (const char* run : {"r1", "e1"}) {
    auto events = (*journal)->events(run);
    ASSERT_TRUE(events.ok());
    EXPECT_NE(tn_event(*events, "tenant_reserved"), nullptr) << run;
    EXPECT_EQ(tn_event(*events, "tenant_settled"), nullptr) << run << ": never said settled";
    auto verified = verify_run(**journal, run);
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(verified->ok()) << run << ": " << verified->decisions.message();
  }
  const TenantBudget row = testing::tenant_row((*journal)->tenant_ledger(), "acme");
  EXPECT_EQ(row.reserved, usd_micros(0.06)) << "their worst cases stay counted against the cap";
  EXPECT_EQ(row.spent, 0);
  auto report = testing::switchyard({"budget", "--tenant", "acme", "--journal", path, "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const nlohmann::json doc = testing::parse_json(report.out);
  ASSERT_EQ(doc["runs"].size(), 2u) << report.out;
  EXPECT_EQ(doc["runs"][0]["open_usd"], 0.03) << report.out;
  EXPECT_EQ(doc["runs"][1]["open_usd"], 0.03) << report.out;
}

}  // namespace
}  // namespace switchyard::runtime
