#pragma once
// Internal to the embedding API's implementation (runtime/api/*.cc); not installed.
// Conversions between the public value types (namespace switchyard::api) and the runtime's own,
// and the insides of the public handles.

#include <switchyard/switchyard.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/load.h"
#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"
#include "tools/builtin.h"
#include "tools/models.h"
#include "tools/tool.h"

// The insides of the exported classes are not exported with them (nested classes take their
// enclosing class's visibility unless told): each is marked SWITCHYARD_HIDDEN
// (switchyard_export.h).

namespace switchyard::api {
namespace internal {

// The library's way into the handles' private constructors and insides (switchyard_export.h).
struct SWITCHYARD_HIDDEN Access {
  static Workflow workflow(std::shared_ptr<const Workflow::Impl> impl);
  static const Workflow::Impl& impl(const Workflow& workflow) { return *workflow.impl_; }
  static ToolReply reply(std::shared_ptr<ToolReply::Impl> impl);
  static ToolCall tool_call(const ToolCall::Impl* impl) { return ToolCall(impl); }
  static EventSubscription subscription(std::unique_ptr<EventSubscription::Impl> impl);
};

}  // namespace internal

struct SWITCHYARD_HIDDEN Workflow::Impl {
  std::shared_ptr<const graph::Workflow> model;
  std::string name;
  std::string hash;
  std::vector<Diagnostic> warnings;
};

// Wraps a loaded model (the loaders; resume with the journal's copy).
Workflow wrap_workflow(std::shared_ptr<const graph::Workflow> model,
                       std::vector<Diagnostic> warnings = {});

struct SWITCHYARD_HIDDEN ToolCall::Impl {
  const tools::BuiltinCall& call;
};

struct SWITCHYARD_HIDDEN ToolReply::Impl {
  std::shared_ptr<tools::CallCancel> cancel;
  std::mutex mu;
  std::function<void(switchyard::Result<nlohmann::json>)> done;  // taken by the first answer (mu)
  // The tool's abort (on_cancel), kept here rather than in `cancel` and dropped by the answer:
  // an abort that holds the reply would otherwise keep it alive for good (mu).
  std::function<void()> abort;
};

Status to_api(const switchyard::Status& status);
switchyard::Status to_internal(const Status& status);
// A load's errors as one kInvalidArgument status with every diagnostic (REQUIRES: not empty).
Status load_error(const std::vector<graph::Diagnostic>& errors);
Diagnostic to_api(const graph::Diagnostic& d);
Event to_api(const runtime::Event& event);
RunInfo to_api(const runtime::RunRecord& run);
// The report is moved from: its output and outputs become the summary's.
RunSummary to_api(runtime::RunReport&& report);
RunStatus run_status(const std::string& journaled);
graph::Budget to_internal(const Budget& budget);
tools::Models to_internal(const std::vector<ModelTier>& tiers);

}  // namespace switchyard::api
