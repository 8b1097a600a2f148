// switchyard resume RUN_ID|--all [--journal DB] [--workflow WF.json] [--models M] [--sync S]
//                  [--otlp-endpoint URL] [--json]
// Continues runs whose process died (docs/journal.md#resume).

#include <chrono>
#include <future>
#include <optional>
#include <ostream>
#include <vector>

#include "graph/load.h"
#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/engine/engine.h"
#include "runtime/replay/resumable.h"
#include "runtime/replay/wait_inbox.h"
#include "runtime/service/interrupt_gate.h"

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

// A run held at a wait (docs/waits.md#switchyard-resume-and-waits): the synchronous runner cannot
// hold it, so it is continued on an engine, in the foreground. Its held waits get what the wait
// inbox holds for them; timers (and due timeouts) fire as they fall due, and the command waits
// for them. Once the run stands at an approval or a signal that nothing here can answer, and at
// no timer, it is interrupted as a service's drain interrupts a run (run_interrupted journaled,
// the run left unfinished) and `held` names those waits. (A run that stands at such waits from
// the start is not resumed at all: runtime::stuck_at_waits.) Returns the report of a run that
// ended.
struct EngineResume {
  std::optional<runtime::RunReport> report;
  std::vector<runtime::OpenWait> held;  // interrupted at these waits
};

Result<EngineResume> resume_on_engine(RunSession& session, const std::string& run_id) {
  runtime::Journal& base = session.feed ? *session.feed : *session.journal;
  service::InterruptGate gate(base, std::chrono::milliseconds(0));
  runtime::Engine engine(
      gate, session.clock, *session.health,
      {.threads = 1, .models = &session.models, .history = session.history.get()});
  std::promise<Result<runtime::RunReport>> ended;
  auto end = ended.get_future();
  Status s =
      engine.resume(session.workflow, session.tools, run_id,
                    [&ended](Result<runtime::RunReport> r) { ended.set_value(std::move(r)); });
  if (!s.ok()) return s;
  EngineResume out;
  while (end.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
    std::vector<runtime::OpenWait> people;
    bool timer = false;
    for (runtime::OpenWait& w : engine.waits()) {
      if (w.run_id != run_id) continue;
      if (w.kind == "timer") {
        timer = true;
      } else {
        people.push_back(std::move(w));
      }
    }
    if (!people.empty() && !timer) {
      out.held = std::move(people);
      engine.cancel(run_id, service::kInterruptReason);
      break;
    }
  }
  auto report = end.get();
  if (!report.ok()) return report.status();
  if (out.held.empty()) out.report = std::move(*report);
  return out;
}

// Says that `run_id` is held at `held`, left unfinished. Returns kExitHeld.
int report_held(Context& ctx, const ResumeArgs& args, const std::string& run_id,
                const std::vector<runtime::OpenWait>& held, nlohmann::json* collected) {
  nlohmann::json waits = nlohmann::json::array();
  for (const auto& w : held) {
    waits.push_back({{"wait_id", w.wait_id}, {"kind", w.kind}, {"name", w.name}});
  }
  nlohmann::json j = {{"run_id", run_id},
                      {"status", "running"},
                      {"held", true},
                      {"waits", waits},
                      {"journal", runtime::printable_location(args.journal)}};
  if (collected != nullptr) {
    collected->push_back(std::move(j));
  } else if (args.json) {
    *ctx.out << json_text(j) << "\n";
  }
  if (args.json) return kExitHeld;
  *ctx.out << "run " << run_id << " is held at ";
  for (std::size_t i = 0; i < held.size(); ++i) {
    *ctx.out << (i == 0 ? "" : ", ") << "wait " << held[i].wait_id << " (" << held[i].kind << " '"
             << held[i].name << "')";
  }
  *ctx.out << ", which nothing here can resolve: left unfinished in "
           << runtime::printable_location(args.journal) << ".\nResolve it (switchyard "
           << (held.front().kind == "approval"
                   ? "approve " + run_id + " '" + held.front().wait_id + "'"
                   : "signal " + run_id + " '" + held.front().name + "'")
           << " --journal ...), then resume it again.\n";
  return kExitHeld;
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
  // Held at approvals or signals that nothing here can answer: left as it is, nothing journaled
  // (resuming it would only interrupt it again). Errors are left to the resume below to say.
  if (auto stuck = runtime::stuck_at_waits(**reader, run_id, now_unix_ms());
      stuck.ok() && !stuck->empty()) {
    return report_held(ctx, args, run_id, *stuck, collected);
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
  // A run held at a wait: the runner refused it, leaving it as it was; the engine holds it.
  if (!report.ok() && runtime::held_at_wait(report.status())) {
    auto held = resume_on_engine(*session, run_id);
    if (!held.ok()) return report_error(ctx, journal_error(held.status()), args.json);
    if (!held->held.empty()) return report_held(ctx, args, run_id, held->held, collected);
    report = std::move(*held->report);
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
