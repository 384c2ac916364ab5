#pragma once
// Outcome classification for HTTP, in one place (fluent-bit's out_http, OCA's adapter):
//   transient: timeouts, resets, DNS and connect failures, truncated bodies, 408, 429, 5xx
//   auth:      401, 403
//   permanent: other 4xx (and unfollowed 3xx), TLS verification failures, oversized or malformed
//              bodies, bad URLs
// and the retry delay policy (Backoff) that callers' schedulers own: the client never loops.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "connectors/http/http_client.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::http {

class HttpError : public core::SyncError {
 public:
  HttpError(Kind kind, const std::string& what, long status, std::string excerpt = {},
            std::optional<double> retry_after_s = std::nullopt)
      : core::SyncError(kind, what, retry_after_s), status_(status), excerpt_(std::move(excerpt)) {}
  // HTTP status, or 0 for a transport failure.
  long status() const { return status_; }
  // Redacted, summarised start of the body (HTML pages reduced to title and first text).
  const std::string& excerpt() const { return excerpt_; }

 private:
  long status_;
  std::string excerpt_;
};

bool is_success(long status);  // 2xx
core::SyncError::Kind classify_status(long status);
// libcurl CURLcode (as int, so this header stays free of curl.h).
core::SyncError::Kind classify_transport(int curl_code);

// Retry-After: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850, asctime). A date in the
// past gives 0. nullopt when absent or unparsable.
std::optional<double> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now =
                                            std::chrono::system_clock::now());

// At most `max_chars` of the body, fit for a log line: secrets masked, control bytes and invalid
// UTF-8 replaced, an HTML page summarised as `HTML "<title>": <first text>`.
std::string body_excerpt(const Response& response, const Redactor& redactor,
                         std::size_t max_chars = 200);

// The classified error for a non-2xx response: names the request (redacted), the status, the
// excerpt, and carries Retry-After when the response has one.
HttpError status_error(const Response& response, const Redactor& redactor);
// Throws status_error() unless the status is 2xx.
void throw_for_status(const Response& response, const Redactor& redactor);

struct BackoffPolicy {
  std::chrono::milliseconds base{1'000};
  std::chrono::milliseconds cap{300'000};
  // A Retry-After beyond this is clamped (a misconfigured proxy must not park us for days).
  std::chrono::milliseconds max_retry_after{3'600'000};
};

// Exponential backoff with full jitter (delay uniform in [0, min(cap, base * 2^attempt)]),
// never shorter than the remote's Retry-After. Owned by the caller; not thread-safe.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}, std::uint64_t seed = std::random_device{}());

  // Delay before the next attempt; counts one attempt.
  std::chrono::milliseconds next(std::optional<double> retry_after_s = std::nullopt);
  std::chrono::milliseconds next(const core::SyncError& error) { return next(error.retry_after_s()); }
  // After a success.
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace erpsync::connectors::http
