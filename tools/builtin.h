#pragma once
// Builtin tools: C++ callables an embedding program registers by name; a workflow's
// `{"kind": "builtin", "name": N}` tool calls the one registered as N.
//
// A synchronous builtin returns its output (or an error) directly; an asynchronous one is handed a
// callback it must call exactly once, from any thread. Both receive the step's context
// {"input": ..., "steps": {...}}; a CallBuiltin receives the whole call (BuiltinCall): also the
// tool's id and its rendered `args`, so that one function serves many tools. A builtin's error
// becomes the step's failure: kNotFound a `template` failure (a value it needs is missing),
// kInvalidArgument `bad_output`, kDeadlineExceeded `timeout`, kUnavailable `unavailable`,
// kCancelled `cancelled`, anything else `internal`. An asynchronous builtin may also take the
// call's cancel token (never null) and register its abort there (`cancel->on_cancel(...)`): it
// runs, once, when the run is cancelled or the call loses a fan-out's join; the builtin still calls
// its callback (an error with kCancelled, say), which the engine, having moved on, ignores.
// Register everything before starting runs; lookups are then thread-safe (the registry is not
// changed while runs use it).

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "graph/status.h"
#include "tools/tool.h"

namespace switchyard::tools {

using BuiltinDone = std::function<void(Result<nlohmann::json>)>;
using SyncBuiltin = std::function<Result<nlohmann::json>(const nlohmann::json& context)>;
using AsyncBuiltin = std::function<void(const nlohmann::json& context, BuiltinDone done)>;
using CancellableBuiltin = std::function<void(
    const nlohmann::json& context, const std::shared_ptr<CallCancel>& cancel, BuiltinDone done)>;

// One call of a builtin, valid during the call only.
struct BuiltinCall {
  const std::string& tool;                    // the tool's id in the workflow (its node's id)
  const nlohmann::json& args;                 // its `args`, rendered; an empty object without
  const nlohmann::json& context;              // {"input": ..., "steps": {...}}
  const std::shared_ptr<CallCancel>& cancel;  // never null
};
using CallBuiltin = std::function<void(const BuiltinCall& call, BuiltinDone done)>;

class BuiltinRegistry {
 public:
  // Registers `fn` under `name`, replacing any earlier one.
  void add(const std::string& name, SyncBuiltin fn);
  void add_async(const std::string& name, AsyncBuiltin fn);
  void add_async(const std::string& name, CancellableBuiltin fn);
  void add_call(const std::string& name, CallBuiltin fn);
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  // The adapter that calls builtin `name` for tool `tool_id`, whose `args` (validated by the
  // loader) it renders for each call; null when `name` is not registered.
  std::unique_ptr<Tool> make_tool(const std::string& tool_id, const std::string& name,
                                  const std::optional<nlohmann::json>& args = std::nullopt) const;

 private:
  struct Entry {
    SyncBuiltin sync;  // the fast path: no args, no cancel token
    CallBuiltin call;
  };
  std::map<std::string, std::shared_ptr<const Entry>> entries_;
};

}  // namespace switchyard::tools
