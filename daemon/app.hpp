#pragma once
// The commands of SPEC §7 on top of the loaded configuration: --once, --dry-run,
// --check-config, the service loop and the admin commands.

#include "daemon/cli.hpp"

namespace erpsync::daemon {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // a connector failed
inline constexpr int kExitUsage = 2;   // usage or configuration error

// Runs `cl` (any command but help and version) and returns the process exit code.
int run_command(const CommandLine& cl);

}  // namespace erpsync::daemon
