#include "tools/builtin.h"

#include "graph/template.h"

namespace switchyard::tools {
namespace {

// A builtin's error becomes a step failure; its kind follows the status code (builtin.h).
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
    case StatusCode::kNotFound:
      kind = FailureKind::kTemplate;
      break;
    default:
      break;
  }
  return Outcome::failed(kind, tool_id + ": " + s.message());
}

class BuiltinTool final : public Tool {
 public:
  BuiltinTool(std::string id, std::shared_ptr<const void> keep, const SyncBuiltin* sync,
              const CallBuiltin* call, std::optional<graph::JsonTemplate> args)
      : id_(std::move(id)),
        keep_(std::move(keep)),
        sync_(sync),
        call_(call),
        args_(std::move(args)) {}

  void invoke(const Invocation& call, Done done) override {
    static const nlohmann::json kNoArgs = nlohmann::json::object();
    nlohmann::json rendered;
    if (args_) {
      auto r = graph::render_json_template(*args_, *call.context);
      if (!r.ok()) {
        return done(
            Outcome::failed(FailureKind::kTemplate, id_ + ": args: " + r.status().message()));
      }
      rendered = std::move(*r);
    }
    // A synchronous builtin takes the context only: a tool's args were rendered to check them.
    if (*sync_) {
      done(to_outcome((*sync_)(*call.context), id_));
      return;
    }
    // A call no one can cancel still gets a token (one that never fires).
    const auto cancel = call.cancel ? call.cancel : std::make_shared<CallCancel>();
    (*call_)(BuiltinCall{id_, args_ ? rendered : kNoArgs, *call.context, cancel},
             [done = std::move(done), id = id_](Result<nlohmann::json> r) {
               done(to_outcome(std::move(r), id));
             });
  }

 private:
  std::string id_;
  std::shared_ptr<const void> keep_;  // keeps the registry entry alive
  const SyncBuiltin* sync_;
  const CallBuiltin* call_;
  std::optional<graph::JsonTemplate> args_;
};

}  // namespace

void BuiltinRegistry::add(const std::string& name, SyncBuiltin fn) {
  entries_[name] = std::make_shared<const Entry>(Entry{std::move(fn), nullptr});
}

void BuiltinRegistry::add_async(const std::string& name, AsyncBuiltin fn) {
  add_call(name, [fn = std::move(fn)](const BuiltinCall& call, BuiltinDone done) {
    fn(call.context, std::move(done));
  });
}

void BuiltinRegistry::add_async(const std::string& name, CancellableBuiltin fn) {
  add_call(name, [fn = std::move(fn)](const BuiltinCall& call, BuiltinDone done) {
    fn(call.context, call.cancel, std::move(done));
  });
}

void BuiltinRegistry::add_call(const std::string& name, CallBuiltin fn) {
  entries_[name] = std::make_shared<const Entry>(Entry{nullptr, std::move(fn)});
}

std::unique_ptr<Tool> BuiltinRegistry::make_tool(const std::string& tool_id,
                                                 const std::string& name,
                                                 const std::optional<nlohmann::json>& args) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return nullptr;
  const Entry* e = it->second.get();
  std::optional<graph::JsonTemplate> parsed;
  if (args) {
    auto t = graph::parse_json_template(*args);
    if (!t.ok()) return nullptr;  // the loader has validated them
    parsed = std::move(*t);
  }
  return std::make_unique<BuiltinTool>(tool_id, it->second, &e->sync, &e->call, std::move(parsed));
}

}  // namespace switchyard::tools
