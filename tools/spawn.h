#pragma once
// Starting a child process for a tool: `command` tools (command_tool.cc) and MCP servers over
// stdio (mcp_client.cc) start theirs the same way.

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "graph/status.h"

namespace switchyard::tools {

// A child started by spawn_child: its pid, a pidfd that becomes readable when it exits, and our
// ends of its standard input, output and error. Every descriptor is close-on-exec; the caller
// owns them (and reaps the child).
struct SpawnedChild {
  pid_t pid = -1;
  int pidfd = -1;
  int in = -1;   // writes to the child's stdin
  int out = -1;  // reads its stdout
  int err = -1;  // reads its stderr
};

// Starts argv[0] (looked up in PATH) with argv and exactly the environment `env` ("KEY=value"
// entries), in `cwd` (empty: ours), in a process group of its own (so that a kill of -pid stops
// all of it), with no signal blocked and SIGPIPE at its default, and no descriptor of ours but its
// standard three (libcurl's sockets, an embedding program's files never leak into it).
// Its stdin is one end of a socket pair, not a pipe: our writes go through send() with
// MSG_NOSIGNAL (asio does this for sockets), so a child that exits or closes its stdin fails the
// write with EPIPE instead of raising SIGPIPE, which would kill the process that embeds us.
// REQUIRES: argv non-empty.
Result<SpawnedChild> spawn_child(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, const std::string& cwd);

// Closes each descriptor that is >= 0.
void close_fds(std::initializer_list<int> fds);

}  // namespace switchyard::tools
