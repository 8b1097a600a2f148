#pragma once
// A real HTTP server on 127.0.0.1 (an ephemeral port, a thread per connection, keep-alive) that
// answers every request `200 {"ok": true}` after holding it `hold` ms, and counts how many it held
// at once at most and when each arrived: what throttle tests check limits against.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::testing {

class CountingServer {
 public:
  explicit CountingServer(std::chrono::milliseconds hold);
  ~CountingServer();
  CountingServer(const CountingServer&) = delete;
  CountingServer& operator=(const CountingServer&) = delete;

  std::string url(const std::string& path) const;
  int max_in_flight() const { return max_in_flight_.load(); }
  int requests() const;
  // Arrival times of the requests, in order.
  std::vector<std::chrono::steady_clock::time_point> arrivals() const;

 private:
  void accept_loop();
  void serve(int fd);

  std::chrono::milliseconds hold_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  mutable std::mutex mu_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace switchyard::testing
