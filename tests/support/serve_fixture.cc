#include "tests/support/serve_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <sstream>

#include "tests/support/service_workflows.h"

namespace switchyard::testing {

void ServeFixture::start(const std::vector<std::string>& extra, const std::vector<std::string>& env,
                         const std::string& debug_log) {
  const std::string tokens = dir_.write("tokens", std::string(kToken) + "\n");
  std::vector<std::string> args = {
      "--tokens-file", tokens,
      "--workflow",    dir_.write("quick.json", quick_workflow()),
      "--workflow",    dir_.write("slow.json", mock_workflow("slow", 400))};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<std::string> vars = {std::string("SWITCHYARD_TOKENS=") + kOtherToken};
  vars.insert(vars.end(), env.begin(), env.end());
  server_ = std::make_unique<ServeProcess>(journal(), args, vars, debug_log);
  ASSERT_FALSE(server_->url().empty());
}

int ServeFixture::port() const {
  const std::string& url = server_->url();
  return std::stoi(url.substr(url.rfind(':') + 1));
}

void ServeFixture::expect_serving() const {
  EXPECT_EQ(get("/healthz", "").status, 200);
  EXPECT_EQ(get("/v1/workflows").status, 200);
}

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    closed_ = true;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& text) {
  std::size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawConnection::read_some(std::chrono::milliseconds limit) {
  if (closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return false;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  received_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool RawConnection::wait_closed(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!read_some(left) && !closed_) return false;
  }
  return true;
}

bool RawConnection::read_response(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto end = received_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      std::string head = received_.substr(0, end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto at = head.find("content-length:"); at != std::string::npos) {
        length = std::stoul(head.substr(at + 15));
      }
      if (received_.size() >= end + 4 + length) return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_some(left)) return false;
  }
}

Exposition parse_exposition(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      e.helps.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const auto sp = line.find(' ', 7);
      e.types[line.substr(7, sp - 7)] = line.substr(sp + 1);
    } else if (!line.empty()) {
      const auto sp = line.rfind(' ');
      e.samples[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
  }
  return e;
}

}  // namespace switchyard::testing
