// Service::start refuses options it cannot run with, before the journal is touched
// (runtime/service/service.h: ServiceOptions).

#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/service/service.h"
#include "tests/support/run_command.h"

namespace switchyard::service {
namespace {

TEST(ServiceOptions, AThrottleLeaseOfZeroOrLessIsRefusedNamingItBeforeTheJournalIsOpened) {
  testing::TempDir dir;
  for (const std::chrono::milliseconds lease :
       {std::chrono::milliseconds(0), std::chrono::milliseconds(-5)}) {
    ServiceOptions o;
    o.journal_path = dir.file("j.db");
    o.allow_no_auth = true;
    o.listen = false;
    o.throttle_lease = lease;
    auto started = Service::start(o);
    ASSERT_FALSE(started.ok());
    EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(started.status().message(),
              "the throttle lease (--throttle-lease) must be above 0 ms, not " +
                  std::to_string(lease.count()) + " ms");
    EXPECT_FALSE(std::filesystem::exists(o.journal_path)) << "refused before the journal";
  }
  ServiceOptions fine;
  fine.journal_path = dir.file("j.db");
  fine.allow_no_auth = true;
  fine.listen = false;
  fine.throttle_lease = std::chrono::milliseconds(1);
  auto started = Service::start(fine);
  ASSERT_TRUE(started.ok()) << started.status().message();
}

}  // namespace
}  // namespace switchyard::service
