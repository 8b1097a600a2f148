#pragma once
// The SQLite journal's schema and its migrations (docs/journal.md#schema). Private to runtime/.

#include <string>

#include "graph/status.h"

struct sqlite3;

namespace switchyard::runtime {

// The schema version this build writes (PRAGMA user_version).
int journal_schema_version();

// Takes the journal from schema version `from` to `from + 1` in one transaction; on error the
// file is left as it was.
Status migrate_journal(sqlite3* db, const std::string& path, int from);

}  // namespace switchyard::runtime
