#include "tests/support/serve_process.h"

#include <gtest/gtest.h>

namespace switchyard::testing {

ServeProcess::ServeProcess(const std::string& journal, const std::vector<std::string>& args,
                           const std::vector<std::string>& env, const std::string& debug_log) {
  std::vector<std::string> argv = {SWITCHYARD_BINARY};
  if (!debug_log.empty()) argv.push_back("-vv");
  argv.insert(argv.end(), {"serve", "--port", "0", "--journal", journal});
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<Subprocess>(argv, env, debug_log);
  auto line = process_->read_line(std::chrono::seconds(20));
  static const std::string kPrefix = "listening on ";
  if (!line || line->rfind(kPrefix, 0) != 0) {
    ADD_FAILURE() << "switchyard serve did not start: '" << line.value_or("(no line)") << "'";
    return;
  }
  url_ = line->substr(kPrefix.size());
}

HttpResult ServeProcess::call(const std::string& method, const std::string& path,
                              const std::string& token, const std::string& body) const {
  HttpCall c;
  c.method = method;
  c.url = url_ + path;
  c.body = body;
  if (!token.empty()) c.headers.push_back(bearer(token));
  if (!body.empty()) c.headers.push_back("Content-Type: application/json");
  return http_call(c);
}

std::string ServeProcess::start_run(const std::string& token, const std::string& workflow,
                                    const nlohmann::json& input) const {
  auto r = call("POST", "/v1/runs", token,
                nlohmann::json{{"workflow", workflow}, {"input", input}}.dump());
  EXPECT_EQ(r.status, 202) << r.body;
  return r.json().value("run_id", "");
}

nlohmann::json ServeProcess::wait_run(const std::string& token, const std::string& run_id) const {
  long status = 0;
  auto events = read_sse(url_ + "/v1/runs/" + run_id + "/events", {bearer(token)}, &status,
                         std::chrono::seconds(30));
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(events.empty() || events.back().event != "run_finished")
      << "the stream of " << run_id << " did not end with run_finished";
  return call("GET", "/v1/runs/" + run_id, token).json();
}

}  // namespace switchyard::testing
