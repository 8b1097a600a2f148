#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/) ids of a run's spans, derived from the
// run id, the tool and the call number alone: the OpenTelemetry exporter (runtime/journal/
// otlp_exporter.h), which builds the spans from journal events, and the http tool, which sends a
// `traceparent` header, agree on them without sharing state, and a resumed run continues the same
// trace. docs/tracing.md. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::tools {

// 32 lower-case hex digits, never all zero: the trace of run `run_id`.
std::string trace_id_hex(std::string_view run_id);
// 16 hex digits, never all zero: the span of the run itself.
std::string run_span_id_hex(std::string_view run_id);
// 16 hex digits, never all zero: the span of call number `call` (1-based, per tool, as the
// step_started event's `call`) of tool `tool` in the run.
std::string call_span_id_hex(std::string_view run_id, std::string_view tool, int call);
// The same ids as numbers (a trace id is two), and their hex appended to `out` without a
// temporary string: what the exporter writes span after span.
std::uint64_t run_span_id(std::string_view run_id);
std::uint64_t call_span_id(std::string_view run_id, std::string_view tool, int call);
void append_trace_id_hex(std::string& out, std::string_view run_id);
void append_span_id_hex(std::string& out, std::uint64_t span_id);

// "00-<trace id>-<call span id>-01": the traceparent header of that call's request.
std::string traceparent(std::string_view run_id, std::string_view tool, int call);

// Whether http tools send `traceparent` (off by default; on while spans are exported:
// `--otlp-endpoint`).
void set_traceparent_enabled(bool enabled);
bool traceparent_enabled();

}  // namespace switchyard::tools
