// Fuzz target: what the http and command tools make of what a service or a program sent back
// (tools::parse_http_response and tools::parse_command_output, pure functions of the answer).
// Input: the response body / the program's stdout; when it holds a NUL byte, the bytes before it
// are the Retry-After header's value (and stderr) and the bytes after it the body / stdout.
// Each input is judged as a 200, a 503 and a 429 answer, and as the stdout of a program that
// exited 0, exited 3, and was killed by a signal.
// Checks: no crash, no exception; every reason is valid UTF-8 (and one line, for http); an ok
// output can be dumped.
//
// Needs tools/http_tool.h's parse_http_response and tools/command_tool.h's parse_command_output
// (the tools helper's branch); wired in tests/fuzz/CMakeLists.txt once they are on main.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_checks.h"
#include "tools/command_tool.h"
#include "tools/http_tool.h"

using namespace switchyard;

namespace {

// `one_line`: the http tool promises one-line reasons; the command tool quotes stderr's tail as
// it is (valid UTF-8, lines kept).
void check(const tools::Outcome& o, std::string_view what, bool one_line) {
  fuzz::expect_json_safe(o.reason, what);
  if (one_line && o.reason.find('\n') != std::string::npos) {
    fuzz::fail(what, "a reason of several lines: " + o.reason);
  }
  if (o.ok) (void)o.output.dump();
  for (const auto& [name, value] : o.headers) {
    fuzz::expect_json_safe(name, "header name");
    fuzz::expect_json_safe(value, "header value");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view head;
  if (const auto nul = input.find('\0'); nul != std::string_view::npos) {
    head = input.substr(0, nul);
    input = input.substr(nul + 1);
  }
  const graph::OutputLimits limits{.max_output_bytes = 64 * 1024, .max_json_depth = 64};

  tools::HttpAnswerSpec spec;
  spec.id = "Fetch";
  spec.method = "GET";
  spec.shown_url = "http://127.0.0.1:1/items?key=REDACTED";
  spec.limits = limits;
  for (const int status : {200, 503, 429}) {
    tools::HttpResponse r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}, {"Retry-After", std::string(head)}};
    r.body = std::string(input);
    check(tools::parse_http_response(spec, std::move(r)), "http answer", true);
  }
  spec.expect_status = {201, 202};
  tools::HttpResponse created;
  created.status = 202;
  created.body = std::string(input);
  check(tools::parse_http_response(spec, std::move(created)), "http answer", true);

  for (const auto& [exit_code, signal] : {std::pair{0, 0}, std::pair{3, 0}, std::pair{0, 9}}) {
    tools::CommandResult result;
    result.stdout_text = std::string(input);
    result.stderr_tail = std::string(head);
    result.exit_code = exit_code;
    result.signal = signal;
    result.too_large = input.size() > limits.max_output_bytes;
    check(tools::parse_command_output("Run", result, limits), "command output", false);
  }
  return 0;
}
