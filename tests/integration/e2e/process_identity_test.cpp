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

TEST(ProcessIdentity, AProcessThatExitedIsGone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = this_process_identity();
    (void)!::write(fds[1], id.data(), id.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string id;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) id.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(process_gone(id)) << id;
}

TEST(ProcessIdentity, AKilledProcessNotYetReapedIsGone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = this_process_identity() + "\n";
    (void)!::write(fds[1], id.data(), id.size());
    for (;;) ::pause();
  }
  ::close(fds[1]);
  std::string id;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') id.push_back(c);
  ::close(fds[0]);
  EXPECT_FALSE(process_gone(id)) << id;  // alive
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  // A zombie until reaped: waitid with WNOWAIT waits for the death without reaping it.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(process_gone(id)) << id;
  int status = 0;
  ::waitpid(child, &status, 0);
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
