#include "tools/command_tool.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "graph/json_read.h"
#include "graph/template.h"
#include "tools/io_loop.h"
#include "tools/output.h"
#include "tools/spawn.h"

extern char** environ;

namespace switchyard::tools {
namespace asio = boost::asio;
namespace {

constexpr std::size_t kStderrTail = 4096;   // bytes of stderr kept for the reason
constexpr std::size_t kStdoutQuoted = 200;  // bytes of stdout quoted when it is not JSON
constexpr std::chrono::milliseconds kDefaultCommandTimeout{30000};

// One running child. Lives on the I/O thread until its output is read and it is reaped.
class Child : public std::enable_shared_from_this<Child> {
 public:
  Child(asio::io_context& ctx, std::string id, graph::OutputLimits limits, Tool::Done done)
      : id_(std::move(id)),
        limits_(limits),
        done_(std::move(done)),
        in_(ctx),
        out_(ctx),
        err_(ctx),
        exit_(ctx),
        timer_(ctx) {}

  // Spawns argv with env in cwd; reports a failure at once when it cannot.
  void spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& cwd, std::string stdin_data, std::chrono::milliseconds timeout) {
    auto child = spawn_child(argv, env, cwd);
    if (!child.ok()) {
      const Status& s = child.status();
      return finish(Outcome::failed(
          s.code() == StatusCode::kUnavailable ? FailureKind::kUnavailable : FailureKind::kInternal,
          id_ + ": " + s.message()));
    }
    pid_ = child->pid;
    in_.assign(asio::local::stream_protocol(), child->in);
    out_.assign(child->out);
    err_.assign(child->err);
    exit_.assign(child->pidfd);
    stdin_ = std::move(stdin_data);
    watch(timeout);
  }

  // Kills the child's process group (a cancelled call); it is still reaped as usual.
  void abort() {
    if (pid_ <= 0 || !done_) return;
    cancelled_ = true;
    ::kill(-pid_, SIGKILL);
    maybe_finish();
  }

 private:
  void watch(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    asio::async_write(in_, asio::buffer(stdin_), [self](boost::system::error_code, std::size_t) {
      boost::system::error_code ignored;
      self->in_.close(ignored);  // EOF for the child; a child that does not read is fine
    });
    read(out_, out_buf_, stdout_, true);
    read(err_, err_buf_, stderr_, false);
    exit_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self](boost::system::error_code ec) {
                       if (!ec) self->on_exit();
                     });
    // The limit is on the whole call, not on the program alone: it also ends a call whose
    // pipes are held open by a process that left the group (setsid).
    timer_.expires_after(timeout);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (ec || !self->done_) return;
      self->timed_out_ = true;
      ::kill(-self->pid_, SIGKILL);
      self->maybe_finish();
    });
  }

  void read(asio::posix::stream_descriptor& fd, std::array<char, 65536>& buf, std::string& into,
            bool is_stdout) {
    auto self = shared_from_this();
    fd.async_read_some(asio::buffer(buf), [self, &fd, &buf, &into, is_stdout](
                                              boost::system::error_code ec, std::size_t n) {
      if (!is_stdout) {
        into.append(buf.data(), n);
        if (into.size() > kStderrTail) into.erase(0, into.size() - kStderrTail);
      } else if (!self->too_large_) {
        // Never more than the limit and one byte (enough to know it was passed) is kept; the
        // rest is drained unread while the program is killed.
        const std::size_t room = self->limits_.max_output_bytes + 1 - into.size();
        into.append(buf.data(), std::min(n, room));
        if (into.size() > self->limits_.max_output_bytes) {
          self->too_large_ = true;
          ::kill(-self->pid_, SIGKILL);
        }
      }
      if (ec) {
        (is_stdout ? self->out_done_ : self->err_done_) = true;
        return self->maybe_finish();
      }
      self->read(fd, buf, into, is_stdout);
    });
  }

  // The program has exited. The call ends with it: whatever it left running in its process
  // group (a background child holding stdout, say) is killed, so the pipes reach EOF at once.
  // The exit is read without reaping: until finish() reaps it, the zombie keeps its pid, which
  // is also the group's id, from being reused, so kill(-pid_) never reaches a stranger.
  void on_exit() {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0) {
      info.si_code = CLD_KILLED;  // cannot happen for our own child; treated as killed
      info.si_status = SIGKILL;
    }
    exited_ = true;
    exit_code_ = info.si_code == CLD_EXITED ? info.si_status : -1;
    signal_ = info.si_code == CLD_EXITED ? 0 : info.si_status;
    ::kill(-pid_, SIGKILL);
    maybe_finish();
  }

  // Done once the program has exited and its output is read to EOF, or, for a call ended by a
  // kill (timeout, cancel, output too large), once the program has exited: a process outside
  // the group that still holds a pipe does not keep the call open.
  void maybe_finish() {
    if (!exited_ || !done_) return;
    if (!(out_done_ && err_done_) && !timed_out_ && !cancelled_ && !too_large_) return;
    finish(outcome());
  }

  Outcome outcome() const {
    CommandResult r;
    r.stdout_text = stdout_;
    r.stderr_tail = stderr_;
    r.exit_code = exit_code_;
    r.signal = signal_;
    r.timed_out = timed_out_;
    r.cancelled = cancelled_;
    r.too_large = too_large_;
    return parse_command_output(id_, r, limits_);
  }

  void finish(Outcome outcome) {
    // Every descriptor is closed before the caller hears the outcome.
    boost::system::error_code ignored;
    in_.close(ignored);
    out_.close(ignored);
    err_.close(ignored);
    exit_.close(ignored);
    timer_.cancel();
    if (exited_) ::waitpid(pid_, nullptr, 0);  // reaps the zombie: it has exited, no blocking
    outcome.latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started_);
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(outcome));
  }

  std::string id_;
  graph::OutputLimits limits_;
  Tool::Done done_;
  asio::local::stream_protocol::socket in_;
  asio::posix::stream_descriptor out_, err_, exit_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  pid_t pid_ = -1;
  std::string stdin_, stdout_, stderr_;
  std::array<char, 65536> out_buf_{}, err_buf_{};
  bool out_done_ = false, err_done_ = false, exited_ = false;
  bool timed_out_ = false, too_large_ = false, cancelled_ = false;
  int exit_code_ = 0, signal_ = 0;  // once exited: its exit code, or the signal that killed it
};

class CommandTool final : public Tool {
 public:
  CommandTool(std::string id, graph::CommandTool spec, std::chrono::milliseconds timeout,
              graph::OutputLimits limits)
      : id_(std::move(id)),
        spec_(std::move(spec)),
        timeout_(timeout.count() > 0 ? timeout : kDefaultCommandTimeout),
        limits_(limits) {
    // Validated by the loader: parsing cannot fail here.
    for (const auto& a : spec_.argv) argv_.push_back(*graph::parse_template(a));
    for (const auto& [k, v] : spec_.env) env_.emplace_back(k, *graph::parse_template(v));
  }

  void invoke(const Invocation& call, Done done) override {
    std::vector<std::string> argv, env;
    for (const auto& t : argv_) {
      auto s = graph::render_template(t, *call.context);
      if (!s.ok()) {
        return done(Outcome::failed(FailureKind::kTemplate, id_ + ": " + s.status().message()));
      }
      argv.push_back(std::move(*s));
    }
    // The workflow's entries, then the inherited environment minus the keys they override.
    for (const auto& [key, t] : env_) {
      auto s = graph::render_template(t, *call.context);
      if (!s.ok()) {
        return done(Outcome::failed(FailureKind::kTemplate, id_ + ": " + s.status().message()));
      }
      env.push_back(key + "=" + *s);
    }
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry(*e);
      const auto key = entry.substr(0, entry.find('='));
      bool overridden = false;
      for (const auto& [k, t] : env_) overridden = overridden || k == key;
      if (!overridden) env.emplace_back(entry);
    }
    std::string stdin_data = call.context->dump();
    auto& ctx = tool_io_context();
    asio::post(ctx,
               [&ctx, id = id_, limits = limits_, done = std::move(done), argv = std::move(argv),
                env = std::move(env), cwd = spec_.cwd, stdin_data = std::move(stdin_data),
                timeout = timeout_, cancel = call.cancel]() mutable {
                 auto child = std::make_shared<Child>(ctx, id, limits, std::move(done));
                 child->spawn(argv, env, cwd, std::move(stdin_data), timeout);
                 if (cancel) {
                   cancel->on_cancel([&ctx, weak = std::weak_ptr<Child>(child)] {
                     asio::post(ctx, [weak] {
                       if (auto c = weak.lock()) c->abort();
                     });
                   });
                 }
               });
  }

 private:
  std::string id_;
  graph::CommandTool spec_;
  std::chrono::milliseconds timeout_;
  graph::OutputLimits limits_;
  std::vector<graph::Template> argv_;
  std::vector<std::pair<std::string, graph::Template>> env_;
};

}  // namespace

Outcome parse_command_output(std::string_view id_view, const CommandResult& r,
                             const graph::OutputLimits& limits) {
  const std::string id(id_view);
  // stderr is quoted whole (its kept tail), as valid UTF-8: reasons are journaled as JSON.
  const std::string tail = r.stderr_tail.empty() ? "" : "; stderr: " + valid_utf8(r.stderr_tail);
  if (r.cancelled) return Outcome::failed(FailureKind::kCancelled, id + ": cancelled");
  if (r.timed_out) return Outcome::failed(FailureKind::kTimeout, id + ": timed out" + tail);
  if (r.too_large || r.stdout_text.size() > limits.max_output_bytes) {
    return Outcome::failed(FailureKind::kBadOutput,
                           id + ": " + over_output_limit("stdout", limits.max_output_bytes));
  }
  if (r.signal != 0) {
    return Outcome::failed(FailureKind::kExitCode,
                           id + ": killed by signal " + std::to_string(r.signal) + tail);
  }
  if (r.exit_code != 0) {
    return Outcome::failed(FailureKind::kExitCode,
                           id + ": exit code " + std::to_string(r.exit_code) + tail);
  }
  auto output = parse_output(r.stdout_text, limits, "stdout");
  if (!output.ok()) {
    // Over the depth limit: the limit is the news. Not JSON: what the program printed instead.
    const std::string why = output.status().message();
    const bool limit = why.find("(max_json_depth)") != std::string::npos;
    return Outcome::failed(
        FailureKind::kBadOutput,
        id + ": " +
            (limit ? why
                   : "stdout is not JSON: \"" + excerpt(r.stdout_text, kStdoutQuoted) + "\"") +
            tail);
  }
  return Outcome::success(std::move(output).value());
}

std::unique_ptr<Tool> make_command_tool(std::string id, graph::CommandTool spec,
                                        std::chrono::milliseconds timeout,
                                        graph::OutputLimits limits) {
  return std::make_unique<CommandTool>(std::move(id), std::move(spec), timeout, limits);
}

}  // namespace switchyard::tools
