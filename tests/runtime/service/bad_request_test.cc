// `switchyard serve` against bad requests and slow clients: each gets a clear 4xx (or the
// connection closed at its deadline), and the server goes on serving (docs/service.md,
// "Authentication and limits").

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/support/http_client.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/service_workflows.h"

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

// Only origin form ("/path?query") is served: a target that starts with the query, an absolute
// URL or "*" is a 400 before any route (a query-only target once reached the console's "/").
TEST_F(ServeBadRequests, ATargetThatIsNotAPathIs400) {
  start();
  for (const char* target : {"?/v1/runs", "http://127.0.0.1/v1/workflows", "*"}) {
    RawConnection c(port());
    ASSERT_TRUE(c.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n" +
                       "Authorization: Bearer " + kToken + "\r\n\r\n"));
    ASSERT_TRUE(c.read_response(milliseconds(10000))) << c.received();
    EXPECT_EQ(c.received().rfind("HTTP/1.1 400", 0), 0u) << target << ": " << c.received();
    EXPECT_NE(c.received().find("must be a path starting with /"), std::string::npos)
        << c.received();
  }
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
  for (const std::string last : {"abc", "-1", "3x", "+5", "99999999999999999999"}) {
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

// {"a": [[[...]]]}: an object holding `levels` - 1 nested arrays (`levels` deep in all).
std::string nested(int levels) {
  return "{\"a\": " + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
}

TEST_F(ServeBadRequests, EveryBadRunFieldIs400NamingItsPointerAndWhatWasExpected) {
  start();
  struct Case {
    std::string body;
    std::string pointer;
    std::string says;  // part of the message
  };
  const std::vector<Case> cases = {
      {R"({})", "/workflow", "expected the name of a registered workflow (a string), got nothing"},
      {R"({"workflow": 3})", "/workflow", "got number 3"},
      {R"({"workflow": null})", "/workflow", "got null"},
      {R"({"workflow": "quick", "input": [1]})", "/input", "expected an object, got an array"},
      {R"({"workflow": "quick", "input": "x"})", "/input", "expected an object, got string"},
      {R"({"workflow": "quick", "budget": []})", "/budget", "expected an object, got an array"},
      {R"({"workflow": "quick", "budget": {"usd": "1"}})", "/budget/usd",
       "expected a number >= 0, got string \"1\""},
      {R"({"workflow": "quick", "budget": {"usd": -1}})", "/budget/usd",
       "expected a number >= 0, got number -1"},
      {R"({"workflow": "quick", "budget": {"tokens": 1.5}})", "/budget/tokens",
       "expected an integer >= 0, got number 1.5"},
      {R"({"workflow": "quick", "budget": {"llm_calls": true}})", "/budget/llm_calls",
       "expected an integer >= 0, got boolean true"},
      {R"({"workflow": "quick", "budget": {"gas": 1}})", "/budget/gas", "unknown field"},
      {R"({"workflow": "quick", "budget": {"a/b": 1}})", "/budget/a~1b", "unknown field"},
      {R"({"workflow": "quick", "tenant": 5})", "/tenant", "got number 5"},
      {R"({"workflow": "quick", "tenant": ""})", "/tenant", "a tenant key must not be empty"},
      {R"({"workflow": "quick", "run_id": 5})", "/run_id", "got number 5"},
      {R"({"workflow": "quick", "run_id": "../etc"})", "/run_id", "starting with a letter"},
      {R"({"workflow": "quick", "run_id": ""})", "/run_id", "expected 1 to 128 letters"},
      {R"([1, 2])", "", "expected an object, got an array"},
      {R"("quick")", "", "expected an object, got string"},
      {R"({"workflow": "quick",)", "", "request body: not JSON"},
  };
  for (const auto& c : cases) {
    auto r = post("/v1/runs", c.body);
    ASSERT_EQ(r.status, 400) << c.body << ": " << r.body;
    const auto error = r.json()["error"];
    EXPECT_EQ(error["code"], "invalid_argument") << r.body;
    EXPECT_EQ(error["pointer"], c.pointer) << c.body << ": " << r.body;
    const std::string message = error["message"];
    EXPECT_EQ(message.rfind(c.pointer, 0), 0u) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << c.body << ": " << message;
  }
  // None of them started a run; a body with every field right does.
  EXPECT_EQ(get("/v1/runs").json()["runs"].size(), 0u);
  auto ok = post("/v1/runs", R"({"workflow": "quick", "input": {"x": 1}, "run_id": "r-1",
                                 "budget": {"usd": 0.5, "tokens": 1000, "llm_calls": null},
                                 "tenant": "acme"})");
  EXPECT_EQ(ok.status, 202) << ok.body;
  expect_serving();
}

TEST_F(ServeBadRequests, TooDeepRunBodyIs400NamingMaxDepth) {
  start();
  // 129 levels: one over the default; the same body is taken with a larger --max-json-depth.
  auto r = post("/v1/runs", R"({"workflow": "quick", "input": )" + nested(128) + "}");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json()["error"]["pointer"], "");
  const std::string message = r.json()["error"]["message"];
  EXPECT_NE(message.find("deeper than 128"), std::string::npos) << message;
  EXPECT_NE(message.find("max_depth"), std::string::npos) << message;
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "quick", "input": )" + nested(127) + "}").status, 202);
  // 300,000 levels in a body under the size limit: refused before it is parsed.
  auto deep = post("/v1/runs", std::string(300000, '['));
  EXPECT_EQ(deep.status, 400) << deep.body;
  EXPECT_NE(deep.body.find("max_depth"), std::string::npos) << deep.body;
  expect_serving();
}

TEST_F(ServeBadRequests, MaxJsonDepthIsConfigurable) {
  start({"--max-json-depth", "300"});
  auto r = post("/v1/runs", R"({"workflow": "quick", "input": )" + nested(250) + "}");
  EXPECT_EQ(r.status, 202) << r.body;
  auto over = post("/v1/runs", R"({"workflow": "quick", "input": )" + nested(300) + "}");
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_NE(over.body.find("deeper than 300"), std::string::npos) << over.body;
  expect_serving();
}

TEST_F(ServeBadRequests, TooDeepWorkflowBodyIs400NamingMaxDepth) {
  start();
  for (const std::string& body :
       {nested(200), std::string(500000, '[') + std::string(500000, ']')}) {
    auto r = post("/v1/workflows", body);
    ASSERT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(r.json()["error"]["file"], "request body");
    EXPECT_EQ(r.json()["error"]["pointer"], "");
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("max_depth"), std::string::npos)
        << r.body;
  }
  expect_serving();
}

// Paths, query values and headers are bytes, not necessarily UTF-8: quoting them in an error
// must not stop the server (nlohmann's dump() throws on invalid UTF-8).
TEST_F(ServeBadRequests, InvalidUtf8InThePathQueryOrHeadersIsAnsweredAndTheServerGoesOn) {
  start();
  for (const std::string path :
       {"/v1/workflows/%FF%FE", "/v1/runs/%C3/replay", "/v1/%FFx", "/v1/runs?status=%FF",
        "/v1/runs?since=%80", "/v1/runs/r/replay?format=%E2%82"}) {
    auto r = get(path);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << path << ": " << r.status;
    EXPECT_TRUE(r.json().is_object()) << path << ": " << r.body;
  }
  // The same bytes raw, in the path and in a header.
  for (const std::string& request :
       {std::string("GET /v1/workflows/\xff\xfe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
            kToken + "\r\nConnection: close\r\n\r\n",
        std::string("GET /v1/runs/r/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
            kToken + "\r\nLast-Event-ID: \xff\r\nConnection: close\r\n\r\n"}) {
    RawConnection c(port());
    ASSERT_TRUE(c.send(request));
    ASSERT_TRUE(c.read_response(milliseconds(10000))) << c.received();
    EXPECT_TRUE(c.received().rfind("HTTP/1.1 400", 0) == 0 ||
                c.received().rfind("HTTP/1.1 404", 0) == 0)
        << c.received();
  }
  expect_serving();
}

TEST_F(ServeBadRequests, AWorkflowNameCannotAddAHeaderToTheResponse) {
  start();
  nlohmann::json w = nlohmann::json::parse(mock_workflow("x", 1));
  w["name"] = "x\r\nSet-Cookie: a=b";
  auto r = post("/v1/workflows", w.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("location"), "/v1/workflows/x%0D%0ASet-Cookie%3A%20a%3Db");
  EXPECT_EQ(r.header("set-cookie"), "");
  EXPECT_EQ(get("/v1/workflows/x%0D%0ASet-Cookie%3A%20a%3Db").status, 200);
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
