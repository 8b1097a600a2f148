#include "runtime/journal/wal_checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

#include "runtime/base/log.h"

namespace switchyard::runtime {

WalCheckpointer::WalCheckpointer(sqlite3* writer, std::string path, int busy_timeout_ms,
                                 Observer on_checkpoint)
    : writer_(writer),
      path_(std::move(path)),
      busy_timeout_ms_(busy_timeout_ms),
      on_checkpoint_(std::move(on_checkpoint)) {
  thread_ = std::thread([this] { loop(); });
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int log_pages) {
  auto* me = static_cast<WalCheckpointer*>(self);
  if (log_pages >= kInlinePages) {
    // Copies what the background has not, so that the next transaction starts the log over.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (log_pages >= kBackgroundPages) {
    {
      std::lock_guard lock(me->mu_);
      me->wanted_ = true;
    }
    me->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::loop() {
  pthread_setname_np(pthread_self(), "sy-checkpoint");
  sqlite3* db = nullptr;  // opened at the first checkpoint: a journal only read never needs one
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) break;
    wanted_ = false;
    lock.unlock();
    if (db == nullptr) {
      if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                          nullptr) != SQLITE_OK) {
        logger().warn("journal {}: cannot open a connection to checkpoint: {}", path_,
                      sqlite3_errmsg(db));
        sqlite3_close(db);
        db = nullptr;
      } else {
        sqlite3_busy_timeout(db, busy_timeout_ms_);
        // A connection enters WAL mode with its first read; until then it has no log to
        // checkpoint (sqlite3_wal_checkpoint_v2 would do nothing and report -1).
        sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
      }
    }
    if (db != nullptr) {
      int log_pages = 0, done = 0;
      const int rc =
          sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &done);
      // Busy: another checkpoint is running; the next commit asks again.
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        logger().warn("journal {}: checkpoint failed: {}", path_, sqlite3_errmsg(db));
      } else if (rc == SQLITE_OK && on_checkpoint_) {
        on_checkpoint_(log_pages, done);
      }
    }
    lock.lock();
  }
  lock.unlock();
  sqlite3_close(db);
}

}  // namespace switchyard::runtime
