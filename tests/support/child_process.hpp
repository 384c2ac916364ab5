#pragma once
// A long-running child process for service tests: started with arguments and environment,
// its stdout and stderr read continuously on a thread (so it never blocks on a full pipe),
// waited on by content ("wait until the log says X") through a condition variable, signalled,
// and reaped. The destructor kills a child that is still running.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace erpsync::testing {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Everything the child wrote to stdout and stderr so far (interleaved as read).
  std::string output() const;
  // Waits until `needle` occurs in the output at least `count` times; false on timeout or when
  // the child's output ends first.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout, int count = 1);
  void signal(int sig);
  // Waits for the child to exit; the exit code, or nullopt on timeout (-signal when killed).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  void read_loop(int fd);
  pid_t pid_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;
  bool eof_ = false;
  std::optional<int> exit_code_;
  std::thread reader_;
};

// A NOTIFY_SOCKET for sd_notify: a datagram socket bound to a path, read continuously on a
// thread (an unread queue would block the sender), messages kept for assertions.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  std::vector<std::string> messages() const;
  // Waits until a message contains `needle` (e.g. "READY=1") at least `count` times.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout, int count = 1);

 private:
  std::string path_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> messages_;
  std::thread reader_;
};

}  // namespace erpsync::testing
