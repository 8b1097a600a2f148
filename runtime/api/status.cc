// The embedding API's value types: names, conversions from the runtime's own types.

#include "runtime/api/internal.h"

namespace switchyard::api {

std::string_view to_string(StatusCode code) {
  return switchyard::to_string(static_cast<switchyard::StatusCode>(code));
}

std::string Diagnostic::to_string() const {
  graph::Diagnostic d;
  d.file = file;
  d.pointer = pointer;
  d.message = message;
  d.line = line;
  d.column = column;
  return d.to_string();
}

std::string_view to_string(RunStatus status) {
  if (status == RunStatus::kWaiting) return "waiting";  // a list's status, not a run's result's
  if (status == RunStatus::kQueued) return "queued";    // a queued run's row, not a result's
  return runtime::to_string(static_cast<runtime::RunStatus>(status));
}

const char* version() { return SWITCHYARD_VERSION; }

// The public codes are the runtime's, value for value.
static_assert(static_cast<int>(StatusCode::kIo) == static_cast<int>(switchyard::StatusCode::kIo));
static_assert(static_cast<int>(RunStatus::kFailed) ==
              static_cast<int>(runtime::RunStatus::kFailed));

Status to_api(const switchyard::Status& status) {
  if (status.ok()) return Status();
  return Status(static_cast<StatusCode>(status.code()), status.message());
}

switchyard::Status to_internal(const Status& status) {
  if (status.ok()) return switchyard::Status();
  return switchyard::Status(static_cast<switchyard::StatusCode>(status.code()), status.message());
}

Diagnostic to_api(const graph::Diagnostic& d) {
  return Diagnostic{.file = d.file,
                    .pointer = d.pointer,
                    .message = d.message,
                    .line = d.line,
                    .column = d.column};
}

Status load_error(const std::vector<graph::Diagnostic>& errors) {
  assert(!errors.empty());
  std::vector<Diagnostic> all;
  for (const auto& d : errors) all.push_back(to_api(d));
  std::string message = errors.front().to_string();
  if (errors.size() > 1) message += " (and " + std::to_string(errors.size() - 1) + " more)";
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(all));
}

Event to_api(const runtime::Event& e) {
  return Event{.run_id = e.run_id,
               .seq = e.seq,
               .time_ms = e.time_ms,
               .type = e.type,
               .payload = e.payload,
               .hash = e.hash};
}

RunStatus run_status(const std::string& journaled) {
  for (auto s : {RunStatus::kCompleted, RunStatus::kDemoted, RunStatus::kEscalated,
                 RunStatus::kFailed, RunStatus::kWaiting, RunStatus::kQueued}) {
    if (journaled == to_string(s)) return s;
  }
  return RunStatus::kRunning;
}

RunInfo to_api(const runtime::RunRecord& r) {
  return RunInfo{.run_id = r.run_id,
                 .workflow = r.workflow,
                 .workflow_hash = r.workflow_hash,
                 .status = run_status(r.status),
                 .started_ms = r.started_ms,
                 .finished_ms = r.finished_ms,
                 .input = r.input,
                 .result = r.result,
                 .head_hash = r.head_hash,
                 .head_seq = r.head_seq,
                 .owner_pid = r.owner_pid};
}

RunSummary to_api(runtime::RunReport&& report) {
  runtime::RunResult& r = report.result;
  nlohmann::json json = report.to_json();
  return RunSummary{.run_id = report.run_id,
                    .status = static_cast<RunStatus>(r.status),
                    .goal = r.goal,
                    .path = r.path,
                    .reroutes = r.reroutes,
                    .backtracks = r.backtracks,
                    .llm_calls = r.llm_calls,
                    .spent_usd = r.spent_usd,
                    .tokens = r.tokens,
                    .blocked = r.blocked,
                    .message = r.message,
                    .output = std::move(r.output),
                    .outputs = std::move(r.outputs),
                    .output_truncated = r.output_truncated,
                    .outputs_dropped = std::move(r.outputs_dropped),
                    .json = std::move(json)};
}

graph::Budget to_internal(const Budget& b) {
  return graph::Budget{.usd = b.usd, .tokens = b.tokens, .llm_calls = b.llm_calls};
}

// The public and the internal model tier have the same fields: one copies into the other.
template <class To, class From>
To same_tier(const From& t) {
  return To{.name = t.name,
            .model = t.model,
            .base_url = t.base_url,
            .api_key_env = t.api_key_env,
            .input_usd_per_mtok = t.input_usd_per_mtok,
            .output_usd_per_mtok = t.output_usd_per_mtok,
            .context_window = t.context_window,
            .timeout = t.timeout};
}

tools::Models to_internal(const std::vector<ModelTier>& tiers) {
  tools::Models models;
  for (const auto& t : tiers) models.tiers.push_back(same_tier<tools::ModelTier>(t));
  return models;
}

Result<std::vector<ModelTier>> load_models_file(const std::string& path) {
  auto loaded = tools::load_models_file(path);
  if (!loaded.ok()) {
    // A file that cannot be read is one diagnostic with pointer "" (as for workflows).
    return load_error(loaded.errors);
  }
  std::vector<ModelTier> tiers;
  for (const auto& t : loaded.models.tiers) tiers.push_back(same_tier<ModelTier>(t));
  return tiers;
}

}  // namespace switchyard::api
