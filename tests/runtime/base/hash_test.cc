// The hash chain's primitives, pinned to digests computed independently (Python's hashlib):
// a journal written by one build must verify with every other.

#include "runtime/base/hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

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
      for (int i = 0; i < 100; ++i)
        link = event_link("", "r-1", 1, 1000, "step_started", "{\"a\":1}");
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& link : links) EXPECT_EQ(link, expected);
}

// canonical_json writes most documents itself: byte for byte what nlohmann's compact dump
// (with invalid UTF-8 replaced) writes, on seeded random documents of every JSON type.
nlohmann::json random_doc(std::mt19937_64& rng, int depth) {
  static const std::vector<std::string> kStrings = {"",
                                                    "plain",
                                                    "Razorpay",
                                                    "quote\"inside",
                                                    "back\\slash",
                                                    "new\nline",
                                                    "tab\t",
                                                    "\x01control",
                                                    "caf\xc3\xa9",
                                                    "\xe2\x82\xac euro",
                                                    "bad \xff utf8",
                                                    "\x7f del",
                                                    "emoji \xf0\x9f\x98\x80",
                                                    "/slash",
                                                    "{\"json\":1}"};
  // Containers at the top, scalars only at the bottom.
  const int kind =
      depth == 0 ? 7 + static_cast<int>(rng() % 2) : static_cast<int>(rng() % (depth > 3 ? 7 : 9));
  switch (kind) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<std::int64_t>(rng()) >> (rng() % 64);
    case 3:
      return static_cast<std::uint64_t>(rng());
    case 4: {
      const double values[] = {0.0, -0.0, 5.0, 0.1, 1e-7, 1e300, -2.5, 3.14159, 1.0 / 3.0};
      return values[rng() % std::size(values)];
    }
    case 5:
    case 6:
      return kStrings[rng() % kStrings.size()];
    case 7: {
      nlohmann::json a = nlohmann::json::array();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) a.push_back(random_doc(rng, depth + 1));
      return a;
    }
    default: {
      nlohmann::json o = nlohmann::json::object();
      for (int i = static_cast<int>(rng() % 5); i > 0; --i) {
        o[kStrings[rng() % kStrings.size()]] = random_doc(rng, depth + 1);
      }
      return o;
    }
  }
}

TEST(CanonicalJson, IsByteForByteNlohmannsCompactDump) {
  std::mt19937_64 rng(20261201);
  std::size_t total = 0;  // bytes compared
  for (int i = 0; i < 5000; ++i) {
    const nlohmann::json doc = random_doc(rng, 0);
    total += doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
    ASSERT_EQ(canonical_json(doc),
              doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        << "document " << i;
  }
  EXPECT_GT(total, 100000u);  // the documents were not all trivial
}

TEST(CanonicalJson, SortsKeysAndLeavesNoSpace) {
  EXPECT_EQ(
      canonical_json(nlohmann::json::parse(R"({"b": [1, 2.5, "x"], "a": {"d": null, "c": true}})")),
      R"({"a":{"c":true,"d":null},"b":[1,2.5,"x"]})");
}

}  // namespace
}  // namespace switchyard::runtime
