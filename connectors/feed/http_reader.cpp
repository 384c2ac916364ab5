#include "connectors/feed/http_reader.hpp"

#include <algorithm>
#include <cctype>

#include "connectors/http/bounded_parse.hpp"
#include "connectors/http/http_error.hpp"
#include "core/errors.hpp"
#include "connectors/http/url_encode.hpp"

namespace erpsync::connectors::feed {
namespace {

using core::SyncError;
using Kind = core::SyncError::Kind;

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != hay.end();
}

}  // namespace

http::ClientOptions HttpReader::client_options(const FeedConfig& feed) {
  http::ClientOptions o;
  o.timeouts.total = feed.timeout;
  o.timeouts.connect = std::min<std::chrono::milliseconds>(feed.timeout, std::chrono::seconds(10));
  o.max_response_bytes = static_cast<std::size_t>(feed.max_size);
  o.ca_bundle = feed.tls.ca_file;
  o.insecure_skip_tls_verify = !feed.tls.verify;
  for (const config::Secret* s : {&feed.auth.password, &feed.auth.token, &feed.auth.client_id,
                                  &feed.auth.client_secret, &feed.tls.client_key})
    if (!s->empty()) o.secrets.push_back(s->reveal());
  if (feed.auth.type == FeedAuth::Type::basic)
    o.secrets.push_back(base64(feed.auth.username + ":" + feed.auth.password.reveal()));
  for (const auto& [name, value] : feed.headers) {
    if (!config::is_credential_header(name)) continue;  // masked like Authorization
    o.secret_headers.push_back(name);
    o.secrets.push_back(value);
  }
  return o;
}

HttpReader::HttpReader(std::string what, const FeedConfig& feed, std::shared_ptr<http::HttpClient> client,
                       Clock& clock)
    : what_(std::move(what)), feed_(feed), url_(feed.url), client_(std::move(client)), clock_(clock),
      redactor_(client_->redactor()) {
  // The client's masks come first; ours repeat the configured ones for a substituted client.
  http::ClientOptions own = client_options(feed_);
  for (const auto& s : own.secrets) redactor_.add_secret(s);
  for (const auto& h : own.secret_headers) redactor_.add_secret_header(h);
  location_ = redactor_.url(url_);
  if (feed_.auth.type == FeedAuth::Type::basic)
    basic_ = "Basic " + base64(feed_.auth.username + ":" + feed_.auth.password.reveal());
}

std::string HttpReader::auth_name() const {
  switch (feed_.auth.type) {
    case FeedAuth::Type::none: return "none";
    case FeedAuth::Type::basic: return "basic";
    case FeedAuth::Type::bearer: return "bearer";
    case FeedAuth::Type::oauth2_client_credentials: return "oauth2_client_credentials";
  }
  return "?";
}

void HttpReader::rethrow(const std::exception& e) const {
  // Transport failures come classified from the client; add who we are, mask run-time tokens.
  if (const auto* he = dynamic_cast<const http::HttpError*>(&e))
    throw http::HttpError(he->kind(), what_ + ": " + redactor_.text(he->what()), he->status(), he->excerpt(),
                          he->retry_after_s());
  if (const auto* se = dynamic_cast<const SyncError*>(&e))
    throw SyncError(se->kind(), what_ + ": " + redactor_.text(se->what()), se->retry_after_s());
  throw SyncError(Kind::permanent, what_ + ": " + redactor_.text(e.what()));
}

void HttpReader::throw_auth(const http::Response& r, const std::string& hint) const {
  std::string excerpt = http::body_excerpt(r, redactor_);
  throw http::HttpError(Kind::auth,
                        what_ + ": " + r.description + " answered " + std::to_string(r.status) + " with auth " +
                            auth_name() + ": " + hint + (excerpt.empty() ? "" : " (" + excerpt + ")"),
                        r.status, excerpt);
}

const std::string& HttpReader::access_token() {
  if (!token_ || clock_.now() >= token_expires_) fetch_token();
  return *token_;
}

void HttpReader::fetch_token() {
  token_.reset();
  const FeedAuth& a = feed_.auth;
  http::Request req;
  req.method = "POST";
  req.url = a.token_url;
  req.headers.set("Content-Type", "application/x-www-form-urlencoded");
  req.headers.set("Accept", "application/json");
  req.body = "grant_type=client_credentials&client_id=" + http::percent_encode(a.client_id.reveal()) +
             "&client_secret=" + http::percent_encode(a.client_secret.reveal());
  if (!a.scope.empty()) req.body += "&scope=" + http::percent_encode(a.scope);
  http::Response r;
  try {
    r = client_->send(req);
  } catch (const std::exception& e) {
    rethrow(e);
  }
  ++tokens_fetched_;
  if (!http::is_success(r.status)) {
    http::HttpError err = http::status_error(r, redactor_);
    // The token endpoint says 400 invalid_client / invalid_scope / unauthorized_client (OAuth2,
    // RFC 6749 §5.2) or 401: a retry cannot fix credentials. 408/429/5xx stay transient.
    Kind kind = (r.status == 400 || r.status == 401 || r.status == 403) ? Kind::auth : err.kind();
    std::string hint = kind == Kind::auth ? " (auth oauth2_client_credentials: check client_id, client_secret, scope "
                                            "and token_url)"
                                          : "";
    throw http::HttpError(kind, what_ + ": token request failed: " + err.what() + hint, r.status, err.excerpt(),
                          err.retry_after_s());
  }
  const std::string where = what_ + " token response from " + redactor_.url(a.token_url);
  nlohmann::json j;
  try {
    j = parse_json_bounded(r.body, ParseLimits{std::size_t{1} << 20, 16}, where);
  } catch (const std::exception& e) {
    rethrow(e);
  }
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string() ||
      j["access_token"].get_ref<const std::string&>().empty())
    throw SyncError(Kind::permanent, where + ": no access_token in the answer");
  std::string token = j["access_token"].get<std::string>();
  redactor_.add_secret(token);
  // expires_in: seconds, a number (RFC 6749) or a numeric string (Entra ID v1). Absent: 1 hour.
  long long expires_in = 3600;
  if (j.contains("expires_in")) {
    const auto& e = j["expires_in"];
    if (e.is_number()) expires_in = e.get<long long>();
    if (e.is_string()) {
      try {
        expires_in = std::stoll(e.get<std::string>());
      } catch (const std::exception&) {
      }
    }
  }
  if (expires_in < 0) expires_in = 0;
  const auto lifetime = std::chrono::seconds(expires_in);
  const auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(60), lifetime / 2);
  token_expires_ = clock_.now() + lifetime - margin;
  token_ = std::move(token);
}

http::Response HttpReader::get(const std::string& url, bool renew) {
  http::Request req;
  req.url = url;
  req.headers.set("Accept", feed_.format == FeedFormat::json ? "application/json"
                            : feed_.format == FeedFormat::csv ? "text/csv, text/plain;q=0.9"
                                                                      : "application/xml, text/xml;q=0.9");
  for (const auto& [name, value] : feed_.headers) req.headers.set(name, value);
  switch (feed_.auth.type) {
    case FeedAuth::Type::none: break;
    case FeedAuth::Type::basic: req.headers.set("Authorization", basic_); break;
    case FeedAuth::Type::bearer: req.headers.set("Authorization", "Bearer " + feed_.auth.token.reveal()); break;
    case FeedAuth::Type::oauth2_client_credentials:
      if (renew) token_.reset();
      req.headers.set("Authorization", "Bearer " + access_token());
      break;
  }
  try {
    return client_->send(req);
  } catch (const std::exception& e) {
    rethrow(e);
  }
}

FetchedDocument HttpReader::read(const std::string& url) {
  http::Response r = get(url, false);
  const bool oauth = feed_.auth.type == FeedAuth::Type::oauth2_client_credentials;
  if (r.status == 401 && oauth) r = get(url, true);  // the token was revoked or expired early: once more
  if (r.status == 401 || r.status == 403) {
    std::string hint;
    switch (feed_.auth.type) {
      case FeedAuth::Type::none: hint = "the feed needs credentials (set auth)"; break;
      case FeedAuth::Type::basic: hint = "check auth.username and auth.password"; break;
      case FeedAuth::Type::bearer: hint = "check auth.token"; break;
      case FeedAuth::Type::oauth2_client_credentials:
        hint = r.status == 401 ? "refused a freshly fetched token too; check scope and the app's permissions"
                               : "the app lacks permission; check scope and the app's permissions";
        break;
    }
    throw_auth(r, hint);
  }
  if (!http::is_success(r.status)) {
    http::HttpError err = http::status_error(r, redactor_);
    throw http::HttpError(err.kind(), what_ + ": " + err.what(), err.status(), err.excerpt(), err.retry_after_s());
  }
  if (auto ct = r.headers.get("Content-Type"); ct && contains_ci(*ct, "html"))
    throw http::HttpError(Kind::permanent,
                          what_ + ": " + r.description + " answered " + *ct + ", expected " +
                              (feed_.format == FeedFormat::json  ? "JSON"
                               : feed_.format == FeedFormat::csv ? "CSV"
                                                                         : "XML") +
                              ": " +
                              http::body_excerpt(r, redactor_),
                          r.status, http::body_excerpt(r, redactor_));
  FetchedDocument doc;
  doc.bytes = std::move(r.body);
  doc.location = redactor_.url(url);
  return doc;
}

}  // namespace erpsync::connectors::feed
