#include "tests/support/fault_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

extern char** environ;

namespace switchyard::testing {
namespace {

constexpr int kStartLimitMs = 10000;  // a safety net, not a wait: the line usually comes at once

}  // namespace

FaultServer::FaultServer(const std::string& routes) {
  // Its stdout tells us its port. Its stdin is a pipe only we write to: when this process ends,
  // however it ends, the server sees EOF and stops (no orphan holding ctest's output pipe).
  int out[2], in[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return;
  }
  if (::pipe2(in, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    ::close(out[0]);
    ::close(out[1]);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  std::vector<std::string> args = {SWITCHYARD_FAULT_SERVER, "--exit-on-stdin-eof"};
  if (!routes.empty()) {
    args.push_back("--routes");
    args.push_back(routes);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(in[0]);
  stdin_ = in[1];  // kept open (close-on-exec) for the server's life
  if (rc != 0) {
    ::close(out[0]);
    pid_ = -1;
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    return;
  }
  // Read "listening on 127.0.0.1:PORT\n".
  std::string line;
  char c = 0;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&p, 1, kStartLimitMs) > 0 &&
         ::read(out[0], &c, 1) == 1) {
    line += c;
  }
  ::close(out[0]);
  const auto colon = line.rfind(':');
  if (line.rfind("listening on 127.0.0.1:", 0) != 0 || colon == std::string::npos) {
    ADD_FAILURE() << "the fault server did not start: '" << line << "'";
    return;
  }
  port_ = std::stoi(line.substr(colon + 1));
}

FaultServer::~FaultServer() {
  if (stdin_ >= 0) ::close(stdin_);
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  pollfd p{pidfd, POLLIN, 0};
  if (pidfd < 0 || ::poll(&p, 1, 5000) <= 0) ::kill(pid_, SIGKILL);
  if (pidfd >= 0) ::close(pidfd);
  ::waitpid(pid_, nullptr, 0);
}

std::string FaultServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

nlohmann::json FaultServer::stats() const { return get("/stats"); }

void FaultServer::reset() const { get("/reset"); }

void FaultServer::wait_for_requests(long requests) const {
  get("/wait/" + std::to_string(requests));
}

nlohmann::json FaultServer::get(const std::string& path) const {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::socket socket(ctx);
  beast::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)},
                 ec);
  if (ec) {
    ADD_FAILURE() << "cannot reach the fault server: " << ec.message();
    return nullptr;
  }
  http::request<http::empty_body> req(http::verb::get, path, 11);
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(socket, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(socket, buffer, res, ec);
  if (ec) {
    ADD_FAILURE() << "GET " << path << " from the fault server: " << ec.message();
    return nullptr;
  }
  return nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace switchyard::testing
