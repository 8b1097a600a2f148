#pragma once
// Reading workflow files from disk (the I/O that graph/ leaves to its callers).

#include <nlohmann/json.hpp>
#include <string>

#include "graph/load.h"
#include "graph/status.h"

namespace switchyard::runtime {

// Reads `path` and loads it with graph::load. A file that cannot be read is reported as one
// error diagnostic (pointer "") naming the file and the system's reason.
graph::LoadResult load_workflow_file(const std::string& path,
                                     const graph::LoadOptions& options = {});

// A load diagnostic as JSON: {"file", "pointer", "message", "line"?, "column"?} (the CLI's
// --json errors and the service's error bodies).
nlohmann::json diagnostic_json(const graph::Diagnostic& d);

// Reads a whole file. Errors: kNotFound (missing), kIo (unreadable).
Result<std::string> read_file(const std::string& path);

}  // namespace switchyard::runtime
