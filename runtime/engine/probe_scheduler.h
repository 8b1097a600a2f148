#pragma once
// ProbeScheduler: the engine's probes (docs/monitors.md#probes). Tools that declare a `probe` (an
// http(s) URL, or another tool of their workflow) are checked every `interval` while their breaker
// is open, one probe per tool at a time: a URL answering 2xx within `timeout`, or the probe tool
// succeeding (called with an empty context, with its own timeout), closes the breaker at once and
// journals the transition (runtime/engine/probe_record.h); a failed probe restarts the cool-down.
//
// The scheduler runs on one event loop (the engine's first): its timer and every probe answer are
// handled there. Probe answers that arrive after stop() touch nothing.
//
// Thread-safe: watch() may be called from any thread; stop() from any thread but the loop's.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/clock.h"
#include "graph/workflow.h"
#include "monitors/health_table.h"
#include "runtime/journal/writer.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {

struct ProbeOptions {
  // How often tools with a `probe` and an open breaker are probed; 0: never.
  std::chrono::milliseconds interval{1000};
  // How long a probe URL has to answer (connect and the whole response); default 5 s.
  std::chrono::milliseconds timeout{5000};
  // Told of every probe's result (observability, tests); called on the scheduler's loop.
  std::function<void(const std::string& tool, bool ok)> on_probe = nullptr;
};

class ProbeScheduler {
 public:
  // REQUIRES: `loop`, `health`, `clock` and `writer` outlive the scheduler; `loop` runs until
  // stop() has returned.
  ProbeScheduler(boost::asio::io_context& loop, monitors::HealthTable& health, Clock& clock,
                 JournalWriter& writer, ProbeOptions options);
  ProbeScheduler(const ProbeScheduler&) = delete;
  ProbeScheduler& operator=(const ProbeScheduler&) = delete;

  // Probes the tools of `workflow` that declare one, from now on, for as long as someone else
  // holds `workflow` and `tools`. Does nothing when probes are off or no tool has a probe; a
  // workflow already watched is not added twice.
  void watch(const std::shared_ptr<const graph::Workflow>& workflow,
             const std::shared_ptr<tools::ToolSet>& tools);
  // Stops probing: the timer is cancelled (on the loop; waits for it) and answers still to come
  // are dropped. Call before the loop stops.
  void stop();

 private:
  // What probe answers may touch after the scheduler is stopped: nothing, once `alive` is false.
  struct Gate {
    std::mutex mu;
    bool alive = true;
  };

  void schedule();
  void run_probes();
  void on_probed(const std::string& id, bool ok, const std::string& reason);

  boost::asio::io_context& loop_;
  monitors::HealthTable& health_;
  Clock& clock_;
  JournalWriter& writer_;
  ProbeOptions options_;
  std::mutex mu_;
  std::vector<std::pair<std::weak_ptr<const graph::Workflow>, std::weak_ptr<tools::ToolSet>>>
      watched_;                                     // workflows with probes (under mu_)
  std::optional<boost::asio::steady_timer> timer_;  // on loop_; made by the first watch()
  std::set<std::string> probing_;                   // tools being probed (loop_ only)
  // Set by stop() on loop_: a timer handler already queued when the timer was cancelled (it
  // expired first, so cancel() cannot reach it) must not arm the timer again, or the loop never
  // runs out of work and the engine's threads never join.
  bool stopping_ = false;  // loop_ only
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
};

}  // namespace switchyard::runtime
