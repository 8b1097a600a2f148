// --journal is one option (runtime/cli/cli.h add_journal_option): every command that uses a
// journal offers it the same way, with the same default.

#include <gtest/gtest.h>

#include "tests/support/run_command.h"

namespace switchyard {
namespace {

TEST(JournalOption, EveryJournalCommandOffersItWithTheSameDefault) {
  for (const std::string command :
       {"run", "runs", "replay", "resume", "budget", "gc", "health", "serve"}) {
    auto r = testing::switchyard({command, "--help"});
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.err;
    const auto at = r.out.find("--journal");
    ASSERT_NE(at, std::string::npos) << command << ": " << r.out;
    // The option's help, which CLI11 may wrap onto the next line: up to the next option.
    std::string line = r.out.substr(at, r.out.find("\n  -", at) - at);
    for (char& c : line) {
      if (c == '\n') c = ' ';
    }
    EXPECT_NE(line.find("SQLite journal file"), std::string::npos) << command << ": " << line;
    EXPECT_NE(line.find("switchyard.db"), std::string::npos) << command << ": " << line;
    const bool creates = command == "run" || command == "serve";
    EXPECT_EQ(line.find("created when missing") != std::string::npos, creates)
        << command << ": " << line;
  }
}

}  // namespace
}  // namespace switchyard
