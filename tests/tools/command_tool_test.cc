// The `command` tool against a real program (tests/programs/fake_command.cc): stdin/stdout JSON,
// templates, exit codes, timeouts that kill the whole process group, no zombies, no leaked fds.

#include "tools/command_tool.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "tests/support/run_command.h"

namespace switchyard::tools {
namespace {

using std::chrono::milliseconds;

const nlohmann::json kContext = {{"input", {{"customer", "ada"}, {"amount", 42}}},
                                 {"steps", {{"CRM", {{"output", {{"id", "c-1"}}}}}}}};

Outcome run(const std::vector<std::string>& args, milliseconds timeout = milliseconds(10000),
            std::vector<std::pair<std::string, std::string>> env = {}, std::string cwd = "",
            const nlohmann::json& context = kContext) {
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
  EXPECT_EQ(out.output["stdin"], kContext);
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
  EXPECT_NE(out.reason.find("larger than"), std::string::npos);
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
  call.context = &kContext;
  tool->invoke(call, [&promise](Outcome o) { promise.set_value(std::move(o)); });
  Outcome out = promise.get_future().get();
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kUnavailable);
  EXPECT_NE(out.reason.find("/nonexistent/program"), std::string::npos);
}

// Whether `pid` is gone or a zombie waiting for its (new) parent.
// Exited (a zombie or reaped), waiting for it on a pidfd: SIGKILL is not instantaneous.
bool dead(pid_t pid) { return switchyard::testing::wait_exited(pid); }

TEST(CommandTool, TimeoutKillsTheWholeProcessGroup) {
  switchyard::testing::TempDir dir;
  const std::string pidfile = dir.file("grandchild.pid");
  Outcome out = run({"hang", pidfile}, milliseconds(300));
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.failure, FailureKind::kTimeout);
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(dead(grandchild)) << "the grandchild " << grandchild << " outlived the timeout";
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
