#pragma once
// What `run` and `resume` share: a workflow's tools and models, the journal, the health monitor
// rebuilt from the journal, learned escalation's memory (the startup sequence,
// runtime/engine/startup.h), and a Runner over them; and how a finished run is printed.

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/cli/cli.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/otlp_exporter.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::cli {

struct RunSession {
  std::shared_ptr<const graph::Workflow> workflow;
  tools::Models models;
  std::shared_ptr<tools::ToolSet> tools;
  runtime::SystemClock clock;
  std::unique_ptr<runtime::Journal> journal;
  // With --otlp-endpoint: the feed over the journal that the runner writes through, and the trace
  // exporter subscribed to it (declared so that the subscription ends first, then the exporter
  // sends what is queued, then the feed goes).
  std::unique_ptr<runtime::EventFeed> feed;
  std::unique_ptr<runtime::OtlpExporter> otlp;
  runtime::EventFeed::Subscription otlp_subscription;
  std::unique_ptr<monitors::HealthTable> health;
  std::unique_ptr<runtime::LlmHistory> history;
  std::unique_ptr<runtime::Runner> runner;
};

// --sync normal|full as the journal's option.
runtime::JournalSync parse_sync(const std::string& sync);

// Says on stderr what a reader of journal `path` skipped (runtime::skipped_summary), once per
// invocation (Context::skipped_said); nothing when it skipped nothing.
void warn_skipped(Context& ctx, const std::vector<std::string>& skipped, const std::string& path);

// First half of a session: `workflow`, the models file (may be "") and the tools. Checks
// everything about the input before a journal is touched. On error: reports it, sets
// ctx.exit_code and returns null.
std::unique_ptr<RunSession> make_session(Context& ctx,
                                         std::shared_ptr<const graph::Workflow> workflow,
                                         const std::string& models_path, bool json);

// Second half, the startup sequence (runtime/engine/startup.h) on journal `path` (opened for
// writing, `sync` as --sync): the journal, the health rebuilt from it (real runs) or the
// scenario's known tools, learned escalation's history, and the Runner. What the rebuilds
// skipped is said once on stderr. With `otlp_endpoint` (--otlp-endpoint, checked before the
// journal is touched) the run is exported as an OpenTelemetry trace (docs/tracing.md). False
// (reported, ctx.exit_code set) on error.
bool start_journal(Context& ctx, RunSession& session, const std::string& path,
                   const std::string& sync, bool json, const std::string& otlp_endpoint = "");

// --otlp-endpoint URL on `cmd` (run, resume).
void add_otlp_option(CLI::App* cmd, std::string& endpoint);

// The exit code of a finished run: 0 when it completed or was demoted, else 1 (docs/cli.md).
int exit_code_of(const runtime::RunReport& report);

// Prints a finished run (`run`, `resume`): --json or the human summary. Returns its exit code.
int print_report(Context& ctx, const runtime::RunReport& report, const RunSession& session,
                 const std::string& journal_path, bool json);

}  // namespace switchyard::cli
