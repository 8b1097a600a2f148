#pragma once
// WalCheckpointer: copies the SQLite journal's write-ahead log back into the database file on a
// thread (and connection) of its own, so that the journal's single writer never stops to do it.
//
// It replaces SQLite's automatic checkpoint on the writer's connection (sqlite3_wal_hook): after
// each commit that leaves at least kBackgroundPages in the log, the checkpointer is woken up and
// runs a PASSIVE checkpoint, which neither waits for nor blocks the writer. The log can only
// start over from its beginning when a writer begins while it is wholly copied, which a writer
// that never stops rarely finds; so once it holds kInlinePages the writer checkpoints too, right
// after its commit, as SQLite would: by then the background has copied nearly all of it, the
// writer copies the rest, and its next transaction starts the log over. The log stays under
// ~32 MiB and the writer does a small part of the copying. Internal to the journal.
//
// Thread-safety: constructed and destroyed by the journal; the hook runs on the writer's thread.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace switchyard::runtime {

class WalCheckpointer {
 public:
  static constexpr int kBackgroundPages = 4096;  // 16 MiB of log with 4 KiB pages
  static constexpr int kInlinePages = 16384;     // 64 MiB of log with 4 KiB pages

  // REQUIRES: `writer` is the journal's connection to `path` in WAL mode and outlives this.
  // `on_checkpoint` (may be null) is told of each background checkpoint, on its thread.
  using Observer = std::function<void(int log_pages, int checkpointed_pages)>;
  WalCheckpointer(sqlite3* writer, std::string path, int busy_timeout_ms, Observer on_checkpoint);
  // Stops the thread and closes its connection (before the writer closes: the last connection
  // to close checkpoints what is left and removes the log).
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int log_pages);
  void loop();

  sqlite3* writer_;
  std::string path_;
  int busy_timeout_ms_;
  Observer on_checkpoint_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace switchyard::runtime
