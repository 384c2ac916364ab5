// The process identity behind lease take-backs (daemon/lease_keeper.hpp): a live process is
// never "gone", a reaped one is, and so is a reused pid or another boot.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon/lease_keeper.hpp"

namespace erpsync::daemon {
namespace {

TEST(ProcessIdentity, NamesThisProcessWhichIsNotGone) {
  const std::string me = this_process_identity();
  EXPECT_EQ(me.rfind(std::to_string(::getpid()) + ":", 0), 0u) << me;
  EXPECT_NE(me.find('@'), std::string::npos) << me;
  EXPECT_FALSE(process_gone(me));
}

// A forked child that reports this_process_identity() and then exits or waits to be killed.
struct Child {
  pid_t pid = -1;
  std::string identity;
};

Child fork_child(bool wait_for_kill) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string id = this_process_identity() + "\n";
    (void)!::write(fds[1], id.data(), id.size());
    if (wait_for_kill)
      for (;;) ::pause();
    ::_exit(0);
  }
  ::close(fds[1]);
  Child child{pid, {}};
  char c;
  while (pid > 0 && ::read(fds[0], &c, 1) == 1 && c != '\n') child.identity.push_back(c);
  ::close(fds[0]);
  return child;
}

TEST(ProcessIdentity, AProcessThatExitedIsGone) {
  const Child child = fork_child(/*wait_for_kill=*/false);
  ASSERT_GT(child.pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  ASSERT_FALSE(child.identity.empty());
  EXPECT_TRUE(process_gone(child.identity)) << child.identity;
}

TEST(ProcessIdentity, AKilledProcessNotYetReapedIsGone) {
  const Child child = fork_child(/*wait_for_kill=*/true);
  ASSERT_GT(child.pid, 0);
  EXPECT_FALSE(process_gone(child.identity)) << child.identity;  // alive
  ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
  // A zombie until reaped: waitid with WNOWAIT waits for the death without reaping it.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(process_gone(child.identity)) << child.identity;
  int status = 0;
  ::waitpid(child.pid, &status, 0);
}

TEST(ProcessIdentity, AReusedPidOrAnotherBootIsGoneAndGarbageIsNot) {
  const std::string me = this_process_identity();
  const auto colon = me.find(':'), at = me.find('@');
  EXPECT_TRUE(process_gone(me.substr(0, colon) + ":1" + me.substr(at)));  // same pid, other start time
  EXPECT_TRUE(process_gone(me.substr(0, at) + "@00000000-0000-0000-0000-000000000000"));
  EXPECT_FALSE(process_gone(""));
  EXPECT_FALSE(process_gone("not an identity"));
}

}  // namespace
}  // namespace erpsync::daemon
