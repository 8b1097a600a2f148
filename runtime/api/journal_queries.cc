// api::Runtime's journal side: queries, replay verification, pictures and resume.

#include <future>

#include "runtime/api/runtime_impl.h"
#include "runtime/engine/health_json.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/waiting.h"
#include "runtime/replay/render.h"
#include "runtime/replay/resumable.h"
#include "runtime/replay/verify.h"

namespace switchyard::api {

Result<std::vector<RunInfo>> Runtime::list_runs(const RunQuery& query) const {
  if (query.limit <= 0) return Status(StatusCode::kInvalidArgument, "RunQuery::limit must be > 0");
  runtime::RunFilter filter;
  if (query.status) filter.status = std::string(to_string(*query.status));
  filter.workflow = query.workflow;
  filter.since_ms = query.since_ms;
  filter.until_ms = query.until_ms;
  filter.limit = query.limit;
  // A running run held at a wait is listed kWaiting (docs/waits.md#waiting-runs).
  auto runs = runtime::list_runs_showing_waits(impl_->journal(), filter);
  if (!runs.ok()) return to_api(runs.status());
  std::vector<RunInfo> out;
  out.reserve(runs->size());
  for (const auto& r : *runs) out.push_back(to_api(r));
  return out;
}

nlohmann::json Runtime::health() const {
  nlohmann::json tools = nlohmann::json::array();
  for (const auto& h : impl_->health->snapshot()) tools.push_back(runtime::tool_health_json(h));
  return tools;
}

Result<RunInfo> Runtime::get_run(const std::string& run_id) const {
  auto run = impl_->journal().get_run(run_id);
  if (!run.ok()) return to_api(run.status());
  if (run->status == "running") {
    auto waiting = runtime::run_is_waiting(impl_->journal(), run_id);
    if (!waiting.ok()) return to_api(waiting.status());
    if (*waiting) run->status = "waiting";
  }
  return to_api(*run);
}

Result<std::vector<Event>> Runtime::events(const std::string& run_id) const {
  auto events = impl_->journal().events(run_id);
  if (!events.ok()) return to_api(events.status());
  std::vector<Event> out;
  out.reserve(events->size());
  for (const auto& e : *events) out.push_back(to_api(e));
  return out;
}

Status Runtime::set_tenant_budget(const std::string& key, double usd) {
  if (auto s = runtime::check_tenant_key(key); !s.ok()) return to_api(s);
  if (auto s = runtime::check_tenant_cap(usd); !s.ok()) return to_api(s);
  return to_api(impl_->core->journal->tenant_ledger().set_cap(key, runtime::usd_micros(usd)));
}

Result<std::vector<TenantBudget>> Runtime::tenant_budgets() const {
  auto rows = impl_->core->journal->tenant_ledger().list();
  if (!rows.ok()) return to_api(rows.status());
  std::vector<TenantBudget> out;
  for (const runtime::TenantBudget& t : *rows) {
    TenantBudget b{.key = t.key,
                   .spent_usd = runtime::micros_usd(t.spent),
                   .reserved_usd = runtime::micros_usd(t.reserved)};
    if (t.cap) b.cap_usd = runtime::micros_usd(*t.cap);
    out.push_back(std::move(b));
  }
  return out;
}

Result<VerifyReport> Runtime::verify(const std::string& run_id) const {
  auto report = runtime::verify_run(impl_->journal(), run_id);
  if (!report.ok()) return to_api(report.status());
  return VerifyReport{.run_id = report->run_id,
                      .events = report->events,
                      .chain = to_api(report->chain),
                      // A row that cannot be decoded: its message, where a reader looks first.
                      .decisions = to_api(report->rows.ok() ? report->decisions : report->rows),
                      .verified = report->verified};
}

Result<std::string> Runtime::render(const std::string& run_id, Picture picture) const {
  const runtime::Journal& journal = impl_->journal();
  auto run = journal.get_run(run_id);
  if (!run.ok()) return to_api(run.status());
  auto events = journal.events(run_id);
  if (!events.ok()) return to_api(events.status());
  auto workflow = runtime::journaled_workflow(journal, *run);
  if (!workflow.ok()) return to_api(workflow.status());
  if (picture == Picture::kDot) return runtime::render_dot(**workflow, *run, *events);
  auto html = runtime::render_html(**workflow, *run, *events);
  if (!html.ok()) return to_api(html.status());
  return std::move(*html);
}

Status Runtime::start_resume(const std::string& run_id, const ResumeOptions& options,
                             RunDone done) {
  runtime::Journal& journal = impl_->journal();
  auto run = journal.get_run(run_id);
  if (!run.ok()) return to_api(run.status());
  if (run->status != "running") {
    return Status(StatusCode::kFailedPrecondition, "run " + run_id + " has already finished (" +
                                                       run->status + "): nothing to resume");
  }
  if (runtime::owner_alive(*run)) {
    return Status(StatusCode::kFailedPrecondition,
                  "run " + run_id + " is still owned by live process " +
                      std::to_string(run->owner_pid) + ": it has not crashed");
  }
  std::shared_ptr<const graph::Workflow> given;
  if (options.workflow) given = internal::Access::impl(*options.workflow).model;
  auto model = runtime::resume_workflow(journal, *run, std::move(given), "ResumeOptions::workflow");
  if (!model.ok()) return to_api(model.status());
  const Workflow workflow = options.workflow ? *options.workflow : wrap_workflow(*model);
  auto tools = impl_->tools_for(workflow);
  if (!tools.ok()) return to_api(tools.status());
  if (!impl_->enter(run_id)) {
    return Status(StatusCode::kFailedPrecondition, "run " + run_id + " is in flight here");
  }
  // On the engine, like a run started here: it can be held at its waits (docs/waits.md).
  Status started =
      to_api(impl_->engine->resume(*model, *tools, run_id,
                                   [impl = impl_.get(), run_id, done = std::move(done)](
                                       switchyard::Result<runtime::RunReport> r) {
                                     impl->leave(run_id);
                                     if (!done) return;
                                     if (!r.ok()) return done(to_api(r.status()));
                                     done(to_api(std::move(*r)));
                                   }));
  if (!started.ok()) impl_->leave(run_id);
  return started;
}

Result<RunSummary> Runtime::resume(const std::string& run_id, const ResumeOptions& options) {
  std::promise<Result<RunSummary>> promise;
  auto future = promise.get_future();
  Status started = start_resume(
      run_id, options, [&promise](Result<RunSummary> r) { promise.set_value(std::move(r)); });
  if (!started.ok()) return started;
  return future.get();
}

}  // namespace switchyard::api
