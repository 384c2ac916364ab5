#pragma once
// The HTTP client every remote connector uses (Magento REST, Odoo XML-RPC, HTTP feeds).
//
// HttpClient is the port (connectors and tests may substitute it); CurlHttpClient is the libcurl
// implementation. send() returns any HTTP status as a Response (the caller decides, usually via
// throw_for_status() in http_error.hpp) and throws HttpError (a core::SyncError, already
// classified transient/permanent) for transport failures: DNS, connect, TLS, timeouts, resets,
// truncated bodies, responses over the size cap. The client never retries by itself: retry policy
// belongs to the caller's scheduler (http_error.hpp: Backoff).
//
// Every text the client produces (exception messages, log lines, trace) goes through its
// Redactor: Authorization and other secret headers, user:pass@ in URLs, token-like query
// parameters and every registered secret are masked.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/http/redact.hpp"

namespace erpsync::connectors::http {

// Ordered header list with case-insensitive lookup (HTTP field names are case-insensitive).
class HeaderMap {
 public:
  using Entry = std::pair<std::string, std::string>;
  HeaderMap() = default;
  HeaderMap(std::initializer_list<Entry> entries) : entries_(entries) {}

  void add(std::string name, std::string value);
  // Replaces every existing value of `name`.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  // First value of `name`, if present.
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }

 private:
  std::vector<Entry> entries_;
};

bool iequals(std::string_view a, std::string_view b);

struct Timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds total{120'000};  // whole transfer, including the body
  // Abort when fewer than low_speed_bytes per second arrive for low_speed_time (a stalled body).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
};

struct Request {
  std::string method = "GET";
  std::string url;
  HeaderMap headers;
  std::string body;
  std::optional<Timeouts> timeouts;  // overrides ClientOptions::timeouts for this request
  // How the request is named in logs and errors (Response::description) instead of its URL,
  // e.g. "/rest/V1/orders updated_at>2026-11-01 10:00:00 page 1" for a search whose
  // percent-encoded criteria run to hundreds of characters; redacted like any text. Empty: the
  // redacted URL.
  std::string summary;
};

struct Response {
  long status = 0;
  HeaderMap headers;  // of the final response (redirect and 1xx headers are dropped)
  std::string body;   // decoded (gzip/deflate undone)
  // "GET https://host/path?token=***" (or "GET " + Request::summary): the request as it may
  // appear in logs and errors.
  std::string description;
  std::chrono::milliseconds elapsed{0};
};

enum class LogLevel { debug, info, warn, error };
// Where the client writes its log lines (already redacted). The daemon wires it to spdlog.
using LogSink = std::function<void(LogLevel, std::string_view)>;

struct ClientOptions {
  Timeouts timeouts;
  std::size_t max_response_bytes = std::size_t{64} << 20;  // decoded body, enforced while reading
  std::string ca_bundle;             // CURLOPT_CAINFO; empty: the system default
  // Turns TLS peer and host verification off. Logged at error level on construction and at warn
  // on every request. Never a default.
  bool insecure_skip_tls_verify = false;
  // 0: redirects are not followed (the 3xx is returned). Followed ones obey redirect.hpp.
  long max_redirects = 3;
  // nullopt: libcurl's default (http_proxy/https_proxy/no_proxy from the environment);
  // "": no proxy at all; otherwise the proxy URL.
  std::optional<std::string> proxy;
  std::string user_agent = "erpsync/0.1";
  std::vector<std::string> secrets;          // literal secrets to mask everywhere
  std::vector<std::string> secret_headers;   // extra credential-carrying header names
  LogSink log;                               // may be empty
  bool trace = false;                        // curl's verbose trace to log (debug), redacted
};

// Failure of an HTTP exchange: transport (status() == 0) or an unacceptable status.
class HttpError;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one exchange. Returns the response whatever its status; throws HttpError for
  // transport failures and oversized responses. Thread-safe (CurlHttpClient serialises calls).
  virtual Response send(const Request& request) = 0;
  // The masks this client applies; callers use it for their own messages about its exchanges.
  virtual const Redactor& redactor() const = 0;

  // send(), then throw_for_status(): returns only 2xx responses.
  Response send_checked(const Request& request);
};

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(ClientOptions options = {});
  ~CurlHttpClient() override;

  // Follows up to ClientOptions::max_redirects redirects under redirect.hpp's rules
  // (credentials stay with their origin; https → http refused): a refused redirect, or one
  // more than max_redirects, is HttpError{permanent}.
  Response send(const Request& request) override;
  const Redactor& redactor() const override { return redactor_; }
  const ClientOptions& options() const { return options_; }

 private:
  struct Impl;
  struct Exchange {
    Response response;
    std::string redirect_url;  // absolute Location of a 3xx the caller may follow, else ""
  };
  // One request, no redirect followed; the caller holds mutex_.
  Exchange perform(const Request& request);
  ClientOptions options_;
  Redactor redactor_;
  std::mutex mutex_;  // one easy handle, one exchange at a time
  std::unique_ptr<Impl> impl_;
};

}  // namespace erpsync::connectors::http
