#include "tests/support/postgres_cluster.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/support/run_command.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {
namespace {

// The database the tests' schemas are made in (PostgresCluster::fresh).
constexpr const char* kTestDatabase = "switchyard_tests";

// The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and postgres; "" if none.
std::string server_binaries() {
  std::error_code ec;
  std::vector<std::pair<int, std::string>> found;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = entry.path().string() + "/bin";
    if (!std::filesystem::exists(bin + "/initdb", ec) ||
        !std::filesystem::exists(bin + "/pg_ctl", ec) ||
        !std::filesystem::exists(bin + "/postgres", ec)) {
      continue;
    }
    found.emplace_back(std::atoi(entry.path().filename().c_str()), bin);
  }
  if (found.empty()) return "";
  return std::max_element(found.begin(), found.end())->second;
}

std::unique_ptr<PostgresCluster>& shared_slot() {
  static std::unique_ptr<PostgresCluster> cluster;
  return cluster;
}

}  // namespace

// A shell that stops the cluster and removes its folder when its stdin ends: when the test
// program exits however it exits (the pipe's only writer is the program).
struct PostgresCluster::Watcher {
  explicit Watcher(const std::string& script) : process({"/bin/sh", "-c", script}) {}
  Subprocess process;
};

PostgresCluster& PostgresCluster::shared(bool fsync) {
  auto& slot = shared_slot();
  if (!slot) {
    slot.reset(new PostgresCluster());
    slot->start(fsync);
  }
  return *slot;
}

void PostgresCluster::stop_shared() { shared_slot().reset(); }

PostgresCluster::PostgresCluster() = default;

PostgresCluster::~PostgresCluster() { stop(); }

void PostgresCluster::start(bool fsync) {
  bin_ = server_binaries();
  if (bin_.empty()) {
    error_ =
        "the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not in "
        "/usr/lib/postgresql/<version>/bin: install the Debian package postgresql "
        "(scripts/install-deps)";
    return;
  }
  char tmpl[] = "/tmp/switchyard-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    error_ = "cannot make a temporary folder for the cluster";
    return;
  }
  dir_ = tmpl;
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    // initdb refuses root: the cluster is the user postgres's, in a folder it owns.
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      error_ =
          "running as root and there is no user postgres to run the cluster as (the Debian "
          "package postgresql creates it: scripts/install-deps)";
      return;
    }
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "cannot give " + dir_ + " to the user postgres";
      return;
    }
    as_postgres_ = true;
    prefix = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  }
  auto run = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
    return run_command(argv);
  };
  const std::string data = dir_ + "/data";
  // Trust on the socket (only this folder's owner and root reach it); UTF-8.
  CommandResult init = run({bin_ + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E",
                            "UTF8", "--locale=C", "--no-sync"});
  if (init.exit_code != 0) {
    error_ = "initdb failed (exit " + std::to_string(init.exit_code) + "): " + init.err + init.out;
    return;
  }
  // The watcher first: from here on, the program's end stops the cluster.
  const std::string stop_cmd = (as_postgres_ ? "/usr/sbin/runuser -u postgres -- " : "") + bin_ +
                               "/pg_ctl -D " + data + " -m immediate stop >/dev/null 2>&1";
  watcher_ = std::make_unique<Watcher>("read _; " + stop_cmd + "; rm -rf " + dir_);
  CommandResult started =
      run({bin_ + "/pg_ctl", "-D", data, "-l", dir_ + "/server.log", "-w", "-t", "60", "-o",
           "-k " + dir_ +
               " -c listen_addresses='' -c max_connections=40 -c shared_buffers=64MB"
               " -c track_commit_timestamp=on" +
               (fsync ? "" : " -c fsync=off -c full_page_writes=off"),
           "start"});
  if (started.exit_code != 0) {
    error_ = "pg_ctl start failed (exit " + std::to_string(started.exit_code) +
             "): " + started.err + started.out + " (see " + dir_ + "/server.log)";
    return;
  }
  started_ = true;
  const std::string error = pg_exec("postgresql://postgres@/postgres?host=" + dir_,
                                    std::string("CREATE DATABASE ") + kTestDatabase);
  if (!error.empty()) error_ = "cannot create the tests' database: " + error;
}

void PostgresCluster::stop() {
  if (started_) {
    std::vector<std::string> argv = {bin_ + "/pg_ctl", "-D",  dir_ + "/data", "-m",
                                     "immediate",      "stop"};
    if (as_postgres_) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    run_command(argv);
    started_ = false;
  }
  watcher_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresCluster::url(const std::string& schema, const std::string& user,
                                 const std::string& password) const {
  return "postgresql://" + user + (password.empty() ? "" : ":" + password) + "@/" + kTestDatabase +
         "?host=" + dir_ + "&options=-csearch_path%3D" + schema;
}

std::string PostgresCluster::schema_of(const std::string& url) {
  const std::size_t at = url.find("search_path%3D");
  return at == std::string::npos ? "" : url.substr(at + 14);
}

std::string PostgresCluster::fresh(const std::string& hint) {
  if (!ok()) {
    ADD_FAILURE() << error_;
    return "";
  }
  const std::string name = hint + "_" + std::to_string(++made_);
  const std::string error = pg_exec(url(name), "CREATE SCHEMA " + name);
  if (!error.empty()) {
    ADD_FAILURE() << "cannot create schema " << name << ": " << error;
    return "";
  }
  return url(name);
}

std::string PostgresCluster::create_database(const std::string& hint) {
  if (!ok()) {
    ADD_FAILURE() << error_;
    return "";
  }
  const std::string name = hint + "_" + std::to_string(++made_);
  const std::string error =
      pg_exec("postgresql://postgres@/postgres?host=" + dir_, "CREATE DATABASE " + name);
  if (!error.empty()) {
    ADD_FAILURE() << "cannot create database " << name << ": " << error;
    return "";
  }
  return "postgresql://postgres@/" + name + "?host=" + dir_;
}

std::string fresh_location(const std::string& hint, bool own_database) {
  PostgresCluster& cluster = PostgresCluster::shared();
  if (!cluster.ok()) {
    ADD_FAILURE() << cluster.error();
    return "postgresql:///no-cluster?host=/nonexistent";
  }
  return own_database ? cluster.create_database(hint) : cluster.fresh(hint);
}

namespace {

struct Connected {
  explicit Connected(const std::string& url) : conn(PQconnectdb(url.c_str())) {}
  ~Connected() { PQfinish(conn); }
  PGconn* conn;
};

}  // namespace

std::string pg_exec(const std::string& url, const std::string& sql) {
  Connected c(url);
  if (PQstatus(c.conn) != CONNECTION_OK) return PQerrorMessage(c.conn);
  PGresult* r = PQexec(c.conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::string error =
      st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : PQresultErrorMessage(r);
  PQclear(r);
  return error;
}

std::string pg_query(const std::string& url, const std::string& sql) {
  Connected c(url);
  if (PQstatus(c.conn) != CONNECTION_OK) return "";
  PGresult* r = PQexec(c.conn, sql.c_str());
  std::string out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
    out = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  return out;
}

std::string pg_wait_for(const std::string& url, const std::string& sql, const std::string& want,
                        std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string got = pg_query(url, sql);
  while (got != want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    got = pg_query(url, sql);
  }
  return got;
}

}  // namespace switchyard::testing
