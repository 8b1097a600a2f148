#include <pthread.h>

#include <algorithm>
#include <limits>
#include <ostream>

#include "runtime/base/system_clock.h"
#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "runtime/engine/probe_record.h"
#include "runtime/journal/text.h"

namespace switchyard::cli {

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return kExitInvalid;
    default:
      return kExitInternal;
  }
}

Status journal_error(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ? io_error(status.message()) : status;
}

int report_error(Context& ctx, const Status& status, bool json) {
  if (json) {
    *ctx.out << json_text(nlohmann::json{{"error",
                                          {{"code", std::string(to_string(status.code()))},
                                           {"message", status.message()}}}})
             << "\n";
  } else {
    *ctx.err << "error: " << status.message() << "\n";
  }
  return exit_code_for(status);
}

nlohmann::json to_json(const graph::Diagnostic& d) { return runtime::diagnostic_json(d); }

void report_diagnostics(Context& ctx, const graph::LoadResult& result, bool json) {
  if (json) {
    nlohmann::json errors = nlohmann::json::array();
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto& d : result.errors) errors.push_back(to_json(d));
    for (const auto& d : result.warnings) warnings.push_back(to_json(d));
    *ctx.out << json_text(
                    nlohmann::json{{"valid", false}, {"errors", errors}, {"warnings", warnings}})
             << "\n";
    return;
  }
  for (const auto& d : result.errors) *ctx.err << "error: " << d.to_string() << "\n";
  for (const auto& d : result.warnings) *ctx.err << "warning: " << d.to_string() << "\n";
  *ctx.err << result.errors.size() << " error(s)\n";
}

std::string default_journal_path() { return "switchyard.db"; }

namespace {

// Every command's --journal, for the global one (apply_global_journal).
std::vector<std::pair<const CLI::Option*, std::string*>>& journal_options() {
  static std::vector<std::pair<const CLI::Option*, std::string*>> options;
  return options;
}

}  // namespace

void add_journal_option(CLI::App* cmd, std::string& journal, bool creates) {
  journal = default_journal_path();
  const CLI::Option* option =
      cmd->add_option("--journal", journal,
                      creates ? "SQLite journal file (created when missing), or a "
                                "PostgreSQL database: postgresql://..."
                              : "SQLite journal file, or a PostgreSQL "
                                "database: postgresql://...")
          ->capture_default_str();
  journal_options().emplace_back(option, &journal);
}

void follow_global_journal(const CLI::Option* option, std::string& journal) {
  journal_options().emplace_back(option, &journal);
}

CLI::Option* add_run_id_argument(CLI::App* cmd, std::string& run_id, const std::string& listed_by) {
  return cmd->add_option(
      "run_id", run_id,
      "The run: its id, a unique prefix of it, or `last` (see `" + listed_by + "`)");
}

void apply_global_journal(const std::string& journal) {
  for (auto [option, target] : journal_options()) {
    if (option->count() == 0) *target = journal;
  }
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace switchyard::cli

namespace switchyard::cli {

const char* const kExitCodesFooter =
    "Exit codes:\n"
    "  0  success (a run completed, or was demoted to a fallback goal)\n"
    "  1  a run ended otherwise (escalated, failed), or a check failed\n"
    "  2  bad usage or invalid input (unknown command or option, bad value, no such run or file;\n"
    "     a service refused the request: HTTP 4xx)\n"
    "  3  internal or I/O error (the journal cannot be read or written; a service cannot be\n"
    "     reached or failed)\n"
    "  4  resume: a run is held at an approval or signal nothing there can resolve (left\n"
    "     unfinished: resolve it, e.g. approve --journal, then resume again)";

Result<std::chrono::milliseconds> duration_arg(const std::string& flag, const std::string& text) {
  auto d = runtime::parse_duration(text);
  if (!d) {
    return invalid_argument(flag + " " + text +
                            ": expected a duration: digits and a unit, like 500ms, 45s, 10m, 2h "
                            "or 7d");
  }
  return *d;
}

void add_throttle_lease_option(CLI::App* cmd, std::string& lease) {
  cmd->add_option("--throttle-lease", lease,
                  "On a PostgreSQL journal: how long a throttled call's slot is held without "
                  "being renewed; a dead process's slots are free again this long after its last "
                  "renewal (docs/scale-out.md#limits-across-workers)")
      ->capture_default_str();
}

Result<std::chrono::milliseconds> throttle_lease_arg(const std::string& text) {
  auto lease = duration_arg("--throttle-lease", text);
  if (!lease.ok()) return lease.status();
  if (lease->count() <= 0) {
    return invalid_argument("--throttle-lease " + text + ": expected more than 0 ms");
  }
  return *lease;
}

Result<std::int64_t> time_arg(const std::string& flag, const std::string& text,
                              std::int64_t now_ms) {
  if (auto ms = runtime::parse_iso8601(text)) return *ms;
  if (auto ago = runtime::parse_duration(text)) return now_ms - ago->count();
  return invalid_argument(flag + " " + text +
                          ": expected a UTC time like 2026-11-24 or 2026-11-24T14:00:00Z, or a "
                          "duration before now like 10m, 2h or 7d");
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             runtime::SystemClock().now().time_since_epoch())
      .count();
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  // Close: at most a third of the word's length apart (at least 1, at most 3), or the word a
  // prefix of the name.
  const std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  std::size_t best = limit + 1;
  std::vector<std::string> nearest;
  for (const auto& name : known) {
    std::size_t d = edit_distance(word, name);
    if (word.size() >= 3 && name.rfind(word, 0) == 0) d = std::min<std::size_t>(d, 1);
    if (d > limit || d > best) continue;
    if (d < best) nearest.clear();
    best = d;
    if (std::find(nearest.begin(), nearest.end(), name) == nearest.end()) nearest.push_back(name);
  }
  if (nearest.empty()) return "";
  std::string out = " (did you mean ";
  for (std::size_t i = 0; i < nearest.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == nearest.size() ? " or " : ", ") + nearest[i];
  }
  return out + "?)";
}

Result<std::string> resolve_run_id(const runtime::Journal& journal, const std::string& arg) {
  runtime::RunFilter filter;
  if (arg == "last") {
    // The newest run of a workflow: the monitor's own records (probes, resets) are not runs a
    // user started.
    filter.limit = 100;
    auto runs = journal.list_runs(filter);
    if (!runs.ok()) return runs.status();
    for (const auto& r : *runs) {
      if (r.workflow != runtime::kMonitorWorkflow) return r.run_id;
    }
    return not_found("last: the journal " + journal.location() + " has no run");
  }
  auto exact = journal.get_run(arg);
  // A run that exists: resolved, even when its row cannot be decoded (the command's own read
  // says so).
  if (exact.ok() || exact.status().code() != StatusCode::kNotFound) return arg;
  if (arg.empty()) return not_found("no run id given");
  filter.limit = std::numeric_limits<int>::max();
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  // A prefix, with or without the ids' "r-".
  const std::string prefix = arg.rfind("r-", 0) == 0 ? arg : "r-" + arg;
  std::vector<std::string> candidates;
  for (const auto& r : *runs) {
    if (r.run_id.rfind(arg, 0) == 0 || r.run_id.rfind(prefix, 0) == 0) {
      candidates.push_back(r.run_id);
    }
  }
  if (candidates.size() == 1) return candidates.front();
  if (candidates.empty()) {
    return not_found("run " + valid_utf8(arg) + " not found in " + journal.location() +
                     " (a run id, a unique prefix of one, or `last`: see `switchyard runs`)");
  }
  std::string message = "run id prefix " + valid_utf8(arg) +
                        " is ambiguous: " + std::to_string(candidates.size()) + " runs match:";
  for (std::size_t i = 0; i < candidates.size() && i < 10; ++i) message += " " + candidates[i];
  if (candidates.size() > 10) message += " ...";
  return invalid_argument(message);
}

void warn_deprecated(Context& ctx, const std::string& old_name, const std::string& new_name) {
  *ctx.err << "warning: " << old_name << " is deprecated and will be removed in the next release: "
           << "use " << new_name << "\n";
}

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

}  // namespace switchyard::cli
