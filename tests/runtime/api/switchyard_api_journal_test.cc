// The embedding API through its public header only: live events, cancellation, models files,
// journal queries on a real SQLite file, replay verification and pictures (DOT and HTML), and
// resume after the process died (a child process that exits mid-run, as kill -9 would).
// Nothing sleeps: tests wait on futures and events with a bounded timeout.

#include <gtest/gtest.h>
#include <switchyard/switchyard.h>

#include <atomic>
#include <coroutine>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "api_test_support.h"
#include "tests/support/html_check.h"

namespace switchyard::api_test {
namespace {

TEST(ApiEvents, OnEventSeesEveryEventInJournalOrderBeforeTheRunEnds) {
  TempDir dir;
  auto rt = open_runtime({.journal_path = dir.file("j.db")});
  ASSERT_TRUE(add_echo(*rt).ok());
  std::mutex mu;
  std::vector<api::Event> seen;
  std::size_t seen_at_done = 0;
  std::promise<void> finished;
  auto future = finished.get_future();
  auto id = rt->start(chain({"echo", "echo"}),
                      {.on_event =
                           [&](const api::Event& e) {
                             std::lock_guard lock(mu);
                             seen.push_back(e);
                           }},
                      [&](api::Result<api::RunSummary>) {
                        {
                          std::lock_guard lock(mu);
                          seen_at_done = seen.size();
                        }
                        finished.set_value();
                      });
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(future.wait_for(kWait), std::future_status::ready);
  auto journaled = rt->events(*id);
  ASSERT_TRUE(journaled.ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(seen_at_done, journaled->size());
  ASSERT_EQ(seen.size(), journaled->size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(seen[i].type, (*journaled)[i].type);
    EXPECT_EQ(seen[i].run_id, *id);
  }
  EXPECT_EQ(seen.front().type, "run_started");
  EXPECT_EQ(seen.back().type, "run_finished");
}

TEST(ApiEvents, SubscriptionSeesEveryRunUntilReset) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  std::mutex mu;
  std::map<std::string, int> finished;
  auto sub = rt->subscribe([&](const api::Event& e) {
    std::lock_guard lock(mu);
    if (e.type == "run_finished") ++finished[e.run_id];
  });
  auto w = chain({"echo"});
  auto a = rt->submit(w, {.run_id = "r-a"});
  auto b = rt->submit(w, {.run_id = "r-b"});
  ASSERT_TRUE(await(a).ok());
  ASSERT_TRUE(await(b).ok());
  sub.reset();
  EXPECT_FALSE(sub);
  auto c = rt->submit(w, {.run_id = "r-c"});
  ASSERT_TRUE(await(c).ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(finished, (std::map<std::string, int>{{"r-a", 1}, {"r-b", 1}}));
}

TEST(ApiCancel, CancelAbortsTheToolInFlightAndEndsTheRunFailed) {
  auto rt = open_runtime();
  std::promise<void> started;
  auto started_future = started.get_future();
  std::atomic<bool> aborted{false};
  ASSERT_TRUE(rt->add_async_tool("hang", [&](const json&, api::ToolReply reply) {
                  reply.on_cancel([reply, &aborted] {
                    aborted = true;
                    reply(api::Status(api::StatusCode::kCancelled, "aborted"));
                  });
                  started.set_value();
                }).ok());
  auto run = rt->submit(chain({"hang"}), {.run_id = "r-cancel"});
  ASSERT_EQ(started_future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(rt->in_flight(), 1u);
  ASSERT_TRUE(rt->cancel("r-cancel").ok());
  auto r = await(run);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, api::RunStatus::kFailed);
  EXPECT_EQ(r->message, "cancelled: request");
  EXPECT_TRUE(aborted);
  rt->wait_idle();
  EXPECT_EQ(rt->cancel("r-cancel").code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, QueriesSeeRunsOfEarlierRuntimesOnTheSameFile) {
  TempDir dir;
  const std::string db = dir.file("journal.db");
  {
    auto rt = open_runtime({.journal_path = db});
    ASSERT_TRUE(add_echo(*rt).ok());
    ASSERT_TRUE(rt->add_tool("down", [](const json&) -> api::Result<json> {
                    return api::Status(api::StatusCode::kInternal, "no");
                  }).ok());
    ASSERT_TRUE(rt->run(chain({"echo"}), {.input = {{"k", 1}}, .run_id = "r-1"}).ok());
    ASSERT_TRUE(rt->run(chain({"down"}), {.run_id = "r-2"}).ok());
  }
  ASSERT_TRUE(std::filesystem::exists(db));
  auto rt = open_runtime({.journal_path = db});
  EXPECT_EQ(rt->journal_path(), db);
  auto all = rt->list_runs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  auto escalated = rt->list_runs({.status = api::RunStatus::kEscalated});
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u);
  EXPECT_EQ(escalated->front().run_id, "r-2");
  auto one = rt->get_run("r-1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->status, api::RunStatus::kCompleted);
  EXPECT_EQ(one->input, (json{{"k", 1}}));
  EXPECT_EQ(one->workflow, "chain");
  auto events = rt->events("r-1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(static_cast<std::int64_t>(events->size()), one->head_seq);
  EXPECT_EQ(events->back().hash, one->head_hash);
  EXPECT_EQ(rt->get_run("r-nope").status().code(), api::StatusCode::kNotFound);
  EXPECT_EQ(rt->events("r-nope").status().code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, AJournalInMemoryKeepsTheLastFinishedRunsItIsToldTo) {
  auto rt = open_runtime({.memory_keep_runs = 2});
  ASSERT_TRUE(add_echo(*rt).ok());
  for (int i = 1; i <= 4; ++i) {
    auto r = rt->run(chain({"echo"}), {.run_id = "r-" + std::to_string(i)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  }
  auto all = rt->list_runs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(rt->get_run("r-1").status().code(), api::StatusCode::kNotFound);
  EXPECT_TRUE(rt->get_run("r-4").ok());
  EXPECT_TRUE(rt->verify("r-4").ok());
}

TEST(ApiJournal, AJournalInMemoryThatKeepsNoneStillDeliversEveryRunsSummaryAndEvents) {
  auto rt = open_runtime({.memory_keep_runs = 0});
  ASSERT_TRUE(add_echo(*rt).ok());
  std::vector<std::string> seen;
  auto r = rt->run(
      chain({"echo", "echo"}),
      {.run_id = "r-gone", .on_event = [&](const api::Event& e) { seen.push_back(e.type); }});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  EXPECT_EQ(r->path, (std::vector<std::string>{"Start", "T0", "T1"}));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), "run_started");
  EXPECT_EQ(seen.back(), "run_finished");
  EXPECT_EQ(rt->get_run("r-gone").status().code(), api::StatusCode::kNotFound);
  // Its id is free again.
  EXPECT_TRUE(rt->run(chain({"echo"}), {.run_id = "r-gone"}).ok());
}

TEST(ApiJournal, VerifyReDrivesAFinishedRunAndRenderDrawsIt) {
  TempDir dir;
  auto rt = open_runtime({.journal_path = dir.file("j.db")});
  ASSERT_TRUE(add_echo(*rt).ok());
  auto run = rt->run(chain({"echo", "echo"}), {});
  ASSERT_TRUE(run.ok());
  auto report = rt->verify(run->run_id);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->ok()) << report->chain.to_string() << " " << report->decisions.to_string();
  EXPECT_GT(report->verified, 0);
  auto dot = rt->render(run->run_id, api::Picture::kDot);
  ASSERT_TRUE(dot.ok());
  EXPECT_NE(dot->find("digraph"), std::string::npos);
  EXPECT_EQ(rt->verify("r-nope").status().code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, RenderAsHtmlIsOneSelfContainedPageWithTheGraphAndEveryEventOfTheTimeline) {
  TempDir dir;
  auto rt = open_runtime({.journal_path = dir.file("j.db")});
  ASSERT_TRUE(add_echo(*rt).ok());
  auto run = rt->run(chain({"echo", "echo"}), {});
  ASSERT_TRUE(run.ok());
  auto html = rt->render(run->run_id, api::Picture::kHtml);
  ASSERT_TRUE(html.ok()) << html.status().to_string();
  EXPECT_EQ(html->rfind("<!DOCTYPE html>", 0), 0u);
  switchyard::testing::expect_valid_html(*html);
  switchyard::testing::expect_self_contained(*html);
  EXPECT_NE(html->find("<svg"), std::string::npos) << "the graph is inline SVG";
  EXPECT_NE(html->find("<h2>Timeline</h2>"), std::string::npos);
  auto events = rt->events(run->run_id);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  for (const auto& e : *events) {
    EXPECT_NE(html->find("<td class=\"num\">" + std::to_string(e.seq) + "</td>"), std::string::npos)
        << "event " << e.seq << " (" << e.type << ") is not in the timeline";
    EXPECT_NE(html->find("<td class=\"type\">" + e.type + "</td>"), std::string::npos) << e.type;
  }
  EXPECT_EQ(rt->render("r-nope", api::Picture::kHtml).status().code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, OpeningSomethingThatIsNotAJournalIsAnIoError) {
  TempDir dir;
  const std::string path = dir.file("not-a-journal.db");
  write_file(path, "hello, I am not SQLite");
  auto rt = api::Runtime::open({.journal_path = path});
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), api::StatusCode::kIo);
}

TEST(ApiModels, ModelsFileGivesTheTiersAndItsErrorsCarryPointers) {
  TempDir dir;
  write_file(dir.file("models.json"),
             R"({"tiers": [{"name": "cheap", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                 "input_usd_per_mtok": 0.1, "output_usd_per_mtok": 0.2}]})");
  auto tiers = api::load_models_file(dir.file("models.json"));
  ASSERT_TRUE(tiers.ok()) << tiers.status().message();
  ASSERT_EQ(tiers->size(), 1u);
  EXPECT_EQ(tiers->front().name, "cheap");
  EXPECT_DOUBLE_EQ(tiers->front().output_usd_per_mtok, 0.2);
  EXPECT_TRUE(api::Runtime::open({.models = *tiers}).ok());
  write_file(dir.file("bad.json"), R"({"tiers": [{"name": 7}]})");
  auto bad = api::load_models_file(dir.file("bad.json"));
  ASSERT_FALSE(bad.ok());
  ASSERT_FALSE(bad.status().diagnostics().empty());
  EXPECT_EQ(bad.status().diagnostics()[0].file, dir.file("bad.json"));
  EXPECT_EQ(bad.status().diagnostics()[0].pointer.rfind("/tiers/0", 0), 0u);
  EXPECT_EQ(api::Runtime::open({.models = {api::ModelTier{}}}).status().code(),
            api::StatusCode::kInvalidArgument);
}

// Registers "first" and "second", counting their calls in `calls`; "second" ends the process
// (exit code 3, as kill -9 would, nothing flushed or finished) when `die` is set.
void add_first_and_second(api::Runtime& rt, std::map<std::string, std::atomic<int>>& calls,
                          bool die) {
  calls["first"] = 0;  // made before any run: the tools only read the map
  calls["second"] = 0;
  for (const char* name : {"first", "second"}) {
    const bool dies = die && std::string(name) == "second";
    ASSERT_TRUE(rt.add_tool(name, [&calls, name, dies](const json&) -> api::Result<json> {
                    ++calls.at(name);
                    if (dies) std::_Exit(3);
                    return json{{name, true}};
                  }).ok());
  }
}

// The child half of the resume tests: runs `workflow` as run r-crash until "second" kills it.
[[noreturn]] void run_until_second_dies(const std::string& db, const api::Workflow& workflow) {
  auto rt = api::Runtime::open({.journal_path = db, .threads = 1});
  if (!rt.ok()) std::_Exit(10);
  std::map<std::string, std::atomic<int>> calls;
  add_first_and_second(**rt, calls, /*die=*/true);
  auto run = (*rt)->run(workflow, {.run_id = "r-crash"});
  std::_Exit(run.ok() ? 11 : 12);  // not reached: "second" exits
}

class ApiResume : public ::testing::Test {
 protected:
  // Runs `workflow` in a child process that dies in "second", then opens the journal here with
  // both tools registered (counting, not dying).
  void crash_then_reopen(const api::Workflow& workflow) {
    EXPECT_EXIT(run_until_second_dies(db_, workflow), ::testing::ExitedWithCode(3), "");
    rt_ = open_runtime({.journal_path = db_});
    auto before = rt_->get_run("r-crash");
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(before->status, api::RunStatus::kRunning);
    add_first_and_second(*rt_, calls_, /*die=*/false);
  }
  // Resumes r-crash; checks that it verifies and cannot be resumed twice.
  api::RunSummary resume() {
    std::atomic<int> live{0};
    auto sub = rt_->subscribe([&](const api::Event&) { ++live; });
    auto resumed = rt_->resume("r-crash");
    EXPECT_TRUE(resumed.ok()) << resumed.status().to_string();
    if (!resumed.ok()) return {};
    EXPECT_GT(live.load(), 0);  // a resumed run's events reach subscribers too
    EXPECT_EQ(rt_->get_run("r-crash")->status, resumed->status);
    auto verified = rt_->verify("r-crash");
    EXPECT_TRUE(verified.ok() && verified->ok());
    EXPECT_EQ(rt_->resume("r-crash").status().code(), api::StatusCode::kFailedPrecondition);
    return *resumed;
  }

  TempDir dir_;
  std::string db_ = dir_.file("j.db");
  std::unique_ptr<api::Runtime> rt_;
  std::map<std::string, std::atomic<int>> calls_;
};

TEST_F(ApiResume, RunThatDiedBeforeAnyDurableStepStartsAgainAndCompletes) {
  // "second" is idempotent: the engine does not wait for its step_started to be written, so the
  // journal holds the run's row only when the process dies.
  crash_then_reopen(chain({"first", "second"}));
  auto r = resume();
  EXPECT_EQ(r.status, api::RunStatus::kCompleted);
  EXPECT_EQ(calls_["first"].load(), 1);
  EXPECT_EQ(calls_["second"].load(), 1);
}

TEST_F(ApiResume, CompletedStepsAreNotRepeatedAndASideEffectInFlightEscalatesInDoubt) {
  // "second" is not idempotent: everything before it is durable before it is invoked.
  crash_then_reopen(chain({"first", "second"}, {{"T1", {{"idempotent", false}}}}));
  auto r = resume();
  EXPECT_EQ(r.status, api::RunStatus::kEscalated);
  EXPECT_NE(r.message.find("T1"), std::string::npos) << r.message;
  EXPECT_EQ(calls_["first"].load(), 0);   // completed before the crash
  EXPECT_EQ(calls_["second"].load(), 0);  // may have taken effect: not repeated
}

}  // namespace
}  // namespace switchyard::api_test
