// examples/resume: resume after a crash. A child process runs an order into a journal file and
// is killed (SIGKILL) while its slow Ship step is in flight; then this process opens the same
// journal with a second Runtime and resumes the run.
//
//   Start -> Charge -> Ship -> Done      Charge: builtin "charge", takes the money
//                                        Ship:   builtin "ship", books a courier (slow)
//                                        neither is idempotent: neither is safe to repeat
//
// Resume rebuilds the run from its journal (docs/journal.md#resume): Charge had completed, so it
// is not run again (the customer is not charged twice). Ship was in flight: it may or may not
// have booked the courier, and it is not idempotent, so it is not repeated either: the run ends
// escalated, reason in_doubt, naming Ship for a human to check. (An idempotent call in flight
// is made again and the run goes on. But the journal is written before each non-idempotent call
// and at the run's end, not after every step: it was Ship's start that recorded Charge's end.
// See docs/journal.md#durability-what-is-on-disk-when.)
//
// Build against an installed Switchyard (docs/embedding.md), then run it:
//   cmake -S examples/resume -B build-resume -DCMAKE_PREFIX_PATH=<prefix> &&
//     cmake --build build-resume && build-resume/resume examples/resume/order.json orders.db

#include <switchyard/switchyard.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <new>
#include <thread>

namespace api = switchyard::api;
using nlohmann::json;

// Calls of each builtin, in memory shared by both processes (mmap MAP_SHARED before fork).
struct Calls {
  std::atomic<int> charge{0};
  std::atomic<int> ship{0};
};

void say(const std::string& line) { std::cout << "[pid " << getpid() << "] " << line << std::endl; }

// Registers both builtins. In the child (`in_flight_fd` >= 0) Ship tells the parent that it is
// in flight, then works for a minute: long enough to be killed.
api::Status add_tools(api::Runtime& rt, Calls& calls, int in_flight_fd) {
  api::Status charge = rt.add_tool("charge", [&calls](const json&) -> api::Result<json> {
    say("Charge takes $20 (call " + std::to_string(++calls.charge) + ")");
    return json{{"charged_usd", 20}};
  });
  if (!charge.ok()) return charge;
  return rt.add_tool("ship", [&calls, in_flight_fd](const json&) -> api::Result<json> {
    say("Ship books a courier (call " + std::to_string(++calls.ship) + ")");
    if (in_flight_fd >= 0 && write(in_flight_fd, "!", 1) == 1) {
      std::this_thread::sleep_for(std::chrono::minutes(1));
    }
    return json{{"tracking", "SH-1"}};
  });
}

// The child: runs the order until it is killed.
[[noreturn]] void child(const std::string& db, const api::Workflow& w, const std::string& id,
                        Calls& calls, int in_flight_fd) {
  auto rt = api::Runtime::open({.journal_path = db, .threads = 1});
  if (!rt.ok() || !add_tools(**rt, calls, in_flight_fd).ok()) _exit(10);
  (void)(*rt)->run(w, {.run_id = id});
  _exit(11);  // not reached: killed while Ship works
}

int main(int argc, char** argv) {
  auto workflow = api::Workflow::from_file(argc > 1 ? argv[1] : "order.json");
  if (!workflow.ok()) {
    std::cerr << workflow.status().message() << "\n";
    return 2;
  }
  const std::string db = argc > 2 ? argv[2] : "orders.db";
  const std::string id = "order-" + std::to_string(getpid());
  void* shared =
      mmap(nullptr, sizeof(Calls), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int pipe_fds[2];
  if (shared == MAP_FAILED || pipe(pipe_fds) != 0) return 1;
  Calls& calls = *new (shared) Calls;

  std::cout.flush();  // (fork before any thread: this process has none yet)
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) child(db, *workflow, id, calls, pipe_fds[1]);
  close(pipe_fds[1]);
  char in_flight = 0;
  if (read(pipe_fds[0], &in_flight, 1) != 1) return 1;  // the child died before Ship
  kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) {
    say("killed the child, pid " + std::to_string(pid) + ", with Ship in flight");
  }

  // A second Runtime on the same journal: the run is still "running", owned by a dead process.
  auto rt = api::Runtime::open({.journal_path = db, .threads = 1});
  if (!rt.ok() || !add_tools(**rt, calls, -1).ok()) return 1;
  auto before = (*rt)->get_run(id);
  if (!before.ok()) return 1;
  say("journal: " + id + " is " + std::string(api::to_string(before->status)) + ", owner pid " +
      std::to_string(before->owner_pid) + ", last event #" + std::to_string(before->head_seq));

  api::Result<api::RunSummary> resumed = (*rt)->resume(id);
  if (!resumed.ok()) {
    std::cerr << resumed.status().to_string() << "\n";
    return 1;
  }
  say("resumed: " + std::string(api::to_string(resumed->status)) + ": " + resumed->message);
  say("calls in all: charge " + std::to_string(calls.charge) + ", ship " +
      std::to_string(calls.ship));
  return calls.charge == 1 && calls.ship == 1 ? 0 : 1;
}
