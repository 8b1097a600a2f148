#pragma once
// The runtime layer's logger. Logs are for operators; decisions go to the journal.
// Library code never chooses sinks or patterns: this logger shares the sinks of spdlog's default
// logger, which the program (the CLI, an embedding service) configures before using the runtime.

#include <spdlog/spdlog.h>

namespace switchyard::runtime {

// The named logger "runtime". Thread-safe.
spdlog::logger& logger();

}  // namespace switchyard::runtime
