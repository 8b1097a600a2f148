#include "runtime/engine/probe_scheduler.h"

#include <boost/asio/post.hpp>
#include <future>

#include "runtime/base/log.h"
#include "runtime/engine/probe_record.h"
#include "runtime/engine/runner.h"
#include "tools/http_tool.h"

namespace switchyard::runtime {
namespace asio = boost::asio;

ProbeScheduler::ProbeScheduler(asio::io_context& loop, monitors::HealthTable& health, Clock& clock,
                               JournalWriter& writer, ProbeOptions options)
    : loop_(loop), health_(health), clock_(clock), writer_(writer), options_(std::move(options)) {}

void ProbeScheduler::watch(const std::shared_ptr<const graph::Workflow>& w,
                           const std::shared_ptr<tools::ToolSet>& t) {
  if (options_.interval.count() <= 0) return;
  bool has_probe = false;
  for (const auto& tool : w->tools()) {
    has_probe = has_probe || !tool.probe_url.empty() || tool.probe_tool != graph::kNoIndex;
  }
  if (!has_probe) return;
  std::lock_guard lock(mu_);
  for (const auto& [known, tools] : watched_) {
    if (known.lock() == w) return;
  }
  watched_.emplace_back(w, t);
  if (!timer_) {
    timer_.emplace(loop_);
    asio::post(loop_, [this] { schedule(); });
  }
}

void ProbeScheduler::schedule() {  // on loop_
  if (stopping_) return;
  timer_->expires_after(options_.interval);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    run_probes();
    schedule();
  });
}

void ProbeScheduler::run_probes() {  // on loop_
  std::vector<std::pair<std::shared_ptr<const graph::Workflow>, std::shared_ptr<tools::ToolSet>>>
      live;
  {
    std::lock_guard lock(mu_);
    std::erase_if(watched_, [&live](auto& entry) {  // workflows no one holds any more go
      auto wl = entry.first.lock();
      auto tl = entry.second.lock();
      if (!wl || !tl) return true;
      live.emplace_back(std::move(wl), std::move(tl));
      return false;
    });
  }
  for (auto& [w, tool_set] : live) {
    for (graph::ToolIndex i = 0; i < w->tools().size(); ++i) {
      const graph::Tool& tool = w->tool(i);
      if (tool.probe_url.empty() && tool.probe_tool == graph::kNoIndex) continue;
      auto& handle = health_.tool(tool.id);
      if (health_.breaker(handle) != monitors::BreakerState::kOpen) continue;
      if (!probing_.insert(tool.id).second) continue;  // one probe per tool at a time
      auto answer = [gate = gate_, loop = &loop_, this, id = tool.id](bool ok, std::string reason) {
        std::lock_guard lock(gate->mu);
        if (!gate->alive) return;
        asio::post(*loop,
                   [this, id, ok, reason = std::move(reason)] { on_probed(id, ok, reason); });
      };
      if (!tool.probe_url.empty()) {
        tools::probe_url(tool.probe_url, options_.timeout, std::move(answer));
      } else {
        auto context = std::make_shared<nlohmann::json>(nlohmann::json{
            {"input", nlohmann::json::object()}, {"steps", nlohmann::json::object()}});
        // The probe tool's first call, outside any run: no run id, nothing to abort it with.
        Action probe;
        probe.tool = tool.probe_tool;
        probe.context = context.get();
        tool_set->at(tool.probe_tool)
            .invoke(
                invocation_of(*w, probe, {}, nullptr),
                [answer = std::move(answer), context, tool_set = tool_set, w = w](
                    tools::Outcome o) { answer(o.ok, o.ok ? "probe tool succeeded" : o.reason); });
      }
    }
  }
}

void ProbeScheduler::on_probed(const std::string& id, bool ok,
                               const std::string& reason) {  // on loop_
  probing_.erase(id);
  auto& handle = health_.tool(id);
  if (ok) {
    const monitors::BreakerState before = health_.breaker(handle);
    health_.restore(handle, monitors::BreakerState::kClosed, clock_.now());
    logger().info("probe of {} succeeded ({}): breaker closed", id, reason);
    if (before != monitors::BreakerState::kClosed) {
      // Journaled where a restart's rebuild reads it (runtime/engine/probe_record.h).
      monitors::Transition t{id, before, monitors::BreakerState::kClosed,
                             "probe succeeded: " + reason};
      auto write = [t = std::move(t), run_id = new_run_id(clock_), c = &clock_](Journal& j) {
        return journal_probe_transition(j, *c, run_id, t);
      };
      writer_.submit(std::move(write), [id](const Status& s) {
        if (!s.ok()) logger().error("probe of {}: cannot journal it: {}", id, s.message());
      });
    }
  } else {
    health_.restore(handle, monitors::BreakerState::kOpen, clock_.now());  // cool-down restarts
    logger().debug("probe of {} failed: {}", id, reason);
  }
  if (options_.on_probe) options_.on_probe(id, ok);
}

void ProbeScheduler::stop() {
  {
    std::lock_guard lock(gate_->mu);
    gate_->alive = false;
  }
  std::promise<void> stopped;
  asio::post(loop_, [this, &stopped] {
    stopping_ = true;
    {
      std::lock_guard lock(mu_);  // watch() makes the timer under mu_
      if (timer_) timer_->cancel();
    }
    stopped.set_value();
  });
  stopped.get_future().wait();
}

}  // namespace switchyard::runtime
