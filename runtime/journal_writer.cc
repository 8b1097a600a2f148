#include "runtime/journal_writer.h"

namespace switchyard::runtime {

JournalWriter::JournalWriter(Journal& journal) : journal_(journal), thread_([this] { loop(); }) {}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void JournalWriter::submit(Write write, Ack ack) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(write), std::move(ack)});
  }
  wake_.notify_one();
}

void JournalWriter::loop() {
  std::deque<Item> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);  // everything queued so far, handled without the lock
    }
    for (Item& item : batch) {
      Status s = item.write(journal_);
      if (item.ack) item.ack(std::move(s));
    }
    batch.clear();
  }
}

}  // namespace switchyard::runtime
