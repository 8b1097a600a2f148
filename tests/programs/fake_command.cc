// A small real program for the `command` tool's tests. The first argument picks what it does:
//   echo [ARGS...]        prints {"stdin": <stdin as JSON>, "args": [...], "env": $SY_VAR, "cwd"}
//   exit N                writes "oops" to stderr and exits with N
//   stderr BYTES N        writes "head", BYTES filler characters and "tail" to stderr, exits N
//   hang PIDFILE          forks a grandchild, writes its pid to PIDFILE and "grandchild PID" to
//                         stderr, and both wait forever
//   leave-child           forks a grandchild that waits forever holding stdout and stderr, prints
//                         {"grandchild": PID} and exits 0
//   escape                forks a child that leaves the process group (setsid) and waits forever
//                         holding stdout and stderr, writes "escaped PID" to stderr, prints {}
//                         and exits 0
//   fds                   prints {"fds": [the descriptors open in this process]}
//   environ               prints {"environ": {NAME: VALUE, ...}}, its whole environment
//   huge BYTES            prints a JSON string of BYTES characters
//   invalid               prints text that is not JSON
//   garbage               prints several lines that are neither JSON nor UTF-8, and the same to
//                         stderr, and exits 0
//   deep N                prints N nested arrays ([[[...]]])
//   ignore-stdin          prints {} without reading stdin
//   after FILE            waits (inotify, no polling) until FILE exists (another call has got
//                         that far), prints {}

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

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
  if (mode == "environ") {
    nlohmann::json vars = nlohmann::json::object();
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string var = *e;
      const auto eq = var.find('=');
      vars[var.substr(0, eq)] = eq == std::string::npos ? "" : var.substr(eq + 1);
    }
    std::cout << nlohmann::json{{"environ", vars}}.dump();
    return 0;
  }
  if (mode == "exit") {
    std::cerr << "oops";
    return argc > 2 ? std::atoi(argv[2]) : 1;
  }
  if (mode == "stderr" && argc > 3) {
    std::cerr << "head" << std::string(static_cast<std::size_t>(std::atol(argv[2])), 'e') << "tail";
    return std::atoi(argv[3]);
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
    std::cerr << "grandchild " << child << std::endl;
    for (;;) pause();
  }
  if (mode == "leave-child") {
    const pid_t child = fork();
    if (child == 0) {
      for (;;) pause();
    }
    std::cout << nlohmann::json{{"grandchild", child}}.dump() << std::flush;
    return 0;
  }
  if (mode == "escape") {
    // The parent exits only once the child has left the group: else the child could still be
    // in it when the tool kills the group at the parent's exit.
    int left[2];
    if (pipe(left) != 0) return 3;
    const pid_t child = fork();
    if (child == 0) {
      setsid();
      close(left[0]);
      if (write(left[1], "x", 1) != 1) _exit(3);
      close(left[1]);
      for (;;) pause();
    }
    close(left[1]);
    char c;
    if (read(left[0], &c, 1) != 1) return 3;
    close(left[0]);
    std::cerr << "escaped " << child << std::endl;
    std::cout << "{}" << std::flush;
    return 0;
  }
  if (mode == "fds") {
    nlohmann::json fds = nlohmann::json::array();
    if (DIR* d = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const int fd = std::atoi(e->d_name);
        if (fd != dirfd(d)) fds.push_back(fd);
      }
      closedir(d);
    }
    std::cout << nlohmann::json{{"fds", fds}}.dump();
    return 0;
  }
  if (mode == "huge") {
    const long bytes = argc > 2 ? std::atol(argv[2]) : 0;
    std::string s(static_cast<std::size_t>(bytes), 'x');
    std::cout << '"' << s << '"';
    return 0;
  }
  if (mode == "garbage") {
    const std::string text = "first line \xff\xfe\n<html>\x80 second\tline\ncaf\xc3";
    std::cout << text;
    std::cerr << text;
    return 0;
  }
  if (mode == "deep") {
    const long n = argc > 2 ? std::atol(argv[2]) : 0;
    std::cout << std::string(static_cast<std::size_t>(n), '[')
              << std::string(static_cast<std::size_t>(n), ']');
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
    // Watch the folder first, then look: a file made in between is seen either way.
    const std::string path = argv[2];
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    const int watch = inotify_init1(IN_CLOEXEC);
    if (watch < 0 || inotify_add_watch(watch, dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
      std::cerr << "cannot watch " << dir;
      return 2;
    }
    char events[4096];
    while (access(path.c_str(), F_OK) != 0) {
      if (read(watch, events, sizeof events) < 0) return 2;
    }
    std::cout << "{}";
    return 0;
  }
  std::cerr << "unknown mode";
  return 2;
}
