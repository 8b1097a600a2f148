#pragma once
// Runs a real subprocess (no shell) and captures its exit code, stdout and stderr: how the CLI
// tests meet the `switchyard` program, as users do.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace switchyard::testing {

struct CommandResult {
  int exit_code = -1;  // or 128 + signal
  std::string out;
  std::string err;
};

// Runs argv[0] with `argv` in `cwd` (empty: current folder), with `env` ("NAME=VALUE") added to
// its environment.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& cwd = "",
                          const std::vector<std::string>& env = {});

// Runs the built `switchyard` program with `args`.
CommandResult switchyard(const std::vector<std::string>& args, const std::string& cwd = "",
                         const std::vector<std::string>& env = {});

// A fresh empty folder under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to `name` inside the folder; returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// Waits (on a pidfd, not by sleeping) until process `pid` has exited, at most `limit_ms`; true
// when it has. For processes that are not our children too (a killed grandchild).
bool wait_exited(int pid, int limit_ms = 5000);

// The JSON document a command printed (`--json`); a test failure, and a discarded value, when
// `text` is not JSON.
nlohmann::json parse_json(const std::string& text);
// `s` as a JSON string literal, quotes and escapes included.
std::string json_quoted(const std::string& s);

// The whole content of a file ("" and a test failure when it cannot be read).
std::string read_text(const std::string& path);

// Paths of the project and of its test data.
std::string source_path(const std::string& relative);
std::string paper_scenario(const std::string& id);  // e.g. "CS-5"

}  // namespace switchyard::testing
