#pragma once
// HttpReader: a feed's documents over http:// and https:// (SPEC §4.3), through the project's
// HttpClient. It adds the configured authentication and headers to every GET and turns the
// answer into a document or a classified core::SyncError; paging and cursors are FeedSource's.
//
// Authentication (`auth.type`):
//   basic   "Authorization: Basic base64(username:password)"
//   bearer  "Authorization: Bearer <token>"
//   oauth2_client_credentials
//           POST token_url with grant_type=client_credentials, client_id, client_secret and
//           scope (form-encoded, the way Entra ID / Business Central expects), then the access
//           token as a bearer token. The token is kept until shortly before it expires
//           (expires_in − min(60 s, expires_in / 2)); a 401 from the feed drops it, fetches a
//           new one and sends the request once more; a second 401 is SyncError{auth}. A 307/308
//           of the token request to another origin is refused (its body holds the secret), and
//           a redirect of a feed request to another origin carries none of the credentials
//           (connectors/http/redirect.hpp).
// A 401/403 (or a token endpoint refusing the client) is SyncError{auth} naming the auth type
// and what to check. 408, 429 and 5xx are transient (Retry-After carried), other 4xx
// permanent, transport failures as the client classifies them (http_error.hpp). A 2xx whose
// Content-Type is HTML (a login or maintenance page) is a permanent error, not a document.
//
// Secrets (password, token, client id and secret, the Basic credential, every access token
// fetched, values of credential-like extra headers) are registered with the redactor, so no
// error message or client log line carries them.
//
// Thread-safety: one run at a time (the engine never runs a connector twice at once).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "connectors/feed/feed_conf.hpp"
#include "connectors/feed/reader.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/http/redact.hpp"

namespace erpsync::connectors::feed {

class HttpReader final : public DocumentReader {
 public:
  // `what` prefixes messages (e.g. "feed business-central"). `client` may be shared; `clock`
  // decides when a cached OAuth2 token has expired.
  HttpReader(std::string what, const FeedConfig& feed, std::shared_ptr<http::HttpClient> client,
             Clock& clock = system_clock());

  // The client options a feed's config asks for: timeout, TLS, size cap, secrets.
  static http::ClientOptions client_options(const FeedConfig& feed);

  FetchedDocument read() override { return read(url_); }
  FetchedDocument read(const std::string& url) override;
  // The configured URL, redacted.
  const std::string& location() const override { return location_; }

  // How many access tokens were fetched so far (oauth2_client_credentials).
  int tokens_fetched() const { return tokens_fetched_; }

 private:
  http::Response get(const std::string& url, bool renew);
  const std::string& access_token();
  void fetch_token();
  [[noreturn]] void throw_auth(const http::Response& r, const std::string& hint) const;
  [[noreturn]] void rethrow(const std::exception& e) const;
  std::string auth_name() const;

  std::string what_;
  FeedConfig feed_;
  std::string url_, location_;
  std::shared_ptr<http::HttpClient> client_;
  Clock& clock_;
  http::Redactor redactor_;  // the client's masks plus access tokens fetched at run time
  std::string basic_;        // "Basic ..." header value
  std::optional<std::string> token_;
  std::chrono::system_clock::time_point token_expires_{};
  int tokens_fetched_ = 0;
};

}  // namespace erpsync::connectors::feed
