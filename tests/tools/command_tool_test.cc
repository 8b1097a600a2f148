// The `command` tool against a real program (tests/programs/fake_command.cc): stdin/stdout JSON,
// templates, exit codes, timeouts that kill the whole process group, no zombies, no leaked fds.

#include "tools/command_tool.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>

#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"
#include "tools/http_tool.h"

namespace switchyard::tools {
namespace {

using std::chrono::milliseconds;

const nlohmann::json kOrderContext = {{"input", {{"customer", "ada"}, {"amount", 42}}},
                                      {"steps", {{"CRM", {{"output", {{"id", "c-1"}}}}}}}};

Outcome run(const std::vector<std::string>& args, milliseconds timeout = milliseconds(10000),
            std::vector<std::pair<std::string, std::string>> env = {}, std::string cwd = "",
            const nlohmann::json& context = kOrderContext) {
  graph::CommandTool spec;
  spec.argv = {SWITCHYARD_FAKE_COMMAND};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = std::move(env);
  spec.cwd = std::move(cwd);
  auto tool = make_command_tool("Cmd", spec, timeout);
  std::promise<Outcome> promise;
  Invocation call;
  call.context = &context;
  tool->invoke(call, [&promise](Outcome o) { promise.set_value(std::move(o)); });
  return promise.get_future().get();
}

int open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

TEST(CommandTool, PassesTheContextOnStdinAndParsesStdout) {
  Outcome out = run({"echo"});
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.output["stdin"], kOrderContext);
  EXPECT_GT(out.latency.count(), 0);
}

TEST(CommandTool, RendersTemplatesInArgvAndEnvAndRunsInCwd) {
  switchyard::testing::TempDir dir;
  Outcome out = run({"echo", "{{input.customer}}", "id={{steps.CRM.output.id}}"},
                    milliseconds(10000), {{"SY_VAR", "amount {{input.amount}}"}}, dir.path());
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.output["args"], (nlohmann::json{"ada", "id=c-1"}));
  EXPECT_EQ(out.output["env"], "amount 42");
  EXPECT_EQ(out.output["cwd"], dir.path());
}

TEST(CommandTool, MissingTemplateValueFailsWithoutRunningAnything) {
  Outcome out = run({"echo", "{{steps.Nope.output}}"});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kTemplate);
  EXPECT_NE(out.reason.find("steps.Nope.output"), std::string::npos);
}

TEST(CommandTool, NonZeroExitIsAFailureWithItsStderr) {
  Outcome out = run({"exit", "3"});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kExitCode);
  EXPECT_NE(out.reason.find("exit code 3"), std::string::npos);
  EXPECT_NE(out.reason.find("oops"), std::string::npos);
}

TEST(CommandTool, OutputThatIsNotJsonIsBadOutput) {
  Outcome out = run({"invalid"});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kBadOutput);
}

TEST(CommandTool, OutputBeyondTheCapIsBadOutput) {
  Outcome out = run({"huge", std::to_string(17 << 20)});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kBadOutput);
  EXPECT_NE(out.reason.find("stdout: over the limit of 16777216 bytes (max_output_bytes)"),
            std::string::npos)
      << out.reason;
}

TEST(CommandTool, AProgramThatIgnoresStdinStillSucceeds) {
  nlohmann::json big = {{"input", {{"blob", std::string(1 << 20, 'y')}}}, {"steps", {}}};
  Outcome out = run({"ignore-stdin"}, milliseconds(10000), {}, "", big);
  EXPECT_TRUE(out.ok) << out.reason;
}

TEST(CommandTool, MissingProgramIsUnavailable) {
  graph::CommandTool spec;
  spec.argv = {"/nonexistent/program"};
  auto tool = make_command_tool("Cmd", spec, milliseconds(1000));
  std::promise<Outcome> promise;
  Invocation call;
  call.context = &kOrderContext;
  tool->invoke(call, [&promise](Outcome o) { promise.set_value(std::move(o)); });
  Outcome out = promise.get_future().get();
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_NE(out.reason.find("/nonexistent/program"), std::string::npos);
}

// Whether `pid` is gone or a zombie waiting for its (new) parent.
// Exited (a zombie or reaped), waiting for it on a pidfd: SIGKILL is not instantaneous.
bool dead(pid_t pid) { return switchyard::testing::wait_exited(pid); }

// The pid a program wrote to stderr after `marker` ("grandchild 123"), read from the reason
// (stderr's tail is in it); 0 when absent.
pid_t pid_after(const std::string& reason, const std::string& marker) {
  const auto at = reason.find(marker + " ");
  return at == std::string::npos ? 0 : std::atoi(reason.c_str() + at + marker.size() + 1);
}

// Runs `args` with a short timeout that must end the call; a machine too busy to let the program
// fork before the timeout (its stderr lacks `marker`) is given twice the time, up to ~10 s.
Outcome run_timed_out(const std::vector<std::string>& args, const std::string& marker) {
  Outcome out;
  for (milliseconds timeout(300); timeout <= milliseconds(9600); timeout *= 2) {
    out = run(args, timeout);
    if (out.failure != FailureKind::kTimeout || pid_after(out.reason, marker) > 0) break;
  }
  return out;
}

TEST(CommandTool, TimeoutKillsTheWholeProcessGroup) {
  switchyard::testing::TempDir dir;
  Outcome out = run_timed_out({"hang", dir.file("grandchild.pid")}, "grandchild");
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kTimeout);
  const pid_t grandchild = pid_after(out.reason, "grandchild");
  ASSERT_GT(grandchild, 0) << out.reason;
  EXPECT_TRUE(dead(grandchild)) << "the grandchild " << grandchild << " outlived the timeout";
}

// `sleep 60 & echo '{}'`: the program's exit ends the call, with its output, and what it left
// running in its process group is killed (it would otherwise hold stdout open for a minute).
TEST(CommandTool, TheProgramsExitEndsTheCallAndKillsWhatItLeftRunning) {
  Outcome out = run({"leave-child"}, milliseconds(60000));
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_LT(out.latency, std::chrono::seconds(30));
  const pid_t grandchild = out.output.value("grandchild", 0);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(dead(grandchild)) << "the background child " << grandchild << " outlived the call";
}

// A process that left the group (setsid) cannot be killed with it; holding the pipes, it still
// cannot keep the call open past its timeout.
TEST(CommandTool, TheTimeoutBoundsACallWhosePipesAnEscapedProcessHolds) {
  Outcome out = run_timed_out({"escape"}, "escaped");
  const pid_t escaped = pid_after(out.reason, "escaped");
  if (escaped > 0) ::kill(escaped, SIGKILL);  // ours to clean up: it left the group
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kTimeout) << out.reason;
  ASSERT_GT(escaped, 0) << out.reason;
  EXPECT_TRUE(dead(escaped));
}

TEST(CommandTool, ACancelledCallKillsTheWholeProcessGroup) {
  switchyard::testing::TempDir dir;
  graph::CommandTool spec;
  spec.argv = {SWITCHYARD_FAKE_COMMAND, "hang", dir.file("grandchild.pid")};
  auto tool = make_command_tool("Cmd", spec, milliseconds(60000));
  auto cancel = std::make_shared<CallCancel>();
  std::promise<Outcome> promise;
  Invocation call;
  call.context = &kOrderContext;
  call.cancel = cancel;
  tool->invoke(call, [&promise](Outcome o) { promise.set_value(std::move(o)); });
  // Cancel once the grandchild exists: `after` returns when the pid file appears.
  ASSERT_TRUE(run({"after", dir.file("grandchild.pid")}).ok);
  cancel->cancel();
  Outcome out = promise.get_future().get();
  EXPECT_EQ(out.failure, FailureKind::kCancelled);
  pid_t grandchild = 0;
  std::ifstream(dir.file("grandchild.pid")) >> grandchild;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(dead(grandchild));
}

// Descriptors this process opened without close-on-exec (a library's, or libcurl's connection
// kept for reuse after an http call) never reach a child.
TEST(CommandTool, AChildGetsOnlyStdinStdoutAndStderr) {
  switchyard::testing::FaultServer server;
  std::promise<bool> probed;
  probe_url(server.url("/ok"), milliseconds(10000),
            [&probed](bool ok, std::string) { probed.set_value(ok); });
  ASSERT_TRUE(probed.get_future().get());
  const int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC, on purpose
  ASSERT_GE(leaky, 3);
  Outcome out = run({"fds"});
  ::close(leaky);
  ASSERT_TRUE(out.ok) << out.reason;
  EXPECT_EQ(out.output["fds"], (nlohmann::json{0, 1, 2}));
}

TEST(CommandTool, StderrIsKeptInTheReasonTruncatedToItsLast4KiB) {
  // `exit` writes "oops"; a long message comes before it here: only the tail is kept.
  Outcome out = run({"stderr", std::to_string(10000), "3"});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kExitCode);
  const auto at = out.reason.find("; stderr: ");
  ASSERT_NE(at, std::string::npos) << out.reason;
  const std::string kept = out.reason.substr(at + 10);
  EXPECT_EQ(kept.size(), 4096u);
  EXPECT_EQ(kept.substr(kept.size() - 4), "tail");
  EXPECT_EQ(kept.find("head"), std::string::npos);
}

TEST(CommandTool, LeavesNoZombiesAndNoOpenDescriptors) {
  run({"echo"});  // the I/O thread and its descriptors exist from here on
  const int fds_before = open_fds();
  for (int i = 0; i < 20; ++i) {
    run({"echo"});
    run({"exit", "1"});
  }
  EXPECT_EQ(open_fds(), fds_before);
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left to reap
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace switchyard::tools
