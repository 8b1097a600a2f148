// examples/embed: a whole program embedding Switchyard. It registers a builtin tool, runs a
// workflow on it and prints the route taken and the money spent.
//
//            +--> Stripe (down) --+
//   Start -> Lookup               +--> Done      Lookup: the builtin "lookup" below
//            +--> Razorpay -------+              Stripe fails: the run reroutes to Razorpay
//
// Build against an installed Switchyard (docs/embedding.md), then run it:
//   cmake -S examples/embed -B build-embed -DCMAKE_PREFIX_PATH=<prefix> &&
//     cmake --build build-embed && build-embed/embed examples/embed/refund.json

#include <switchyard/switchyard.h>

#include <iostream>

namespace api = switchyard::api;

int main(int argc, char** argv) {
  const std::string file = argc > 1 ? argv[1] : "refund.json";
  auto workflow = api::Workflow::from_file(file);
  if (!workflow.ok()) {
    std::cerr << workflow.status().message() << "\n";  // file: /json/pointer: what is wrong
    return 2;
  }
  auto runtime = api::Runtime::open({.threads = 1});  // journal in memory; .journal_path for a file
  if (!runtime.ok()) {
    std::cerr << runtime.status().to_string() << "\n";
    return 1;
  }
  api::Status added = (*runtime)->add_tool("lookup", [](const nlohmann::json& context) {
    return api::Result<nlohmann::json>(
        nlohmann::json{{"customer", context["input"]["customer"]}, {"order", "A-17"}});
  });
  if (!added.ok()) return 1;

  auto run = (*runtime)->run(*workflow, {.input = {{"customer", "ada"}}});
  if (!run.ok()) {
    std::cerr << run.status().to_string() << "\n";
    return 1;
  }
  std::cout << "status: " << api::to_string(run->status) << "\n";
  std::cout << "route:";
  for (std::size_t i = 0; i < run->path.size(); ++i) {
    std::cout << (i ? " -> " : " ") << run->path[i];
  }
  std::cout << "\nreroutes: " << run->reroutes << "\n";
  std::cout << "spend: $" << run->spent_usd << ", " << run->llm_calls << " LLM call(s)\n";
  return run->succeeded() ? 0 : 1;
}
