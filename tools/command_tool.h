#pragma once
// The `command` tool: runs a program (argv only, never a shell) for each call.
//
// stdin gets the step's context as JSON ({"input", "steps"}); stdout is the output and must be
// JSON; stderr is kept (its last 4 KiB) for the failure reason, and dropped on success. The
// program runs in its own process group; the call ends when the program exits, and whatever it
// left running in its group (a background child) is killed then. `timeout_ms` (default 30 s)
// bounds the whole call: at the limit the group is killed and the call fails `timeout`, even if
// a process that left the group still holds a pipe. A cancelled call kills the group too.
// `env` entries are added to the inherited environment; `cwd` is the working directory. argv and
// env values are templates. A non-zero exit, a signal, a timeout, output that is not JSON or
// over the tool's limits (graph::OutputLimits: max_output_bytes, default 16 MiB, of which no more
// is read from the pipe; max_json_depth, default 128) are failures with their kind.
//
// Children are waited for without blocking any engine thread: spawning, pipes and exits are
// handled on one process-wide tool I/O thread (pidfd + Boost.Asio). Every child is reaped. A
// child gets descriptors 0, 1 and 2 only: every other one is closed in it, whoever opened it and
// however; ours are also close-on-exec and closed when the call ends.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

std::unique_ptr<Tool> make_command_tool(std::string id, graph::CommandTool spec,
                                        std::chrono::milliseconds timeout,
                                        graph::OutputLimits limits = {});

// How a command call ended, as the tool I/O thread saw it.
struct CommandResult {
  std::string stdout_text;  // what was read of stdout (at most max_output_bytes + 1 bytes)
  std::string stderr_tail;  // the last 4 KiB of stderr
  int exit_code = 0;        // when it exited
  int signal = 0;           // when a signal killed it (0: none)
  bool timed_out = false;
  bool cancelled = false;
  bool too_large = false;  // stdout passed max_output_bytes and the program was killed
};

// The outcome of one command call: a pure function of its arguments (no I/O, never throws, never
// crashes on any bytes), so tests and fuzzers can feed it anything. stdout must be JSON within
// `limits` (else bad_output, naming the limit, or quoting the start of stdout on one line);
// stderr and stdout quoted in reasons are valid UTF-8.
Outcome parse_command_output(std::string_view id, const CommandResult& result,
                             const graph::OutputLimits& limits);

}  // namespace switchyard::tools
