// `switchyard serve` on a poisoned journal (a real server subprocess, a real SQLite file
// poisoned with SQL): it starts, says once in its log what it skipped, names it in the /readyz
// detail, and serves every other run; verifying the poisoned run over HTTP names its row.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/poisoned_journal.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/sql.h"

namespace switchyard::testing {
namespace {

int count_of(const std::string& text, const std::string& part) {
  int n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

nlohmann::json body_of(const HttpResult& r) {
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_TRUE(doc.is_object()) << r.body;
  return doc;
}

class PoisonedServe : public ServeFixture {
 protected:
  // Two runs in the server's journal, one poisoned with `name`; then the server starts.
  void start_poisoned(const std::string& name) {
    auto made = write_poisoned_journal(journal(), name);
    runs_ = made.runs;
    poison_ = made.poison;
    start({}, {}, log_);
  }
  std::string log_ = dir_.file("serve.log");
  TwoRuns runs_;
  Poison poison_;
};

TEST_F(PoisonedServe, AnArrayPayloadIsSkippedNamedInReadyzAndLoggedOnce) {
  start_poisoned("PayloadIsAnArray");
  auto ready = get("/readyz", "");
  ASSERT_EQ(ready.status, 200) << ready.body;
  auto doc = body_of(ready);
  EXPECT_EQ(doc["status"], "ready");
  EXPECT_EQ(doc["journal_skipped"]["count"], 1);
  ASSERT_EQ(doc["journal_skipped"]["items"].size(), 1u);
  EXPECT_NE(doc["journal_skipped"]["items"][0].get<std::string>().find(poison_.named),
            std::string::npos)
      << ready.body;
  EXPECT_EQ(count_of(read_text(log_), poison_.named), 1) << read_text(log_);

  // Every run is listed; the other verifies; the poisoned one's verdict names its row.
  auto runs = get("/v1/runs");
  ASSERT_EQ(runs.status, 200);
  EXPECT_EQ(body_of(runs)["runs"].size(), 2u);
  auto bad = get("/v1/runs/" + runs_.poisoned + "/replay?verify=true");
  ASSERT_EQ(bad.status, 200) << bad.body;
  EXPECT_EQ(body_of(bad)["verify"]["ok"], false);
  EXPECT_NE(bad.body.find(poison_.named), std::string::npos) << bad.body;
  auto good = get("/v1/runs/" + runs_.clean + "/replay?verify=true");
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(body_of(good)["verify"]["ok"], true) << good.body;
  // New runs run.
  const std::string id = server_->start_run(kToken, "quick");
  EXPECT_EQ(server_->wait_run(kToken, id)["status"], "completed");
}

TEST_F(PoisonedServe, AGarbageRunRowIsListedWithItsDefectAndReadyzNamesIt) {
  start_poisoned("RunInputIsGarbage");
  auto doc = body_of(get("/readyz", ""));
  ASSERT_EQ(doc["journal_skipped"]["count"], 1) << doc.dump();
  EXPECT_NE(doc["journal_skipped"]["items"][0].get<std::string>().find(poison_.named),
            std::string::npos);
  auto runs = get("/v1/runs");
  ASSERT_EQ(runs.status, 200) << runs.body;
  EXPECT_EQ(body_of(runs)["runs"].size(), 2u);
  EXPECT_NE(runs.body.find("\"defect\""), std::string::npos) << runs.body;
  auto bad = get("/v1/runs/" + runs_.poisoned + "/replay");
  EXPECT_EQ(bad.status, 500) << bad.body;
  EXPECT_NE(bad.body.find(poison_.named), std::string::npos) << bad.body;
}

TEST_F(PoisonedServe, ACleanJournalHasNoSkipDetail) {
  write_two_runs(journal());
  start({}, {}, log_);
  auto doc = body_of(get("/readyz", ""));
  EXPECT_EQ(doc["status"], "ready");
  EXPECT_FALSE(doc.contains("journal_skipped")) << doc.dump();
  EXPECT_EQ(count_of(read_text(log_), "skipped"), 0);
}

}  // namespace
}  // namespace switchyard::testing
