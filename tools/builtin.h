#pragma once
// Builtin tools: C++ callables an embedding program registers by name; a workflow's
// `{"kind": "builtin", "name": N}` tool calls the one registered as N.
//
// A synchronous builtin returns its output (or an error) directly; an asynchronous one is handed a
// callback it must call exactly once, from any thread. Both receive the step's context
// {"input": ..., "steps": {...}}. An asynchronous builtin may also take the call's cancel token
// (never null) and register its abort there (`cancel->on_cancel(...)`): it runs, once, when the
// run is cancelled or the call loses a fan-out's join; the builtin still calls its callback
// (an error with kCancelled, say), which the engine, having moved on, ignores. Register
// everything before starting runs; lookups are then thread-safe (the registry is not changed
// while runs use it).

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "graph/status.h"
#include "tools/tool.h"

namespace switchyard::tools {

using BuiltinDone = std::function<void(Result<nlohmann::json>)>;
using SyncBuiltin = std::function<Result<nlohmann::json>(const nlohmann::json& context)>;
using AsyncBuiltin = std::function<void(const nlohmann::json& context, BuiltinDone done)>;
using CancellableBuiltin = std::function<void(
    const nlohmann::json& context, const std::shared_ptr<CallCancel>& cancel, BuiltinDone done)>;

class BuiltinRegistry {
 public:
  // Registers `fn` under `name`, replacing any earlier one.
  void add(const std::string& name, SyncBuiltin fn);
  void add_async(const std::string& name, AsyncBuiltin fn);
  void add_async(const std::string& name, CancellableBuiltin fn);
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  // The adapter that calls builtin `name` for tool `tool_id`; null when `name` is not registered.
  std::unique_ptr<Tool> make_tool(const std::string& tool_id, const std::string& name) const;

 private:
  struct Entry {
    SyncBuiltin sync;
    CancellableBuiltin async;
  };
  std::map<std::string, std::shared_ptr<const Entry>> entries_;
};

}  // namespace switchyard::tools
