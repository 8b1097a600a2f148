// What Switchyard's MCP client adds to one tools/call, over stdio and Streamable HTTP, against a
// raw JSON-RPC loop to the same server in the same run (docs/benchmarks.md#mcp-tools).
//   build/tests/bench/mcp_bench
// - BM_McpStdio: the fault MCP server (tests/programs/mcp_server.cc) started twice over stdio:
//   once under an `mcp` tool (tools/mcp_tool.h: argument template, inputSchema check, the
//   session on the tool I/O thread, the outcome), once under a raw loop on this thread (write
//   one JSON-RPC line, read one line, parse it). Calls alternate one by one, so that the
//   machine's noise falls on both alike.
// - BM_McpHttp: the same against one Streamable HTTP server, the raw loop a libcurl easy handle
//   that keeps its connection and sends the session's headers.
// Both call `echo` ({"text": "..."}: structuredContent) one at a time and report the p50 and p99
// of each side's latency in microseconds and `added_p50_us`, the difference of the p50s (the
// goals: <= 100 us over stdio, <= 200 us over HTTP).

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"

namespace {

using namespace switchyard;
using json = nlohmann::json;
using Micros = std::chrono::duration<double, std::micro>;

const json kContext = {{"input", {{"text", "hello"}}}, {"steps", json::object()}};
const json kInitialize = {{"jsonrpc", "2.0"},
                          {"id", 0},
                          {"method", "initialize"},
                          {"params",
                           {{"protocolVersion", "2025-11-25"},
                            {"capabilities", json::object()},
                            {"clientInfo", {{"name", "raw"}, {"version", "1"}}}}}};
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

std::string call_message(long id) {
  return json{{"jsonrpc", "2.0"},
              {"id", id},
              {"method", "tools/call"},
              {"params", {{"name", "echo"}, {"arguments", {{"text", "hello"}}}}}}
      .dump();
}

// The MCP server over stdio, spoken to directly: one line out, one line back.
class RawStdio {
 public:
  RawStdio() {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execl(SWITCHYARD_MCP_SERVER, SWITCHYARD_MCP_SERVER, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    send(kInitialize.dump());
    (void)receive();
    send(kInitialized);
  }
  ~RawStdio() {
    ::close(to_);
    ::close(from_);
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  // One tools/call; its answer parsed.
  json call(long id) {
    send(call_message(id));
    return json::parse(receive(), nullptr, false);
  }

 private:
  void send(std::string line) {
    line += '\n';
    for (std::size_t done = 0; done < line.size();) {
      const ssize_t n = ::write(to_, line.data() + done, line.size() - done);
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
  }
  std::string receive() {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      char chunk[65536];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n <= 0) std::abort();
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buffer_;
};

// The MCP server over Streamable HTTP, spoken to with one libcurl easy handle.
class RawHttp {
 public:
  explicit RawHttp(std::string url) : url_(std::move(url)), curl_(curl_easy_init()) {
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &RawHttp::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &RawHttp::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &session_);
    post(kInitialize.dump());
    post(kInitialized);
  }
  ~RawHttp() {
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  json call(long id) {
    post(call_message(id));
    return json::parse(body_, nullptr, false);
  }

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* out) {
    const std::string line(data, size * n);
    const std::string name = "mcp-session-id:";
    if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
      std::string value = line.substr(name.size());
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of("\r\n ") + 1);
      *static_cast<std::string*>(out) = value;
    }
    return size * n;
  }
  void post(const std::string& message) {
    if (headers_ == nullptr || header_session_ != session_) {
      if (headers_ != nullptr) curl_slist_free_all(headers_);
      headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
      headers_ = curl_slist_append(headers_, "Accept: application/json, text/event-stream");
      if (!session_.empty()) {
        headers_ = curl_slist_append(headers_, ("Mcp-Session-Id: " + session_).c_str());
        headers_ = curl_slist_append(headers_, "MCP-Protocol-Version: 2025-11-25");
      }
      header_session_ = session_;
      curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    }
    body_.clear();
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, message.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(message.size()));
    if (curl_easy_perform(curl_) != CURLE_OK) std::abort();
  }
  std::string url_;
  CURL* curl_;
  curl_slist* headers_ = nullptr;
  std::string session_, header_session_, body_;
};

// One call of the `mcp` tool, waited for.
tools::Outcome call_tool(tools::Tool& tool) {
  std::promise<tools::Outcome> p;
  tools::Invocation inv;
  inv.context = &kContext;
  tool.invoke(inv, [&p](tools::Outcome o) { p.set_value(std::move(o)); });
  return p.get_future().get();
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// Alternates `ours` and `raw` calls, one by one, and reports both sides' latencies.
template <typename Ours, typename Raw>
void alternate(benchmark::State& state, Ours ours, Raw raw) {
  for (int i = 0; i < 200; ++i) {  // warm up both (sessions, caches, the tool's tools/list)
    ours();
    raw();
  }
  std::vector<double> ours_us, raw_us;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    ours();
    auto t1 = std::chrono::steady_clock::now();
    raw();
    auto t2 = std::chrono::steady_clock::now();
    ours_us.push_back(Micros(t1 - t0).count());
    raw_us.push_back(Micros(t2 - t1).count());
  }
  const double ours_p50 = percentile(ours_us, 0.5), raw_p50 = percentile(raw_us, 0.5);
  state.counters["ours_p50_us"] = ours_p50;
  state.counters["ours_p99_us"] = percentile(ours_us, 0.99);
  state.counters["raw_p50_us"] = raw_p50;
  state.counters["raw_p99_us"] = percentile(raw_us, 0.99);
  state.counters["added_p50_us"] = ours_p50 - raw_p50;
}

std::unique_ptr<tools::Tool> echo_tool(graph::McpServer server) {
  graph::McpTool spec;
  spec.server = std::move(server);
  spec.tool = "echo";
  spec.arguments = json{{"text", "{{input.text}}"}};
  return tools::make_mcp_tool("Echo", spec, std::chrono::milliseconds(10000));
}

void BM_McpStdio(benchmark::State& state) {
  graph::McpServer server;
  server.name = "bench";
  server.argv = {SWITCHYARD_MCP_SERVER};
  auto tool = echo_tool(server);
  RawStdio raw;
  long id = 1;
  alternate(
      state,
      [&] {
        if (!call_tool(*tool).ok) state.SkipWithError("the mcp tool failed");
      },
      [&] {
        if (!raw.call(id++).contains("result")) state.SkipWithError("the raw call failed");
      });
  tools::stop_mcp_sessions();
}
BENCHMARK(BM_McpStdio)->Iterations(5000)->Unit(benchmark::kMicrosecond);

void BM_McpHttp(benchmark::State& state) {
  testing::Subprocess process({SWITCHYARD_MCP_SERVER, "--http", "--exit-on-stdin-eof"});
  std::smatch m;
  auto line = process.read_line();
  if (!line || !std::regex_search(*line, m, std::regex("listening on (\\S+)"))) {
    state.SkipWithError("the MCP server did not start");
    return;
  }
  graph::McpServer server;
  server.name = "bench-http";
  server.url = "http://" + m[1].str() + "/mcp";
  auto tool = echo_tool(server);
  RawHttp raw(server.url);
  long id = 1;
  alternate(
      state,
      [&] {
        if (!call_tool(*tool).ok) state.SkipWithError("the mcp tool failed");
      },
      [&] {
        if (!raw.call(id++).contains("result")) state.SkipWithError("the raw call failed");
      });
  tools::stop_mcp_sessions();
}
BENCHMARK(BM_McpHttp)->Iterations(5000)->Unit(benchmark::kMicrosecond);

}  // namespace
