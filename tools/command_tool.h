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
// larger than 16 MiB are failures with their kind.
//
// Children are waited for without blocking any engine thread: spawning, pipes and exits are
// handled on one process-wide tool I/O thread (pidfd + Boost.Asio). Every child is reaped. A
// child gets descriptors 0, 1 and 2 only: every other one is closed in it, whoever opened it and
// however; ours are also close-on-exec and closed when the call ends.

#include <memory>
#include <string>

#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

std::unique_ptr<Tool> make_command_tool(std::string id, graph::CommandTool spec,
                                        std::chrono::milliseconds timeout);

}  // namespace switchyard::tools
