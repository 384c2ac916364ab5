#include "connectors/feed/cursor_time.hpp"

#include <cstdio>

namespace erpsync::connectors::feed {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "±HH:MM" or "±HHMM" (the whole of `s`) → minutes east of UTC.
std::optional<int> parse_offset(std::string_view s) {
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  int h = 0, m = 0;
  if (s.size() == 6 && s[3] == ':') {
    if (!digits(s, 1, 2, h) || !digits(s, 4, 2, m)) return std::nullopt;
  } else if (s.size() == 5) {
    if (!digits(s, 1, 2, h) || !digits(s, 3, 2, m)) return std::nullopt;
  } else if (s.size() == 3) {
    if (!digits(s, 1, 2, h)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (h > 23 || m > 59) return std::nullopt;
  int total = h * 60 + m;
  return s[0] == '-' ? -total : total;
}

std::string two(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

std::string date_text(std::int64_t days) {
  Civil c = civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

}  // namespace

std::optional<int> parse_timezone(std::string_view tz) {
  if (tz == "UTC" || tz == "Z" || tz == "utc") return 0;
  if (tz.substr(0, 3) == "UTC") tz.remove_prefix(3);
  return parse_offset(tz);
}

std::optional<UtcMillis> parse_time(std::string_view s, int default_offset_min) {
  int y = 0, mo = 0, d = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)))
    return std::nullopt;
  int h = 0, mi = 0, sec = 0, ms = 0;
  std::size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    if (!digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t start = pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          ms += (s[pos] - '0') * scale;  // digits beyond milliseconds are dropped (rounded down)
          scale /= 10;
          ++pos;
        }
        if (pos == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: a leap second, read as :59 + 1 s
  }
  int offset = default_offset_min;
  std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (!zone.empty()) {
    auto o = parse_offset(zone);
    if (!o) return std::nullopt;
    offset = *o;
  }
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  std::int64_t local = days * kMsPerDay + (static_cast<std::int64_t>(h) * 3600 + mi * 60 + sec) * 1000 + ms;
  return local - static_cast<std::int64_t>(offset) * 60'000;
}

std::string format_utc(UtcMillis t) {
  std::int64_t days = floor_div(t, kMsPerDay);
  std::int64_t rest = t - days * kMsPerDay;
  int h = static_cast<int>(rest / 3'600'000), mi = static_cast<int>(rest / 60'000 % 60),
      s = static_cast<int>(rest / 1000 % 60), ms = static_cast<int>(rest % 1000);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%03d", ms);
  return date_text(days) + " " + two(h) + ":" + two(mi) + ":" + two(s) + buf;
}

std::optional<CursorPosition> parse_cursor(std::string_view text) {
  CursorPosition p;
  auto hash = text.find('#');
  if (hash != std::string_view::npos) {
    p.remote_id = std::string(text.substr(hash + 1));
    text = text.substr(0, hash);
  }
  // Only UTC forms without a zone suffix are stored; anything else is not our cursor.
  if (text.size() != 10 && text.size() != 19 && text.size() != 23) return std::nullopt;
  auto t = parse_time(text, 0);
  if (!t) return std::nullopt;
  p.time = *t;
  return p;
}

std::string format_cursor(const CursorPosition& position) {
  std::string out = format_utc(position.time);
  if (!position.remote_id.empty()) out += "#" + position.remote_id;
  return out;
}

UtcMillis filter_lower_bound(UtcMillis cursor, std::chrono::milliseconds overlap, int offset_min, bool day) {
  std::int64_t back = overlap.count() < 0 ? 0 : overlap.count();
  if (!day) return floor_div(cursor - back, 1000) * 1000;
  if (back < kMsPerDay) back = kMsPerDay;
  const std::int64_t shift = static_cast<std::int64_t>(offset_min) * 60'000;
  const std::int64_t local = cursor - back + shift;
  return floor_div(local, kMsPerDay) * kMsPerDay - shift;
}

std::string format_filter_time(UtcMillis t, int offset_min, bool day) {
  const std::int64_t shift = static_cast<std::int64_t>(offset_min) * 60'000;
  const std::int64_t local = t + shift;
  const std::int64_t days = floor_div(local, kMsPerDay);
  if (day) return date_text(days);
  const std::int64_t rest = local - days * kMsPerDay;
  std::string out = date_text(days) + "T" + two(static_cast<int>(rest / 3'600'000)) + ":" +
                    two(static_cast<int>(rest / 60'000 % 60)) + ":" + two(static_cast<int>(rest / 1000 % 60));
  if (offset_min == 0) return out + "Z";
  const int a = offset_min < 0 ? -offset_min : offset_min;
  return out + (offset_min < 0 ? "-" : "+") + two(a / 60) + ":" + two(a % 60);
}

}  // namespace erpsync::connectors::feed
