#pragma once
// Decoding what the journal stores: the checked boundary between a row's text and the values the
// runtime reads (docs/journal.md#a-poisoned-journal).
//
// A journal file can be edited by anyone who can write it, so every row read back is data from
// outside the process: an event's payload, a run's input and result, a stored workflow copy. Each
// is parsed under limits (graph/json_read.h) and, for events, checked field by field against
// what its type's readers read (health and history rebuild, replay, re-enactment, audit, the
// pictures): a present field of the wrong type is an error, an absent or null one is left to the
// reader's default. Both journals decode their rows here, so that a row that cannot be decoded
// is refused the same way everywhere: Journal::events fails for that run, naming the row,
//
//   run r-abc seq 7 (step_failed): /payload/tool: expected a string, got an array
//
// and every other run stays readable. `switchyard journal check` lists every such row.
// Pure functions; thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "graph/json_read.h"
#include "graph/status.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// The limits on one stored document: nesting 1024 deep, 1 GiB (SQLite's own largest value). A
// stored document holds a tool's output or a run's input, each within its own limits (a few
// levels less deep than this), so only a row edited outside the runtime can pass them.
JsonLimits journal_row_limits();

// "run r-abc seq 7 (step_failed)": how messages name a row.
std::string row_name(std::string_view run_id, std::int64_t seq, std::string_view type);

// `status` (an error about a field of `event`'s payload, "/payload/tool: ...") as the error of
// the row: kInvalidArgument "run r-abc seq 7 (step_failed): /payload/tool: ...".
Status row_error(const Event& event, const Status& status);

// Checks every field of `payload` that the runtime reads of an event of `type`: the payload is
// an object, and each such field present and not null has the type its readers expect (a
// string, an integer, an array of strings...). Fields it does not know, and types it does not
// know, are not checked. Errors are kInvalidArgument naming the field's pointer under /payload.
Status check_payload(std::string_view type, const nlohmann::json& payload);

// check_payload for `event`, as the row's error (row_error).
Status check_event(const Event& event);

// A stored event row decoded: the payload text parsed under journal_row_limits() and checked
// (check_payload). kInvalidArgument naming the row otherwise ("run r-abc seq 7 (plan): /payload:
// not JSON: ...").
Result<Event> decode_event_row(std::string run_id, std::int64_t seq, std::int64_t time_ms,
                               std::string type, std::string_view payload_text, std::string hash);

// A run row's JSON column (`input`, `result`) decoded: `text` parsed under the limits; for
// `result`, a document that is an object is checked as a run_finished payload is. kInvalidArgument
// naming the run and the column ("run r-abc: /input: not JSON: ...").
Result<nlohmann::json> decode_run_column(std::string_view run_id, std::string_view column,
                                         std::string_view text);

// The result of a run finished with a null result (Journal::finish_run): its run_finished
// event's payload (which must be an object) with "run_id" added. kInvalidArgument naming the
// event otherwise.
Result<nlohmann::json> decode_finished_result(const std::string& run_id, std::int64_t seq,
                                              nlohmann::json run_finished_payload);

// A stored workflow copy (the workflows table) decoded: parsed under the limits and an object.
// Loading it as a workflow is graph::load's job. kInvalidArgument naming the workflow's hash.
Result<nlohmann::json> decode_workflow_copy(std::string_view hash, std::string_view text);

}  // namespace switchyard::runtime

namespace switchyard::runtime {

// A queued resolution's stored body (the wait inbox, Journal::queue_resolution): its decision,
// data, reason, by and key as one JSON object.
std::string encode_resolution_body(const QueuedResolution& resolution);

// A stored inbox row decoded: `body` parsed under the limits and checked (decision one of
// approve, reject, signal; reason, by and key strings). kInvalidArgument naming the row ("run
// r-abc queued resolution 3: /decision: ...").
Result<QueuedResolution> decode_resolution_row(std::string run_id, std::int64_t id,
                                               std::string wait_id, std::int64_t time_ms,
                                               std::string_view body);

}  // namespace switchyard::runtime
