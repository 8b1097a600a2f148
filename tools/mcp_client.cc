#include "tools/mcp_client.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>

#include "graph/json_read.h"
#include "tools/http_client.h"
#include "tools/io_loop.h"
#include "tools/spawn.h"

extern char** environ;

namespace switchyard::tools {
namespace asio = boost::asio;
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr std::chrono::milliseconds kDefaultFirstBackoff{100};
std::atomic<std::int64_t> first_backoff_ms{kDefaultFirstBackoff.count()};
constexpr std::chrono::milliseconds kMaxBackoff{30000};
constexpr std::size_t kStderrLineBytes = 2000;  // of one stderr line, logged
// How long a server whose stdin refused a write has to exit before it is stopped.
constexpr std::chrono::milliseconds kStdinGrace{500};
// A stdio message longer than this (and than every request's own limit) breaks the session.
constexpr std::size_t kMinLineCap = std::size_t{64} << 20;

Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

// A reply that is a failure of `kind`.
McpReply failed_reply(FailureKind kind, std::string why) {
  McpReply r;
  r.failure = kind;
  r.error = std::move(why);
  return r;
}

// The most a message may carry for a request whose output has `limits`: a result holds its
// output twice (structuredContent and the same as text), in an envelope.
std::size_t message_cap(const graph::OutputLimits& limits) {
  return 2 * limits.max_output_bytes + 65536;
}

std::optional<std::string> env_lookup(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// The stateless revision's _meta keys, merged into `message`'s params._meta.
void add_stateless_meta(json& message) {
  const json meta = mcp_stateless_meta();
  json& into = message["params"]["_meta"];
  for (auto it = meta.begin(); it != meta.end(); ++it) into[it.key()] = it.value();
}

// One request in flight (or waiting for the handshake).
struct Call {
  std::int64_t id = 0;  // 0: not sent yet
  std::string method;
  json params;
  McpRequestOptions options;
  McpDone done;
  std::unique_ptr<asio::steady_timer> timer;
  std::shared_ptr<CallCancel> transfer;  // HTTP: aborts its POST
  bool resent = false;                   // HTTP: already sent again after a 404
  bool internal = false;                 // the handshake's own request
  bool discover = false;                 // server/discover: sent as a stateless request
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& ctx, graph::McpServer server)
      : ctx_(ctx), server_(std::move(server)), in_(ctx), out_(ctx), err_(ctx), exit_(ctx) {}

  const graph::McpServer& server() const { return server_; }
  int pid() const { return pid_; }
  // The revision the session speaks; empty until it is ready.
  std::string protocol() const { return state_ == State::kReady ? version_ : std::string(); }

  // On the I/O thread.
  void request(std::string method, json params, McpRequestOptions options, McpDone done) {
    auto call = std::make_shared<Call>();
    call->method = std::move(method);
    call->params = std::move(params);
    call->options = std::move(options);
    call->done = std::move(done);
    call->timer = std::make_unique<asio::steady_timer>(ctx_);
    call->timer->expires_after(call->options.timeout);
    std::weak_ptr<Call> weak = call;
    auto self = shared_from_this();
    call->timer->async_wait([self, weak](boost::system::error_code ec) {
      auto c = weak.lock();
      if (ec || !c || !c->done) return;
      self->abandon(c, FailureKind::kTimeout,
                    "no answer to " + c->method + " within " +
                        std::to_string(c->options.timeout.count()) + " ms");
    });
    if (call->options.cancel) {
      call->options.cancel->on_cancel([self, weak] {
        asio::post(self->ctx_, [self, weak] {
          auto c = weak.lock();
          if (c && c->done) self->abandon(c, FailureKind::kCancelled, "cancelled");
        });
      });
    }
    if (!call->done) return;  // cancelled at once
    if (state_ == State::kReady) return send(call);
    waiting_.push_back(call);
    if (state_ == State::kStarting) return;
    const auto now = Clock::now();
    if (now < retry_at_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
      return fail_waiting(FailureKind::kUnavailable,
                          last_death_ + "; restarting in " + std::to_string(left.count()) + " ms");
    }
    start();
  }

  // Ends everything: in-flight requests fail; a stdio server is stopped and reaped.
  void stop() {
    fail_all(FailureKind::kCancelled, "the MCP client is shutting down");
    kill_child(/*graceful=*/true);
    state_ = State::kDown;
    retry_at_ = {};
    backoff_ = std::chrono::milliseconds(0);
  }

 private:
  enum class State { kDown, kStarting, kReady };

  std::string where() const { return "MCP server '" + server_.name + "'"; }

  // --- the handshake -------------------------------------------------------------------------

  void start() {
    state_ = State::kStarting;
    session_id_.clear();
    version_.clear();
    stateless_ = false;
    if (server_.stdio()) {
      auto spawned = spawn();
      if (!spawned.ok()) return died(FailureKind::kUnavailable, spawned.message());
    }
    // "auto" and "2026-07-28" ask server/discover first; "2025-11-25" goes straight to initialize.
    if (server_.protocol == kMcpProtocolVersion) return send_initialize();
    auto self = shared_from_this();
    auto discover = handshake_call("server/discover", json::object(),
                                   [self](McpReply r) { self->discovered(std::move(r)); });
    discover->discover = true;
    send(discover);
  }

  // A request of the handshake: its timeout is the longest of the requests it serves.
  std::shared_ptr<Call> handshake_call(std::string method, json params, McpDone done) {
    auto call = std::make_shared<Call>();
    call->internal = true;
    call->method = std::move(method);
    call->params = std::move(params);
    std::chrono::milliseconds timeout{1000};
    for (const auto& c : waiting_) timeout = std::max(timeout, c->options.timeout);
    call->options.timeout = timeout;
    call->timer = std::make_unique<asio::steady_timer>(ctx_);
    call->timer->expires_after(timeout);
    std::weak_ptr<Call> weak = call;
    auto self = shared_from_this();
    call->timer->async_wait([self, weak](boost::system::error_code ec) {
      auto c = weak.lock();
      if (ec || !c || !c->done) return;
      self->abandon(c, FailureKind::kTimeout, "no answer to " + c->method);
    });
    call->done = std::move(done);
    return call;
  }

  void send_initialize() {
    auto self = shared_from_this();
    send(handshake_call("initialize",
                        {
                            {"protocolVersion", std::string(kMcpProtocolVersion)},
                            {"capabilities", json::object()},
                            {"clientInfo", {{"name", "switchyard"}, {"version", "1"}}},
                        },
                        [self](McpReply r) { self->initialized(std::move(r)); }));
  }

  // The answer to server/discover: the stateless revision when the server lists it; else, with
  // protocol "auto", the initialize handshake (a JSON-RPC error, an HTTP 4xx, or a result that
  // does not list 2026-07-28: an older server); with "2026-07-28", the server is unusable.
  void discovered(McpReply r) {
    if (state_ != State::kStarting) return;
    const bool forced = server_.protocol == kMcpStatelessVersion;
    const std::string prefix = where() + ": server/discover: ";
    FailureKind kind = FailureKind::kUnavailable;
    std::string why;
    if (r.failure == FailureKind::kNone && !r.rpc_error) {
      auto d = read_discover_result(r.result);
      if (d.ok() && d->stateless) {
        stateless_ = true;
        version_ = std::string(kMcpStatelessVersion);
        return ready();
      }
      if (d.ok()) {
        std::string listed;
        for (const auto& v : d->versions) listed += (listed.empty() ? "" : ", ") + excerpt(v, 40);
        why = prefix + "the server lists " + (listed.empty() ? "no revision" : listed) + ", not " +
              std::string(kMcpStatelessVersion);
      } else {
        kind = FailureKind::kBadOutput;
        why = prefix + d.status().message();
      }
    } else if (r.rpc_error || (r.failure == FailureKind::kHttpStatus && r.http_status >= 400 &&
                               r.http_status < 500)) {
      why = r.error;  // names the server, the method and the error
    } else {
      // No answer at all (a timeout, a crash, a refused connection): the server is down.
      kill_child(false);
      return died(r.failure, r.error);
    }
    if (forced) {
      kill_child(false);
      return died(kind, why + " (protocol " + std::string(kMcpStatelessVersion) +
                            " is required: no fallback to initialize)");
    }
    spdlog::info("{}; using initialize ({})", why, kMcpProtocolVersion);
    send_initialize();
  }

  // The session can carry requests: the waiting ones are sent.
  void ready() {
    state_ = State::kReady;
    backoff_ = std::chrono::milliseconds(0);
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& c : waiting) {
      if (c->done) send(c);
    }
  }

  void initialized(McpReply r) {
    if (state_ != State::kStarting) return;
    if (r.failure == FailureKind::kNone && r.rpc_error) {
      r.failure = FailureKind::kUnavailable;
    }
    if (r.failure == FailureKind::kNone) {
      auto version = JsonView(r.result, "/result").string("protocolVersion");
      if (!version.ok()) {
        r.failure = FailureKind::kBadOutput;
        r.error = where() + ": initialize: " + version.status().message();
      } else if (!mcp_supported_version(*version)) {
        r.failure = FailureKind::kUnavailable;
        r.error = where() + ": initialize: the server speaks protocol " + excerpt(*version, 40) +
                  ", which this client does not (it speaks " + std::string(kMcpProtocolVersion) +
                  ")";
      } else {
        version_ = *version;
      }
    }
    if (r.failure != FailureKind::kNone) {
      // A server that cannot finish the handshake is down: stopped, and started again later.
      kill_child(false);
      return died(r.failure, r.error);  // which names the server
    }
    notify("notifications/initialized", json::object());
    ready();
  }

  // The session is down: everything waiting or in flight fails with `kind`; the next start is
  // after the backoff.
  void died(FailureKind kind, std::string why) {
    state_ = State::kDown;
    const std::chrono::milliseconds first(first_backoff_ms.load());
    backoff_ = backoff_.count() == 0 ? first : std::min(std::max(first, kMaxBackoff), backoff_ * 2);
    retry_at_ = Clock::now() + backoff_;
    last_death_ = why;
    spdlog::warn("{} (restart after {} ms)", why, backoff_.count());
    fail_all(kind, why);
  }

  // --- requests ------------------------------------------------------------------------------

  void send(const std::shared_ptr<Call>& call) {
    call->id = next_id_++;
    inflight_[call->id] = call;
    json message = {{"jsonrpc", "2.0"}, {"id", call->id}, {"method", call->method}};
    if (!call->params.is_null()) message["params"] = call->params;
    // The stateless revision: every request says its revision and our capabilities in _meta
    // (merged with the progress token and the trace context below).
    if ((stateless_ || call->discover) && (call->params.is_object() || call->params.is_null())) {
      add_stateless_meta(message);
    }
    // The request's own id is its progress token: unique among the session's requests.
    if (call->options.on_progress && call->params.is_object()) {
      message["params"]["_meta"]["progressToken"] = call->id;
    }
    if (!call->options.traceparent.empty() && call->params.is_object()) {
      message["params"]["_meta"]["traceparent"] = call->options.traceparent;
    }
    if (server_.stdio()) return write_line(message.dump());
    post(call, message.dump());
  }

  void notify(std::string method, json params) {
    json message = {{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", params}};
    if (stateless_) {
      add_stateless_meta(message);
    }
    if (server_.stdio()) return write_line(message.dump());
    post(nullptr, message.dump());
  }

  // The call ends without its answer: the server is told (notifications/cancelled) when it was
  // sent; a handshake that ends so brings the session down.
  void abandon(const std::shared_ptr<Call>& call, FailureKind kind, const std::string& why) {
    if (!call->done) return;
    if (call->transfer) call->transfer->cancel();
    if (call->id != 0 && inflight_.erase(call->id) > 0 && state_ != State::kDown &&
        !call->internal) {  // initialize is never cancelled: the session goes down instead
      notify("notifications/cancelled", {{"requestId", call->id}, {"reason", why}});
    }
    std::erase(waiting_, call);
    finish(call, failed_reply(kind, where() + ": " + call->method + ": " + why));
  }

  void finish(const std::shared_ptr<Call>& call, McpReply reply) {
    if (!call->done) return;
    if (call->timer) call->timer->cancel();
    auto done = std::move(call->done);
    call->done = nullptr;
    done(std::move(reply));
  }

  void fail_waiting(FailureKind kind, const std::string& why) {
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& c : waiting) finish(c, failed_reply(kind, why));
  }

  void fail_all(FailureKind kind, const std::string& why) {
    auto inflight = std::move(inflight_);
    inflight_.clear();
    for (auto& [id, c] : inflight) {
      if (c->transfer) c->transfer->cancel();
      finish(c, failed_reply(kind, c->internal ? why : why + " (during " + c->method + ")"));
    }
    fail_waiting(kind, why);
  }

  // notifications/progress: to its request's on_progress, when it asked for progress and is in
  // flight; anything else is ignored.
  void on_progress(const json& params) {
    auto token = JsonView(lenient_member(params, "progressToken")).integer();
    const json& progress = lenient_member(params, "progress");
    if (!token.ok() || !progress.is_number()) return;
    auto it = inflight_.find(*token);
    if (it == inflight_.end() || !it->second->done || !it->second->options.on_progress) return;
    json report = {{"progress", progress}};
    if (const json& total = lenient_member(params, "total"); total.is_number()) {
      report["total"] = total;
    }
    if (const json& text = lenient_member(params, "message"); text.is_string()) {
      report["message"] = excerpt(text.get_ref<const std::string&>(), 200);
    }
    it->second->options.on_progress(std::move(report));
  }

  // One message from the server. Answers go to their request; requests and notifications from
  // the server are not acted on (ping is answered).
  void on_message(const json& message, std::size_t bytes) {
    JsonView m(message);
    if (!message.is_object()) {
      spdlog::warn("{}: ignored a message that is not an object: {}", where(), describe(message));
      return;
    }
    const json& id = lenient_member(message, "id");
    const bool has_method = message.contains("method");
    if (has_method) {
      if (!id.is_null() && lenient_string(message, "method") == "ping") {
        json pong = {{"jsonrpc", "2.0"}, {"id", id}, {"result", json::object()}};
        if (server_.stdio()) write_line(pong.dump());
      }
      if (id.is_null() && lenient_string(message, "method") == "notifications/progress") {
        on_progress(lenient_member(message, "params"));
      }
      return;  // other notifications (logging) and server requests: not acted on
    }
    auto number = JsonView(id, "/id").integer();
    if (!number.ok()) {
      spdlog::warn("{}: ignored an answer whose id is {}", where(), describe(id));
      return;
    }
    auto it = inflight_.find(*number);
    if (it == inflight_.end()) {
      spdlog::warn("{}: ignored an answer to unknown request id {}", where(), id.dump());
      return;
    }
    auto call = it->second;
    inflight_.erase(it);
    McpReply reply;
    if (bytes > message_cap(call->options.limits)) {
      reply.failure = FailureKind::kBadOutput;
      reply.error = where() + ": " + call->method + ": answer of " + std::to_string(bytes) +
                    " bytes, over the limit of " +
                    std::to_string(message_cap(call->options.limits)) +
                    " bytes (twice max_output_bytes and 64 KiB)";
    } else {
      reply = read_mcp_answer(message, where() + ": " + call->method, stateless_);
    }
    reply.bytes = bytes;
    finish(call, std::move(reply));
  }

  // --- stdio ---------------------------------------------------------------------------------

  Status spawn() {
    std::vector<std::string> env;
    for (const auto& [key, value] : server_.env) {
      auto v = graph::expand_env_refs(value, env_lookup);
      if (!v.ok()) return unavailable(where() + ": env " + key + ": " + v.status().message());
      env.push_back(key + "=" + *v);
    }
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      const auto key = entry.substr(0, entry.find('='));
      bool overridden = false;
      for (const auto& [k, v] : server_.env) overridden = overridden || k == key;
      if (!overridden) env.emplace_back(entry);
    }
    auto child = spawn_child(server_.argv, env, server_.cwd);
    if (!child.ok()) return unavailable(where() + ": " + child.status().message());
    const pid_t pid = child->pid;
    pid_ = pid;
    ++generation_;
    in_.assign(asio::local::stream_protocol(), child->in);
    out_.assign(child->out);
    err_.assign(child->err);
    exit_.assign(child->pidfd);
    line_.clear();
    err_line_.clear();
    writes_.clear();
    writing_ = false;
    read_stdout(generation_);
    read_stderr(generation_);
    auto self = shared_from_this();
    exit_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self, gen = generation_](boost::system::error_code ec) {
                       if (ec || gen != self->generation_) return;
                       self->child_exited();
                     });
    return Status();
  }

  void write_line(std::string line) {
    if (pid_ <= 0) return;
    writes_.push_back(std::move(line) + "\n");
    if (!writing_) write_next();
  }

  void write_next() {
    if (writes_.empty() || pid_ <= 0) {
      writing_ = false;
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(in_, asio::buffer(writes_.front()),
                      [self, gen = generation_](boost::system::error_code ec, std::size_t) {
                        if (gen != self->generation_) return;
                        if (!self->writes_.empty()) self->writes_.pop_front();
                        if (ec) {
                          self->writes_.clear();
                          self->writing_ = false;
                          self->stdin_refused(gen, ec.message());
                          return;
                        }
                        self->write_next();
                      });
  }

  // A write to the server's stdin failed (EPIPE: it closed it, or it is exiting). A server that
  // exits says why through its pidfd, which usually follows within moments; one that stays up
  // without reading its stdin can answer nothing more, so after a short grace it is stopped and
  // its calls fail, instead of each waiting for its timeout.
  void stdin_refused(std::uint64_t gen, const std::string& error) {
    auto grace = std::make_shared<asio::steady_timer>(ctx_, kStdinGrace);
    auto self = shared_from_this();
    grace->async_wait([self, grace, gen, error](boost::system::error_code) {
      if (gen != self->generation_) return;  // it exited (or was stopped) meanwhile
      self->broken("does not read its stdin (a write failed: " + error + ")",
                   FailureKind::kTransport);
    });
  }

  std::size_t line_cap() const {
    std::size_t cap = kMinLineCap;
    for (const auto& [id, c] : inflight_) cap = std::max(cap, message_cap(c->options.limits));
    return cap;
  }

  void read_stdout(std::uint64_t gen) {
    auto self = shared_from_this();
    out_.async_read_some(
        asio::buffer(out_buf_), [self, gen](boost::system::error_code ec, std::size_t n) {
          if (gen != self->generation_) return;
          std::string_view chunk(self->out_buf_.data(), n);
          while (!chunk.empty() && gen == self->generation_) {
            const auto nl = chunk.find('\n');
            self->line_.append(chunk.substr(0, nl));
            if (self->line_.size() > self->line_cap()) {
              return self->broken("a message over " + std::to_string(self->line_cap()) + " bytes",
                                  FailureKind::kBadOutput);
            }
            if (nl == std::string_view::npos) break;
            chunk.remove_prefix(nl + 1);
            std::string line = std::move(self->line_);
            self->line_.clear();
            self->on_line(line);
          }
          if (gen != self->generation_) return;
          if (ec) return;  // EOF: the exit (pidfd) tells the rest
          self->read_stdout(gen);
        });
  }

  void on_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    auto parsed = parse_untrusted(line, JsonLimits{.max_depth = graph::kMaxJsonDepthLimit + 8,
                                                   .max_bytes = line_cap(),
                                                   .what = "message"});
    if (!parsed.ok()) {
      return broken("it wrote a line that is not JSON-RPC: \"" + excerpt(line, 120) + "\"",
                    FailureKind::kBadOutput);
    }
    const json& m = *parsed;
    if (!m.is_object() || lenient_string(m, "jsonrpc") != "2.0") {
      return broken("it wrote a message that is not JSON-RPC 2.0: \"" + excerpt(line, 120) + "\"",
                    FailureKind::kBadOutput);
    }
    on_message(m, line.size());
  }

  // The server broke the protocol: it is stopped, and everything in flight fails.
  void broken(const std::string& why, FailureKind kind) {
    kill_child(false);
    died(kind, where() + ": " + why);
  }

  void read_stderr(std::uint64_t gen) {
    auto self = shared_from_this();
    err_.async_read_some(asio::buffer(err_buf_), [self, gen](boost::system::error_code ec,
                                                             std::size_t n) {
      if (gen != self->generation_) return;
      std::string_view chunk(self->err_buf_.data(), n);
      while (!chunk.empty()) {
        const auto nl = chunk.find('\n');
        if (self->err_line_.size() < kStderrLineBytes) {
          self->err_line_.append(
              chunk.substr(0, std::min(nl, kStderrLineBytes - self->err_line_.size())));
        }
        if (nl == std::string_view::npos) break;
        chunk.remove_prefix(nl + 1);
        spdlog::info("{} stderr: {}", self->where(), excerpt(self->err_line_, kStderrLineBytes));
        self->last_stderr_ = self->err_line_;
        self->err_line_.clear();
      }
      if (ec) return;
      self->read_stderr(gen);
    });
  }

  void child_exited() {
    siginfo_t info{};
    std::string how = "exited";
    // Read without reaping: until reaped, its pid (its group's id) cannot be reused, so the kill
    // of what it left in its group reaches no stranger.
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0) {
      how = info.si_code == CLD_EXITED ? "exited with code " + std::to_string(info.si_status)
                                       : "was killed by signal " + std::to_string(info.si_status);
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    close_pipes();
    std::string why = where() + " " + how;
    if (!last_stderr_.empty()) why += "; its last stderr line: " + excerpt(last_stderr_, 200);
    died(FailureKind::kTransport, why);
  }

  void close_pipes() {
    ++generation_;
    boost::system::error_code ignored;
    in_.close(ignored);
    out_.close(ignored);
    err_.close(ignored);
    exit_.close(ignored);
    writes_.clear();
    writing_ = false;
  }

  // Stops and reaps the child. Graceful: stdin closed, SIGTERM, up to 1 s, then SIGKILL.
  void kill_child(bool graceful) {
    if (pid_ <= 0) return;
    const pid_t pid = pid_;
    pid_ = -1;
    close_pipes();
    if (graceful) {
      ::kill(-pid, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) {
          ::kill(-pid, SIGKILL);
          return;
        }
        ::usleep(10000);
      }
    }
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }

  // --- Streamable HTTP -----------------------------------------------------------------------

  Result<std::vector<std::pair<std::string, std::string>>> headers(bool discover) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : server_.headers) {
      auto v = graph::expand_env_refs(value, env_lookup);
      if (!v.ok()) return unavailable(where() + ": header " + name + ": " + v.status().message());
      out.emplace_back(name, std::move(*v));
    }
    out.emplace_back("Accept", "application/json, text/event-stream");
    out.emplace_back("Content-Type", "application/json");
    if (stateless_ || discover) {  // every request of the stateless revision
      out.emplace_back("MCP-Protocol-Version", std::string(kMcpStatelessVersion));
    } else if (!version_.empty() && state_ == State::kReady) {
      out.emplace_back("MCP-Protocol-Version", version_);
    }
    if (!session_id_.empty()) out.emplace_back("Mcp-Session-Id", session_id_);
    return out;
  }

  // POSTs one message; `call` (null for a notification) gets the answer.
  void post(const std::shared_ptr<Call>& call, std::string body) {
    auto h = headers(call && call->discover);
    if (!h.ok()) {
      if (call) {
        inflight_.erase(call->id);
        finish(call, failed_reply(FailureKind::kUnavailable, h.status().message()));
      }
      return;
    }
    HttpRequest r;
    r.method = "POST";
    r.url = server_.url;
    r.headers = std::move(*h);
    r.body = std::move(body);
    if (call && !call->options.traceparent.empty()) {
      r.headers.emplace_back("traceparent", call->options.traceparent);
    }
    r.keep_headers = {"content-type", "mcp-session-id"};
    r.timeout = call ? call->options.timeout : std::chrono::milliseconds(10000);
    r.max_body_bytes = call ? message_cap(call->options.limits) : 65536;
    std::shared_ptr<CallCancel> transfer;
    if (call) {
      transfer = std::make_shared<CallCancel>();
      call->transfer = transfer;
    }
    auto self = shared_from_this();
    const std::string sent_session = session_id_;
    std::weak_ptr<Call> weak = call;
    http_perform(std::move(r), transfer,
                 [self, weak, is_call = call != nullptr, sent_session](HttpResponse response) {
                   auto c = weak.lock();
                   if (!is_call || !c || !c->done) return;
                   self->on_http_answer(c, sent_session, std::move(response));
                 });
  }

  void on_http_answer(const std::shared_ptr<Call>& call, const std::string& sent_session,
                      HttpResponse r) {
    const std::string what = where() + ": " + call->method;
    auto fail = [&](FailureKind kind, std::string why) {
      inflight_.erase(call->id);
      McpReply reply = failed_reply(kind, what + ": " + why);
      reply.http_status = r.status;
      finish(call, std::move(reply));
    };
    if (r.failure != FailureKind::kNone) return fail(r.failure, excerpt(r.error, 200));
    if (r.status == 404 && !sent_session.empty() && !call->internal) {
      // The session expired: a new one is made and the request sent again, once.
      inflight_.erase(call->id);
      if (call->resent)
        return finish(call, failed_reply(FailureKind::kHttpStatus,
                                         what + ": HTTP 404 again in a new session"));
      call->resent = true;
      call->id = 0;
      spdlog::info("{}: session expired (HTTP 404); starting a new one", where());
      if (session_id_ == sent_session && state_ == State::kReady) {
        state_ = State::kDown;
        session_id_.clear();
      }
      if (state_ == State::kReady) return send(call);
      waiting_.push_back(call);
      if (state_ == State::kDown) start();
      return;
    }
    if (r.status < 200 || r.status >= 300) {
      return fail(
          r.status == 429 ? FailureKind::kRateLimited : FailureKind::kHttpStatus,
          "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + excerpt(r.body, 200)));
    }
    if (r.truncated) {
      return fail(FailureKind::kBadOutput, "answer over the limit of " +
                                               std::to_string(message_cap(call->options.limits)) +
                                               " bytes (twice max_output_bytes and 64 KiB)");
    }
    std::string content_type;
    for (const auto& [name, value] : r.headers) {
      // A session exists only in the revision of initialize (never in the stateless one).
      if (strcasecmp(name.c_str(), "mcp-session-id") == 0 && call->method == "initialize") {
        session_id_ = value;
      }
      if (strcasecmp(name.c_str(), "content-type") == 0) content_type = value;
    }
    const graph::OutputLimits envelope{message_cap(call->options.limits),
                                       graph::kMaxJsonDepthLimit + 8};
    auto messages = parse_http_answer(content_type, r.body, envelope);
    if (!messages.ok()) return fail(FailureKind::kBadOutput, messages.status().message());
    for (const auto& m : *messages) {
      if (!call->done) break;
      on_message(m, r.body.size());
    }
    if (call->done) {
      fail(FailureKind::kBadOutput, "HTTP " + std::to_string(r.status) +
                                        " without an answer to request " +
                                        std::to_string(call->id));
    }
  }

  asio::io_context& ctx_;
  graph::McpServer server_;
  State state_ = State::kDown;
  std::string version_;     // the revision of the session, once it is ready
  bool stateless_ = false;  // 2026-07-28: no session, _meta on every request
  std::string session_id_;
  std::int64_t next_id_ = 1;
  std::map<std::int64_t, std::shared_ptr<Call>> inflight_;
  std::vector<std::shared_ptr<Call>> waiting_;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point retry_at_{};
  std::string last_death_;
  // stdio
  pid_t pid_ = -1;
  std::uint64_t generation_ = 0;  // of the child: callbacks of an earlier one are dropped
  // A socket, not a pipe: a write to a server that is gone fails with EPIPE, never SIGPIPE.
  asio::local::stream_protocol::socket in_;
  asio::posix::stream_descriptor out_, err_, exit_;
  std::array<char, 65536> out_buf_{}, err_buf_{};
  std::string line_, err_line_, last_stderr_;
  std::deque<std::string> writes_;
  bool writing_ = false;
};

class Registry {
 public:
  Registry() : ctx_(tool_io_context()) {}
  ~Registry() { stop(); }

  std::shared_ptr<Session> get(const graph::McpServer& server) {
    std::lock_guard lock(mu_);
    auto& s = sessions_[server.key()];
    if (!s) s = std::make_shared<Session>(ctx_, server);
    return s;
  }

  void stop() {
    std::map<std::string, std::shared_ptr<Session>> sessions;
    {
      std::lock_guard lock(mu_);
      sessions.swap(sessions_);
    }
    if (sessions.empty()) return;
    std::promise<void> stopped;
    asio::post(ctx_, [&] {
      for (auto& [key, s] : sessions) s->stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
  }

  std::vector<int> pids() {
    std::vector<std::shared_ptr<Session>> sessions;
    {
      std::lock_guard lock(mu_);
      for (auto& [key, s] : sessions_) sessions.push_back(s);
    }
    std::promise<std::vector<int>> out;
    asio::post(ctx_, [&] {
      std::vector<int> pids;
      for (auto& s : sessions)
        if (s->pid() > 0) pids.push_back(s->pid());
      out.set_value(pids);
    });
    return out.get_future().get();
  }

  std::string protocol(const graph::McpServer& server) {
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(server.key());
      if (it == sessions_.end()) return "";
      session = it->second;
    }
    std::promise<std::string> out;
    asio::post(ctx_, [&] { out.set_value(session->protocol()); });
    return out.get_future().get();
  }

  asio::io_context& ctx() { return ctx_; }

 private:
  asio::io_context& ctx_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
};

Registry& registry() {
  static Registry r;
  return r;
}

void list_page(std::shared_ptr<Session> session, std::optional<std::string> cursor, json tools,
               McpRequestOptions options, McpDone done, int pages) {
  json params = json::object();
  if (cursor) params["cursor"] = *cursor;
  session->request(
      "tools/list", params, options,
      [session, tools = std::move(tools), options, done = std::move(done),
       pages](McpReply r) mutable {
        if (r.failure != FailureKind::kNone || r.rpc_error) return done(std::move(r));
        auto bad = [&](const std::string& why) {
          done(failed_reply(FailureKind::kBadOutput,
                            "MCP server '" + session->server().name + "': tools/list: " + why));
        };
        std::string next;
        if (auto s = read_tools_page(r.result, tools, next); !s.ok()) return bad(s.message());
        if (next.empty()) {
          McpReply all;
          all.result = std::move(tools);
          return done(std::move(all));
        }
        if (pages >= 1000) return bad("over 1000 pages");
        list_page(session, next, std::move(tools), options, std::move(done), pages + 1);
      });
}

}  // namespace

bool mcp_supported_version(std::string_view version) {
  return version == "2025-11-25" || version == "2025-06-18" || version == "2025-03-26";
}

bool mcp_protocol_name(std::string_view protocol) {
  return protocol == "auto" || protocol == kMcpProtocolVersion || protocol == kMcpStatelessVersion;
}

json mcp_stateless_meta() {
  return {{"io.modelcontextprotocol/protocolVersion", std::string(kMcpStatelessVersion)},
          {"io.modelcontextprotocol/clientCapabilities", json::object()},
          {"io.modelcontextprotocol/clientInfo", {{"name", "switchyard"}, {"version", "1"}}}};
}

std::string mcp_session_protocol(const graph::McpServer& server) {
  return registry().protocol(server);
}

void mcp_request(const graph::McpServer& server, std::string method, json params,
                 McpRequestOptions options, McpDone done) {
  auto session = registry().get(server);
  asio::post(registry().ctx(), [session, method = std::move(method), params = std::move(params),
                                options = std::move(options), done = std::move(done)]() mutable {
    session->request(std::move(method), std::move(params), std::move(options), std::move(done));
  });
}

void mcp_list_tools(const graph::McpServer& server, McpRequestOptions options, McpDone done) {
  auto session = registry().get(server);
  asio::post(
      registry().ctx(), [session, options = std::move(options), done = std::move(done)]() mutable {
        list_page(session, std::nullopt, json::array(), std::move(options), std::move(done), 1);
      });
}

void stop_mcp_sessions() { registry().stop(); }

void set_mcp_first_backoff(std::chrono::milliseconds backoff) {
  first_backoff_ms.store(backoff.count());
}

std::vector<int> mcp_server_pids() { return registry().pids(); }

Result<McpDiscovery> read_discover_result(const json& result) {
  JsonView r(result, "/result");
  SWITCHYARD_RETURN_IF_ERROR(r.expect_object());
  auto versions = r.array("supportedVersions");
  if (!versions.ok()) return versions.status();
  McpDiscovery d;
  std::size_t i = 0;
  for (const auto& v : versions->json()) {
    auto version = JsonView(v, "/result/supportedVersions/" + std::to_string(i++)).string();
    if (!version.ok()) return version.status();
    if (*version == kMcpStatelessVersion) d.stateless = true;
    d.versions.push_back(std::move(*version));
  }
  const json& info = lenient_member(result, "serverInfo");
  if (info.is_object()) d.server_info = info;
  return d;
}

Status read_tools_page(const json& result, json& tools, std::string& next_cursor) {
  JsonView r(result, "/result");
  auto page = r.array("tools");
  if (!page.ok()) return page.status();
  if (!tools.is_array()) tools = json::array();
  for (const auto& t : page->json()) tools.push_back(t);
  auto next = r.string_or("nextCursor", "");
  if (!next.ok()) return next.status();
  next_cursor = std::move(*next);
  return Status();
}

McpReply read_mcp_answer(const json& message, const std::string& what, bool stateless) {
  McpReply reply;
  JsonView m(message);
  if (auto e = m.optional_field("error"); e.ok() && e->has_value()) {
    reply.rpc_error = true;
    const JsonView err = **e;
    auto code = err.integer("code");
    auto text = err.string_or("message", "");
    reply.error = what + ": JSON-RPC error " + (code.ok() ? std::to_string(*code) : "(no code)") +
                  ": " + excerpt(text.ok() ? *text : "(no message)", 300);
  } else if (auto r = m.optional_field("result"); r.ok() && r->has_value()) {
    reply.result = (*r)->json();
    // The stateless revision says how a request was answered: "complete" is an answer; others
    // (a server asking for input before it answers) are not spoken by this client.
    const json& type = lenient_member(reply.result, "resultType");
    if (stateless && !type.is_null() && type != "complete") {
      reply.failure = FailureKind::kBadOutput;
      reply.error = what + ": /result/resultType: " +
                    (type.is_string() ? "\"" + excerpt(type.get_ref<const std::string&>(), 60) +
                                            "\", which this client does not support (only "
                                            "\"complete\")"
                                      : "expected a string, got " + describe(type));
      reply.result = nullptr;  // (after `type`, which points into it, is read)
    }
  } else {
    reply.failure = FailureKind::kBadOutput;
    reply.error = what + ": an answer with neither result nor error (malformed JSON-RPC)";
  }
  return reply;
}

Result<std::vector<json>> parse_http_answer(std::string_view content_type, std::string_view body,
                                            const graph::OutputLimits& limits) {
  std::vector<json> messages;
  if (content_type.find("text/event-stream") != std::string_view::npos) {
    auto m = parse_sse_messages(body, limits);
    if (!m.ok()) {
      return Status(StatusCode::kInvalidArgument,
                    "an event stream that is not JSON-RPC: " + excerpt(m.status().message(), 200));
    }
    messages = std::move(*m);
  } else {
    auto m = parse_untrusted(body, JsonLimits{.max_depth = limits.max_json_depth,
                                              .max_bytes = limits.max_output_bytes,
                                              .what = "answer"});
    if (!m.ok()) {
      return Status(StatusCode::kInvalidArgument,
                    "not JSON-RPC: " + excerpt(m.status().message(), 200));
    }
    if (m->is_array()) {
      for (auto& e : *m) messages.push_back(std::move(e));
    } else {
      messages.push_back(std::move(*m));
    }
  }
  for (const auto& m : messages) {
    if (!m.is_object() || lenient_string(m, "jsonrpc") != "2.0") {
      return Status(StatusCode::kInvalidArgument,
                    "a message that is not JSON-RPC 2.0: " +
                        excerpt(m.dump(-1, ' ', false, json::error_handler_t::replace), 120));
    }
  }
  return messages;
}

Result<std::vector<json>> parse_sse_messages(std::string_view body,
                                             const graph::OutputLimits& limits) {
  std::vector<json> out;
  std::string data;
  bool has_data = false;
  auto flush = [&]() -> Status {
    // An event with empty data primes a resumable stream (2025-11-25): no message.
    if (has_data && data.find_first_not_of(" \t\r\n") != std::string::npos) {
      auto m = parse_untrusted(data, JsonLimits{.max_depth = limits.max_json_depth,
                                                .max_bytes = limits.max_output_bytes,
                                                .what = "event data"});
      if (!m.ok()) return m.status();
      out.push_back(std::move(*m));
    }
    data.clear();
    has_data = false;
    return Status();
  };
  while (!body.empty()) {
    auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      SWITCHYARD_RETURN_IF_ERROR(flush());
      continue;
    }
    if (line.substr(0, 5) != "data:") continue;  // id:, event:, retry:, comments
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (has_data) data += '\n';
    data += line;
    has_data = true;
  }
  SWITCHYARD_RETURN_IF_ERROR(flush());
  return out;
}

}  // namespace switchyard::tools
