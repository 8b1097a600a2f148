#include "runtime/replay/verify.h"

#include <algorithm>

#include "graph/load.h"
#include "runtime/base/hash.h"
#include "runtime/engine/reenact.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {

Result<std::shared_ptr<const graph::Workflow>> journaled_workflow(const Journal& journal,
                                                                  const RunRecord& run) {
  auto source = journal.workflow_source(run.workflow_hash);
  if (!source.ok()) return source.status();
  const std::string name = "journal:" + run.workflow_hash.substr(0, 12);
  graph::LoadResult loaded = graph::load(*source, name);
  if (!loaded.ok()) {
    return invalid_argument("the journal's copy of workflow " + run.workflow +
                            " does not load: " + loaded.errors.front().to_string());
  }
  return loaded.workflow;
}

nlohmann::json VerifyReport::to_json() const {
  auto check = [](const Status& s) {
    return nlohmann::json{
        {"ok", s.ok()},
        {"error", s.ok() ? nlohmann::json(nullptr) : nlohmann::json(valid_utf8(s.message()))}};
  };
  nlohmann::json decisions = check(this->decisions);
  decisions["verified"] = verified;
  nlohmann::json doc = {{"run_id", run_id},      {"ok", ok()},
                        {"events", events},      {"rows", check(rows)},
                        {"chain", check(chain)}, {"decisions", decisions}};
  if (interrupted_at > 0) doc["interrupted_at"] = interrupted_at;
  return doc;
}

namespace {

// The report of a run with a row that cannot be decoded: that row, and nothing else checked.
VerifyReport undecodable(const std::string& run_id, const Status& rows) {
  VerifyReport report;
  report.run_id = run_id;
  report.rows = rows;
  report.chain = failed_precondition("not checked: a row of the run cannot be decoded");
  report.decisions = report.chain;
  return report;
}

}  // namespace

Result<VerifyReport> verify_run(const Journal& journal, const std::string& run_id) {
  auto run = journal.get_run(run_id);
  if (!run.ok() && run.status().code() == StatusCode::kInvalidArgument) {
    return undecodable(run_id, run.status());
  }
  if (!run.ok()) return run.status();
  auto events = journal.events(run_id);
  if (!events.ok() && events.status().code() == StatusCode::kInvalidArgument) {
    return undecodable(run_id, events.status());
  }
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

Result<std::int64_t> verify_event_rows(const graph::Workflow& workflow,
                                       const std::vector<EventRow>& rows, bool complete,
                                       const std::string& run_id) {
  std::vector<Event> events;
  events.reserve(rows.size());
  std::int64_t seq = 0;
  for (const EventRow& row : rows) {
    auto e = decode_event_row(run_id, ++seq, row.time_ms, row.type, row.payload, "");
    if (!e.ok()) return e.status();
    events.push_back(std::move(e).value());
  }
  auto reenacted = reenact(workflow, events, complete);
  if (!reenacted.ok()) return reenacted.status();
  return (*reenacted)->verified();
}

std::vector<EventRow> event_rows_from_lines(std::string_view text) {
  std::vector<EventRow> rows;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::size_t space = std::min(line.find(' '), line.size());
    rows.push_back({std::string(line.substr(0, space)),
                    std::string(line.substr(std::min(space + 1, line.size()))),
                    static_cast<std::int64_t>(rows.size() + 1) * 1000});
  }
  return rows;
}

}  // namespace switchyard::runtime
