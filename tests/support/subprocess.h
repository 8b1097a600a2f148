#pragma once
// A long-running real subprocess a test talks to (a server): started with posix_spawn, its stdout
// a pipe the test reads lines from, its stdin a pipe only the test holds (a server given
// --exit-on-stdin-eof stops when the test process ends, however it ends), stderr inherited or
// sent to a file. Stopped (SIGTERM, then SIGKILL) and reaped by the destructor.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::testing {

class Subprocess {
 public:
  // Starts argv[0] with `argv`, `env` ("NAME=VALUE") added to the environment; stderr to
  // `stderr_path` ("" : inherited). A failure to start is a test failure (pid() is -1).
  Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
             const std::string& stderr_path = "");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // The next line of its stdout (without '\n'), waiting at most `limit`; nullopt at EOF or when
  // the limit passes.
  std::optional<std::string> read_line(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Sends `signal`.
  void signal(int signal) const;
  // Waits (on a pidfd) at most `limit` for it to exit and reaps it; its exit code (128 + signal
  // when killed), or nullopt when it is still running.
  std::optional<int> wait(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  int stdin_ = -1;
  std::optional<int> exit_code_;
  std::string buffer_;
};

}  // namespace switchyard::testing
