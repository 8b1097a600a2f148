#pragma once
// What `run` and `resume` share: a workflow's tools and models, the journal, the health monitor
// rebuilt from the journal, learned escalation's memory, and a Runner over them; and how a
// finished run is printed.

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "monitors/health_table.h"
#include "runtime/cli/cli.h"
#include "runtime/journal/journal.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/runner.h"
#include "runtime/base/system_clock.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::cli {

struct RunSession {
  std::shared_ptr<const graph::Workflow> workflow;
  tools::Models models;
  std::shared_ptr<tools::ToolSet> tools;
  std::unique_ptr<runtime::Journal> journal;
  runtime::SystemClock clock;
  std::unique_ptr<monitors::HealthTable> health;
  runtime::LlmHistory history;
  std::unique_ptr<runtime::Runner> runner;
};

// --sync normal|full as the journal's option.
runtime::JournalSync parse_sync(const std::string& sync);

// Opens the journal for writing. On error, reports it and returns null with ctx.exit_code set.
std::unique_ptr<runtime::Journal> open_journal_for_runs(Context& ctx, const std::string& path,
                                                        const std::string& sync, bool json);

// First half of a session: `workflow`, the models file (may be "") and the tools. Checks
// everything about the input before a journal is touched. On error: reports it, sets
// ctx.exit_code and returns null.
std::unique_ptr<RunSession> make_session(Context& ctx,
                                         std::shared_ptr<const graph::Workflow> workflow,
                                         const std::string& models_path, bool json);

// Second half: the journal (moved in), the health rebuilt from it (real runs) or the scenario's
// known tools, learned escalation's history, and the Runner. False (reported, ctx.exit_code set)
// on error.
bool attach_journal(Context& ctx, RunSession& session, std::unique_ptr<runtime::Journal> journal,
                    bool json);

// The exit code of a finished run: 0 when it completed or was demoted, else 1 (docs/cli.md).
int exit_code_of(const runtime::RunReport& report);

// Prints a finished run (`run`, `resume`): --json or the human summary. Returns its exit code.
int print_report(Context& ctx, const runtime::RunReport& report, const RunSession& session,
                 const std::string& journal_path, bool json);

}  // namespace switchyard::cli
