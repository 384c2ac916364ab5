#pragma once
// Runs a program as a child process for end-to-end tests: arguments, extra environment,
// captured stdout and stderr, exit status. No shell is involved.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace erpsync::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal (see signal)
  int signal = 0;
  std::size_t peak_rss_bytes = 0;  // the child's peak resident set (getrusage's ru_maxrss)
  std::string out, err;
  std::string all() const { return out + err; }
};

// This process's environment as "KEY=value" strings, with `overrides` added or replacing.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides);

// Runs `argv` (argv[0] is the program path) to completion, with `env` added to (or replacing
// entries of) this process's environment.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {});

}  // namespace erpsync::testing
