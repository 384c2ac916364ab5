#pragma once
// spdlog set-up (SPEC §8): one named logger per component ("daemon", "store", and one per
// connector), to stderr (journald picks it up) or a file, as text or JSON lines. Set once at
// start-up and on reload; every component asks for its logger by name.
//
// The sink is where text leaves the process, so it is where secrets and hostile text are dealt
// with, once, for every line (call sites pass messages as they are):
//   - every line is redacted (redact_secrets());
//   - text lines get their control characters escaped and each value cut at
//     kMaxLoggedValue bytes (SPEC §10), so remote data can neither forge a line nor flood one;
//   - JSON lines stay complete: JSON escaping already keeps each on one line.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace erpsync::daemon {

struct LogSettings {
  std::string level = "info";  // trace debug info warn error critical off
  std::string format = "text"; // text | json
  std::string file;            // empty: stderr
  // Secret values of the configuration (config::Config::secret_values): added to the process's
  // secret book (connectors/http/redact.hpp), never removed, so a reload keeps masking the old
  // value of a rotated secret.
  std::vector<std::string> secrets;
};

constexpr std::size_t kMaxLoggedValue = 200;
// A report's error= is the daemon's own diagnosis (what failed, the URL, the status, what to
// check), whose remote parts are already bounded excerpts: it gets more room.
constexpr std::size_t kMaxLoggedError = 1000;

// Replaces the sinks and format of every logger. Throws std::runtime_error for an unknown
// level or format, or an unwritable file.
void configure_logging(const LogSettings& settings);

// The logger of a component, created on first use with the configured sinks.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

// True when lines are written as JSON. In JSON format, a message whose text is a JSON object
// ("{...}") is merged into the line's fields instead of being quoted as "message": report
// lines use this to stay structured.
bool json_format();

// `text` with every secret of the process's book and every ODBC PWD=/Password= value masked:
// what the log sink does to each line and the store's run message gets (redacting_store.hpp).
std::string redact_secrets(std::string_view text);

// The message part of a text log line, from a redacted message: each value longer than `limit`
// characters cut (`error_limit` for error=...; a value is a word, or the part after "key=" of a
// key=value word; a "quoted string" counts as one word), then control characters escaped.
std::string text_log_message(std::string_view message, std::size_t limit = kMaxLoggedValue,
                             std::size_t error_limit = kMaxLoggedError);

}  // namespace erpsync::daemon
