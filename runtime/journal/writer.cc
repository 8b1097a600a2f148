#include "runtime/journal/writer.h"

#include <pthread.h>

namespace switchyard::runtime {

JournalWriter::JournalWriter(Journal& journal)
    : journal_(journal), inline_(journal.writes_inline()), thread_([this] { loop(); }) {}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void JournalWriter::submit(Write write, Ack ack) {
  if (inline_) {
    std::vector<Write> one;
    one.push_back(std::move(write));
    std::vector<Status> statuses = journal_.write_group(one);
    if (ack) ack(std::move(statuses.front()));
    return;
  }
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(write), std::move(ack)});
  }
  wake_.notify_one();
}

void JournalWriter::submit_first(Write write, Ack ack) {
  if (inline_) return submit(std::move(write), std::move(ack));
  {
    std::lock_guard lock(mu_);
    first_.push_back({std::move(write), std::move(ack)});
  }
  wake_.notify_one();
}

void JournalWriter::loop() {
  pthread_setname_np(pthread_self(), "sy-journal");
  std::deque<Item> batch;
  std::vector<Journal::Write> writes;
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || !first_.empty(); });
      if (queue_.empty() && first_.empty() && stopping_) return;
      // Everything queued so far, handled without the lock; what was queued first, on its own.
      batch.swap(first_.empty() ? queue_ : first_);
    }
    // Group commit: everything queued meanwhile is one transaction, acknowledged once durable.
    writes.clear();
    for (Item& item : batch) writes.push_back(std::move(item.write));
    std::vector<Status> statuses = journal_.write_group(writes);
    // The writes go before their acknowledgements: what a write holds is freed where its
    // acknowledgement lets go of it last (an engine writes its events so, Engine::submit_events).
    writes.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].ack) batch[i].ack(std::move(statuses[i]));
    }
    batch.clear();
  }
}

}  // namespace switchyard::runtime
