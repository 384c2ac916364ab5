#pragma once
// Times for a feed's "changed since" cursor (SPEC §4.3 `cursor`): reading the source's change
// times, the cursor text kept in sync_cursors, and the {cursor} value sent in the filter.
// Pure functions, no clock and no time-zone database.
//
// Decisions where SPEC is silent:
//   - `timezone` is "UTC" (also "Z") or a fixed offset "+HH:MM" / "-HH:MM" (also "+HHMM",
//     "UTC+01:00"). Named zones ("Europe/Berlin") are refused by the config loader: their
//     offset changes with daylight saving time and this build carries no zone database.
//   - The timezone applies to source times written without an offset and to the {cursor} value
//     sent; a source time with "Z" or an offset is read as it says.
//   - The cursor kept in the database is UTC "YYYY-MM-DD HH:MM:SS.mmm#<remote id>" (the id is a
//     tie-break, the filter uses the time). "YYYY-MM-DD HH:MM:SS" and "YYYY-MM-DD" (as written by
//     `erpsyncd resync --since`) are read too.
//   - {cursor} is ISO 8601: "2026-11-20T08:14:32Z" (UTC) or "2026-11-20T09:14:32+01:00" for
//     granularity "second" (whole seconds, rounded down: a lower bound may re-read, never skip),
//     and the date "2026-11-20" for granularity "day".

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace erpsync::connectors::feed {

// Milliseconds since 1970-01-01 00:00:00 UTC.
using UtcMillis = std::int64_t;

// "UTC", "Z", "+01:00", "-05:30", "+0100", "UTC+01:00" → minutes east of UTC; nullopt otherwise.
std::optional<int> parse_timezone(std::string_view tz);

// A source's time: "YYYY-MM-DD", or "YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]" with an optional "Z" or
// "±HH:MM"/"±HHMM". Without a zone it is in `default_offset_min`. nullopt when not a valid time.
std::optional<UtcMillis> parse_time(std::string_view text, int default_offset_min);

// "YYYY-MM-DD HH:MM:SS.mmm" in UTC.
std::string format_utc(UtcMillis t);

// Where a cursor feed has read up to: the greatest change time seen, and the remote id of the
// record that had it (the greater id wins a tie).
struct CursorPosition {
  UtcMillis time = 0;
  std::string remote_id;
  bool operator<(const CursorPosition& o) const {
    return time != o.time ? time < o.time : remote_id < o.remote_id;
  }
};

// The stored cursor text (see above); nullopt when it is not one.
std::optional<CursorPosition> parse_cursor(std::string_view text);
// "YYYY-MM-DD HH:MM:SS.mmm#<remote id>" ("#" and the id left out when the id is empty).
std::string format_cursor(const CursorPosition& position);

// The first time the next run asks for, from a cursor: cursor − overlap, rounded down to the
// second; for granularity "day" the overlap is at least one day and the result is the start of
// its day in the feed's time zone (so the cursor's whole day is read again whatever the
// filter's operator).
UtcMillis filter_lower_bound(UtcMillis cursor, std::chrono::milliseconds overlap, int offset_min, bool day);

// `t` as the {cursor} value: ISO 8601 in the feed's time zone (see above).
std::string format_filter_time(UtcMillis t, int offset_min, bool day);

}  // namespace erpsync::connectors::feed
