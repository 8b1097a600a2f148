#pragma once
// A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary folder and `pg_ctl
// start` on a unix socket in that folder (no TCP port), as the unprivileged user `postgres` when
// the tests run as root (initdb refuses root). One per test program: started on first use,
// stopped and removed by stop_shared() (the program's GoogleTest Environment calls it), and by a
// watcher process when the test program dies before (its stdin is a pipe only the program holds).
// No mock: the server binaries of the Debian package `postgresql`, found in
// /usr/lib/postgresql/<version>/bin. Missing binaries are an error the tests fail on, naming them.

#include <chrono>
#include <memory>
#include <string>

namespace switchyard::testing {

class PostgresCluster {
 public:
  // The program's cluster, started on the first call. Check ok() (a test failure otherwise).
  // `fsync`: the server flushes its WAL at commit as a production server does (benchmarks); the
  // tests run without (what they check is the journal's logic, not the disk's). The first
  // call's choice holds.
  static PostgresCluster& shared(bool fsync = false);
  // Stops and removes the program's cluster, if it was started. Idempotent.
  static void stop_shared();

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Whether the cluster runs; error() says why not (and what to install).
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // The folder of the socket and the data (data/, server.log).
  const std::string& dir() const { return dir_; }
  // A new empty journal location: schema "<hint>_<n>" of the tests' database, and its URL
  // (postgresql://postgres@/switchyard_tests?host=DIR&options=-csearch_path%3DSCHEMA). A schema
  // is made in a millisecond where a database takes ~0.3 s. "" and a test failure when it
  // cannot be made.
  std::string fresh(const std::string& hint = "t");
  // The name of the schema a URL of fresh() names.
  static std::string schema_of(const std::string& url);
  // The URL of schema `schema` of the tests' database, as user `user`, with `password` in the
  // URL when not empty.
  std::string url(const std::string& schema, const std::string& user = "postgres",
                  const std::string& password = "") const;
  // A new empty database (CREATE DATABASE "<hint>_<n>") and its URL. "" and a test failure when
  // it cannot be made.
  std::string create_database(const std::string& hint = "db");

 private:
  PostgresCluster();
  void start(bool fsync);
  void stop();

  std::string dir_;
  std::string bin_;  // /usr/lib/postgresql/<version>/bin
  std::string error_;
  bool as_postgres_ = false;  // root: commands run as the user postgres
  bool started_ = false;
  int made_ = 0;
  struct Watcher;
  std::unique_ptr<Watcher> watcher_;
};

// A new empty journal location of the program's shared cluster: a fresh() schema, or with
// `own_database` a create_database() (a test that restarts or cuts off sessions keeps the others'
// out of it). When the cluster did not start: a test failure naming why, and a URL that no
// journal opens.
std::string fresh_location(const std::string& hint, bool own_database = false);

// Runs `sql` (one or more statements) on the database at `url` as a person with psql would;
// returns the server's error message ("" on success).
std::string pg_exec(const std::string& url, const std::string& sql);
// The first column of the first row of `sql` on `url` ("" if none, or on error).
std::string pg_query(const std::string& url, const std::string& sql);
// pg_query(url, sql) every 10 ms until it returns `want` or `limit` passed (polling what another
// process changes); the last value it returned.
std::string pg_wait_for(const std::string& url, const std::string& sql, const std::string& want,
                        std::chrono::milliseconds limit);

}  // namespace switchyard::testing
