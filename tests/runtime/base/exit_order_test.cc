// Exit order: the runtime's and the service's loggers and the process's call limiter outlive
// every thread a program leaves running at exit (they are never destroyed), so a thread an atexit
// tear-down stops may still log and take a throttle turn. A real subprocess
// (tests/programs/exit_logger.cc); under AddressSanitizer (scripts/test --sanitize) a logger
// destroyed at exit is a heap-use-after-free report and a non-zero exit.

#include <gtest/gtest.h>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

TEST(ExitOrder, AThreadStoppedAtExitStillLogsAndTakesAThrottleTurn) {
  auto r = testing::run_command({SWITCHYARD_EXIT_LOGGER});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("AddressSanitizer"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pure virtual"), std::string::npos) << r.err;
  // The thread's last lines (spdlog's default sink: stdout), written after the tear-down stopped
  // it during exit.
  EXPECT_NE(r.out.find("[runtime] [info] exit-order: thread stopping"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[service] [info] exit-order: thread stopping"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace switchyard
