#pragma once
// Direct SQL on a journal file, as a person with the sqlite3 shell would: how tests tamper with
// journals and read what is stored.

#include <string>

namespace switchyard::testing {

// The first column of the first row of `sql` on the database at `path` ("" if none).
std::string query_text(const std::string& path, const std::string& sql);
// Executes `sql` on the database at `path`; returns SQLite's error message ("" on success).
std::string exec_sql(const std::string& path, const std::string& sql);

}  // namespace switchyard::testing
