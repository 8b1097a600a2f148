// docs/openapi.yaml against the server: every operation it lists is served by a real
// `switchyard serve`, every route in the router's table (runtime/service/routes.h) is listed,
// each path's other methods answer 405 with the listed ones in `Allow`, and every operation
// documents the answers that can come from any request (HTTP layer, auth, rate limit).

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "runtime/service/routes.h"
#include "tests/support/serve_fixture.h"

namespace switchyard::testing {
namespace {

struct Operation {
  std::string method;  // upper case
  std::string path;    // as in the spec: "/v1/runs/{id}"
  bool is_public = false;
  std::set<std::string> codes;  // its response codes
};

// The operations of docs/openapi.yaml, read line by line: a path is "  /p:" under `paths:`,
// a method "    get:" under it, a response code "        \"200\":" under that.
std::vector<Operation> spec_operations() {
  std::ifstream in(std::string(SWITCHYARD_SOURCE_DIR) + "/docs/openapi.yaml");
  EXPECT_TRUE(in.good()) << "cannot read docs/openapi.yaml";
  static const std::regex kPath(R"(^  (/\S*):\s*$)");
  static const std::regex kMethod(R"(^    (get|post|put|delete|patch):\s*$)");
  static const std::regex kCode(R"re(^        "(\d{3})":)re");
  std::vector<Operation> ops;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!line.empty() && line[0] != ' ') in_paths = false;
    if (!in_paths) continue;
    std::smatch m;
    if (std::regex_match(line, m, kPath)) {
      path = m[1];
    } else if (std::regex_match(line, m, kMethod)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ops.push_back({method, path, false, {}});
    } else if (!ops.empty() && line == "      security: []") {
      ops.back().is_public = true;
    } else if (!ops.empty() && std::regex_search(line, m, kCode)) {
      ops.back().codes.insert(m[1]);
    }
  }
  return ops;
}

// `path` with its {placeholders} filled in.
std::string concrete(const std::string& path) {
  return std::regex_replace(path, std::regex(R"(\{[a-z_]+\})"), "no-such-thing");
}

class ServeOpenApi : public ServeFixture {};

TEST_F(ServeOpenApi, SpecListsExactlyTheRoutesOfTheRouter) {
  std::set<std::pair<std::string, std::string>> spec, router;
  for (const auto& op : spec_operations()) spec.insert({op.method, op.path});
  for (const auto& r : service::route_table()) router.insert({r.method, r.path});
  EXPECT_FALSE(spec.empty());
  EXPECT_EQ(spec, router);
  // Public in the spec (security: []) exactly when the router answers without a token.
  for (const auto& op : spec_operations()) {
    for (const auto& r : service::route_table()) {
      if (r.method == op.method && r.path == op.path) {
        EXPECT_EQ(r.is_public, op.is_public) << op.path;
      }
    }
  }
}

TEST_F(ServeOpenApi, EveryOperationInTheSpecIsServed) {
  start();
  const auto ops = spec_operations();
  ASSERT_FALSE(ops.empty());
  std::map<std::string, std::set<std::string>> methods;  // by path
  for (const auto& op : ops) {
    methods[op.path].insert(op.method);
    HttpCall call;
    call.method = op.method;
    call.url = server_->url() + concrete(op.path);
    call.headers = {bearer(kToken)};
    call.timeout = std::chrono::seconds(10);
    auto r = http_call(call);
    EXPECT_NE(r.status, 405) << op.method << " " << op.path;
    EXPECT_NE(r.status, 0) << op.method << " " << op.path << ": " << r.error;
    // A 404 is the resource's ("no run ..."), never the router's.
    const auto doc = r.json();
    std::string message;
    if (doc.is_object() && doc.contains("error")) message = doc["error"].value("message", "");
    EXPECT_EQ(message.rfind("no such endpoint", 0), std::string::npos)
        << op.method << " " << op.path << ": " << r.body;
  }
  // Another method on a listed path: 405, `Allow` naming the listed methods.
  for (const auto& [path, listed] : methods) {
    if (path == "/healthz" || path == "/readyz") continue;  // probes answer any method
    auto r = server_->call("DELETE", concrete(path), kToken);
    EXPECT_EQ(r.status, 405) << path;
    std::set<std::string> allow;
    std::istringstream in(r.header("allow"));
    for (std::string m; std::getline(in >> std::ws, m, ',');) allow.insert(m);
    EXPECT_EQ(allow, listed) << path << ": Allow: " << r.header("allow");
  }
  expect_serving();
}

TEST_F(ServeOpenApi, EveryOperationDocumentsTheAnswersAnyRequestCanGet) {
  // The HTTP layer's, on any path; plus auth, the rate limit, 405 and server errors on every
  // authenticated one.
  const std::set<std::string> any = {"400", "413", "431"};
  const std::set<std::string> authenticated = {"400", "401", "405", "413",
                                               "429", "431", "500", "504"};
  for (const auto& op : spec_operations()) {
    for (const auto& code : op.is_public ? any : authenticated) {
      EXPECT_TRUE(op.codes.count(code)) << op.method << " " << op.path << " lacks " << code;
    }
  }
}

}  // namespace
}  // namespace switchyard::testing
