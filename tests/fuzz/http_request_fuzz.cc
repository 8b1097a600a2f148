// Fuzz target: the service's request handling, from raw bytes to the answer, without sockets:
// the HTTP parser with the server's limits (service::parse_request), then the service itself
// (Service::handle: probes, bearer token, rate, router, every endpoint's handler), over a real
// SQLite journal in a temporary folder with one workflow ("quick", a mock tool) registered.
// Input: one HTTP/1.1 request (the seeds carry the fuzzer's token, "fuzz-token").
// Checks: no crash, no exception; every answer is a valid HTTP status, and every JSON answer is
// JSON (error bodies quote paths, queries and headers, which are bytes).
//
// Runs started by POST /v1/runs execute on the engine's threads. `command` tools and `mcp` tools
// of stdio servers are refused over HTTP (the default: neither starts a program), and every
// `http` tool call (and Streamable HTTP MCP request) goes to a proxy at 127.0.0.1:9 (refused at
// once): a registered workflow cannot make the fuzzer reach the network.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "runtime/service/http_server.h"
#include "runtime/service/service.h"
#include "tests/fuzz/fuzz_checks.h"

using namespace switchyard;

namespace {

constexpr const char* kWorkflow = R"({
  "format": "switchyard.workflow/v1", "name": "quick", "start": "Start", "goal": "Done",
  "tools": {"A": {"kind": "mock", "latency_ms": 0, "output": {"ok": true}}},
  "edges": [["Start", "A", 1], ["A", "Done", 0]]})";

struct Fixture {
  std::filesystem::path dir;
  service::ServiceOptions options;
  std::unique_ptr<service::Service> service;
};

Fixture* fixture = nullptr;

// At exit (libFuzzer calls exit() when its time is up): the service is stopped first, so that
// no engine, journal or probe thread is still running while the process's static objects are
// destroyed (a run started by the last inputs would otherwise touch freed memory), then its
// folder is removed. Registered after the service started: it runs before the destruction of
// the static objects made until then.
void tear_down() {
  if (fixture == nullptr) return;
  fixture->service.reset();
  std::error_code ec;
  std::filesystem::remove_all(fixture->dir, ec);
}

Fixture& setup() {
  if (fixture != nullptr) return *fixture;
  spdlog::set_level(spdlog::level::off);
  for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
    ::setenv(name, "http://127.0.0.1:9", 1);
  }
  ::unsetenv("no_proxy");
  ::unsetenv("NO_PROXY");
  auto* f = new Fixture;
  std::string tmpl = (std::filesystem::temp_directory_path() / "switchyard-fuzz-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) fuzz::fail("setup", "mkdtemp");
  f->dir = tmpl;
  const auto workflow = f->dir / "quick.json";
  std::ofstream(workflow) << kWorkflow;
  f->options.journal_path = (f->dir / "journal.db").string();
  f->options.tokens = {"fuzz-token"};
  f->options.rate.per_second = 0;  // no rate limit: every input reaches the router
  f->options.grace = std::chrono::milliseconds(0);
  f->options.workflow_files = {workflow.string()};
  f->options.listen = false;
  f->options.http.max_body_bytes = 64 * 1024;
  auto started = service::Service::start(f->options);
  if (!started.ok()) fuzz::fail("setup", started.status().to_string());
  f->service = std::move(*started);
  fixture = f;
  std::atexit(tear_down);
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = setup();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const service::ParsedRequest parsed = service::parse_request(bytes, f.options.http, "fuzz");
  service::HttpResponse response;
  switch (parsed.outcome) {
    case service::ParsedRequest::Outcome::kIncomplete:
      return 0;
    case service::ParsedRequest::Outcome::kRejected:
      response = parsed.rejection;
      break;
    case service::ParsedRequest::Outcome::kRequest:
      response = f.service->handle(parsed.request);
      break;
  }
  if (response.status < 100 || response.status > 599) {
    fuzz::fail("status", std::to_string(response.status));
  }
  if (response.stream == nullptr && response.content_type == "application/json") {
    auto doc = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) fuzz::fail("a JSON answer that is not JSON", response.body);
  }
  return 0;
}
