// The fault-injection server is a contract the http tests rely on (its endpoints are pinned
// through the http tool in http_tool_test.cc): start-up, counters, and its own input errors.

#include "tests/support/fault_server.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/support/run_command.h"
#include "tools/http_tool.h"

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

// GET `url` through the http client; whether the answer was 2xx.
bool get_ok(const std::string& url) {
  std::promise<bool> answered;
  tools::probe_url(url, std::chrono::milliseconds(10000),
                   [&answered](bool ok, std::string) { answered.set_value(ok); });
  return answered.get_future().get();
}

TEST(FaultServer, AWaitIsAnsweredOnceThatManyRequestsHaveArrived) {
  FaultServer server;
  auto waited = std::async(std::launch::async, [&server] { server.wait_for_requests(2); });
  ASSERT_TRUE(get_ok(server.url("/ok/1")));
  EXPECT_EQ(waited.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  ASSERT_TRUE(get_ok(server.url("/ok/2")));
  waited.get();                              // answered: returns
  EXPECT_EQ(server.stats()["requests"], 2);  // the wait itself is not counted
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
