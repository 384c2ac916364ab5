#pragma once
// spdlog set-up (SPEC §8): one named logger per component ("daemon", "store", and one per
// connector), to stderr (journald picks it up) or a file, as text or JSON lines. Set once at
// start-up and on reload; every component asks for its logger by name.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace erpsync::daemon {

struct LogSettings {
  std::string level = "info";  // trace debug info warn error critical off
  std::string format = "text"; // text | json
  std::string file;            // empty: stderr
};

// Replaces the sinks and format of every logger. Throws std::runtime_error for an unknown
// level or format, or an unwritable file.
void configure_logging(const LogSettings& settings);

// The logger of a component, created on first use with the configured sinks.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

// True when lines are written as JSON. In JSON format, a message whose text is a JSON object
// ("{...}") is merged into the line's fields instead of being quoted as "message": report
// lines use this to stay structured.
bool json_format();

}  // namespace erpsync::daemon
