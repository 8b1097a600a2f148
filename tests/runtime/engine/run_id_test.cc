// Run ids: unique, sortable by start time, and in the order one process made them (which keeps
// the journal's indexes on run_id written where the runs of the moment already are).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine/run_setup.h"
#include "runtime/engine/runner.h"

namespace switchyard::runtime {
namespace {

TEST(NewRunId, IsRAndTwentyEightHexDigitsStartingWithTheTime) {
  ManualClock clock;
  const std::string id = new_run_id(clock);
  EXPECT_TRUE(std::regex_match(id, std::regex("r-[0-9a-f]{28}"))) << id;
  char time[13];
  std::snprintf(time, sizeof time, "%012llx", static_cast<unsigned long long>(unix_ms(clock)));
  EXPECT_EQ(id.substr(2, 12), time);
}

TEST(NewRunId, IdsOfOneMillisecondSortInTheOrderTheyWereMade) {
  ManualClock clock;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(new_run_id(clock));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(NewRunId, LaterMillisecondsSortLater) {
  ManualClock clock;
  const std::string first = new_run_id(clock);
  clock.advance(std::chrono::milliseconds(1));
  EXPECT_LT(first, new_run_id(clock));
}

TEST(NewRunId, ThreadsNeverMakeTheSameId) {
  ManualClock clock;
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& ids : made) {
    threads.emplace_back([&ids, &clock] {
      for (int i = 0; i < 2000; ++i) ids.push_back(new_run_id(clock));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : made) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 8000u);
}

TEST(NewRunId, AForkedChildDrawsASaltOfItsOwn) {
  ManualClock clock;
  const std::string parent = new_run_id(clock);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string id = new_run_id(clock);
    _exit(write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string child(64, '\0');
  const ssize_t n = read(fds[0], child.data(), child.size());
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_GT(n, 0);
  child.resize(static_cast<std::size_t>(n));
  // Same millisecond; the salt (10 hex digits after the time) differs.
  EXPECT_EQ(child.substr(0, 14), parent.substr(0, 14));
  EXPECT_NE(child.substr(14, 10), parent.substr(14, 10));
}

}  // namespace
}  // namespace switchyard::runtime
