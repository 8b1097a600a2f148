#include "runtime/replay/verify.h"

#include "graph/load.h"
#include "runtime/base/hash.h"
#include "runtime/engine/reenact.h"

namespace switchyard::runtime {

Result<std::shared_ptr<const graph::Workflow>> journaled_workflow(const Journal& journal,
                                                                  const RunRecord& run) {
  auto source = journal.workflow_source(run.workflow_hash);
  if (!source.ok()) return source.status();
  const std::string name = "journal:" + run.workflow_hash.substr(0, 12);
  graph::LoadResult loaded = graph::load(*source, name);
  if (!loaded.ok()) {
    return invalid_argument("the journal's copy of workflow " + run.workflow + " does not load: " +
                            loaded.errors.front().to_string());
  }
  return loaded.workflow;
}

nlohmann::json VerifyReport::to_json() const {
  auto check = [](const Status& s) {
    return nlohmann::json{{"ok", s.ok()}, {"error", s.ok() ? nlohmann::json(nullptr) : nlohmann::json(s.message())}};
  };
  nlohmann::json decisions = check(this->decisions);
  decisions["verified"] = verified;
  nlohmann::json doc = {{"run_id", run_id}, {"ok", ok()}, {"events", events},
                        {"chain", check(chain)}, {"decisions", decisions}};
  if (interrupted_at > 0) doc["interrupted_at"] = interrupted_at;
  return doc;
}

Result<VerifyReport> verify_run(const Journal& journal, const std::string& run_id) {
  auto run = journal.get_run(run_id);
  if (!run.ok()) return run.status();
  auto events = journal.events(run_id);
  if (!events.ok()) return events.status();
  VerifyReport report;
  report.run_id = run_id;
  report.events = static_cast<std::int64_t>(events->size());
  report.chain = verify_chain(*run, *events);
  if (run->status == "running") {
    // Interrupted by a service shutdown: a stop as consistent as a finish, up to where it stood.
    if (events->empty() || events->back().type != "run_interrupted") {
      report.decisions =
          failed_precondition("run " + run_id + " has not finished (resume it first)");
      return report;
    }
    report.interrupted_at = events->back().seq;
  }
  auto workflow = journaled_workflow(journal, *run);
  if (!workflow.ok()) {
    report.decisions = workflow.status();
    return report;
  }
  // The decisions are re-driven from the events as stored: a chain that is broken is reported
  // as such, and what the tampered events now say is checked too.
  auto reenacted = reenact(**workflow, *events, /*complete=*/report.interrupted_at == 0);
  if (!reenacted.ok()) {
    report.decisions = reenacted.status();
    return report;
  }
  report.verified = (*reenacted)->verified();
  return report;
}

}  // namespace switchyard::runtime
