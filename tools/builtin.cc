#include "tools/builtin.h"

namespace switchyard::tools {
namespace {

// A builtin's error becomes a step failure; its kind follows the status code.
Outcome to_outcome(Result<nlohmann::json> result, const std::string& tool_id) {
  if (result.ok()) return Outcome::success(std::move(*result));
  const Status& s = result.status();
  FailureKind kind = FailureKind::kInternal;
  switch (s.code()) {
    case StatusCode::kDeadlineExceeded:
      kind = FailureKind::kTimeout;
      break;
    case StatusCode::kUnavailable:
      kind = FailureKind::kUnavailable;
      break;
    case StatusCode::kCancelled:
      kind = FailureKind::kCancelled;
      break;
    case StatusCode::kInvalidArgument:
      kind = FailureKind::kBadOutput;
      break;
    default:
      break;
  }
  return Outcome::failed(kind, tool_id + ": " + s.message());
}

class BuiltinTool final : public Tool {
 public:
  BuiltinTool(std::string id, std::shared_ptr<const void> keep, const SyncBuiltin* sync,
              const CancellableBuiltin* async)
      : id_(std::move(id)), keep_(std::move(keep)), sync_(sync), async_(async) {}

  void invoke(const Invocation& call, Done done) override {
    if (sync_ != nullptr && *sync_) {
      done(to_outcome((*sync_)(*call.context), id_));
      return;
    }
    // A call no one can cancel still gets a token (one that never fires).
    const auto cancel = call.cancel ? call.cancel : std::make_shared<CallCancel>();
    (*async_)(*call.context, cancel, [done = std::move(done), id = id_](Result<nlohmann::json> r) {
      done(to_outcome(std::move(r), id));
    });
  }

 private:
  std::string id_;
  std::shared_ptr<const void> keep_;  // keeps the registry entry alive
  const SyncBuiltin* sync_;
  const CancellableBuiltin* async_;
};

}  // namespace

void BuiltinRegistry::add(const std::string& name, SyncBuiltin fn) {
  entries_[name] = std::make_shared<const Entry>(Entry{std::move(fn), nullptr});
}

void BuiltinRegistry::add_async(const std::string& name, AsyncBuiltin fn) {
  add_async(name,
            [fn = std::move(fn)](const nlohmann::json& context, const std::shared_ptr<CallCancel>&,
                                 BuiltinDone done) { fn(context, std::move(done)); });
}

void BuiltinRegistry::add_async(const std::string& name, CancellableBuiltin fn) {
  entries_[name] = std::make_shared<const Entry>(Entry{nullptr, std::move(fn)});
}

std::unique_ptr<Tool> BuiltinRegistry::make_tool(const std::string& tool_id,
                                                 const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return nullptr;
  const Entry* e = it->second.get();
  return std::make_unique<BuiltinTool>(tool_id, it->second, &e->sync, &e->async);
}

}  // namespace switchyard::tools
