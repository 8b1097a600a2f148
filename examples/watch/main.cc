// examples/watch: watching a run live. A subscription hands each event to the program as soon as
// it is durable in the journal; the program prints one line per decision as the run goes.
//
//            +--> Express (fails) --+
//   Start -> Pack                   +--> Done     Express: the builtin below, "no pickup today"
//            +--> Standard ---------+             so the run reroutes to Standard
//
// The callback runs on the Runtime's journal thread, which must not wait: it only pushes the
// event to a queue, and main prints from there.
//
// Build against an installed Switchyard (docs/embedding.md), then run it:
//   cmake -S examples/watch -B build-watch -DCMAKE_PREFIX_PATH=<prefix> &&
//     cmake --build build-watch && build-watch/watch examples/watch/shipping.json

#include <switchyard/switchyard.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <string>

namespace api = switchyard::api;
using nlohmann::json;

// Events from the Runtime's thread to main's.
class Queue {
 public:
  void push(api::Event e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
    ready_.notify_one();
  }
  api::Event pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [this] { return !events_.empty(); });
    api::Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<api::Event> events_;
};

// A value as text: a string as it is, a route (an array of node ids) as "A -> B", else JSON.
std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) return v.dump();
  std::string route;
  for (const json& node : v) route += (route.empty() ? "" : " -> ") + text(node);
  return route;
}
std::string text(const json& payload, const char* key) {
  return payload.contains(key) ? text(payload[key]) : "?";
}

// One line for a decision or a step; "" for the other events (run_started, breaker, ...).
std::string describe(const api::Event& e) {
  const json& p = e.payload;
  if (e.type == "plan") return "route " + text(p, "route");
  if (e.type == "step_started") return text(p, "node") + " (attempt " + text(p, "attempt") + ")";
  if (e.type == "step_succeeded") return text(p, "node") + " -> " + text(p, "output");
  if (e.type == "step_failed") {
    return text(p, "node") + ": " + text(p, "failure") + " (" + text(p, "reason") + ")";
  }
  if (e.type == "reroute") {
    return "at " + text(p, "at") + ", around " + text(p, "failed_tool") + ": " +
           text(p, "new_route");
  }
  if (e.type == "run_finished") return text(p, "status") + ", path " + text(p, "path");
  return "";
}

int main(int argc, char** argv) {
  auto workflow = api::Workflow::from_file(argc > 1 ? argv[1] : "shipping.json");
  if (!workflow.ok()) {
    std::cerr << workflow.status().message() << "\n";
    return 2;
  }
  auto rt = api::Runtime::open({.threads = 1});
  if (!rt.ok()) {
    std::cerr << rt.status().to_string() << "\n";
    return 1;
  }
  api::Status added = (*rt)->add_tool("express", [](const json&) -> api::Result<json> {
    return api::Status(api::StatusCode::kUnavailable, "no pickup today");
  });
  if (!added.ok()) return 1;

  // Subscribed before the run starts, so that no event is missed. (RunOptions::on_event does
  // the same for one run; subscribe() sees every run of the Runtime, resumed ones too.)
  Queue queue;
  api::EventSubscription subscription =
      (*rt)->subscribe([&queue](const api::Event& e) { queue.push(e); });
  std::promise<api::Result<api::RunSummary>> ended;
  auto started =
      (*rt)->start(*workflow, {.run_id = "parcel-9"}, [&](api::Result<api::RunSummary> summary) {
        ended.set_value(std::move(summary));
        queue.push(api::Event{});  // no type: the run's end, which comes after its last event
      });
  if (!started.ok()) {
    std::cerr << started.status().to_string() << "\n";
    return 1;
  }
  for (api::Event e = queue.pop(); !e.type.empty(); e = queue.pop()) {
    if (std::string line = describe(e); e.run_id == "parcel-9" && !line.empty()) {
      std::cout << "#" << e.seq << " " << e.type << ": " << line << std::endl;
    }
  }
  subscription.reset();  // no callback runs after this

  api::Result<api::RunSummary> summary = ended.get_future().get();
  if (!summary.ok()) {
    std::cerr << summary.status().to_string() << "\n";
    return 1;
  }
  std::cout << "reroutes: " << summary->reroutes << ", spent $" << summary->spent_usd << "\n";
  return summary->succeeded() ? 0 : 1;
}
