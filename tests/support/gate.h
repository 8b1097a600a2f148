// A gate one thread waits at until another opens it: the tests' way of holding a writer or a
// journal inside a call (arrive_and_wait) while the test does something meanwhile
// (await_arrival, then open), without sleeping.
#pragma once

#include <condition_variable>
#include <mutex>

namespace switchyard::testing {

class Gate {
 public:
  // Says it has arrived, then waits until the gate is opened (at once if it already is).
  void arrive_and_wait() {
    std::unique_lock lock(mu_);
    arrived_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  // Waits until a thread has arrived.
  void await_arrival() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return arrived_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool arrived_ = false;
  bool open_ = false;
};

}  // namespace switchyard::testing
