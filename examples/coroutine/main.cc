// examples/coroutine: builtin tools written in C++, one synchronous and one asynchronous, and
// runs awaited with `co_await` from a coroutine type written here with the standard library only.
//
//   Start -> Price -> Convert -> Done     Price:   builtin "price", answers at once (sync)
//                                         Convert: builtin "to_eur", answers later from a
//                                                  thread of its own (async)
//
// Two checkouts run at once, each a coroutine that awaits its run; main waits for both.
//
// Build against an installed Switchyard (docs/embedding.md), then run it:
//   cmake -S examples/coroutine -B build-coroutine -DCMAKE_PREFIX_PATH=<prefix> &&
//     cmake --build build-coroutine && build-coroutine/coroutine examples/coroutine/checkout.json

#include <switchyard/switchyard.h>

#include <coroutine>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace api = switchyard::api;
using nlohmann::json;

// The smallest task a plain thread can wait for: it starts at once, and its co_return value
// goes to a std::future. RunAwaiter needs nothing from the promise, so any task type would do.
template <typename T>
struct Task {
  struct promise_type {
    std::promise<T> value;
    Task get_return_object() { return Task{value.get_future()}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(T v) { value.set_value(std::move(v)); }
    void unhandled_exception() { value.set_exception(std::current_exception()); }
  };
  std::future<T> result;
};

// The number at JSON pointer `where` in `doc`, if there is one.
std::optional<double> number_at(const json& doc, const char* where) {
  const json::json_pointer pointer(where);
  if (!doc.contains(pointer) || !doc[pointer].is_number()) return std::nullopt;
  return doc[pointer].get<double>();
}

// One checkout: a run, awaited. The Workflow is taken by value (a cheap shared handle), so the
// coroutine does not depend on the caller's copy; the Runtime must outlive the await.
Task<std::string> checkout(api::Runtime& rt, api::Workflow w, std::string customer, int items) {
  api::RunOptions options;  // built before co_await (GCC 12 mishandles temporaries inside it)
  options.input = {{"customer", customer}, {"items", items}};
  options.run_id = "checkout-" + customer;
  api::Result<api::RunSummary> run = co_await rt.run_async(w, options);
  // Here the coroutine runs on the engine thread that finished the run: keep this part short.
  if (!run.ok()) co_return customer + ": " + run.status().to_string();
  std::string line = customer + ": " + std::string(api::to_string(run->status)) + ", ";
  for (std::size_t i = 0; i < run->path.size(); ++i) line += (i ? " -> " : "") + run->path[i];
  co_return line;
}

int main(int argc, char** argv) {
  auto workflow = api::Workflow::from_file(argc > 1 ? argv[1] : "checkout.json");
  if (!workflow.ok()) {
    std::cerr << workflow.status().message() << "\n";
    return 2;
  }
  std::mutex mu;
  std::vector<std::jthread> workers;  // declared before the Runtime: joined after it is gone
  auto rt = api::Runtime::open({.threads = 2});
  if (!rt.ok()) {
    std::cerr << rt.status().to_string() << "\n";
    return 1;
  }
  // Synchronous: runs on an engine thread and returns the step's output (or a failure).
  api::Status price = (*rt)->add_tool("price", [](const json& context) -> api::Result<json> {
    std::optional<double> items = number_at(context, "/input/items");
    if (!items) return api::Status(api::StatusCode::kInvalidArgument, "input.items: no number");
    return json{{"usd", *items * 12.5}};
  });
  // Asynchronous: copies what the work needs from the context, starts it and returns; the work
  // answers through `reply`, from its own thread.
  api::Status to_eur =
      (*rt)->add_async_tool("to_eur", [&](const json& context, api::ToolReply reply) {
        const double usd = number_at(context, "/steps/Price/output/usd").value_or(0);
        std::lock_guard lock(mu);
        workers.emplace_back([usd, reply] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a currency service, say
          reply(json{{"eur", usd * 0.9}});
        });
      });
  if (!price.ok() || !to_eur.ok()) return 1;

  std::vector<Task<std::string>> checkouts;
  checkouts.push_back(checkout(**rt, *workflow, "ada", 3));
  checkouts.push_back(checkout(**rt, *workflow, "grace", 1));
  for (auto& c : checkouts) std::cout << c.result.get() << "\n";

  // What each run's Convert step answered is in its events (step_succeeded's "output").
  int missing = 0;
  for (const char* id : {"checkout-ada", "checkout-grace"}) {
    auto events = (*rt)->events(id);
    if (!events.ok()) return 1;
    std::optional<double> eur;
    for (const api::Event& e : *events) {
      if (e.type == "step_succeeded" && e.payload.contains("node") &&
          e.payload["node"] == "Convert") {
        eur = number_at(e.payload, "/output/eur");
      }
    }
    if (!eur) ++missing;
    std::cout << id << ": EUR " << eur.value_or(0) << "\n";
  }
  return missing == 0 ? 0 : 1;
}
