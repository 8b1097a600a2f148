// The PostgreSQL journal on a real server (a throwaway cluster, tests/support/postgres_cluster.h):
// the journal's contract (journal_contract.cc), then what is PostgreSQL's own: the schema and its
// version, refusing a database that is not a journal, the password never printed, a server that
// cannot be reached, group commit as one transaction.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "runtime/journal/journal.h"
#include "runtime/journal/writer.h"
#include "tests/runtime/journal/journal_contract.h"
#include "tests/support/journal_records.h"
#include "tests/support/postgres_cluster.h"

namespace switchyard::runtime {
namespace {

using testing::fresh_location;
using testing::journal_event;
using testing::pg_exec;
using testing::pg_query;
using testing::PostgresCluster;
using testing::run_record;
using testing::TempDir;

JournalFactory postgres_journals() {
  return {"postgresql", [](const TempDir&) { return fresh_location("journal"); },
          [](const std::string& url, const JournalOptions& options) {
            return open_postgres_journal(url, options);
          }};
}

INSTANTIATE_TEST_SUITE_P(Implementations, JournalContract, ::testing::Values(postgres_journals()),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Implementations, DurableJournalContract,
                         ::testing::Values(postgres_journals()),
                         [](const auto& info) { return info.param.name; });

TEST(PostgresJournal, TheJournalArgumentPicksTheBackendByItsForm) {
  EXPECT_TRUE(is_postgres_location("postgresql://u@h/db"));
  EXPECT_TRUE(is_postgres_location("postgres://u@h/db"));
  EXPECT_FALSE(is_postgres_location("switchyard.db"));
  EXPECT_FALSE(is_postgres_location("./postgresql://x"));
  const std::string url = fresh_location("journal");
  auto journal = open_journal(url);
  ASSERT_TRUE(journal.ok()) << journal.status().to_string();
  EXPECT_TRUE((*journal)->chains_events());
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM runs"), "0");
}

TEST(PostgresJournal, RecordsItsSchemaVersionAndTheLeaseColumns) {
  const std::string url = fresh_location("journal");
  ASSERT_TRUE(open_postgres_journal(url).ok());
  EXPECT_EQ(pg_query(url, "SELECT application || ' ' || version FROM schema_version"),
            "switchyard 6");
  // For workers that claim runs (docs/scale-out.md#workers).
  EXPECT_EQ(pg_query(url,
                     "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM "
                     "information_schema.columns WHERE table_schema = current_schema() AND "
                     "table_name = 'runs' AND column_name IN "
                     "('owner', 'lease_expires_ms', 'epoch')"),
            "epoch,lease_expires_ms,owner");
  // A second open finds the schema made and changes nothing.
  ASSERT_TRUE(open_postgres_journal(url).ok());
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM schema_version"), "1");
}

TEST(PostgresJournal, RefusesANewerSchemaAndLeavesItUntouched) {
  const std::string url = fresh_location("journal");
  ASSERT_TRUE(open_postgres_journal(url).ok());
  ASSERT_EQ(pg_exec(url, "UPDATE schema_version SET version = 99"), "");
  auto j = open_postgres_journal(url);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kIo);
  EXPECT_NE(j.status().message().find("schema version 99, newer than this build knows"),
            std::string::npos)
      << j.status().message();
  EXPECT_NE(j.status().message().find(url), std::string::npos) << j.status().message();
  EXPECT_EQ(pg_query(url, "SELECT version FROM schema_version"), "99");
}

TEST(PostgresJournal, RefusesADatabaseWithTablesOfItsOwnAndLeavesItUntouched) {
  const std::string url = fresh_location("journal");
  ASSERT_EQ(pg_exec(url, "CREATE TABLE customers (id integer)"), "");
  auto j = open_postgres_journal(url);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kIo);
  EXPECT_NE(j.status().message().find("not a switchyard journal: refusing to touch it"),
            std::string::npos)
      << j.status().message();
  EXPECT_EQ(pg_query(url,
                     "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = "
                     "current_schema()"),
            "customers");
}

// Someone else's schema_version table (another tool's migrations) is not ours.
TEST(PostgresJournal, RefusesAForeignSchemaVersionTable) {
  const std::string url = fresh_location("journal");
  ASSERT_EQ(pg_exec(url,
                    "CREATE TABLE schema_version (version integer); "
                    "INSERT INTO schema_version VALUES (1)"),
            "");
  auto j = open_postgres_journal(url);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("is not a switchyard journal's"), std::string::npos)
      << j.status().message();
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"),
            "1");
}

// A server that is not there: an I/O error naming the journal (its password hidden) and
// libpq's reason.
TEST(PostgresJournal, AServerThatCannotBeReachedIsAClearError) {
  TempDir dir;  // a socket folder with no server in it
  const std::string url = "postgresql://ada:s3cret-pw@/switchyard?host=" + dir.path();
  auto j = open_journal(url);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kIo);
  const std::string message = j.status().message();
  EXPECT_NE(message.find("journal postgresql://ada:***@/switchyard?host=" + dir.path() +
                         ": cannot connect: "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret-pw"), std::string::npos) << message;
}

TEST(PostgresJournal, APasswordIsNeverPrinted) {
  EXPECT_EQ(printable_location("postgresql://ada:s3cret@db.example:5433/runs?sslmode=require"),
            "postgresql://ada:***@db.example:5433/runs?sslmode=require");
  EXPECT_EQ(printable_location("postgres://ada@db/runs?password=s3cret&sslmode=require"),
            "postgres://ada@db/runs?password=***&sslmode=require");
  EXPECT_EQ(printable_location("postgresql://db/runs?sslmode=disable&password=s3cret"),
            "postgresql://db/runs?sslmode=disable&password=***");
  EXPECT_EQ(printable_location("postgresql://ada@db/runs"), "postgresql://ada@db/runs");
  EXPECT_EQ(printable_location("runs/j.db"), "runs/j.db");
  // A journal opened with a password in its URL (the test cluster trusts its socket: any
  // password is accepted) keeps it out of its location and its errors.
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string plain = cluster.fresh("secret");
  const std::string name = PostgresCluster::schema_of(plain);
  const std::string url = cluster.url(name, "postgres", "s3cret");
  auto j = open_journal(url);
  ASSERT_TRUE(j.ok()) << j.status().to_string();
  EXPECT_EQ((*j)->location(), cluster.url(name, "postgres", "***"));
  const Status missing = (*j)->events("ghost").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message().find("s3cret"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find(":***@"), std::string::npos) << missing.message();
}

// libpq quotes the URI, or a piece of it, when it cannot parse it: the password in that piece
// never reaches the journal's error (which goes to logs, stderr and /readyz).
TEST(PostgresJournal, APasswordLibpqQuotesInItsConnectErrorIsNeverPrinted) {
  for (const std::string url : {"postgresql://ada:s3cret%zz@/runs",   // a bad %-escape
                                "postgresql://ada:s3cret@[::1/runs",  // the whole URI quoted
                                "postgresql://ada@/runs?password=s3cret%zz",
                                "postgresql://ada:s3cret/pw@/runs"}) {  // read as host:port
    auto j = open_journal(url);
    ASSERT_FALSE(j.ok()) << url;
    const std::string message = j.status().message();
    EXPECT_NE(message.find(": cannot connect: "), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
    EXPECT_NE(message.find("***"), std::string::npos) << message;
  }
  EXPECT_EQ(printable_location("postgresql://ada:s3cret/pw@db/runs"),
            "postgresql://ada:***@db/runs");
  EXPECT_EQ(printable_location("postgresql://ada@db/runs?%70assword=s3cret"),
            "postgresql://ada@db/runs?%70assword=***");
  EXPECT_EQ(without_password("at \"postgresql://ada:s%40cret@db/runs\": s@cret, s%40cret",
                             "postgresql://ada:s%40cret@db/runs"),
            "at \"postgresql://ada:***@db/runs\": ***, ***");
}

// A role whose login needs a password (the cluster trusts its socket for everyone else): a URL
// without one is refused by the server, and libpq takes it from PGPASSWORD or from a password
// file (~/.pgpass, or PGPASSFILE) as docs/journal.md says; it never shows.
TEST(PostgresJournal, APasswordComesFromPgpasswordOrThePasswordFile) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string admin = cluster.fresh("pw_admin");
  const std::string hba = pg_query(admin, "SHOW hba_file");
  ASSERT_FALSE(hba.empty());
  {
    std::ifstream in(hba);
    std::stringstream rules;
    rules << "local all pw_user scram-sha-256\n" << in.rdbuf();
    in.close();
    std::ofstream(hba) << rules.str();
  }
  ASSERT_EQ(pg_exec(admin,
                    "CREATE ROLE pw_user LOGIN PASSWORD 'pw-s3cret'; CREATE SCHEMA pw_journal "
                    "AUTHORIZATION pw_user; SELECT pg_reload_conf()"),
            "");
  const std::string url = cluster.url("pw_journal", "pw_user");
  auto refused = open_journal(url);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("cannot connect"), std::string::npos)
      << refused.status().message();

  ASSERT_EQ(setenv("PGPASSWORD", "pw-s3cret", 1), 0);
  auto from_env = open_journal(url);
  unsetenv("PGPASSWORD");
  ASSERT_TRUE(from_env.ok()) << from_env.status().to_string();
  EXPECT_EQ((*from_env)->location().find("s3cret"), std::string::npos);
  ASSERT_TRUE((*from_env)->begin_run(run_record("r1")).ok());

  TempDir dir;
  const std::string file = dir.write("pgpass", "*:*:*:pw_user:pw-s3cret\n");
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  ASSERT_EQ(setenv("PGPASSFILE", file.c_str(), 1), 0);
  auto from_file = open_journal(url);
  unsetenv("PGPASSFILE");
  ASSERT_TRUE(from_file.ok()) << from_file.status().to_string();
  EXPECT_EQ((*from_file)->get_run("r1")->run_id, "r1");
}

// A connection made again after the server dropped it speaks UTF-8 as the first one did, whatever
// the session's default (here a LATIN1 client encoding given in the URL, as a database or role
// setting would): a non-ASCII event written after the reconnection reads back and verifies
// from another connection.
TEST(PostgresJournal, AConnectionMadeAgainStillSpeaksUtf8) {
  const std::string url = fresh_location("journal") + "%20-cclient_encoding%3DLATIN1";
  auto journal = open_postgres_journal(url);
  ASSERT_TRUE(journal.ok()) << journal.status().to_string();
  ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
  ASSERT_EQ(pg_query(url,
                     "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                     "datname = current_database() AND pid <> pg_backend_pid()"),
            "1");
  EXPECT_FALSE((*journal)->append({journal_event("r1", 1)}).ok());
  ASSERT_TRUE((*journal)->append({journal_event("r1", 1)}).ok());  // "événement"
  auto other = open_postgres_journal(url);
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  auto events = (*other)->events("r1");
  ASSERT_TRUE(events.ok()) << events.status().to_string();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].payload["text"], "événement");
  auto checked = (*other)->check();
  ASSERT_TRUE(checked.ok()) << checked.status().to_string();
  EXPECT_TRUE(checked->problems.empty()) << checked->problems.front();
}

// The journal writer's group is one transaction: every row of it carries the same transaction
// id (xmin).
TEST(PostgresJournal, AGroupOfWritesIsOneTransaction) {
  const std::string url = fresh_location("journal");
  auto journal = open_postgres_journal(url);
  ASSERT_TRUE(journal.ok());
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, holding = false;
  {
    JournalWriter writer(**journal);
    writer.submit([&](Journal& j) {
      {
        std::unique_lock lock(mu);
        holding = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
      }
      return j.begin_run(run_record("r0"));
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return holding; });
    }
    for (int i = 1; i <= 20; ++i) {
      writer.submit([i](Journal& j) {
        const std::string id = "r" + std::to_string(i);
        if (Status s = j.begin_run(run_record(id)); !s.ok()) return s;
        return j.append({journal_event(id, 1), journal_event(id, 2)});
      });
    }
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
  }
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM runs"), "21");
  EXPECT_EQ(pg_query(url, "SELECT count(*) FROM events"), "40");
  // The 20 queued meanwhile: one transaction for their runs, events and heads. (Each write is a
  // savepoint, a subtransaction with its own xmin; all commit with their parent, at one time.)
  EXPECT_EQ(pg_query(url,
                     "SELECT count(DISTINCT pg_xact_commit_timestamp(xmin)) FROM (SELECT "
                     "xmin FROM runs WHERE run_id <> 'r0' UNION ALL SELECT xmin FROM events) t"),
            "1");
  EXPECT_NE(pg_query(url, "SELECT pg_xact_commit_timestamp(xmin) FROM runs WHERE run_id = 'r0'"),
            pg_query(url, "SELECT pg_xact_commit_timestamp(xmin) FROM runs WHERE run_id = 'r1'"));
  EXPECT_EQ(pg_query(url, "SELECT min(head_seq) FROM runs WHERE run_id <> 'r0'"), "2");
}

// The server ends the journal's session (a restart, an administrator): the write in progress
// fails as unavailable, nothing of it kept, and the next call connects again.
TEST(PostgresJournal, ALostConnectionFailsTheWriteInProgressAndTheNextCallReconnects) {
  const std::string url = fresh_location("journal");
  auto journal = open_postgres_journal(url);
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
  ASSERT_EQ(pg_query(url,
                     "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                     "datname = current_database() AND pid <> pg_backend_pid()"),
            "1");
  const Status lost = (*journal)->append({journal_event("r1", 1)});
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.to_string();
  EXPECT_NE(lost.message().find("the connection to the database was lost"), std::string::npos)
      << lost.message();
  ASSERT_TRUE((*journal)->append({journal_event("r1", 1)}).ok());
  EXPECT_EQ((*journal)->events("r1")->size(), 1u);
}

// An edited event is named by events() and by check(), as in the SQLite journal.
TEST(PostgresJournal, AnEditedRowIsRefusedOnReadAndNamedByCheck) {
  const std::string url = fresh_location("journal");
  auto journal = open_postgres_journal(url);
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->begin_run(run_record("r1")).ok());
  ASSERT_TRUE((*journal)
                  ->append({journal_event("r1", 1),
                            journal_event("r1", 2, "step_failed", nlohmann::json{{"tool", "A"}})})
                  .ok());
  ASSERT_EQ(pg_exec(url, "UPDATE events SET payload = '{\"tool\":[1]}' WHERE seq = 2"), "");
  auto events = (*journal)->events("r1");
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().message(),
            "run r1 seq 2 (step_failed): /payload/tool: expected a string, got an array");
  auto checked = (*journal)->check();
  ASSERT_TRUE(checked.ok()) << checked.status().to_string();
  ASSERT_EQ(checked->problems.size(), 2u);
  EXPECT_EQ(checked->problems[0],
            "run r1 seq 2 (step_failed): /payload/tool: expected a string, got an array");
  EXPECT_EQ(checked->problems[1],
            "run r1 seq 2 (step_failed): does not match its hash: it was edited, or events before "
            "it were reordered");
}

}  // namespace
}  // namespace switchyard::runtime
