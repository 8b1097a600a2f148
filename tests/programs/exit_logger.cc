// A program that leaves a thread running at exit which logs, and takes and gives back a throttle
// turn, while the program's static objects are destroyed: what an engine thread stopped by an
// atexit tear-down does (the fuzz harness's http_request target did, in CI).
//
//   switchyard_exit_logger
//
// The tear-down is registered with atexit before the thread first makes the runtime's and the
// service's loggers and the process's call limiter, so exit() runs it after the destructors of
// objects made later would have run (exit destroys static objects and runs atexit functions in
// the reverse order of their making). It tells the thread to stop; the thread logs, takes a
// turn, gives it back, and ends; the tear-down joins it. Exits 0. Were a logger or the limiter
// destroyed at exit, that would be a use after free: AddressSanitizer reports it and the exit
// status is not 0 (tests/runtime/base/exit_order_test.cc).

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "runtime/base/log.h"
#include "runtime/journal/call_limiter.h"
#include "runtime/service/log.h"

namespace {

namespace runtime = switchyard::runtime;

std::mutex mu;
std::condition_variable changed;
bool ready = false;  // the thread made the loggers and the limiter
bool stop = false;   // the tear-down asks the thread to end
std::thread* worker = nullptr;

// A throttled call's turn: taken and given back.
void take_a_turn() {
  auto turn =
      runtime::process_call_limiter().try_acquire({.key = "exit-order", .max_in_flight = 1});
  if (!turn.ok() || !turn->granted) {
    std::fprintf(stderr, "no turn\n");
    std::_Exit(4);
  }
  runtime::process_call_limiter().release(turn->permit);
}

void work() {
  runtime::logger().info("exit-order: thread started");
  switchyard::service::logger().info("exit-order: thread started");
  take_a_turn();
  std::unique_lock lock(mu);
  ready = true;
  changed.notify_all();
  changed.wait(lock, [] { return stop; });
  lock.unlock();
  // Static objects made after the tear-down's registration are gone by now, unless never
  // destroyed.
  runtime::logger().info("exit-order: thread stopping");
  switchyard::service::logger().info("exit-order: thread stopping");
  take_a_turn();
}

void tear_down() {
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  changed.notify_all();
  worker->join();
  delete worker;
}

}  // namespace

int main() {
  std::atexit(tear_down);
  worker = new std::thread(work);
  std::unique_lock lock(mu);
  changed.wait(lock, [] { return ready; });
  lock.unlock();
  std::exit(0);
}
