#pragma once
// The `switchyard` command-line program: one file per command under runtime/cli/, each adding
// its subcommand to the CLI11 app. Exit codes (docs/cli.md): 0 success, 1 the run ended but not
// completed/demoted (or a check failed), 2 bad usage or invalid input, 3 internal or I/O error.
// Human output goes to stdout; --json prints exactly one JSON document; logs go to stderr.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "graph/json_read.h"
#include "graph/load.h"
#include "graph/status.h"
#include "runtime/eval/chaos.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotCompleted = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitInternal = 3;
// `resume`: a run is held at a wait nothing there can resolve; it is left unfinished.
inline constexpr int kExitHeld = 4;

// Shared state of one invocation: the exit code the selected command sets, and the streams.
struct Context {
  int exit_code = kExitOk;
  std::ostream* out = nullptr;  // stdout
  std::ostream* err = nullptr;  // stderr
  // Whether what the journal's readers skipped has been said (it is said once per invocation,
  // however many runs `resume --all` starts: runtime/cli/session.h's warn_skipped).
  bool skipped_said = false;
};

// Each adds its subcommand to `app`; the subcommand's callback sets ctx.exit_code.
void add_validate(CLI::App& app, Context& ctx);
void add_run(CLI::App& app, Context& ctx);
void add_eval(CLI::App& app, Context& ctx);
void add_runs(CLI::App& app, Context& ctx);
void add_replay(CLI::App& app, Context& ctx);
void add_output(CLI::App& app, Context& ctx);
void add_chaos(CLI::App& app, Context& ctx);
void add_health(CLI::App& app, Context& ctx);
void add_budget(CLI::App& app, Context& ctx);
void add_tenants(CLI::App& app, Context& ctx);  // tenants and tenants set (tenants.cc)
// `budget --tenant KEY` (tenants.cc): tenant `key`'s row and the runs (of `workflow`, when given)
// that name it, with what each reserved and was charged; returns the exit code.
int tenant_budget(Context& ctx, const std::string& journal, const std::string& key,
                  const std::optional<std::string>& workflow, bool json);
void add_gc(CLI::App& app, Context& ctx);
void add_resume(CLI::App& app, Context& ctx);
void add_serve(CLI::App& app, Context& ctx);
void add_journal(CLI::App& app, Context& ctx);
void add_mcp(CLI::App& app, Context& ctx);
// waits, approve, reject, signal: clients of a running `switchyard serve` (runtime/cli/waits.cc).
void add_waits(CLI::App& app, Context& ctx);
void add_worker(CLI::App& app, Context& ctx);  // worker and enqueue (worker.cc)

// --sync normal|full (run, resume): how hard each journal commit is pushed to disk.
void add_sync_option(CLI::App* cmd, std::string& sync);

// --throttle-lease DURATION (worker, serve), default 10s: on a PostgreSQL journal, how long a
// throttled call's slot is held without being renewed (JournalOptions::throttle_lease,
// docs/scale-out.md#limits-across-workers). throttle_lease_arg reads it: a duration > 0, errors
// (kInvalidArgument) naming the flag.
void add_throttle_lease_option(CLI::App* cmd, std::string& lease);
Result<std::chrono::milliseconds> throttle_lease_arg(const std::string& text);

// --journal FILE, default default_journal_path(): the SQLite journal the command uses. The one
// definition of the option for every command; `creates`: the command makes the file when it is
// missing (run, serve), which the help says.
void add_journal_option(CLI::App* cmd, std::string& journal, bool creates = false);
// A --journal option of a command's own (with no default, e.g. approve's) that the global
// --journal also sets when the command's is not given.
void follow_global_journal(const CLI::Option* option, std::string& journal);
// The RUN_ID argument (resolve_run_id reads it): the one definition, and help, of every command
// that takes a run; `listed_by` is the command that lists candidates. Returns it, to be made
// required by the caller when it is.
CLI::Option* add_run_id_argument(CLI::App* cmd, std::string& run_id,
                                 const std::string& listed_by = "switchyard runs");
// `switchyard --journal FILE COMMAND ...`: FILE for every command's --journal not given after
// the command (which wins). Call once parsing is complete, before the commands' callbacks.
void apply_global_journal(const std::string& journal);

// Prints a chaos report to ctx.out (a table, or one JSON document when `json`). Returns the exit
// code of `switchyard chaos`: kExitNotCompleted when any run failed silently, else kExitOk.
int print_chaos(Context& ctx, const runtime::ChaosReport& report, bool json);

// The exit code for a non-OK status: kInvalidArgument/kNotFound -> 2, everything else -> 3.
int exit_code_for(const Status& status);

// A journal read's error as the commands report it: a row that cannot be decoded
// (kInvalidArgument from Journal::get_run or events, naming the row) is the journal's fault, not
// the caller's: kIo (exit 3). Other errors are returned as they are.
Status journal_error(const Status& status);
// `j` as --json prints it: indented by 2; invalid UTF-8 in a string (a message quoting the bytes
// of a file or of a journal row) printed as U+FFFD instead of thrown about by dump().
std::string json_text(const nlohmann::json& j);

// Prints "error: <message>" to ctx.err, or {"error": {...}} to ctx.out when `json`; returns the
// exit code for `status`.
int report_error(Context& ctx, const Status& status, bool json);

// Prints a workflow's load errors (and warnings) to ctx.err, or as {"errors": [...]} JSON.
void report_diagnostics(Context& ctx, const graph::LoadResult& result, bool json);

// Diagnostic as JSON: {"file", "pointer", "message", "line"?, "column"?}.
nlohmann::json to_json(const graph::Diagnostic& d);

// The one grammar of the commands' arguments (docs/cli.md#arguments):
//
// A duration: digits then a unit, `500ms 45s 10m 2h 7d` (runtime::parse_duration). Errors are
// kInvalidArgument naming `flag` and the forms.
Result<std::chrono::milliseconds> duration_arg(const std::string& flag, const std::string& text);
// A point in time: a UTC date or date-time (`2026-11-24`, `2026-11-24T14:00:00Z`), or a duration
// meaning that long before `now_ms` (`10m`: ten minutes ago). Unix milliseconds.
Result<std::int64_t> time_arg(const std::string& flag, const std::string& text,
                              std::int64_t now_ms);
// The milliseconds since the epoch now (system clock).
std::int64_t now_unix_ms();
// " (did you mean X?)" naming the known names closest to `word` (edit distance at most a third
// of its length, from 1 to 3; or `word` a prefix of the name), or "" when none is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& known);
// A RUN_ID argument as the commands take it: a whole run id, a unique prefix of one, or `last`
// (the newest run). kNotFound when nothing matches; kInvalidArgument for an ambiguous prefix,
// listing the candidates (at most 10).
Result<std::string> resolve_run_id(const runtime::Journal& journal, const std::string& arg);
// The text that ends every command's --help: the exit codes.
extern const char* const kExitCodesFooter;
// Says on stderr that `old_name` is deprecated in favour of `new_name` (removed in the next
// release).
void warn_deprecated(Context& ctx, const std::string& old_name, const std::string& new_name);

// Opens the journal named by --journal (default "switchyard.db"); errors are kIo.
// Declared here so every command opens journals the same way.
std::string default_journal_path();

// For the long-running commands (serve, worker), which stop on SIGTERM or SIGINT: blocks both in
// the calling thread, and so in every thread it starts afterwards (they inherit the mask), so
// that only the caller's sigwait() on the returned set takes them; and ignores SIGPIPE. Call it
// before any other thread is started.
sigset_t block_stop_signals();

}  // namespace switchyard::cli
