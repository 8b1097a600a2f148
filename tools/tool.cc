#include "tools/tool.h"

namespace switchyard::tools {

std::string_view to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNone:
      return "none";
    case FailureKind::kInjected:
      return "injected";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kConnect:
      return "connect";
    case FailureKind::kTransport:
      return "transport";
    case FailureKind::kHttpStatus:
      return "http_status";
    case FailureKind::kRateLimited:
      return "rate_limited";
    case FailureKind::kBadOutput:
      return "bad_output";
    case FailureKind::kExitCode:
      return "exit_code";
    case FailureKind::kCancelled:
      return "cancelled";
    case FailureKind::kBudgetExhausted:
      return "budget_exhausted";
    case FailureKind::kTemplate:
      return "template";
    case FailureKind::kUnavailable:
      return "unavailable";
    case FailureKind::kRefusal:
      return "refusal";
    case FailureKind::kSchemaInvalid:
      return "schema_invalid";
    case FailureKind::kToolError:
      return "tool_error";
    case FailureKind::kRejected:
      return "rejected";
    case FailureKind::kThrottled:
      return "throttled";
    case FailureKind::kInternal:
      return "internal";
  }
  return "unknown";
}

std::optional<FailureKind> failure_kind(std::string_view name) {
  for (int k = 0; k <= static_cast<int>(FailureKind::kInternal); ++k) {
    if (to_string(static_cast<FailureKind>(k)) == name) return static_cast<FailureKind>(k);
  }
  return std::nullopt;
}

Outcome Outcome::success(nlohmann::json output) {
  Outcome o;
  o.ok = true;
  o.output = std::move(output);
  return o;
}

Outcome Outcome::failed(FailureKind kind, std::string reason) {
  Outcome o;
  o.ok = false;
  o.failure = kind;
  o.reason = std::move(reason);
  return o;
}

void CallCancel::on_cancel(std::function<void()> abort) {
  {
    std::lock_guard lock(mu_);
    if (!cancelled_) {
      abort_ = std::move(abort);
      return;
    }
  }
  abort();
}

void CallCancel::cancel() {
  std::function<void()> abort;
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    abort = std::move(abort_);
  }
  if (abort) abort();
}

bool CallCancel::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

}  // namespace switchyard::tools
