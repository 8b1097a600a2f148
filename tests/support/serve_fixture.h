#pragma once
// The fixture of the `switchyard serve` tests (tests/runtime/service/): a real server subprocess
// with two tokens and the quick and slow workflows, the calls tests make to it, a raw TCP client
// for what libcurl cannot send (malformed or trickled requests), and a reader of the /metrics
// exposition.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"

namespace switchyard::testing {

inline constexpr const char* kToken = "test-token-1";       // from --tokens-file
inline constexpr const char* kOtherToken = "test-token-2";  // from SWITCHYARD_TOKENS

class ServeFixture : public ::testing::Test {
 protected:
  // Starts a server with two tokens, the quick and slow workflows registered, `extra` flags and
  // `env` ("NAME=VALUE") added to SWITCHYARD_TOKENS; its debug log into `debug_log` if given
  // (ServeProcess).
  void start(const std::vector<std::string>& extra = {}, const std::vector<std::string>& env = {},
             const std::string& debug_log = "");
  std::string journal() const { return dir_.file("journal.db"); }
  int port() const;
  HttpResult get(const std::string& path, const std::string& token = kToken) const {
    return server_->call("GET", path, token);
  }
  HttpResult post(const std::string& path, const std::string& body,
                  const std::string& token = kToken) const {
    return server_->call("POST", path, token, body);
  }
  // The server still answers (after a bad request): GET /healthz and GET /v1/workflows are 200.
  void expect_serving() const;

  TempDir dir_;
  std::unique_ptr<ServeProcess> server_;
};

// A plain TCP connection to 127.0.0.1:`port`, for requests libcurl will not send. Closed by the
// destructor.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `text`; false when the peer has closed the connection.
  bool send(const std::string& text);
  // Waits up to `limit` for the server to close the connection (reading and keeping what it
  // sends); true when it did. Returns early, so a pause made with it ends when the server hangs up.
  bool wait_closed(std::chrono::milliseconds limit);
  // Reads until `received()` holds a whole response (headers and Content-Length body), at most
  // `limit`; false when none came.
  bool read_response(std::chrono::milliseconds limit);
  // Everything the server sent so far.
  const std::string& received() const { return received_; }
  // Clears received() (before the next response on a kept-alive connection).
  void clear() { received_.clear(); }

 private:
  // Reads what is there within `limit`: false on EOF, error or timeout (closed_ tells which).
  bool read_some(std::chrono::milliseconds limit);
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

// A Prometheus text exposition: "name{labels}" -> value, and the names with # TYPE and # HELP.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::set<std::string> helps;
};
Exposition parse_exposition(const std::string& text);

}  // namespace switchyard::testing
