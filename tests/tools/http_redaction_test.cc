// What the http tool never lets out (secret header values, secret query parameters) and how it
// reads Retry-After.

#include <gtest/gtest.h>

#include "tools/http_tool.h"

namespace switchyard::tools {
namespace {

TEST(HttpRedaction, SecretLookingHeaderNamesAreRecognisedCaseInsensitively) {
  for (const char* name : {"Authorization", "proxy-authorization", "Cookie", "Set-Cookie",
                           "X-Api-Key", "x-auth-token", "Client-Secret", "X-Password"}) {
    EXPECT_TRUE(is_secret_header(name)) << name;
  }
  for (const char* name :
       {"Content-Type", "Retry-After", "X-RateLimit-Remaining", "Keep-Alive", "Accept"}) {
    EXPECT_FALSE(is_secret_header(name)) << name;
  }
}

TEST(HttpRedaction, HeaderValuesAreReplacedNamesAndOrderKept) {
  auto out = redact_headers(
      {{"Authorization", "Bearer sk-123"}, {"Retry-After", "3"}, {"X-Api-Key", "abc"}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (std::pair<std::string, std::string>{"Authorization", "[redacted]"}));
  EXPECT_EQ(out[1], (std::pair<std::string, std::string>{"Retry-After", "3"}));
  EXPECT_EQ(out[2], (std::pair<std::string, std::string>{"X-Api-Key", "[redacted]"}));
}

TEST(HttpRedaction, SecretQueryParametersAreRedactedInUrls) {
  EXPECT_EQ(redact_url("http://h/x?api_key=s3cr3t&q=1#f"), "http://h/x?api_key=[redacted]&q=1#f");
  EXPECT_EQ(redact_url("http://h/x?token=t&access_token=u"),
            "http://h/x?token=[redacted]&access_token=[redacted]");
  EXPECT_EQ(redact_url("http://h/x?q=1&page=2"), "http://h/x?q=1&page=2");
  EXPECT_EQ(redact_url("http://h/x"), "http://h/x");
}

TEST(HttpRetryAfter, ReadsDeltaSecondsAndHttpDates) {
  EXPECT_EQ(parse_retry_after("3", 0), std::chrono::milliseconds(3000));
  EXPECT_EQ(parse_retry_after(" 0 ", 0), std::chrono::milliseconds(0));
  // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 10),
            std::chrono::milliseconds(10000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 99),
            std::chrono::milliseconds(0));  // in the past: retry now
  EXPECT_EQ(parse_retry_after("soon", 0), std::nullopt);
  EXPECT_EQ(parse_retry_after("", 0), std::nullopt);
  EXPECT_EQ(parse_retry_after("99999999999", 0), std::nullopt);
}

// A date curl reads but no clock can hold (year 184467440, or 2300: past what nanoseconds since
// 1970 fit in 64 bits) is no Retry-After; it used to overflow converting to a time point
// (UndefinedBehaviorSanitizer, found by ReplyProperties.MutatedHttpBodies...).
TEST(HttpRetryAfter, ADateFarInTheFutureIsIgnoredNotOverflowed) {
  for (const char* date : {"Wed, 21 Oct 184467440 07:28:00 GMT", "Sat, 01 Jan 2300 00:00:00 GMT",
                           "Fri, 31 Dec 9999 23:59:59 GMT"}) {
    SCOPED_TRACE(date);
    Outcome o;
    set_retry_after(o, date);
    EXPECT_FALSE(o.retry_at.has_value());
    EXPECT_FALSE(o.retry_after.has_value());
    EXPECT_EQ(parse_retry_after(date, 0), std::nullopt);
  }
  Outcome last;
  set_retry_after(last, "Thu, 31 Dec 2099 23:59:59 GMT");
  EXPECT_EQ(last.retry_at, std::chrono::system_clock::time_point(std::chrono::seconds(4102444799)));
}

TEST(HttpRetryAfter, AnOutcomeKeepsAnHttpDateAsTheMomentNotAsADelayFromTheWallClock) {
  Outcome dated;
  set_retry_after(dated, "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_FALSE(dated.retry_after.has_value());
  EXPECT_EQ(dated.retry_at,
            std::chrono::system_clock::time_point(std::chrono::seconds(1445412480)));
  Outcome delayed;
  set_retry_after(delayed, "7");
  EXPECT_EQ(delayed.retry_after, std::chrono::milliseconds(7000));
  EXPECT_FALSE(delayed.retry_at.has_value());
  Outcome nonsense;
  set_retry_after(nonsense, "soon");
  EXPECT_FALSE(nonsense.retry_after || nonsense.retry_at);
}

}  // namespace
}  // namespace switchyard::tools
