// The PostgreSQL tests' one cluster (tests/support/postgres_cluster.h): started by the first test
// that needs it, stopped and removed after the last test, whatever the tests' verdicts.

#include <gtest/gtest.h>

#include "tests/support/postgres_cluster.h"

namespace {

class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { switchyard::testing::PostgresCluster::stop_shared(); }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace
