// The hash chain's primitives, pinned to digests computed independently (Python's hashlib):
// a journal written by one build must verify with every other.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "runtime/hash.h"

namespace switchyard::runtime {
namespace {

TEST(Sha256, IsTheStandardDigestInLowerCaseHex) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(EventLink, HashesThePreviousLinkAndTheEventsCanonicalJson) {
  // sha256('{"payload":{"a":1},"run_id":"r-1","seq":1,"time_ms":1000,"type":"step_started"}')
  EXPECT_EQ(event_link("", "r-1", 1, 1000, "step_started", canonical_json({{"a", 1}})),
            "38e2a791341f92a949d275c3dcda12c46937c4d570c12e44a18aebde538df227");
}

TEST(EventLink, EscapesRunIdsAndTypesAsJsonStrings) {
  // sha256('prev{"payload":[],"run_id":"r\"é\n","seq":-7,"time_ms":1791018851201,
  //         "type":"we\\ird"}'), the run id's quote and newline escaped, é as UTF-8.
  EXPECT_EQ(event_link("prev", "r\"\xc3\xa9\n", -7, 1791018851201, "we\\ird", "[]"),
            "4ea5c56b1c7d7be6ac685891d4dcc8e3b9203b0e4d30598cd4200511334a0dd4");
}

TEST(EventLink, GivesTheSameLinksOnEveryThread) {
  const std::string expected = event_link("", "r-1", 1, 1000, "step_started", "{\"a\":1}");
  std::vector<std::string> links(4);
  std::vector<std::thread> threads;
  for (auto& link : links) {
    threads.emplace_back([&link] {
      for (int i = 0; i < 100; ++i) link = event_link("", "r-1", 1, 1000, "step_started", "{\"a\":1}");
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& link : links) EXPECT_EQ(link, expected);
}

}  // namespace
}  // namespace switchyard::runtime
