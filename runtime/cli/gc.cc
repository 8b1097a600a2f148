// switchyard gc [--journal DB] --older-than DURATION [--dry-run] [--json]: removes finished runs
// that finished more than DURATION ago (Journal::gc), and says what it removed (--dry-run: what
// it would remove, removing nothing).

#include <chrono>
#include <iomanip>
#include <limits>
#include <ostream>

#include "runtime/base/system_clock.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/format.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {
namespace {

struct GcArgs {
  std::string journal = default_journal_path();
  std::string older_than;
  bool dry_run = false;
  bool json = false;
};

// The runs that gc(finished_before_ms) removes, listed just before it does.
Result<std::vector<runtime::RunRecord>> doomed(const runtime::Journal& journal,
                                               std::int64_t finished_before_ms) {
  runtime::RunFilter filter;
  filter.until_ms = finished_before_ms;  // a run finished before the cut-off started before it
  filter.limit = std::numeric_limits<int>::max();
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  std::vector<runtime::RunRecord> out;
  for (auto& r : *runs) {
    if (r.status != "running" && r.finished_ms != 0 && r.finished_ms < finished_before_ms) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

int gc(Context& ctx, const GcArgs& args) {
  const auto age = duration_arg("--older-than", args.older_than);
  if (!age.ok()) return report_error(ctx, age.status(), args.json);
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  runtime::SystemClock().now().time_since_epoch())
                                  .count();
  const std::int64_t cutoff_ms = now_ms - age->count();
  auto listed = doomed(**journal, cutoff_ms);
  if (!listed.ok()) return report_error(ctx, listed.status(), args.json);
  // --dry-run removes nothing: `removed` is all zeros, `runs` lists what gc would remove.
  auto stats =
      args.dry_run ? Result<runtime::GcStats>(runtime::GcStats{}) : (*journal)->gc(cutoff_ms);
  if (!stats.ok()) return report_error(ctx, stats.status(), args.json);

  if (args.json) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : *listed) {
      runs.push_back({{"run_id", r.run_id},
                      {"workflow", r.workflow},
                      {"status", r.status},
                      {"finished_ms", r.finished_ms}});
    }
    *ctx.out << json_text(nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                                         {"older_than", args.older_than},
                                         {"finished_before", iso8601(cutoff_ms)},
                                         {"finished_before_ms", cutoff_ms},
                                         {"removed",
                                          {{"runs", stats->runs},
                                           {"events", stats->events},
                                           {"workflows", stats->workflows}}},
                                         {"dry_run", args.dry_run},
                                         {"runs", runs}})
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  for (const auto& r : *listed) {
    out << std::left << std::setw(36) << r.run_id << std::setw(26) << r.workflow << std::setw(11)
        << r.status << "finished " << iso8601(r.finished_ms) << "\n";
  }
  if (args.dry_run) {
    out << "would remove " << listed->size() << " run(s) that finished before "
        << iso8601(cutoff_ms) << " (older than " << args.older_than << ") from "
        << runtime::printable_location(args.journal) << " (dry run: nothing removed)\n";
    return kExitOk;
  }
  out << "removed " << stats->runs << " run(s), " << stats->events << " event(s) and "
      << stats->workflows << " workflow(s) that finished before " << iso8601(cutoff_ms)
      << " (older than " << args.older_than << ") from "
      << runtime::printable_location(args.journal) << "\n";
  return kExitOk;
}

}  // namespace

void add_gc(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "gc", "Remove finished runs (and their events) that finished longer ago than a duration");
  auto args = std::make_shared<GcArgs>();
  add_journal_option(cmd, args->journal);
  cmd->add_option("--older-than", args->older_than,
                  "Remove runs that finished longer ago than this: 30d, 12h, 90m, 45s, 500ms")
      ->required();
  cmd->add_flag("--dry-run", args->dry_run, "List what would be removed; remove nothing");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = gc(ctx, *args); });
}

}  // namespace switchyard::cli
