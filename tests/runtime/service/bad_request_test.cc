// `switchyard serve` against bad requests and slow clients: each gets a clear 4xx (or the
// connection closed at its deadline), and the server goes on serving (docs/service.md,
// "Authentication and limits").

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/support/http_client.h"
#include "tests/support/serve_fixture.h"

namespace switchyard::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class ServeBadRequests : public ServeFixture {};

TEST_F(ServeBadRequests, HeadersOver16KiBAre431) {
  start();
  HttpCall call;
  call.url = server_->url() + "/v1/workflows";
  call.headers = {bearer(kToken), "X-Padding: " + std::string(20 * 1024, 'a')};
  auto r = http_call(call);
  EXPECT_EQ(r.status, 431) << r.error;
  EXPECT_EQ(r.json()["error"]["code"], "headers_too_large");
  expect_serving();
}

TEST_F(ServeBadRequests, MalformedHttpIs400) {
  start();
  RawConnection c(port());
  ASSERT_TRUE(c.send("THIS IS NOT HTTP\r\n\r\n"));
  ASSERT_TRUE(c.read_response(milliseconds(10000))) << c.received();
  EXPECT_EQ(c.received().rfind("HTTP/1.1 400", 0), 0u) << c.received();
  EXPECT_NE(c.received().find("\"bad_request\""), std::string::npos) << c.received();
  EXPECT_TRUE(c.wait_closed(milliseconds(10000)));
  expect_serving();
}

TEST_F(ServeBadRequests, MalformedJsonWorkflowIs400) {
  start();
  for (const std::string body : {"{not json", "[1, 2]"}) {
    auto r = post("/v1/workflows", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "invalid_argument") << r.body;
    EXPECT_EQ(r.json()["error"]["file"], "request body") << r.body;
  }
  expect_serving();
}

TEST_F(ServeBadRequests, OversizedRunRequestIs413) {
  start({"--max-body-bytes", "1024"});
  const std::string input(4096, 'x');
  auto r =
      post("/v1/runs", nlohmann::json{{"workflow", "quick"}, {"input", {{"x", input}}}}.dump());
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"]["code"], "payload_too_large");
  expect_serving();
}

TEST_F(ServeBadRequests, BadLastEventIdIs400) {
  start();
  const std::string id = server_->start_run(kToken, "quick");
  server_->wait_run(kToken, id);
  for (const std::string last : {"abc", "-1", "3x"}) {
    HttpCall call;
    call.url = server_->url() + "/v1/runs/" + id + "/events";
    call.headers = {bearer(kToken), "Last-Event-ID: " + last};
    auto r = http_call(call);
    EXPECT_EQ(r.status, 400) << last;
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("Last-Event-ID"),
              std::string::npos)
        << r.body;
  }
  expect_serving();
}

TEST_F(ServeBadRequests, ReplayOfAnUnknownRunIs404) {
  start();
  for (const std::string query : {"", "?format=text", "?verify=true"}) {
    auto r = get("/v1/runs/no-such-run/replay" + query);
    EXPECT_EQ(r.status, 404) << query;
    EXPECT_EQ(r.json()["error"]["code"], "not_found") << r.body;
  }
  expect_serving();
}

TEST_F(ServeBadRequests, ReadTimeoutBoundsHeadersAndBodyTogether) {
  start({"--read-timeout", "2s"});
  // Headers trickled over 1.8 s (each part within the deadline), then a body trickled over 2.1 s:
  // with a deadline per phase the server would wait until about 3.8 s. The bounds leave about a
  // second either way, for a loaded machine or a sanitizer build.
  const std::string body = R"({"workflow": "quick"})";
  const std::vector<std::string> head = {"POST /v1/runs HTTP/1.1\r\n",
                                         "Host: x\r\n",
                                         std::string("Authorization: Bearer ") + kToken + "\r\n",
                                         "Content-Type: application/json\r\n",
                                         "Content-Length: " + std::to_string(body.size()) + "\r\n",
                                         "\r\n"};
  const auto started = steady_clock::now();
  RawConnection c(port());
  bool closed = false;
  for (const auto& part : head) {
    ASSERT_TRUE(c.send(part));
    if ((closed = c.wait_closed(milliseconds(300)))) break;  // a pause the server may end
  }
  for (std::size_t i = 0; !closed && i < body.size(); ++i) {
    if (!c.send(body.substr(i, 1))) break;
    closed = c.wait_closed(milliseconds(100));
  }
  if (!closed) closed = c.wait_closed(milliseconds(10000));
  const auto elapsed = steady_clock::now() - started;
  ASSERT_TRUE(closed);
  EXPECT_EQ(c.received(), "");  // cut off, not answered
  EXPECT_GE(elapsed, milliseconds(1900));
  EXPECT_LT(elapsed, milliseconds(3000));
  expect_serving();
}

TEST_F(ServeBadRequests, IdleKeepAliveConnectionIsClosedAtTheIdleTimeout) {
  start({"--idle-timeout", "1s"});
  RawConnection c(port());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_response(milliseconds(10000)));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200", 0), 0u) << c.received();
  // Kept alive: a second request on the same connection is answered.
  c.clear();
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_response(milliseconds(10000)));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200", 0), 0u) << c.received();
  // Then nothing: the server hangs up after the idle timeout (the default would be 30 s). Its
  // clock started when it had written the answer, a little before this: a margin of 300 ms.
  const auto answered = steady_clock::now();
  ASSERT_TRUE(c.wait_closed(milliseconds(10000)));
  EXPECT_GE(steady_clock::now() - answered, milliseconds(700));
  expect_serving();
}

TEST_F(ServeBadRequests, KeptAliveRequestGetsTheReadTimeoutFromItsFirstByte) {
  start({"--read-timeout", "500ms", "--idle-timeout", "30s"});
  RawConnection c(port());
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_response(milliseconds(10000)));
  // The next request starts but never ends: cut at the read timeout, not the idle one.
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\n"));
  const auto sent = steady_clock::now();
  ASSERT_TRUE(c.wait_closed(milliseconds(10000)));
  EXPECT_GE(steady_clock::now() - sent, milliseconds(450));
  expect_serving();
}

}  // namespace
}  // namespace switchyard::testing
