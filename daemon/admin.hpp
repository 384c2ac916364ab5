#pragma once
// The admin commands of SPEC §7 (report, resync, rejections, parked, rename-connector,
// migrate, merge, tree): they need only the `database` section of the configuration.

#include "config/config.hpp"
#include "daemon/cli.hpp"

namespace erpsync::daemon {

int run_admin(const config::Config& cfg, const CommandLine& cl);

}  // namespace erpsync::daemon
