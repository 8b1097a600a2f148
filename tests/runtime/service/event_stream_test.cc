// EventStream (runtime/service/event_stream.h): where a run's SSE stream ends when its history
// holds a run_interrupted, the event an earlier process's shutdown journals.

#include "runtime/service/event_stream.h"

#include <gtest/gtest.h>

#include "runtime/journal/event_feed.h"
#include "tests/support/journal_records.h"

namespace switchyard::service {
namespace {

// A journal in memory holding run "r" with run_started, plan, run_interrupted.
class InterruptedRunStream : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(journal_->begin_run(testing::run_record("r")).ok());
    ASSERT_TRUE(journal_
                    ->append({testing::journal_event("r", 1), testing::journal_event("r", 2),
                              testing::journal_event("r", 3, "run_interrupted")})
                    .ok());
  }
  std::unique_ptr<runtime::Journal> journal_ = runtime::make_memory_journal();
  runtime::EventFeed feed_{*journal_};
};

TEST_F(InterruptedRunStream, EndsAtTheInterruptionOfARunNotInFlightHere) {
  auto stream = EventStream::open(feed_, "r", 0, /*starting=*/false);
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  bool ended = false;
  const std::string text = (*stream)->take(&ended);
  EXPECT_NE(text.find("event: run_interrupted"), std::string::npos) << text;
  EXPECT_TRUE(ended);
}

TEST_F(InterruptedRunStream, GoesOnPastAnEarlierInterruptionOfARunResumedHere) {
  auto stream = EventStream::open(feed_, "r", 0, /*starting=*/true);
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  bool ended = false;
  (*stream)->take(&ended);
  EXPECT_FALSE(ended) << "the run goes on here: its next events are still to come";
  // The resumed run's next events arrive live, up to its end.
  ASSERT_TRUE(feed_
                  .append({testing::journal_event("r", 4, "resumed"),
                           testing::journal_event("r", 5, "run_finished")})
                  .ok());
  const std::string text = (*stream)->take(&ended);
  EXPECT_NE(text.find("event: run_finished"), std::string::npos) << text;
  EXPECT_TRUE(ended);
}

}  // namespace
}  // namespace switchyard::service
