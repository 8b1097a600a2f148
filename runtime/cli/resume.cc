// switchyard resume RUN_ID|--all [--journal DB] [--workflow WF.json] [--models M] [--sync S]
//                  [--otlp-endpoint URL] [--json]
// Continues runs whose process died (docs/journal.md#resume).

#include <ostream>

#include "graph/load.h"
#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/replay/resumable.h"

namespace switchyard::cli {
namespace {

struct ResumeArgs {
  std::string run_id;
  bool all = false;
  std::string journal = default_journal_path();
  std::string workflow;  // the original file: needed when the journal's copy is redacted
  std::string models;
  std::string sync = "normal";
  std::string otlp_endpoint;
  bool json = false;
};

// The workflow to resume `run` with: --workflow (its hash must be the run's) or the journal's
// copy (unless it was journaled with secrets redacted).
Result<std::shared_ptr<const graph::Workflow>> workflow_for(const runtime::Journal& journal,
                                                            const runtime::RunRecord& run,
                                                            const ResumeArgs& args) {
  std::shared_ptr<const graph::Workflow> given;
  if (!args.workflow.empty()) {
    auto loaded = runtime::load_workflow_file(args.workflow);
    if (!loaded.ok()) return invalid_argument(loaded.errors.front().to_string());
    given = loaded.workflow;
  }
  return runtime::resume_workflow(journal, run, std::move(given), args.workflow);
}

// Why `run` has not crashed and must not be resumed ("" when it may be): a run a worker holds
// on a PostgreSQL journal is judged by its lease (the worker may live on another machine), any
// other by its owner process on this machine.
std::string still_held(const runtime::RunRecord& run) {
  if (!run.owner.empty()) {
    if (run.lease_expires_ms < now_unix_ms()) return "";
    return "held by worker " + run.owner + " (its lease runs until " +
           std::to_string(run.lease_expires_ms) + " Unix ms)";
  }
  if (runtime::owner_alive(run)) return "owned by live process " + std::to_string(run.owner_pid);
  return "";
}

// Resumes one run; prints its report. Returns the exit code.
int resume_one(Context& ctx, const ResumeArgs& args, const std::string& run_arg,
               nlohmann::json* collected) {
  auto reader = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!reader.ok()) return report_error(ctx, reader.status(), args.json);
  auto resolved = resolve_run_id(**reader, run_arg);
  if (!resolved.ok()) return report_error(ctx, resolved.status(), args.json);
  const std::string& run_id = *resolved;
  auto run = (*reader)->get_run(run_id);
  if (!run.ok()) return report_error(ctx, journal_error(run.status()), args.json);
  if (run->status != "running") {
    return report_error(ctx,
                        invalid_argument("run " + run_id + " has already finished (" + run->status +
                                         "): nothing to resume"),
                        args.json);
  }
  if (const std::string held = still_held(*run); !held.empty()) {
    return report_error(
        ctx, invalid_argument("run " + run_id + " is still " + held + ": it has not crashed"),
        args.json);
  }
  auto workflow = workflow_for(**reader, *run, args);
  if (!workflow.ok()) return report_error(ctx, workflow.status(), args.json);
  reader->reset();
  auto session = make_session(ctx, *workflow, args.models, args.json);
  if (!session) return ctx.exit_code;
  if (!start_journal(ctx, *session, args.journal, args.sync, args.json, args.otlp_endpoint)) {
    return ctx.exit_code;
  }
  // A PostgreSQL journal: the run is taken out of the workers' hands with a higher fencing
  // epoch, so that a worker (or another resume) that still thinks it holds it cannot write to it
  // (docs/scale-out.md#resume-and-workers).
  if (runtime::RunQueue* queue = session->journal->run_queue(); queue != nullptr) {
    auto epoch = queue->adopt(run_id, now_unix_ms());
    if (!epoch.ok()) {
      const Status& s = epoch.status();
      return report_error(
          ctx, s.code() == StatusCode::kFailedPrecondition ? invalid_argument(s.message()) : s,
          args.json);
    }
  }
  auto report = session->runner->resume(run_id);
  // A run held at a wait is refused and left as it was (docs/waits.md#surviving-a-restart).
  if (!report.ok() && runtime::held_at_wait(report.status())) {
    return report_error(ctx, invalid_argument(report.status().message()), args.json);
  }
  if (!report.ok()) return report_error(ctx, journal_error(report.status()), args.json);
  if (collected != nullptr) {
    collected->push_back(report->to_json());
    return exit_code_of(*report);
  }
  return print_report(ctx, *report, *session, args.journal, args.json);
}

int resume_all(Context& ctx, const ResumeArgs& args) {
  auto reader = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!reader.ok()) return report_error(ctx, reader.status(), args.json);
  runtime::RunFilter filter;
  filter.status = "running";
  filter.limit = 1 << 30;
  auto runs = (*reader)->list_runs(filter);
  if (!runs.ok()) return report_error(ctx, runs.status(), args.json);
  reader->reset();
  nlohmann::json resumed = nlohmann::json::array(), skipped = nlohmann::json::array();
  int exit = kExitOk;
  // Oldest first: the order they were started in.
  for (auto it = runs->rbegin(); it != runs->rend(); ++it) {
    if (const std::string held = still_held(*it); !held.empty()) {
      skipped.push_back({{"run_id", it->run_id}, {"reason", held}});
      continue;
    }
    const int code = resume_one(ctx, args, it->run_id, args.json ? &resumed : nullptr);
    exit = std::max(exit, code);
  }
  if (args.json) {
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                               {"resumed", resumed},
                               {"skipped", skipped}}
                    .dump(2)
             << "\n";
  } else {
    for (const auto& s : skipped) {
      *ctx.out << "skipped " << s["run_id"].get<std::string>() << ": "
               << s["reason"].get<std::string>() << "\n";
    }
    *ctx.out << runs->size() - skipped.size() << " run(s) resumed, " << skipped.size()
             << " skipped\n";
  }
  return exit;
}

}  // namespace

void add_resume(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("resume", "Continue runs whose process died, from the journal");
  auto args = std::make_shared<ResumeArgs>();
  add_run_id_argument(cmd, args->run_id, "switchyard runs --status running");
  cmd->add_flag("--all", args->all, "Every unfinished run whose process is gone");
  add_journal_option(cmd, args->journal);
  cmd->add_option("--workflow", args->workflow,
                  "The workflow file, when the journal's copy has redacted secrets");
  cmd->add_option("--models", args->models, "Models file (docs/models.md)");
  add_sync_option(cmd, args->sync);
  add_otlp_option(cmd, args->otlp_endpoint);
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] {
    if (args->all == !args->run_id.empty()) {
      ctx.exit_code =
          report_error(ctx, invalid_argument("resume takes a RUN_ID or --all"), args->json);
      return;
    }
    ctx.exit_code =
        args->all ? resume_all(ctx, *args) : resume_one(ctx, *args, args->run_id, nullptr);
  });
}

void add_sync_option(CLI::App* cmd, std::string& sync) {
  cmd->add_option("--sync", sync,
                  "normal: a commit survives a crash of the process; full: also a power loss "
                  "(fsync per commit)")
      ->capture_default_str()
      ->check(CLI::IsMember({"normal", "full"}));
}

}  // namespace switchyard::cli
