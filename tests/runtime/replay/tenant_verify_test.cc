// Tenant budgets through the program (docs/budgets.md#tenant-budgets, docs/cli.md): `tenants set`
// and `tenants` (stable --json), `run --tenant`, bad input as a clear error; and `replay --verify`
// on runs with a tenant: it passes as journaled and names a tenant_reserved that was edited (the
// chain resealed, as a forger who knows the scheme would).

#include <gtest/gtest.h>

#include <map>

#include "runtime/base/hash.h"
#include "runtime/journal/journal.h"
#include "runtime/replay/verify.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::switchyard;
using testing::TempDir;

constexpr const char* kTvWorkflow = R"({"format": "switchyard.workflow/v1", "name": "tenant",
  "start": "S", "goal": "Done",
  "tools": {"Pay": {"kind": "mock", "price_usd": 0.03, "output": {"paid": true}},
            "Free": {"kind": "mock", "idempotent": true},
            "Done": {"kind": "mock", "idempotent": true}},
  "edges": [["S", "Pay", 1], ["S", "Free", 5], ["Pay", "Done", 1], ["Free", "Done", 1]]})";

class TenantProgram : public ::testing::Test {
 protected:
  void SetUp() override { workflow_ = dir_.write("tenant.json", kTvWorkflow); }

  // `switchyard run` of the workflow for `tenant`; its run id.
  std::string run(const std::string& tenant) {
    auto r = switchyard({"run", workflow_, "--journal", db_, "--tenant", tenant, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return testing::parse_json(r.out).value("run_id", "");
  }
  VerifyReport verify(const std::string& run_id) {
    auto journal = open_sqlite_journal(db_, {.create_if_missing = false});
    EXPECT_TRUE(journal.ok());
    auto report = verify_run(**journal, run_id);
    EXPECT_TRUE(report.ok()) << report.status().to_string();
    return report.ok() ? *report : VerifyReport{};
  }
  // Edits run `id`'s tenant_reserved with `set` (SQLite json_set arguments) and reseals the chain.
  void tamper(const std::string& id, const std::string& set) {
    ASSERT_EQ(
        testing::exec_sql(db_, "UPDATE events SET payload = json_set(payload, " + set +
                                   ") WHERE run_id = '" + id + "' AND type = 'tenant_reserved'"),
        "");
    auto journal = open_sqlite_journal(db_);
    ASSERT_TRUE(journal.ok());
    auto events = (*journal)->events(id);
    ASSERT_TRUE(events.ok());
    std::string link;
    for (const Event& e : *events) {
      link = event_link(link, e.run_id, e.seq, e.time_ms, e.type, canonical_json(e.payload));
      ASSERT_EQ(testing::exec_sql(db_, "UPDATE events SET hash = '" + link + "' WHERE run_id = '" +
                                           id + "' AND seq = " + std::to_string(e.seq)),
                "");
    }
    ASSERT_EQ(testing::exec_sql(
                  db_, "UPDATE runs SET head_hash = '" + link + "' WHERE run_id = '" + id + "'"),
              "");
  }

  TempDir dir_;
  std::string db_ = dir_.file("j.db");
  std::string workflow_;
};

TEST_F(TenantProgram, SetListAndRunsShareTheCapWithStableJson) {
  // A cap set before the journal exists makes it.
  auto set = switchyard({"tenants", "set", "acme", "--usd", "1", "--journal", db_, "--json"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(testing::parse_json(set.out)["cap_usd"], 1.0);
  run("acme");
  set = switchyard({"tenants", "set", "acme", "--usd", "0.05", "--journal", db_, "--json"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(testing::parse_json(set.out), (nlohmann::json{{"key", "acme"},
                                                          {"cap_usd", 0.05},
                                                          {"spent_usd", 0.03},
                                                          {"reserved_usd", 0.0},
                                                          {"left_usd", 0.02}}));
  const std::string refused = run("acme");
  auto list = switchyard({"tenants", "--journal", db_, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(testing::parse_json(list.out)["tenants"],
            (nlohmann::json::array({{{"key", "acme"},
                                     {"cap_usd", 0.05},
                                     {"spent_usd", 0.03},
                                     {"reserved_usd", 0.0},
                                     {"left_usd", 0.02}}})));
  auto text = switchyard({"tenants", "--journal", db_});
  EXPECT_NE(text.out.find("acme"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("$0.02"), std::string::npos) << text.out;
  auto runs = switchyard({"runs", "--journal", db_, "--json"});
  EXPECT_NE(runs.out.find(refused), std::string::npos);
}

TEST_F(TenantProgram, BadKeysAndAmountsAreClearErrors) {
  run("acme");
  for (const std::string usd : {"-1", "nan", "inf"}) {
    auto r = switchyard({"tenants", "set", "acme", "--usd", usd, "--journal", db_});
    EXPECT_EQ(r.exit_code, 2) << usd;
    EXPECT_NE(r.err.find("--usd: a tenant's cap must be a number of USD >= 0"), std::string::npos)
        << usd << ": " << r.err;
  }
  auto empty = switchyard({"tenants", "set", "", "--usd", "1", "--journal", db_});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("a tenant key must not be empty"), std::string::npos) << empty.err;
  auto run_empty = switchyard({"run", workflow_, "--journal", db_, "--tenant", ""});
  EXPECT_EQ(run_empty.exit_code, 2);
  EXPECT_NE(run_empty.err.find("--tenant: a tenant key must not be empty"), std::string::npos)
      << run_empty.err;
}

TEST_F(TenantProgram, BudgetByTenantListsItsFiguresAndTheRunsThatNameItWithStableJson) {
  ASSERT_EQ(switchyard({"tenants", "set", "acme", "--usd", "0.05", "--journal", db_}).exit_code, 0);
  const std::string granted = run("acme");  // Pay: $0.03 of $0.05
  const std::string refused = run("acme");  // $0.02 left: Pay refused, Free taken
  run("other");
  auto r = switchyard({"budget", "--tenant", "acme", "--journal", db_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = testing::parse_json(r.out);
  EXPECT_EQ(doc["journal"], db_);
  EXPECT_EQ(doc["tenant"], (nlohmann::json{{"key", "acme"},
                                           {"cap_usd", 0.05},
                                           {"spent_usd", 0.03},
                                           {"reserved_usd", 0.0},
                                           {"left_usd", 0.02}}));
  EXPECT_EQ(doc["charged_usd"], 0.03);
  ASSERT_EQ(doc["runs"].size(), 2u) << doc.dump(2);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& line : doc["runs"]) {
    nlohmann::json rest = line;
    rest.erase("started_ms");
    EXPECT_TRUE(line["started_ms"].is_number_integer());
    by_id[line["run_id"].get<std::string>()] = rest;
  }
  EXPECT_EQ(by_id[granted], (nlohmann::json{{"run_id", granted},
                                            {"workflow", "tenant"},
                                            {"status", "completed"},
                                            {"calls", 1},
                                            {"refused", 0},
                                            {"left_open", 0},
                                            {"reserved_usd", 0.03},
                                            {"charged_usd", 0.03},
                                            {"open_usd", 0.0}}));
  EXPECT_EQ(by_id[refused], (nlohmann::json{{"run_id", refused},
                                            {"workflow", "tenant"},
                                            {"status", "completed"},
                                            {"calls", 0},
                                            {"refused", 1},
                                            {"left_open", 0},
                                            {"reserved_usd", 0.0},
                                            {"charged_usd", 0.0},
                                            {"open_usd", 0.0}}));
  auto text = switchyard({"budget", "--tenant", "acme", "--journal", db_});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("tenant acme in " + db_ +
                          ": cap $0.05, spent $0.03, reserved $0.00, "
                          "left $0.02"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(granted), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(refused), std::string::npos) << text.out;
  // --name keeps one workflow's runs; the tenant's figures are the ledger's all the same.
  auto none =
      switchyard({"budget", "--tenant", "acme", "--name", "nope", "--journal", db_, "--json"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(testing::parse_json(none.out)["runs"], nlohmann::json::array());
  EXPECT_EQ(testing::parse_json(none.out)["tenant"]["spent_usd"], 0.03);
  auto unknown = switchyard({"budget", "--tenant", "nobody", "--journal", db_});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no tenant 'nobody' in " + db_ +
                             ": no cap is set for it and no run names it"),
            std::string::npos)
      << unknown.err;
  auto bad = switchyard({"budget", "--tenant", "", "--journal", db_, "--json"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(testing::parse_json(bad.out)["error"]["message"],
            "--tenant: a tenant key must not be empty");
}

TEST_F(TenantProgram, VerifyPassesOnTenantRunsAndNamesAnEditedTenantReserved) {
  const std::string granted = run("acme");
  ASSERT_EQ(switchyard({"tenants", "set", "acme", "--usd", "0.05", "--journal", db_}).exit_code, 0);
  const std::string refused = run("acme");
  for (const std::string& id : {granted, refused}) {
    const VerifyReport r = verify(id);
    EXPECT_TRUE(r.ok()) << id << ": " << r.decisions.message();
  }
  auto cli = switchyard({"replay", refused, "--journal", db_, "--verify"});
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  // The refusal turned into a grant: the figures say the call did not fit.
  tamper(refused, "'$.granted', json('true')");
  VerifyReport r = verify(refused);
  EXPECT_TRUE(r.chain.ok()) << r.chain.message();
  EXPECT_NE(r.decisions.message().find(
                "(tenant_reserved): granted where the tenant's figures say it does not fit"),
            std::string::npos)
      << r.decisions.message();
  // A grant for less than the call's worst case.
  tamper(granted, "'$.usd', 0.01");
  r = verify(granted);
  EXPECT_NE(r.decisions.message().find("reserved 0.010000 USD for a call whose worst case"),
            std::string::npos)
      << r.decisions.message();
}

}  // namespace
}  // namespace switchyard::runtime
