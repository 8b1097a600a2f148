#pragma once
// Journal records as text for people: times, durations, routes and one-line event summaries.
// Shared by the commands that print journals (runs, replay) and the replay pictures
// (runtime/replay/render.h). Pure functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// "2026-11-24T14:22:23.123Z" for Unix milliseconds.
std::string iso8601(std::int64_t unix_ms);
// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.mmm][Z]" (UTC) to Unix milliseconds.
std::optional<std::int64_t> parse_iso8601(const std::string& text);
// "850ms", "12.4s", "3m05s".
std::string duration(std::int64_t ms);
// Parses an age like "30d", "12h", "90m", "45s" or "500ms": digits, then one unit (d, h, m, s,
// ms). nullopt for anything else (no number, no or unknown unit, a sign, spaces, overflow).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// A one-line human summary of an event's payload, chosen per event type.
std::string summarize(const Event& event);
// "A -> B -> C" for a JSON array of names.
std::string route_text(const nlohmann::json& names);
// The strings of the array at payload[key], in order (other elements skipped); empty when the
// key is missing or not an array.
std::vector<std::string> payload_strings(const nlohmann::json& payload, const char* key);
// A run's row as JSON (runs --json, replay --format json).
nlohmann::json run_json(const RunRecord& run);
// An event as `replay --format json` lists it: {"seq", "time_ms", "type", "payload"}.
nlohmann::json event_json(const Event& event);
// The run's timeline as `replay` prints it: a header line, then one line per event.
std::string timeline_text(const RunRecord& run, const std::vector<Event>& events);

}  // namespace switchyard::runtime
