#pragma once
// Journal::check for the SQLite journal: the whole file read as a reader would, every problem
// one line (docs/journal.md#checking-a-journal). Private to runtime/journal/.

#include <sqlite3.h>

#include <string>

#include "graph/status.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// SQLite's PRAGMA integrity_check, then every stored workflow copy (decoded and loaded), every
// run row (decoded), every event row (decoded and checked, runtime/journal/rows.h), each run's
// hash chain (a link recomputed from the stored text and the previous stored link, so that every
// edited row is named, not only the first), missing events, each run's head, and events without
// a run. Errors: only a read that fails (error_status). REQUIRES: nobody else uses `db` meanwhile.
Result<JournalCheck> check_sqlite_journal(sqlite3* db, const std::string& path);

}  // namespace switchyard::runtime
