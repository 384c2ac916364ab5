#pragma once
// OAuth 1.0a request signing (RFC 5849 §3.4) with HMAC-SHA256, as Magento 2.4 integrations
// require: the signature base string holds the method, the base URI (scheme and host lower
// case, default port dropped, no query) and every query parameter plus the oauth_* protocol
// parameters, each percent-encoded per RFC 3986 §2.1 (unreserved kept, uppercase hex), sorted
// by name then value, joined with '=' and '&'.
//
// Thread-safety: pure functions; sign_request() reads the clock and a random nonce.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "connectors/http/url_encode.hpp"

namespace erpsync::connectors::magento2 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // decoded name, value

// RFC 3986 percent-encoding: everything but ALPHA DIGIT - . _ ~ as %XX (uppercase).
using http::percent_encode;

struct OAuthCredentials {
  std::string consumer_key, consumer_secret, access_token, access_token_secret;
};

// The protocol parameters of one signed request (without oauth_signature).
struct OAuthParams {
  std::string consumer_key, token, nonce, timestamp;
  std::string signature_method = "HMAC-SHA256";
  std::string version = "1.0";
};

// RFC 5849 §3.4.1.2: "http://example.com:8080/path" from any absolute URL (query dropped).
std::string base_string_uri(std::string_view url);
// RFC 5849 §3.4.1: METHOD&enc(base uri)&enc(normalised parameters).
std::string signature_base_string(std::string_view method, std::string_view url, const QueryParams& query,
                                  const OAuthParams& oauth);
// base64(HMAC-SHA256(enc(consumer_secret)&enc(token_secret), base_string)).
std::string hmac_sha256_signature(std::string_view base_string, std::string_view consumer_secret,
                                  std::string_view token_secret);
// 'OAuth oauth_consumer_key="...", ..., oauth_signature="..."' (values percent-encoded).
std::string authorization_header(const OAuthParams& oauth, std::string_view signature);

// Signs `method url` (url without query) with `query` and fresh nonce/timestamp; returns the
// Authorization header value.
std::string sign_request(std::string_view method, std::string_view url, const QueryParams& query,
                         const OAuthCredentials& creds);

}  // namespace erpsync::connectors::magento2
