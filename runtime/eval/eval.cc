#include "runtime/eval/eval.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "graph/router.h"
#include "monitors/health_table.h"
#include "runtime/base/workflow_file.h"
#include "runtime/engine/reenact.h"
#include "runtime/engine/runner.h"
#include "runtime/eval/audit.h"
#include "runtime/eval/baselines.h"
#include "runtime/journal/call_limiter.h"

namespace switchyard::runtime {
namespace {

bool status_correct(const ScenarioResult& r) { return r.status == r.expected_status; }

bool path_correct(const ScenarioResult& r) {
  return r.expected_path.empty() || r.path == r.expected_path;
}

// The median time of one routing decision (weighting + Dijkstra + route extraction) from the
// start under the scenario's known health, over batches, in nanoseconds.
std::int64_t measure_route_ns(const graph::Workflow& w) {
  graph::FixedHealth health(w.tools().size());
  const auto& s = *w.scenario();
  if (s.known) {
    for (auto t : s.down) health.exclude(t);
  }
  graph::Router router(w, w.graph());
  constexpr int kBatches = 15;
  constexpr int kPerBatch = 200;
  std::vector<std::int64_t> samples;
  volatile std::size_t sink = 0;  // keeps the loop from being optimized away
  for (int b = 0; b < kBatches; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kPerBatch; ++i) {
      sink = sink + router.plan(w.graph().start(), w.graph().goal(), health).nodes.size();
    }
    const auto t1 = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count() /
                      kPerBatch);
  }
  std::nth_element(samples.begin(), samples.begin() + kBatches / 2, samples.end());
  return samples[kBatches / 2];
}

ScenarioResult baseline_result(const graph::Workflow& w, const std::string& file,
                               const BaselineRun& run) {
  ScenarioResult r;
  const auto& s = *w.scenario();
  r.id = s.id;
  r.file = file;
  r.status = run.status;
  r.expected_status = s.expect.status;
  r.path = run.path;
  if (s.expect.path) r.expected_path = *s.expect.path;
  r.llm_calls = run.llm_calls;
  const AuditReport audit = audit_run(w, run.events);
  r.silent_failures = audit.silent_failures;
  r.findings = audit.findings;
  for (const auto& e : run.events) r.reroutes += e.type == "reroute" ? 1 : 0;
  // A baseline that stops visibly where the scenario expects escalation is correct, whatever
  // node it stopped at (tests/scenarios/paper/README.md); a completed run must take the expected
  // path.
  r.correct = status_correct(r) && (r.status != "completed" || path_correct(r));
  return r;
}

void add_to(EvalTotals& t, const ScenarioResult& r) {
  ++t.scenarios;
  t.correct += r.correct ? 1 : 0;
  t.llm_calls += r.llm_calls;
  t.reroutes += r.reroutes;
  t.silent_failures += r.silent_failures;
  t.side_effects_abandoned += r.side_effects_abandoned;
}

Result<std::vector<std::string>> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
        if (entry.path().extension() == ".json") found.push_back(entry.path().string());
      }
      if (ec) return io_error(p + ": cannot list: " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (std::filesystem::exists(p, ec)) {
      files.push_back(p);
    } else {
      return not_found(p + ": no such file or folder");
    }
  }
  if (files.empty()) return invalid_argument("no scenario files found in the given paths");
  return files;
}

}  // namespace

nlohmann::json ScenarioResult::to_json() const {
  return {{"id", id},
          {"file", file},
          {"status", status},
          {"expected_status", expected_status},
          {"correct", correct},
          {"path", path},
          {"expected_path",
           expected_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(expected_path)},
          {"llm_calls", llm_calls},
          {"reroutes", reroutes},
          {"silent_failures", silent_failures},
          {"side_effects_abandoned", side_effects_abandoned},
          {"route_ns", route_ns},
          {"replay_ok", replay_ok},
          {"findings", findings}};
}

nlohmann::json EvalTotals::to_json() const {
  return {{"scenarios", scenarios},
          {"correct", correct},
          {"llm_calls", llm_calls},
          {"reroutes", reroutes},
          {"silent_failures", silent_failures},
          {"side_effects_abandoned", side_effects_abandoned}};
}

nlohmann::json EvalReport::to_json() const {
  auto list = [](const std::vector<ScenarioResult>& rs) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rs) out.push_back(r.to_json());
    return out;
  };
  nlohmann::json j = {{"scenarios", list(scenarios)}, {"totals", totals.to_json()}};
  if (with_baselines) {
    j["baselines"] = {
        {"react", {{"scenarios", list(react)}, {"totals", react_totals.to_json()}}},
        {"static", {{"scenarios", list(static_workflow)}, {"totals", static_totals.to_json()}}}};
  }
  return j;
}

ScenarioResult evaluate_scenario(const graph::Workflow& w, const std::string& file, Journal* into) {
  const auto& s = *w.scenario();
  ScenarioResult r;
  r.id = s.id;
  r.file = file;
  r.expected_status = s.expect.status;
  if (s.expect.path) r.expected_path = *s.expect.path;

  auto tools = tools::make_tool_set(w, {.scenario = true});
  if (!tools.ok()) {
    r.status = "failed";
    r.findings.push_back(tools.status().message());
    return r;
  }
  std::unique_ptr<Journal> own = into == nullptr ? make_memory_journal() : nullptr;
  Journal* journal = into != nullptr ? into : own.get();
  ManualClock clock;
  monitors::HealthTable health(clock);
  if (s.known) {
    for (auto t : s.down) health.mark_down(w.tool(t).id, "scenario: known down");
  }
  // The workflow is owned by the caller; the Runner only borrows it for this call.
  std::shared_ptr<const graph::Workflow> borrowed(&w, [](const graph::Workflow*) {});
  // Throttles take their turns on the scenario's own clock: deterministic, shared with nothing.
  InProcessLimiter limiter(clock);
  Runner runner(borrowed, *tools, *journal, clock, health, {.limiter = &limiter});
  RunRequest request;
  request.run_id = "eval-" + s.id;
  auto report = runner.run(std::move(request));
  if (!report.ok()) {
    r.status = "failed";
    r.findings.push_back("run failed: " + report.status().message());
    return r;
  }
  const RunResult& result = report->result;
  r.status = std::string(to_string(result.status));
  r.path = result.path;
  r.llm_calls = result.llm_calls;
  r.reroutes = result.reroutes + result.backtracks;
  auto events = journal->events(report->run_id);
  if (events.ok()) {
    const AuditReport audit = audit_run(w, *events);
    r.silent_failures = audit.silent_failures;
    r.side_effects_abandoned = audit.side_effects_abandoned;
    r.findings = audit.findings;
    // Every scenario is replayed too: the decisions re-driven from its journal must be the same.
    auto replayed = reenact(w, *events, /*complete=*/true);
    if (!replayed.ok()) {
      r.replay_ok = false;
      r.findings.push_back("replay: " + replayed.status().message());
    }
  } else {
    r.findings.push_back("journal unreadable: " + events.status().message());
  }
  r.correct = status_correct(r) && path_correct(r) && r.replay_ok &&
              (!s.expect.llm_calls_max || r.llm_calls <= *s.expect.llm_calls_max) &&
              (!s.expect.reroutes || r.reroutes == *s.expect.reroutes);
  if (!status_correct(r)) r.findings.push_back("expected status " + r.expected_status);
  if (!path_correct(r)) r.findings.push_back("path differs from the expected path");
  return r;
}

Result<EvalReport> evaluate(const std::vector<std::string>& paths, const EvalOptions& options) {
  auto files = expand(paths);
  if (!files.ok()) return files.status();
  EvalReport report;
  report.with_baselines = options.baselines;
  for (const auto& file : *files) {
    auto loaded = load_workflow_file(file);
    if (!loaded.ok()) {
      return invalid_argument(loaded.errors.front().to_string() +
                              (loaded.errors.size() > 1
                                   ? " (and " + std::to_string(loaded.errors.size() - 1) +
                                         " more; run `switchyard validate` on it)"
                                   : ""));
    }
    const graph::Workflow& w = *loaded.workflow;
    if (!w.scenario())
      return invalid_argument(file + ": not a scenario file (no `scenario` block)");
    ScenarioResult r = evaluate_scenario(w, file);
    if (options.measure_routing) r.route_ns = measure_route_ns(w);
    add_to(report.totals, r);
    report.scenarios.push_back(std::move(r));
    if (options.baselines) {
      report.react.push_back(baseline_result(w, file, run_react_baseline(w)));
      add_to(report.react_totals, report.react.back());
      report.static_workflow.push_back(baseline_result(w, file, run_static_baseline(w)));
      add_to(report.static_totals, report.static_workflow.back());
    }
  }
  return report;
}

}  // namespace switchyard::runtime
