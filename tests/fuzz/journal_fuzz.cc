// Fuzz target: journal rows read back and re-enacted, the path of `replay --verify` and resume
// (runtime::verify_event_rows: each row decoded as the journal decodes it, then the run re-driven
// on its workflow and every recorded decision compared).
// Input: the event rows of one run, one per line, "<type> <payload JSON>" (seq 1, 2, ... and
// time_ms from the line number); an optional first line "workflow: fanout" re-enacts them on the
// fan-out scenario (tests/scenarios/FO-2.json) instead of examples/customer-support.json. The
// seeds are real runs of those two (tests/fuzz/corpus/journal/). Inputs of odd size are checked
// as complete runs (--verify), the others as runs to resume.
// Checks: no crash, no exception; every error message is valid UTF-8 (printed by --verify --json).
//
// Needs runtime/replay/verify.h's verify_event_rows (the journal helper's branch); wired in
// tests/fuzz/CMakeLists.txt once it is on main.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/load.h"
#include "runtime/base/workflow_file.h"
#include "runtime/replay/verify.h"
#include "tests/fuzz/fuzz_checks.h"

using namespace switchyard;

namespace {

std::shared_ptr<const graph::Workflow> load(const char* relative) {
  const std::string path = std::string(SWITCHYARD_SOURCE_DIR) + "/" + relative;
  auto loaded = runtime::load_workflow_file(path);
  if (!loaded.ok()) fuzz::fail("setup", loaded.errors.front().to_string());
  return loaded.workflow;
}

const graph::Workflow& workflow(bool fanout) {
  static const auto support = load("examples/customer-support.json");
  static const auto fan = load("tests/scenarios/FO-2.json");
  return fanout ? *fan : *support;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bool fanout = false;
  constexpr std::string_view kHeader = "workflow: fanout\n";
  if (text.substr(0, kHeader.size()) == kHeader) {
    fanout = true;
    text.remove_prefix(kHeader.size());
  }
  std::vector<runtime::EventRow> rows;
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const auto space = line.find(' ');
    runtime::EventRow row;
    row.type = std::string(line.substr(0, space));
    row.payload = space == std::string_view::npos ? "" : std::string(line.substr(space + 1));
    row.time_ms = 1764979200000 + static_cast<std::int64_t>(rows.size());
    rows.push_back(std::move(row));
  }
  auto verified = runtime::verify_event_rows(workflow(fanout), rows, /*complete=*/size % 2 == 1);
  if (!verified.ok()) fuzz::expect_json_safe(verified.status().message(), "verify error");
  return 0;
}
