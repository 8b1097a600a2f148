// EventFeed: subscribers see each event once it is committed, in order, and nothing that was
// rolled back; a whole engine run arrives exactly as the journal holds it.

#include "runtime/journal/event_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "runtime/engine/engine.h"
#include "tests/support/graph_builder.h"
#include "tests/support/journal_records.h"
#include "tests/support/run_command.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using testing::journal_event;
using testing::run_record;
using testing::TempDir;

// What a subscriber saw, safe to read from the test thread.
class Seen {
 public:
  EventFeed::Subscriber subscriber() {
    return [this](const Event& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    };
  }
  std::vector<std::string> keys() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Event& e : events_) out.push_back(e.run_id + "/" + std::to_string(e.seq));
    return out;
  }
  std::vector<Event> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<Event> events_;
};

class EventFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto j = open_sqlite_journal(path_);
    ASSERT_TRUE(j.ok()) << j.status().message();
    inner_ = std::move(*j);
    feed_ = std::make_unique<EventFeed>(*inner_);
  }
  TempDir dir_;
  std::string path_ = dir_.file("j.db");
  std::unique_ptr<Journal> inner_;
  std::unique_ptr<EventFeed> feed_;
};

TEST_F(EventFeedTest, ASubscriberGetsEachAppendedEventWithItsPayload) {
  Seen seen;
  auto sub = feed_->subscribe(seen.subscriber());
  ASSERT_TRUE(feed_->begin_run(run_record("r1")).ok());
  ASSERT_TRUE(feed_->append({journal_event("r1", 1), journal_event("r1", 2)}).ok());
  const auto events = seen.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "run_started");
  EXPECT_EQ(events[1].payload["text"], "événement");
  // What the feed forwards is in the journal underneath.
  EXPECT_EQ(inner_->events("r1")->size(), 2u);
}

TEST_F(EventFeedTest, ARejectedAppendDeliversNothing) {
  Seen seen;
  auto sub = feed_->subscribe(seen.subscriber());
  ASSERT_TRUE(feed_->begin_run(run_record("r1")).ok());
  EXPECT_FALSE(feed_->append({journal_event("r1", 2)}).ok());  // seq must start at 1
  EXPECT_TRUE(seen.keys().empty());
}

TEST_F(EventFeedTest, AGroupDeliversAfterItsCommitAndNotTheWriteThatFailed) {
  ASSERT_TRUE(feed_->begin_run(run_record("a")).ok());
  std::vector<std::string> visible_elsewhere;
  auto sub = feed_->subscribe([&](const Event& e) {
    // Delivered only once committed: another connection already reads it.
    auto other = open_sqlite_journal(path_, {.create_if_missing = false});
    ASSERT_TRUE(other.ok());
    auto events = (*other)->events(e.run_id);
    ASSERT_TRUE(events.ok());
    visible_elsewhere.push_back(std::to_string(events->size()) + ">=" + std::to_string(e.seq));
  });
  std::vector<Journal::Write> writes;
  writes.push_back([](Journal& j) { return j.append({journal_event("a", 1)}); });
  writes.push_back([](Journal& j) {  // appends, then fails: rolled back, never delivered
    if (Status s = j.append({journal_event("a", 2)}); !s.ok()) return s;
    return j.begin_run(run_record("a"));
  });
  writes.push_back([](Journal& j) { return j.append({journal_event("a", 2, "step_started")}); });
  const auto statuses = feed_->write_group(writes);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_FALSE(statuses[1].ok());
  EXPECT_EQ(visible_elsewhere, (std::vector<std::string>{"2>=1", "2>=2"}));
}

TEST_F(EventFeedTest, AResetSubscriptionHearsNothingMoreAndOthersStillDo) {
  Seen first, second;
  auto a = feed_->subscribe(first.subscriber());
  auto b = feed_->subscribe(second.subscriber());
  ASSERT_TRUE(feed_->begin_run(run_record("r1")).ok());
  ASSERT_TRUE(feed_->append({journal_event("r1", 1)}).ok());
  a.reset();
  EventFeed::Subscription moved = std::move(b);
  ASSERT_TRUE(feed_->append({journal_event("r1", 2)}).ok());
  EXPECT_EQ(first.keys(), (std::vector<std::string>{"r1/1"}));
  EXPECT_EQ(second.keys(), (std::vector<std::string>{"r1/1", "r1/2"}));
}

TEST_F(EventFeedTest, EngineRunsArriveInJournalOrderExactlyAsJournaled) {
  tools::BuiltinRegistry builtins;
  builtins.add("echo", [](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json::object();
  });
  auto w = testing::builtin_chain(4);
  auto tools = tools::make_tool_set(*w, {.builtins = &builtins});
  ASSERT_TRUE(tools.ok());
  Seen seen;
  auto sub = feed_->subscribe(seen.subscriber());
  ManualClock clock;
  monitors::HealthTable health(clock);
  std::vector<std::string> ids;
  {
    Engine engine(*feed_, clock, health, {.threads = 2});
    std::vector<std::future<Result<RunReport>>> futures;
    for (int i = 0; i < 20; ++i) futures.push_back(engine.submit(w, *tools, {}));
    for (auto& f : futures) {
      auto r = f.get();
      ASSERT_TRUE(r.ok()) << r.status().message();
      ids.push_back(r->run_id);
    }
  }
  const auto seen_events = seen.events();
  for (const std::string& id : ids) {
    auto journaled = inner_->events(id);
    ASSERT_TRUE(journaled.ok());
    std::vector<std::string> want, got;
    for (const Event& e : *journaled) want.push_back(std::to_string(e.seq) + " " + e.type);
    for (const Event& e : seen_events) {
      if (e.run_id == id) got.push_back(std::to_string(e.seq) + " " + e.type);
    }
    EXPECT_EQ(got, want) << id;
    EXPECT_EQ(got.back(), std::to_string(journaled->size()) + " run_finished");
  }
}

TEST(EventFeed, DeliversOneAtATimeWhenSeveralThreadsCommitAtOnce) {
  // A journal in memory is written on each run's own thread: the feed still delivers serially.
  auto memory = make_memory_journal();
  EventFeed feed(*memory);
  std::atomic<int> inside{0}, overlaps{0}, delivered{0};
  auto sub = feed.subscribe([&](const Event&) {
    if (inside.fetch_add(1) != 0) ++overlaps;
    for (int i = 0; i < 200; ++i) std::this_thread::yield();  // a slow subscriber
    inside.fetch_sub(1);
    ++delivered;
  });
  constexpr int kThreads = 4, kEvents = 50;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&feed, t] {
      const std::string id = "r" + std::to_string(t);
      ASSERT_TRUE(feed.begin_run(run_record(id)).ok());
      for (int seq = 1; seq <= kEvents; ++seq) {
        ASSERT_TRUE(feed.append(std::vector<Event>{journal_event(id, seq, "step_started")}).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(delivered.load(), kThreads * kEvents);
  EXPECT_EQ(overlaps.load(), 0);
}

}  // namespace
}  // namespace switchyard::runtime
