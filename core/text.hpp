#pragma once
// Small text helpers every floor uses, in one place: trimming, and UTC time as the text the
// store, the sources and the logs exchange ('YYYY-MM-DD HH:MM:SS', UTC, no zone suffix).
//
// Thread-safety: stateless functions.

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace erpsync::core {

// `s` without leading and trailing ASCII whitespace (space, \t, \n, \r, \v, \f).
std::string_view trim(std::string_view s);
inline std::string trimmed(std::string_view s) { return std::string(trim(s)); }

// 'YYYY-MM-DD HH:MM:SS' of `t` in UTC.
std::string utc_text(std::time_t t);
std::string utc_text(std::chrono::system_clock::time_point t);
// The instant of a 'YYYY-MM-DD HH:MM:SS' UTC text, optionally followed by fractional seconds
// ('.mmm', ignored); nullopt for anything else.
std::optional<std::time_t> parse_utc_text(std::string_view s);

}  // namespace erpsync::core
