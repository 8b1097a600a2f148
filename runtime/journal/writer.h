#pragma once
// JournalWriter: one thread that performs every journal write of an Engine, in submission order
// (submit_first's ahead of the others), so that engine threads never block on disk I/O. Group
// commit: whatever was submitted while the previous group was being written becomes the next group
// (Journal::write_group: one SQLite transaction), so the cost of a commit is shared by every run
// that wrote meanwhile. Each write may carry an acknowledgement, called on the writer thread with
// the write's status once its group is durable. A journal that writes_inline() (the one in memory)
// is written on the submitting thread instead, at once, and the acknowledgement is called there
// before submit() returns: submission order is kept, and nothing waits on this thread. Internal to
// runtime/.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

class JournalWriter {
 public:
  using Ack = std::function<void(Status)>;
  using Write = Journal::Write;

  explicit JournalWriter(Journal& journal);
  // Performs what was submitted, then stops.
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Queues `write`; `ack` (optional) is called with its status once it is performed.
  void submit(Write write, Ack ack = {});
  // Queues `write` ahead of what submit() queued: the writes queued so make the next group on
  // their own (in their order), before the writes submit() queued, however many those are. For
  // a run's first write only (a claimed run's start, Engine::start_claimed), which nothing of
  // its run precedes: a run's writes stay in submission order.
  void submit_first(Write write, Ack ack = {});

 private:
  struct Item {
    Write write;
    Ack ack;
  };
  void loop();

  Journal& journal_;
  const bool inline_;  // journal_.writes_inline()
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::deque<Item> first_;  // submit_first()'s: the next group, on their own
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace switchyard::runtime
