#pragma once
// The library's loggers. Logs are for operators; decisions go to the journal.
// Library code never chooses sinks or patterns: a layer's logger shares the sinks of spdlog's
// default logger, which the program (the CLI, an embedding service) configures before using the
// runtime. graph/, monitors/ and tools/ never log.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace switchyard::runtime {

// The logger of the layer `name` ("runtime", "service"): the one the program registered under
// that name, if any, else a clone of the default logger (its sinks) named so. The one way a layer
// gets its logger: call once and keep it (each layer's logger()). Thread-safe.
std::shared_ptr<spdlog::logger> layer_logger(const std::string& name);

// The named logger "runtime". Thread-safe.
spdlog::logger& logger();

}  // namespace switchyard::runtime
