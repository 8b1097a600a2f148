#pragma once
// The service's logger ("service", runtime::layer_logger: the default logger's sinks). Never
// given a token or a secret header: requests are logged by method, path, status and token number.

#include <spdlog/spdlog.h>

namespace switchyard::service {

// Thread-safe.
spdlog::logger& logger();

}  // namespace switchyard::service
