#pragma once
// Small RAII and binding helpers over the SQLite C API, shared by the journal's .cc files.
// Private to runtime/ (the only place that includes sqlite3.h).

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "graph/json_read.h"
#include "graph/status.h"

namespace switchyard::runtime::sqlite {

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }
  // Resets and clears bindings for the next use.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// (Not named `bind`: std::bind would win overload resolution through ADL on std::string.)
inline void bind_value(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
// Binds without a copy. REQUIRES: `v` stays as it is until the statement is stepped and reset,
// and the parameter is bound again before the next step.
inline void bind_static(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
inline void bind_static(sqlite3_stmt* s, int i, std::string&&) = delete;
inline void bind_value(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }

inline std::string column_text(sqlite3_stmt* s, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : "";
}

// A text column as valid UTF-8 (invalid sequences replaced, graph/json_read.h): the file may
// have been written by anyone, and what is read goes into JSON and messages.
inline std::string column_utf8(sqlite3_stmt* s, int i) { return valid_utf8(column_text(s, i)); }

inline bool column_is_null(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL;
}

// A column's text is never parsed here: what the journal stores is decoded, checked, by
// runtime/journal/rows.h.

// The Status for a failed SQLite call on `db` about journal `path`, by SQLite's primary result
// code: a lock held too long is kUnavailable, a full disk (or the journal's size limit)
// kResourceExhausted, anything else (a corrupt file, a read-only one...) kIo. `what` says what
// was being done.
Status error_status(sqlite3* db, const std::string& path, const std::string& what);

// Executes `sql` (one or more statements without results). On error, error_status().
Status exec(sqlite3* db, const std::string& path, const char* sql);

}  // namespace switchyard::runtime::sqlite
