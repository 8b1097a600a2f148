#include "tests/support/counting_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace switchyard::testing {

CountingServer::CountingServer(std::chrono::milliseconds hold) : hold_(hold) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    std::abort();
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

CountingServer::~CountingServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  for (int fd : fds_) ::close(fd);
}

std::string CountingServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

int CountingServer::requests() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(arrivals_.size());
}

std::vector<std::chrono::steady_clock::time_point> CountingServer::arrivals() const {
  std::lock_guard lock(mu_);
  return arrivals_;
}

void CountingServer::accept_loop() {
  while (!stop_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void CountingServer::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  while (!stop_) {
    // One request: its head, then Content-Length bytes of body.
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    std::size_t body = 0;
    for (const char* name : {"Content-Length:", "content-length:"}) {
      if (auto at = buffer.find(name); at != std::string::npos && at < head_end) {
        body = std::strtoul(buffer.c_str() + at + std::strlen(name), nullptr, 10);
      }
    }
    while (buffer.size() < head_end + 4 + body) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    buffer.erase(0, head_end + 4 + body);
    {
      std::lock_guard lock(mu_);
      arrivals_.push_back(std::chrono::steady_clock::now());
    }
    const int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(hold_);
    --in_flight_;
    static const std::string kAnswer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
        "Connection: keep-alive\r\n\r\n{\"ok\": true}";
    if (::send(fd, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL) < 0) return;
  }
}

}  // namespace switchyard::testing
