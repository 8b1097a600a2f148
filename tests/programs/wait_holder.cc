// A process that holds a run at its waits, for the tests that kill it with SIGKILL there
// (tests/runtime/engine/wait_resume_test.cc; docs/waits.md#surviving-a-restart).
//
//   switchyard_wait_holder JOURNAL WORKFLOW.json RUN_ID WAITS
//
// Starts run RUN_ID of the workflow through the embedding API, over the SQLite journal JOURNAL,
// with the builtins the tests' workflows call: `prep` (counts its calls in its output) and
// `echo`. Once WAITS wait_started events of the run are durable, prints "held" and a newline on
// stdout. Then it waits for stdin to reach end of file (the test holds the other end: the process
// does not outlive the test) and exits with 3 without finishing the run.

#include <switchyard/switchyard.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace api = switchyard::api;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s JOURNAL WORKFLOW.json RUN_ID WAITS\n", argv[0]);
    return 2;
  }
  const int waits = std::atoi(argv[4]);
  auto workflow = api::Workflow::from_file(argv[2]);
  if (!workflow.ok()) {
    std::fprintf(stderr, "%s\n", workflow.status().message().c_str());
    return 2;
  }
  api::RuntimeOptions options;
  options.journal_path = argv[1];
  options.threads = 1;
  auto rt = api::Runtime::open(std::move(options));
  if (!rt.ok()) {
    std::fprintf(stderr, "%s\n", rt.status().message().c_str());
    return 2;
  }
  std::atomic<int> prepared{0};
  (void)(*rt)->add_tool("prep", [&prepared](const nlohmann::json&) -> api::Result<nlohmann::json> {
    return nlohmann::json{{"prepared", ++prepared}};
  });
  (void)(*rt)->add_tool("echo", [](const nlohmann::json&) -> api::Result<nlohmann::json> {
    return nlohmann::json{{"echo", true}};
  });
  std::atomic<int> started{0};
  api::RunOptions run;
  run.run_id = argv[3];
  run.on_event = [&started, waits](const api::Event& e) {
    if (e.type == "wait_started" && ++started == waits) {
      std::fputs("held\n", stdout);
      std::fflush(stdout);
    }
  };
  auto id = (*rt)->start(*workflow, std::move(run), [](api::Result<api::RunSummary> r) {
    std::fprintf(stderr, "the run ended: %s\n", r.ok() ? "ok" : r.status().message().c_str());
  });
  if (!id.ok()) {
    std::fprintf(stderr, "%s\n", id.status().message().c_str());
    return 2;
  }
  while (std::fgetc(stdin) != EOF) {
  }
  std::_Exit(3);
}
