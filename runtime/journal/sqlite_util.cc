#include "runtime/journal/sqlite_util.h"

namespace switchyard::runtime::sqlite {

Status error_status(sqlite3* db, const std::string& path, const std::string& what) {
  if (db == nullptr) return io_error("journal " + path + ": " + what + ": out of memory");
  const int rc = sqlite3_errcode(db);
  const std::string detail = sqlite3_errmsg(db);
  const std::string prefix = "journal " + path + ": " + what + ": ";
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {StatusCode::kUnavailable, prefix + "the journal is locked by another process (" +
                                            detail +
                                            "); nothing was written, try again when it is done"};
    case SQLITE_FULL:
      return {StatusCode::kResourceExhausted,
              prefix + "the disk (or the journal's size limit) is full (" + detail +
                  "); nothing of this write was kept, every event committed before is intact"};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return io_error(prefix + "the file is corrupt or not a journal (" + detail +
                      "); it was not modified: restore it from a backup or check it with "
                      "`sqlite3 " +
                      path + " 'PRAGMA integrity_check'`");
    default:
      return io_error(prefix + detail);
  }
}

Status exec(sqlite3* db, const std::string& path, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    sqlite3_free(message);
    return error_status(db, path, "cannot execute");
  }
  return Status();
}

}  // namespace switchyard::runtime::sqlite
