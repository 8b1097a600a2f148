#include "runtime/replay/wait_inbox.h"

#include <algorithm>
#include <map>
#include <vector>

#include "graph/json_read.h"
#include "runtime/engine/resume_plan.h"
#include "runtime/machine/run_machine.h"
#include "runtime/replay/resumable.h"
#include "runtime/replay/verify.h"

namespace switchyard::runtime {
namespace {

// A wait the run was held at when it stopped.
struct InboxHeldWait {
  std::string wait_id;
  graph::WaitTool::Kind kind = graph::WaitTool::Kind::kApproval;
  std::string kind_name;
  std::string name;
  std::int64_t started_ms = 0;
  std::int64_t due_ms = 0;  // 0: none
};

// The waits `point` leaves its run held at, oldest first; `other_calls` (if given) is set when
// the resume would also make other calls again.
std::vector<InboxHeldWait> held_waits_of(const graph::Workflow& workflow, const ResumePoint& point,
                                         bool* other_calls) {
  std::vector<InboxHeldWait> held;
  if (other_calls != nullptr) *other_calls = false;
  if (!point.reenacted) return held;
  const ResumePlan plan = plan_resume(workflow, point);
  if (other_calls != nullptr) {
    *other_calls = !plan.doubt.empty() || plan.again.size() != plan.held.size();
  }
  for (const HeldWait& h : plan.held) {
    for (const Action& a : plan.again) {
      const graph::Tool& tool = workflow.tool(a.tool);
      if (a.slot != h.slot || tool.kind != graph::ToolKind::kWait ||
          wait_id(tool, a.call_number) != h.wait_id) {
        continue;
      }
      const auto& spec = std::get<graph::WaitTool>(tool.spec);
      const bool timer = spec.kind == graph::WaitTool::Kind::kTimer;
      const auto after = timer ? spec.delay : spec.timeout;
      held.push_back({.wait_id = h.wait_id,
                      .kind = spec.kind,
                      .kind_name = std::string(graph::to_string(spec.kind)),
                      .name = spec.name,
                      .started_ms = h.started_ms,
                      .due_ms = timer || after.count() > 0 ? h.started_ms + after.count() : 0});
      break;
    }
  }
  std::stable_sort(held.begin(), held.end(), [](const InboxHeldWait& a, const InboxHeldWait& b) {
    return a.started_ms < b.started_ms;
  });
  return held;
}

const char* decision_name(WaitAnswer::Decision d) {
  switch (d) {
    case WaitAnswer::Decision::kApprove:
      return "approve";
    case WaitAnswer::Decision::kReject:
      return "reject";
    case WaitAnswer::Decision::kSignal:
      break;
  }
  return "signal";
}

// Whether what is queued in the inbox for `run` (unfinished) will be applied: by the worker that
// holds it or takes it over (a run of the workers' queue: it has a worker as its owner, or none
// yet), or by whoever resumes it. Not when a live process that is no worker holds it: that one
// does not read the inbox until it is resumed.
Status inbox_reaches(const RunRecord& run, const std::string& what) {
  if (run.status == "queued" || !run.owner.empty()) return Status();
  if (owner_alive(run)) {
    return failed_precondition("run " + run.run_id + " is held by live process " +
                               std::to_string(run.owner_pid) + ": " + what +
                               " there (switchyard serve: --server)");
  }
  return Status();
}

}  // namespace

Result<QueuedCancel> queue_cancel(Journal& journal, const std::string& run_id, std::string by,
                                  std::string reason, std::int64_t now_ms) {
  auto run = journal.get_run(run_id);
  if (!run.ok()) return run.status();
  if (run->status != "running" && run->status != "queued") {
    return failed_precondition("run " + run_id + " has finished (" + run->status + ")");
  }
  if (Status s = inbox_reaches(*run, "cancel it"); !s.ok()) return s;
  auto queued = journal.queued_resolutions(run_id);
  if (!queued.ok()) return queued.status();
  for (const QueuedResolution& q : *queued) {
    if (q.decision == "cancel") return QueuedCancel{true};  // asked already: applied once
  }
  QueuedResolution q;
  q.run_id = run_id;
  q.decision = "cancel";
  q.reason = valid_utf8(reason);
  q.by = valid_utf8(by);
  q.time_ms = now_ms;
  if (Status s = journal.queue_resolution(q); !s.ok()) return s;
  return QueuedCancel{false};
}

Result<QueuedWaitAnswer> queue_wait_answer(Journal& journal, const std::string& run_id,
                                           const std::string& target, WaitAnswer answer,
                                           std::int64_t now_ms) {
  using Decision = WaitAnswer::Decision;
  // Journaled later as the engine journals a resolution: made valid UTF-8, within the limits.
  answer.by = valid_utf8(answer.by);
  answer.reason = valid_utf8(answer.reason);
  answer.key = valid_utf8(answer.key);
  auto data =
      parse_untrusted(answer.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      {.what = "wait data"});
  if (!data.ok()) return data.status();
  answer.data = std::move(*data);

  auto run = journal.get_run(run_id);
  if (!run.ok()) return run.status();
  if (run->status != "running") {
    return Status(StatusCode::kNotFound, "run " + run_id + " has finished (" + run->status +
                                             "): it has no open wait any more");
  }
  if (Status s = inbox_reaches(*run, "resolve its waits"); !s.ok()) return s;
  auto workflow = journaled_workflow(journal, *run);
  if (!workflow.ok()) return workflow.status();
  auto point = open_resume(journal, **workflow, run->workflow_hash, run_id);
  if (!point.ok()) return point.status();

  // The waits it was held at, and those its journal says were resolved (with their key).
  std::vector<InboxHeldWait> held = held_waits_of(**workflow, *point, nullptr);
  std::map<std::string, std::string> resolved;  // wait id -> key
  for (const Event& e : point->recorded) {
    if (e.type == "wait_resolved") {
      resolved[lenient_string(e.payload, "wait")] = lenient_string(e.payload, "key");
    }
  }
  auto queued = journal.queued_resolutions(run_id);
  if (!queued.ok()) return queued.status();

  // The same resolution again (a retried webhook): applied once.
  if (!answer.key.empty()) {
    const bool signal = answer.decision == Decision::kSignal;
    for (const auto& [wait, key] : resolved) {
      if (key == answer.key && (signal || wait == target)) return QueuedWaitAnswer{wait, true};
    }
    for (const QueuedResolution& q : *queued) {
      if (q.key == answer.key && (signal || q.wait_id == target)) {
        return QueuedWaitAnswer{q.wait_id, true};
      }
    }
  }
  auto has_queued = [&](const std::string& wait) {
    return std::any_of(queued->begin(), queued->end(),
                       [&](const QueuedResolution& q) { return q.wait_id == wait; });
  };

  const InboxHeldWait* wait = nullptr;
  if (answer.decision == Decision::kSignal) {
    bool any = false;
    for (const InboxHeldWait& w : held) {
      if (w.kind != graph::WaitTool::Kind::kSignal || w.name != target) continue;
      any = true;
      if (!has_queued(w.wait_id)) {
        wait = &w;
        break;
      }
    }
    if (!any) {
      return Status(StatusCode::kNotFound,
                    "run " + run_id + " is not held waiting for signal '" + target + "'");
    }
    if (wait == nullptr) {
      return failed_precondition("every wait of run " + run_id + " for signal '" + target +
                                 "' has a resolution queued already");
    }
  } else {
    for (const InboxHeldWait& w : held) {
      if (w.wait_id == target) wait = &w;
    }
    if (wait == nullptr) {
      if (resolved.count(target) != 0) {
        return failed_precondition("wait '" + target + "' of run " + run_id +
                                   " is already resolved");
      }
      return Status(StatusCode::kNotFound, "run " + run_id + " has no open wait '" + target + "'");
    }
    if (wait->kind != graph::WaitTool::Kind::kApproval) {
      return invalid_argument("wait '" + target + "' of run " + run_id + " is a " +
                              wait->kind_name + ": " +
                              (wait->kind == graph::WaitTool::Kind::kTimer ? "it fires by itself"
                                                                           : "send it a signal"));
    }
    if (has_queued(target)) {
      return failed_precondition("wait '" + target + "' of run " + run_id +
                                 " has a resolution queued already");
    }
  }
  if (wait->due_ms > 0 && now_ms >= wait->due_ms) {
    return failed_precondition("wait '" + wait->wait_id + "' of run " + run_id + " was due at " +
                               std::to_string(wait->due_ms) +
                               " Unix ms: its timeout decides it when the run is resumed");
  }
  QueuedResolution q;
  q.run_id = run_id;
  q.wait_id = wait->wait_id;
  q.decision = decision_name(answer.decision);
  q.data = std::move(answer.data);
  q.reason = std::move(answer.reason);
  q.by = std::move(answer.by);
  q.key = std::move(answer.key);
  q.time_ms = now_ms;
  if (Status s = journal.queue_resolution(q); !s.ok()) return s;
  return QueuedWaitAnswer{q.wait_id, false};
}

Result<std::vector<JournaledWait>> journaled_waits(Journal& journal, const std::string& run_id) {
  std::vector<JournaledWait> out;
  auto run = journal.get_run(run_id);
  if (!run.ok()) return run.status();
  if (run->status != "running") {
    return failed_precondition("run " + run_id + " has already finished (" + run->status + ")");
  }
  auto workflow = journaled_workflow(journal, *run);
  if (!workflow.ok()) return workflow.status();
  auto point = open_resume(journal, **workflow, run->workflow_hash, run_id);
  if (!point.ok()) return point.status();
  const std::vector<InboxHeldWait> held = held_waits_of(**workflow, *point, nullptr);
  if (held.empty()) return out;
  auto queued = journal.queued_resolutions(run_id);
  if (!queued.ok()) return queued.status();
  for (const InboxHeldWait& w : held) {
    JournaledWait j;
    j.wait.run_id = run_id;
    j.wait.wait_id = w.wait_id;
    j.wait.kind = w.kind_name;
    j.wait.name = w.name;
    j.wait.started_ms = w.started_ms;
    j.wait.due_ms = w.due_ms;
    // Where it waits, from its wait_started event (the last one of that wait id).
    for (auto e = point->recorded.rbegin(); e != point->recorded.rend(); ++e) {
      if (e->type != "wait_started" || lenient_string(e->payload, "wait") != w.wait_id) continue;
      j.wait.tool = lenient_string(e->payload, "tool");
      j.wait.node = lenient_string(e->payload, "node");
      j.wait.fanout = lenient_string(e->payload, "fanout");
      j.wait.branch = j.wait.fanout.empty() ? -1 : lenient_integer(e->payload, "branch", -1);
      break;
    }
    j.queued = std::any_of(queued->begin(), queued->end(), [&](const QueuedResolution& q) {
      return q.wait_id == w.wait_id && (w.due_ms == 0 || q.time_ms < w.due_ms);
    });
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<OpenWait>> stuck_at_waits(Journal& journal, const std::string& run_id,
                                             std::int64_t now_ms) {
  std::vector<OpenWait> out;
  auto run = journal.get_run(run_id);
  if (!run.ok()) return run.status();
  auto workflow = journaled_workflow(journal, *run);
  if (!workflow.ok()) return workflow.status();
  auto point = open_resume(journal, **workflow, run->workflow_hash, run_id);
  if (!point.ok()) return point.status();
  bool other_calls = false;
  const std::vector<InboxHeldWait> held = held_waits_of(**workflow, *point, &other_calls);
  if (held.empty() || other_calls) return out;
  auto queued = journal.queued_resolutions(run_id);
  if (!queued.ok()) return queued.status();
  if (std::any_of(queued->begin(), queued->end(),
                  [](const QueuedResolution& q) { return q.decision == "cancel"; })) {
    return out;  // resuming it cancels it
  }
  for (const InboxHeldWait& w : held) {
    const bool answered =
        std::any_of(queued->begin(), queued->end(), [&](const QueuedResolution& q) {
          return q.wait_id == w.wait_id && (w.due_ms == 0 || q.time_ms < w.due_ms);
        });
    if (w.kind == graph::WaitTool::Kind::kTimer || answered ||
        (w.due_ms > 0 && now_ms >= w.due_ms)) {
      return std::vector<OpenWait>();  // something here resolves it
    }
    OpenWait o;
    o.run_id = run_id;
    o.wait_id = w.wait_id;
    o.kind = w.kind_name;
    o.name = w.name;
    o.started_ms = w.started_ms;
    o.due_ms = w.due_ms;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace switchyard::runtime
