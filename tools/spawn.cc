#include "tools/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchyard::tools {
namespace {

Status failed(StatusCode code, const std::string& what, int error) {
  return Status(code, what + ": " + std::strerror(error));
}

}  // namespace

void close_fds(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
}

Result<SpawnedChild> spawn_child(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, const std::string& cwd) {
  int in[2], out[2], err[2];  // [0]: read end, [1]: write end
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
    return failed(StatusCode::kInternal, "stdin", errno);
  if (::pipe2(out, O_CLOEXEC) != 0) {
    const int e = errno;
    close_fds({in[0], in[1]});
    return failed(StatusCode::kInternal, "stdout", e);
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    close_fds({in[0], in[1], out[0], out[1]});
    return failed(StatusCode::kInternal, "stderr", e);
  }
  // The child's ends: its stdin is in[0] of the socket pair, and our end is in[1].
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  SpawnedChild child;
  const int rc = posix_spawnp(&child.pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close_fds({in[0], out[1], err[1]});
  if (rc != 0) {
    close_fds({in[1], out[0], err[0]});
    return failed(StatusCode::kUnavailable, "cannot run " + argv[0], rc);
  }
  // (Through syscall(): Debian 12's <sys/pidfd.h> lacks C linkage for C++.)
  child.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0));
  if (child.pidfd < 0) {  // cannot watch it: kill and reap it rather than leave it unwatched
    const int e = errno;
    ::kill(-child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    close_fds({in[1], out[0], err[0]});
    return failed(StatusCode::kInternal, "pidfd_open", e);
  }
  child.in = in[1];
  child.out = out[0];
  child.err = err[0];
  return child;
}

}  // namespace switchyard::tools
