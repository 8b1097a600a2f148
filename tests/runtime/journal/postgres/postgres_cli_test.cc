// The `switchyard` program on a PostgreSQL journal, as a user meets it: run, then runs, replay
// --verify, journal check, health, budget and gc on the same URL; `serve` and its read API.

#include <gtest/gtest.h>

#include <csignal>

#include "tests/support/postgres_cluster.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"
#include "tests/support/service_workflows.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {
namespace {

TEST(PostgresCli, RunThenRunsReplayVerifyCheckHealthBudgetAndGcWorkOnAPostgresJournal) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string plain = cluster.fresh("cli");
  ASSERT_FALSE(plain.empty());
  const std::string name = PostgresCluster::schema_of(plain);
  // With a password in the URL: it never shows (the test cluster trusts its socket).
  const std::string url = cluster.url(name, "postgres", "pw-s3cret");
  const std::string shown = cluster.url(name, "postgres", "***");

  auto run = switchyard({"run", source_path("examples/customer-support.json"), "--input",
                         R"({"customer": "ada"})", "--journal", url, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  auto report = parse_json(run.out);
  EXPECT_EQ(report["status"], "completed");
  EXPECT_EQ(report["journal"], shown);
  const std::string run_id = report["run_id"].get<std::string>();
  EXPECT_EQ(pg_query(plain, "SELECT status FROM runs WHERE run_id = '" + run_id + "'"),
            "completed");

  auto runs = switchyard({"runs", "--journal", url, "--json"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto listed = parse_json(runs.out);
  EXPECT_EQ(listed["journal"], shown);
  ASSERT_EQ(listed["runs"].size(), 1u);
  EXPECT_EQ(listed["runs"][0]["run_id"], run_id);
  EXPECT_EQ(listed["runs"][0]["result"]["path"],
            (nlohmann::json{"Start", "CRM", "Razorpay", "Email", "Complete"}));

  auto verify = switchyard({"replay", run_id, "--journal", url, "--verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  EXPECT_NE(verify.out.find("hash chain: intact"), std::string::npos) << verify.out;

  auto last = switchyard({"replay", "last", "--journal", url});
  EXPECT_EQ(last.exit_code, 0) << last.err;
  EXPECT_NE(last.out.find("run_finished"), std::string::npos) << last.out;

  auto check = switchyard({"journal", "check", "--journal", url});
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;

  auto health = switchyard({"health", "--journal", url, "--json"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  auto healths = parse_json(health.out);
  EXPECT_EQ(healths["journal"], shown);
  EXPECT_GT(healths["outcomes"].get<int>(), 0) << health.out;  // the run's steps, read back
  EXPECT_FALSE(healths["tools"].empty()) << health.out;

  auto budget = switchyard({"budget", "--journal", url, "--json"});
  EXPECT_EQ(budget.exit_code, 0) << budget.err;
  auto spend = parse_json(budget.out);
  EXPECT_EQ(spend["journal"], shown);
  ASSERT_EQ(spend["workflows"].size(), 1u) << budget.out;
  EXPECT_EQ(spend["workflows"][0]["workflow"], "customer-support");
  EXPECT_EQ(spend["workflows"][0]["runs"], 1);

  auto gc = switchyard({"gc", "--journal", url, "--older-than", "0s", "--json"});
  EXPECT_EQ(gc.exit_code, 0) << gc.err << gc.out;
  EXPECT_EQ(pg_query(plain, "SELECT count(*) FROM runs"), "0");

  for (const auto* r : {&run, &runs, &verify, &last, &check, &health, &budget, &gc}) {
    EXPECT_EQ(r->out.find("pw-s3cret"), std::string::npos) << r->out;
    EXPECT_EQ(r->err.find("pw-s3cret"), std::string::npos) << r->err;
  }
}

// A run held at an approval on a PostgreSQL journal, its process killed: `runs` lists it waiting
// (docs/waits.md#waiting-runs), `waits --journal URL` lists its wait (then `queued`, once an
// approval is queued with `approve --journal URL`), and `journal check` reads that inbox row.
TEST(PostgresCli, RunsWaitsAndCheckReadAHeldRunOfAPostgresJournal) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh("waits");
  ASSERT_FALSE(url.empty());
  TempDir dir;
  const std::string workflow = dir.write("held.json", held_workflow("pg-held"));
  {
    Subprocess holder({SWITCHYARD_WAIT_HOLDER, url, workflow, "pg-held-1", "1"});
    // Its log lines (the journal's schema upgrades) come first on the same output.
    std::optional<std::string> line;
    do {
      line = holder.read_line(std::chrono::seconds(30));
    } while (line && *line != "held");
    ASSERT_EQ(line, std::optional<std::string>("held"));
    holder.signal(SIGKILL);
    ASSERT_EQ(holder.wait(std::chrono::seconds(30)), std::optional<int>(128 + SIGKILL));
  }
  auto runs = switchyard({"runs", "--journal", url, "--status", "waiting", "--json"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto listed = parse_json(runs.out);
  ASSERT_EQ(listed["runs"].size(), 1u) << runs.out;
  EXPECT_EQ(listed["runs"][0]["status"], "waiting");
  auto waits = switchyard({"waits", "--journal", url, "--json"});
  ASSERT_EQ(waits.exit_code, 0) << waits.err;
  auto open = parse_json(waits.out)["waits"];
  ASSERT_EQ(open.size(), 1u) << waits.out;
  EXPECT_EQ(open[0]["wait_id"], "Ask#1");
  EXPECT_EQ(open[0]["kind"], "approval");
  EXPECT_EQ(open[0]["queued"], false);
  auto approved = switchyard({"approve", "pg-held-1", "Ask#1", "--journal", url});
  ASSERT_EQ(approved.exit_code, 0) << approved.err << approved.out;
  waits = switchyard({"waits", "--journal", url, "--run", "pg-held-1", "--json"});
  ASSERT_EQ(waits.exit_code, 0) << waits.err;
  EXPECT_EQ(parse_json(waits.out)["waits"][0]["queued"], true) << waits.out;
  auto check = switchyard({"journal", "check", "--journal", url, "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
  EXPECT_EQ(parse_json(check.out)["queued_resolutions"], 1) << check.out;
}

TEST(PostgresCli, AReaderOfADatabaseWithoutAJournalExitsTwoAndCreatesNothing) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh("empty");
  auto runs = switchyard({"runs", "--journal", url});
  EXPECT_EQ(runs.exit_code, 2) << runs.err;
  EXPECT_NE(runs.err.find("holds no switchyard journal"), std::string::npos) << runs.err;
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"),
            "0");
}

// The service on a PostgreSQL journal: a run admitted over HTTP is journaled there, read back
// through the read API and the CLI, and verifies; /readyz names the journal without its password.
TEST(PostgresCli, ServeRunsAndReadsBackRunsOnAPostgresJournal) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string plain = cluster.fresh("serve");
  const std::string url = cluster.url(PostgresCluster::schema_of(plain), "postgres", "pw-s3cret");
  TempDir dir;
  ServeProcess server(url, {"--workflow", dir.write("quick.json", quick_workflow())},
                      {"SWITCHYARD_TOKENS=pg-token"});
  ASSERT_FALSE(server.url().empty());
  const std::string run_id = server.start_run("pg-token", "quick");
  const nlohmann::json run = server.wait_run("pg-token", run_id);
  EXPECT_EQ(run["status"], "completed") << run.dump();
  auto ready = server.call("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body.find("pw-s3cret"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find(":***@"), std::string::npos) << ready.body;
  auto replay = server.call("GET", "/v1/runs/" + run_id + "/replay", "pg-token");
  EXPECT_EQ(replay.status, 200) << replay.body;
  server.process().signal(SIGTERM);
  ASSERT_EQ(server.process().wait(std::chrono::seconds(30)), 0);
  EXPECT_EQ(pg_query(plain, "SELECT status FROM runs WHERE run_id = '" + run_id + "'"),
            "completed");
  auto verify = switchyard({"replay", run_id, "--journal", url, "--verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
}

}  // namespace
}  // namespace switchyard::testing
