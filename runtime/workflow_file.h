#pragma once
// Reading workflow files from disk (the I/O that graph/ leaves to its callers).

#include <string>

#include "graph/load.h"
#include "graph/status.h"

namespace switchyard::runtime {

// Reads `path` and loads it with graph::load. A file that cannot be read is reported as one
// error diagnostic (pointer "") naming the file and the system's reason.
graph::LoadResult load_workflow_file(const std::string& path,
                                     const graph::LoadOptions& options = {});

// Reads a whole file. Errors: kNotFound (missing), kIo (unreadable).
Result<std::string> read_file(const std::string& path);

}  // namespace switchyard::runtime
