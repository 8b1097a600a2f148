#pragma once
// Starts the fault-injection HTTP server (tests/programs/fault_server.cc) as a real subprocess on
// a free loopback port, for the lifetime of the object; asks it for its counters.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tests/support/subprocess.h"

namespace switchyard::testing {

class FaultServer {
 public:
  // `routes`: a routes file for --routes, or "" for the built-in endpoints only.
  explicit FaultServer(const std::string& routes = "");
  // Stops it (SIGTERM, then SIGKILL after 10 s) and reaps it.
  ~FaultServer();
  FaultServer(const FaultServer&) = delete;
  FaultServer& operator=(const FaultServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path) const;
  // GET /stats: {"requests", "connections", "by_path"}.
  nlohmann::json stats() const;
  // GET /reset: zeroes the counters.
  void reset() const;
  // GET /wait/<n>: returns once the server has counted `requests` requests since the last reset
  // (an event, not a poll: the server answers when the request arrives).
  void wait_for_requests(long requests) const;

 private:
  nlohmann::json get(const std::string& path) const;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
};

}  // namespace switchyard::testing
