#pragma once
// Formatting shared by the commands that print journals (runs, replay).

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/journal.h"

namespace switchyard::cli {

// "2026-11-24T14:22:23.123Z" for Unix milliseconds.
std::string iso8601(std::int64_t unix_ms);
// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.mmm][Z]" (UTC) to Unix milliseconds.
std::optional<std::int64_t> parse_iso8601(const std::string& text);
// "850ms", "12.4s", "3m05s".
std::string duration(std::int64_t ms);
// A one-line human summary of an event's payload, chosen per event type.
std::string summarize(const runtime::Event& event);
// "A -> B -> C" for a JSON array of names.
std::string route_text(const nlohmann::json& names);
// A run's row as JSON (runs --json, replay --format json).
nlohmann::json run_json(const runtime::RunRecord& run);

}  // namespace switchyard::cli
