// The web console's side of `switchyard serve` (docs/console.md): its static files, served
// without a token with their content types and a strict Content-Security-Policy, and the endpoints
// its pages use (a run's graph as SVG, a workflow's graph with its cheapest route, spend). The
// pages themselves are tested in Chromium: tests/browser/console_test.mjs.

#include <gtest/gtest.h>

#include "tests/support/serve_fixture.h"

namespace switchyard::testing {
namespace {

class ServeConsole : public ServeFixture {};

TEST_F(ServeConsole, StaticFilesArePublicWithTheirTypesAndAStrictPolicy) {
  start();
  const struct {
    const char* path;
    const char* type;
    const char* contains;
  } files[] = {
      {"/", "text/html; charset=utf-8", "<script type=\"module\" src=\"/console/app.js\">"},
      {"/console/index.html", "text/html; charset=utf-8", "<!doctype html>"},
      {"/console/app.js", "text/javascript; charset=utf-8", "import"},
      {"/console/console.css", "text/css; charset=utf-8", "@media print"}};
  for (const auto& f : files) {
    const auto r = get(f.path, "");  // no token
    EXPECT_EQ(r.status, 200) << f.path;
    EXPECT_EQ(r.header("content-type"), f.type) << f.path;
    EXPECT_NE(r.body.find(f.contains), std::string::npos) << f.path;
    const std::string csp = r.header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << f.path << ": " << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << f.path << ": " << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << f.path << ": " << csp;
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << f.path;
  }
  // No inline script: every <script> of the page has a src (the policy would refuse it).
  const std::string page = get("/", "").body;
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("style="), std::string::npos);
}

TEST_F(ServeConsole, UnknownFileIs404AndOtherMethodsAre405) {
  start();
  EXPECT_EQ(get("/console/no-such-file.js", "").status, 404);
  EXPECT_EQ(get("/console/..%2fservice.cc", "").status, 404);
  const auto r = post("/", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
  // The data is not public: the API still wants the token.
  EXPECT_EQ(get("/v1/runs", "").status, 401);
  EXPECT_EQ(get("/v1/budget", "").status, 401);
  EXPECT_EQ(get("/v1/workflows/quick/graph", "").status, 401);
  expect_serving();
}

TEST_F(ServeConsole, ARunsGraphIsServedAsSvg) {
  start();
  const std::string id = server_->start_run(kToken, "quick");
  server_->wait_run(kToken, id);
  const auto r = get("/v1/runs/" + id + "/replay?format=svg");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "image/svg+xml");
  EXPECT_NE(r.body.find("<svg"), std::string::npos);
  // The run in its title (Graphviz writes '-' as &#45;).
  EXPECT_NE(r.body.find(id.substr(2) + " of quick: completed"), std::string::npos) << r.body;
  EXPECT_EQ(get("/v1/runs/" + id + "/replay?format=png").status, 400);
}

TEST_F(ServeConsole, AWorkflowsGraphComesWithItsCheapestRoute) {
  start();
  const auto r = get("/v1/workflows/quick/graph");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = r.json();
  EXPECT_EQ(doc["name"], "quick");
  EXPECT_EQ(doc["cheapest_route"]["nodes"], nlohmann::json::array({"Start", "A", "Done"}));
  EXPECT_TRUE(doc["cheapest_route"]["cost"].is_number());
  EXPECT_NE(doc["svg"].get<std::string>().find("<svg"), std::string::npos);
  EXPECT_EQ(get("/v1/workflows/nope/graph").status, 404);
}

TEST_F(ServeConsole, BudgetSumsSpendByWorkflowAndDay) {
  start();
  for (int i = 0; i < 2; ++i) server_->wait_run(kToken, server_->start_run(kToken, "quick"));
  const auto r = get("/v1/budget");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = r.json();
  EXPECT_EQ(doc["runs"], 2);
  ASSERT_EQ(doc["workflows"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["workflows"][0]["workflow"], "quick");
  EXPECT_EQ(doc["workflows"][0]["runs"], 2);
  EXPECT_EQ(doc["workflows"][0]["spent_usd"], 0.0);
  ASSERT_EQ(doc["days"].size(), 1u);
  EXPECT_EQ(doc["days"][0]["runs"], 2);
  EXPECT_EQ(doc["days"][0]["day"].get<std::string>().size(), 10u);  // 2026-12-06
  EXPECT_TRUE(doc["tiers"].empty());                                // no LLM call
  EXPECT_EQ(get("/v1/budget?limit=0").status, 400);
}

}  // namespace
}  // namespace switchyard::testing
