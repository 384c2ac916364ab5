// Outcome classification and backoff: see http_error.hpp.

#include "connectors/http/http_error.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

namespace erpsync::connectors::http {

using Kind = core::SyncError::Kind;

bool is_success(long status) { return status >= 200 && status < 300; }

Kind classify_status(long status) {
  // 408 and 429 are the only 4xx a retry can fix (fluent-bit's out_http, RFC 9110 §15.5.9).
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) return Kind::transient;
  if (status == 401 || status == 403) return Kind::auth;
  return Kind::permanent;
}

Kind classify_transport(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:  // truncated body: Content-Length not reached
    case CURLE_SSL_CONNECT_ERROR:  // handshake interrupted (not a verification failure)
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
    case CURLE_PROXY:
    case CURLE_WEIRD_SERVER_REPLY:  // a proxy or load balancer answering garbage mid-restart
      return Kind::transient;
    default:
      // Verification failures, bad URLs, unsupported protocols, redirect loops, oversized or
      // undecodable bodies: the same request would fail the same way.
      return Kind::permanent;
  }
}

std::optional<double> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return 1e18;  // absurd, the caller clamps it
    if (ec != std::errc() || ptr != value.data() + value.size()) return std::nullopt;
    return static_cast<double>(seconds);
  }
  // HTTP-date: IMF-fixdate, obsolete RFC 850 and asctime forms (RFC 9110 §5.6.7).
  const std::string text(value);
  static constexpr const char* kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                             "%a %b %e %H:%M:%S %Y"};
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (!end || *end != '\0') continue;
    const std::time_t when = timegm(&tm);
    if (when == static_cast<std::time_t>(-1)) continue;
    const double delta =
        std::chrono::duration<double>(std::chrono::system_clock::from_time_t(when) - now).count();
    return std::max(0.0, std::ceil(delta));
  }
  return std::nullopt;
}

namespace {

bool is_html(const Response& response) {
  if (auto type = response.headers.get("Content-Type")) {
    std::string t = *type;
    std::transform(t.begin(), t.end(), t.begin(), [](char c) { return std::tolower(static_cast<unsigned char>(c)); });
    if (t.find("html") != std::string::npos) return true;
  }
  std::string_view b(response.body);
  while (!b.empty() && std::isspace(static_cast<unsigned char>(b.front()))) b.remove_prefix(1);
  std::string head(b.substr(0, 32));
  std::transform(head.begin(), head.end(), head.begin(), [](char c) { return std::tolower(static_cast<unsigned char>(c)); });
  return head.rfind("<!doctype html", 0) == 0 || head.rfind("<html", 0) == 0;
}

std::string lower_copy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return std::tolower(static_cast<unsigned char>(c)); });
  return out;
}

// Collapses white space; replaces control bytes and invalid UTF-8 by '?', so an excerpt is
// always one valid line.
std::string sanitize(std::string_view s, std::size_t max_chars) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < s.size() && out.size() < max_chars;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      space = !out.empty();
      ++i;
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (valid && len == 2 && c < 0xC2) valid = false;  // overlong
    if (!valid || (len == 1 && c < 0x20) || c == 0x7F) {
      out += '?';
      i += 1;
      continue;
    }
    out.append(s, i, len);
    i += len;
  }
  if (out.size() >= max_chars) out += "...";
  return out;
}

void decode_basic_entities(std::string& s) {
  static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
  for (auto [from, to] : kEntities) {
    std::size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
      s.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
}

// Visible text of an HTML page: tags, scripts, styles and comments dropped.
std::string html_text(std::string_view html, std::size_t limit) {
  const std::string lowered = lower_copy(html);
  std::string out;
  std::size_t i = 0;
  // Start at <body> when there is one (the <head> holds only title, meta and styles).
  if (auto body = lowered.find("<body"); body != std::string::npos) i = body;
  while (i < html.size() && out.size() < limit) {
    if (html[i] == '<') {
      for (std::string_view skip : {"script", "style"}) {
        if (lowered.compare(i + 1, skip.size(), skip) == 0) {
          auto close = lowered.find("</" + std::string(skip), i);
          i = close == std::string::npos ? html.size() : close;
          break;
        }
      }
      if (lowered.compare(i, 4, "<!--") == 0) {
        auto close = lowered.find("-->", i);
        i = close == std::string::npos ? html.size() : close + 3;
        continue;
      }
      auto close = html.find('>', i);
      i = close == std::string_view::npos ? html.size() : close + 1;
      out += ' ';
      continue;
    }
    out += html[i++];
  }
  decode_basic_entities(out);
  return out;
}

}  // namespace

std::string body_excerpt(const Response& response, const Redactor& redactor, std::size_t max_chars) {
  if (response.body.empty()) return {};
  // Mask secrets over a window wider than what is shown, then cut: a secret that straddles the
  // cut is masked whole rather than shown in part.
  const std::size_t window = std::min<std::size_t>(response.body.size(), 64 * 1024);
  std::string text = redactor.text(std::string_view(response.body).substr(0, window));
  if (window < response.body.size() && text.size() > redactor.longest_secret()) {
    text.resize(text.size() - redactor.longest_secret());
  }
  if (!is_html(response)) return sanitize(text, max_chars);

  const std::string lowered = lower_copy(text);
  std::string title;
  if (auto open = lowered.find("<title"); open != std::string::npos) {
    if (auto gt = lowered.find('>', open); gt != std::string::npos) {
      auto close = lowered.find("</title", gt);
      title = text.substr(gt + 1, (close == std::string::npos ? text.size() : close) - gt - 1);
      decode_basic_entities(title);
      title = sanitize(title, 80);
    }
  }
  std::string first = sanitize(html_text(text, 4 * max_chars), max_chars);
  // The body often repeats the title as its heading.
  if (!title.empty() && first.rfind(title, 0) == 0) first = sanitize(first.substr(title.size()), max_chars);
  std::string out = "HTML";
  if (!title.empty()) out += " \"" + title + "\"";
  if (!first.empty()) out += ": " + first;
  return sanitize(out, max_chars);
}

HttpError status_error(const Response& response, const Redactor& redactor) {
  const Kind kind = classify_status(response.status);
  std::optional<double> retry_after;
  if (auto value = response.headers.get("Retry-After")) retry_after = parse_retry_after(*value);
  std::string excerpt = body_excerpt(response, redactor);
  std::string message = response.description + ": HTTP " + std::to_string(response.status);
  if (kind == Kind::auth) message += " (authentication or authorisation refused)";
  if (retry_after) message += " retry_after=" + std::to_string(static_cast<long long>(*retry_after)) + "s";
  if (!excerpt.empty()) message += ": " + excerpt;
  return HttpError(kind, redactor.text(message), response.status, std::move(excerpt), retry_after);
}

void throw_for_status(const Response& response, const Redactor& redactor) {
  if (!is_success(response.status)) throw status_error(response, redactor);
}

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds Backoff::next(std::optional<double> retry_after_s) {
  using std::chrono::milliseconds;
  const int exponent = std::min(attempt_, 40);
  ++attempt_;
  const double ceiling = std::min<double>(static_cast<double>(policy_.cap.count()),
                                          static_cast<double>(policy_.base.count()) * std::ldexp(1.0, exponent));
  std::uniform_real_distribution<double> jitter(0.0, ceiling);
  auto delay = milliseconds(static_cast<long long>(jitter(rng_)));
  if (retry_after_s && *retry_after_s > 0) {
    const double wanted_ms = std::min(*retry_after_s * 1000.0, static_cast<double>(policy_.max_retry_after.count()));
    delay = std::max(delay, milliseconds(static_cast<long long>(std::ceil(wanted_ms))));
  }
  return delay;
}

}  // namespace erpsync::connectors::http
