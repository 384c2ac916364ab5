#pragma once
// The service loop (SPEC §7 "run as a service", §9 systemd): every enabled connector on its
// poll_interval, signals, reload, sd_notify.

#include <string>

#include "config/config.hpp"

namespace erpsync::daemon {

// Runs until SIGTERM/SIGINT; returns the exit code. SIGHUP reloads `config_path`: a valid new
// configuration takes effect (connectors added, removed, changed) and an invalid one is
// refused with its errors while the old one keeps running.
int serve(const std::string& config_path, config::Config cfg);

}  // namespace erpsync::daemon
