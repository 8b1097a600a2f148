// A small real program for the `command` tool's tests. The first argument picks what it does:
//   echo [ARGS...]        prints {"stdin": <stdin as JSON>, "args": [...], "env": $SY_VAR, "cwd"}
//   exit N                writes "oops" to stderr and exits with N
//   hang PIDFILE          forks a grandchild, writes its pid to PIDFILE, and both wait forever
//   huge BYTES            prints a JSON string of BYTES characters
//   invalid               prints text that is not JSON
//   ignore-stdin          prints {} without reading stdin
//   after FILE            waits until FILE exists (another call has got that far), prints {}

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "echo") {
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    nlohmann::json out;
    out["stdin"] = nlohmann::json::parse(in, nullptr, false);
    out["args"] = nlohmann::json::array();
    for (int i = 2; i < argc; ++i) out["args"].push_back(argv[i]);
    const char* var = std::getenv("SY_VAR");
    out["env"] = var ? nlohmann::json(var) : nlohmann::json(nullptr);
    char cwd[4096];
    out["cwd"] = getcwd(cwd, sizeof cwd) ? cwd : "";
    std::cout << out.dump();
    return 0;
  }
  if (mode == "exit") {
    std::cerr << "oops";
    return argc > 2 ? std::atoi(argv[2]) : 1;
  }
  if (mode == "hang") {
    const pid_t child = fork();
    if (child == 0) {
      for (;;) pause();
    }
    // Written whole, then renamed: whoever sees the file sees the pid.
    const std::string tmp = std::string(argv[2]) + ".tmp";
    std::ofstream(tmp) << child;
    std::rename(tmp.c_str(), argv[2]);
    for (;;) pause();
  }
  if (mode == "huge") {
    const long bytes = argc > 2 ? std::atol(argv[2]) : 0;
    std::string s(static_cast<std::size_t>(bytes), 'x');
    std::cout << '"' << s << '"';
    return 0;
  }
  if (mode == "invalid") {
    std::cout << "this is not json";
    return 0;
  }
  if (mode == "ignore-stdin") {
    std::cout << "{}";
    return 0;
  }
  if (mode == "after" && argc > 2) {
    while (access(argv[2], F_OK) != 0) usleep(1000);
    std::cout << "{}";
    return 0;
  }
  std::cerr << "unknown mode";
  return 2;
}
