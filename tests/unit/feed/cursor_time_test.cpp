// The feed cursor's times (connectors/feed/cursor_time.hpp) and the URL helpers of HTTP feeds
// (connectors/feed/url.hpp): pure functions, no server.

#include <gtest/gtest.h>

#include "connectors/feed/cursor_time.hpp"
#include "connectors/feed/url.hpp"

namespace erpsync::connectors::feed {
namespace {

using std::chrono::seconds;

UtcMillis utc(const char* text) { return *parse_time(text, 0); }

TEST(CursorTime, TimeZones) {
  EXPECT_EQ(parse_timezone("UTC"), 0);
  EXPECT_EQ(parse_timezone("Z"), 0);
  EXPECT_EQ(parse_timezone("+01:00"), 60);
  EXPECT_EQ(parse_timezone("-05:30"), -330);
  EXPECT_EQ(parse_timezone("+0200"), 120);
  EXPECT_EQ(parse_timezone("UTC+01:00"), 60);
  EXPECT_FALSE(parse_timezone("Europe/Berlin"));
  EXPECT_FALSE(parse_timezone("+25:00"));
  EXPECT_FALSE(parse_timezone(""));
}

TEST(CursorTime, SourceTimesWithAndWithoutZones) {
  EXPECT_EQ(format_utc(utc("2026-11-20T08:15:02.437Z")), "2026-11-20 08:15:02.437");
  EXPECT_EQ(format_utc(*parse_time("2026-11-20T08:15:02.4379999+01:00", 0)), "2026-11-20 07:15:02.437");
  EXPECT_EQ(format_utc(*parse_time("2026-11-20 08:15:02", 60)), "2026-11-20 07:15:02.000");
  EXPECT_EQ(format_utc(*parse_time("2026-11-20 08:15", -60)), "2026-11-20 09:15:00.000");
  EXPECT_EQ(format_utc(*parse_time("2026-11-20", 60)), "2026-11-19 23:00:00.000");
  EXPECT_EQ(format_utc(utc("2024-02-29T23:59:59Z")), "2024-02-29 23:59:59.000");
  EXPECT_EQ(format_utc(utc("1969-12-31T23:59:59.500Z")), "1969-12-31 23:59:59.500");
  for (const char* bad : {"", "2026-11-31", "2025-02-29", "2026-13-01", "2026-11-20T25:00:00Z", "2026-11-20T08",
                          "2026-11-20T08:15:02 UTC", "2026-11-20T08:15:02.Z", "20261120", "not a time"})
    EXPECT_FALSE(parse_time(bad, 0)) << bad;
}

TEST(CursorTime, StoredCursorRoundTrips) {
  CursorPosition p{utc("2026-11-21T10:02:44.003Z"), "5fd1b5a8"};
  EXPECT_EQ(format_cursor(p), "2026-11-21 10:02:44.003#5fd1b5a8");
  auto back = parse_cursor(format_cursor(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->time, p.time);
  EXPECT_EQ(back->remote_id, "5fd1b5a8");
  EXPECT_EQ(format_cursor({p.time, ""}), "2026-11-21 10:02:44.003");
  // As `erpsyncd resync --since` writes it, and a remote id that holds '#'.
  EXPECT_EQ(parse_cursor("2026-11-22 10:00:00")->time, utc("2026-11-22T10:00:00Z"));
  EXPECT_EQ(parse_cursor("2026-11-22")->time, utc("2026-11-22T00:00:00Z"));
  EXPECT_EQ(parse_cursor("2026-11-22 10:00:00.000#a#b")->remote_id, "a#b");
  EXPECT_FALSE(parse_cursor("2026-11-22T10:00:00+01:00"));
  EXPECT_FALSE(parse_cursor("5531"));
  // The greater time wins; the remote id breaks a tie.
  EXPECT_TRUE((CursorPosition{1, "z"} < CursorPosition{2, "a"}));
  EXPECT_TRUE((CursorPosition{2, "a"} < CursorPosition{2, "b"}));
}

TEST(CursorTime, FilterLowerBoundAndFormat) {
  UtcMillis c = utc("2026-11-20T08:15:02.510Z");
  EXPECT_EQ(format_filter_time(filter_lower_bound(c, seconds(30), 0, false), 0, false), "2026-11-20T08:14:32Z");
  EXPECT_EQ(format_filter_time(filter_lower_bound(c, seconds(0), 0, false), 0, false), "2026-11-20T08:15:02Z");
  EXPECT_EQ(format_filter_time(filter_lower_bound(c, seconds(30), 60, false), 60, false), "2026-11-20T09:14:32+01:00");
  EXPECT_EQ(format_filter_time(filter_lower_bound(c, seconds(30), -330, false), -330, false),
            "2026-11-20T02:44:32-05:30");
  // Day granularity: at least a day back, then the start of that day in the feed's zone.
  EXPECT_EQ(format_filter_time(filter_lower_bound(c, seconds(30), 0, true), 0, true), "2026-11-19");
  UtcMillis late = utc("2026-11-20T23:30:00Z");  // already the 21st at +01:00
  EXPECT_EQ(format_filter_time(filter_lower_bound(late, seconds(30), 60, true), 60, true), "2026-11-20");
  EXPECT_EQ(filter_lower_bound(late, seconds(30), 60, true), utc("2026-11-19T23:00:00Z"));
  EXPECT_EQ(format_filter_time(filter_lower_bound(c, std::chrono::hours(72), 0, true), 0, true), "2026-11-17");
}

TEST(FeedUrl, QueryParametersAreAppendedAndEncoded) {
  EXPECT_EQ(with_query("https://h/x", {{"$filter", "m gt 2026-11-20T08:14:32Z"}, {"$orderby", "m"}}),
            "https://h/x?$filter=m%20gt%202026-11-20T08:14:32Z&$orderby=m");
  EXPECT_EQ(with_query("https://h/x?a=1#frag", {{"since", "2026-11-20T09:00:00+01:00"}}),
            "https://h/x?a=1&since=2026-11-20T09:00:00%2B01:00#frag");
  EXPECT_EQ(with_query("https://h/x?", {{"q", "a&b=c"}}), "https://h/x?q=a%26b%3Dc");
  EXPECT_EQ(with_query("https://h/x", {}), "https://h/x");
}

TEST(FeedUrl, NextLinksResolveAgainstThePage) {
  const std::string base = "https://h:8443/api/v2/customers?$skiptoken=1";
  EXPECT_EQ(resolve_url(base, "https://other/x"), "https://other/x");
  EXPECT_EQ(resolve_url(base, "//h2/y"), "https://h2/y");
  EXPECT_EQ(resolve_url(base, "/z?p=2"), "https://h:8443/z?p=2");
  EXPECT_EQ(resolve_url(base, "?p=2"), "https://h:8443/api/v2/customers?p=2");
  EXPECT_EQ(resolve_url(base, "vendors?p=2"), "https://h:8443/api/v2/vendors?p=2");
  EXPECT_EQ(resolve_url("https://h", "a"), "https://h/a");
}

TEST(FeedUrl, Origins) {
  EXPECT_EQ(url_origin("https://API.example.com/x?y"), "https://api.example.com");
  EXPECT_EQ(url_origin("https://api.example.com:443/x"), "https://api.example.com");
  EXPECT_EQ(url_origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(url_origin("http://user:pw@h/x"), "http://h");
  EXPECT_EQ(url_origin("file:///x"), "");
  EXPECT_EQ(url_origin("/relative"), "");
}

}  // namespace
}  // namespace erpsync::connectors::feed
