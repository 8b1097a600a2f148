#pragma once
// A call's progress reports (tools::Invocation::progress: an MCP server's
// notifications/progress), kept while the call runs and journaled as `tool_progress` events when
// its answer is handed to the run: at most kMaxProgressEvents per call (the first ones and the
// last). The run's events are committed only at its commit points, none of which falls while a
// call of the run's own line is in flight, so writing them with the answer loses nothing a
// journal watcher could see earlier. Internal to runtime/.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

inline constexpr std::size_t kMaxProgressEvents = 20;

// Thread-safe: the tool reports from any thread; the driver takes them on the run's thread.
class ProgressLog {
 public:
  // What Invocation::progress is set to: adds to this log while it lives.
  static std::function<void(nlohmann::json)> reporter(const std::shared_ptr<ProgressLog>& log);
  void add(nlohmann::json report);
  // Emits the reports so far as `tool_progress` {tool, call, progress, total?, message?}, in the
  // order they came, and forgets them.
  void emit(EventSink& events, const std::string& tool, int call_number);

 private:
  std::mutex mu_;
  std::vector<nlohmann::json> reports_;
};

}  // namespace switchyard::runtime
