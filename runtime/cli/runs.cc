// switchyard runs [--journal DB] [--status S] [--name W] [--since T] [--until T] [--limit N]
//                 [--json]

#include <iomanip>
#include <ostream>

#include "graph/json_read.h"
#include "runtime/base/money.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/format.h"
#include "runtime/cli/session.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/waiting.h"

namespace switchyard::cli {
namespace {

struct RunsArgs {
  std::string journal = default_journal_path();
  std::string status;
  std::string name;
  std::string workflow;  // deprecated spelling of --name
  std::string since;
  std::string until;
  int limit = 50;
  bool json = false;
};

int runs(Context& ctx, const RunsArgs& args) {
  runtime::RunFilter filter;
  if (!args.status.empty()) filter.status = args.status;
  if (!args.workflow.empty()) {
    warn_deprecated(ctx, "runs --workflow NAME", "runs --name NAME (--workflow is a file)");
    filter.workflow = args.workflow;
  }
  if (!args.name.empty()) filter.workflow = args.name;
  const std::int64_t now_ms = now_unix_ms();
  for (auto [flag, value, out] : {std::tuple{"--since", &args.since, &filter.since_ms},
                                  std::tuple{"--until", &args.until, &filter.until_ms}}) {
    if (value->empty()) continue;
    auto ms = time_arg(flag, *value, now_ms);
    if (!ms.ok()) return report_error(ctx, ms.status(), args.json);
    *out = *ms;
  }
  filter.limit = args.limit;
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  // A running run held at a wait is listed `waiting` (docs/waits.md#waiting-runs).
  auto list = runtime::list_runs_showing_waits(**journal, filter);
  if (!list.ok()) return report_error(ctx, list.status(), args.json);
  // A row that cannot be decoded is listed without what cannot be (RunRecord::defect), and said.
  std::vector<std::string> defects;
  for (const auto& r : *list) {
    if (!r.defect.empty()) defects.push_back(r.defect);
  }
  warn_skipped(ctx, defects, args.journal);

  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *list) out.push_back(run_json(r));
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                               {"runs", out}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  out << std::left << std::setw(36) << "run" << std::setw(26) << "workflow" << std::setw(11)
      << "status" << std::setw(26) << "started" << std::setw(10) << "duration" << std::setw(12)
      << "spent"
      << "path\n";
  for (const auto& r : *list) {
    // The result is read through JsonView (graph/json_read.h): what is not there shows as "-".
    const JsonView result(r.result);
    auto path = result.is_object() ? result.optional_field("path")
                                   : Result<std::optional<JsonView>>(std::optional<JsonView>());
    auto usd = result.is_object() ? result.number_or("spent_usd", 0.0) : Result<double>(-1.0);
    out << std::left << std::setw(36) << r.run_id << std::setw(26) << r.workflow << std::setw(11)
        << r.status << std::setw(26) << iso8601(r.started_ms) << std::setw(10)
        << (r.finished_ms ? duration(r.finished_ms - r.started_ms) : "-") << std::setw(12)
        << (usd.ok() && *usd >= 0 ? runtime::usd_text(*usd) : "-")
        << (path.ok() && *path && (*path)->is_array() ? route_text((*path)->json()) : "-") << "\n";
  }
  out << list->size() << " run(s) in " << runtime::printable_location(args.journal) << "\n";
  return kExitOk;
}

}  // namespace

void add_runs(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("runs", "List the runs in a journal, newest first");
  auto args = std::make_shared<RunsArgs>();
  add_journal_option(cmd, args->journal);
  cmd->add_option("--status", args->status, "Only runs with this status")
      ->check(CLI::IsMember({"running", "waiting", "completed", "demoted", "escalated", "failed"}));
  cmd->add_option("--name", args->name, "Only runs of the workflow of this name");
  cmd->add_option("--workflow", args->workflow, "Deprecated: --name");
  cmd->add_option("--since", args->since,
                  "Only runs started at or after this time: a UTC date or time "
                  "(2026-11-24, 2026-11-24T14:00:00Z) or a duration ago (10m, 2h, 7d)");
  cmd->add_option("--until", args->until, "Only runs started before this time (as --since)");
  cmd->add_option("--limit", args->limit, "At most this many runs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = runs(ctx, *args); });
}

}  // namespace switchyard::cli
