#pragma once
// `switchyard serve` as a real subprocess on a free loopback port, for the service tests and the
// load test: started with a temporary journal and the given flags, its URL read from the line it
// prints; plus the calls tests make to it.

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {

class ServeProcess {
 public:
  // Starts `switchyard serve --port 0 --journal JOURNAL ARGS...` with `env` added. A server
  // that prints no "listening on" line is a test failure (url() is then ""). With `debug_log`,
  // the server logs everything it logs at debug level (-vv) into that file instead of the
  // test's stderr.
  ServeProcess(const std::string& journal, const std::vector<std::string>& args,
               const std::vector<std::string>& env = {}, const std::string& debug_log = "");

  const std::string& url() const { return url_; }
  Subprocess& process() { return *process_; }

  // `method` `path` with a bearer `token` ("" : none) and `body`.
  HttpResult call(const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body = "") const;
  // POST /v1/runs {"workflow": workflow, "input": input}: the run id (a test failure unless 202).
  std::string start_run(const std::string& token, const std::string& workflow,
                        const nlohmann::json& input = nlohmann::json::object()) const;
  // Reads the run's event stream until it ends (run_finished); its final GET /v1/runs/{id}.
  nlohmann::json wait_run(const std::string& token, const std::string& run_id) const;

 private:
  std::unique_ptr<Subprocess> process_;
  std::string url_;
};

}  // namespace switchyard::testing
