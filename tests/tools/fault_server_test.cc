// The fault-injection server is a contract the http tests rely on (its endpoints are pinned
// through the http tool in http_tool_test.cc): start-up, counters, and its own input errors.

#include "tests/support/fault_server.h"

#include <gtest/gtest.h>

#include "tests/support/run_command.h"

namespace switchyard::testing {
namespace {

TEST(FaultServer, StartsOnAFreePortAndResetsItsCounters) {
  FaultServer a, b;
  EXPECT_GT(a.port(), 0);
  EXPECT_NE(a.port(), b.port());
  EXPECT_EQ(a.stats()["requests"], 0);
  a.reset();
  EXPECT_EQ(a.stats()["by_path"], nlohmann::json::object());
}

TEST(FaultServer, ARoutesFileWithAnErrorIsRefusedNamingTheFile) {
  TempDir dir;
  const std::string routes = dir.write("routes.json", R"({"/x": {"status": 999}})");
  auto r = run_command({SWITCHYARD_FAULT_SERVER, "--routes", routes});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(routes + ": /~1x/status"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace switchyard::testing
