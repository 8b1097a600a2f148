#pragma once
// A tool's health as JSON: what `switchyard health --json` and the service's GET /v1/health print
// per tool (docs/cli.md lists the fields). Pure; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>

#include "graph/clock.h"
#include "monitors/health_table.h"

namespace switchyard::runtime {

// Unix milliseconds of a clock's time point.
std::int64_t unix_ms_of(Clock::TimePoint t);

// Every field of `h`; a factor of +infinity is "inf", absent times are null.
nlohmann::json tool_health_json(const monitors::ToolHealth& h);

}  // namespace switchyard::runtime
