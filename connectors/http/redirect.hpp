#pragma once
// Redirects and credentials (SPEC §10). CurlHttpClient follows redirects itself, one hop at a
// time through redirected_request(), instead of letting libcurl follow them: libcurl 7.88 (Debian
// 12) strips only Authorization and Cookie on a redirect to another host, port or scheme; every
// other header a connector adds (X-Api-Key, a subscription key, an OAuth1 header under another
// name) goes along, and a 307/308 repeats a POST's body (an OAuth2 client secret, a password)
// at the new address.
//
// The rules:
//   - Credentials go only to the origin (scheme, host, port) they were configured for: a redirect
//     within it carries the request unchanged; a redirect to another origin drops every header
//     the caller set except Accept, Accept-Language and User-Agent (whatever their names, extra
//     headers may be credentials), and they stay dropped for the rest of the chain.
//   - A request whose body would be sent again at another origin (307/308 keep method and body)
//     is refused: the body of a token or login request is a secret.
//   - https → http is refused (it would send the request in clear), and so is any scheme other
//     than http and https.
//   - 303, and 301/302 of a POST, continue as a GET without a body (as browsers and libcurl do).
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "connectors/http/http_client.hpp"
#include "connectors/http/redact.hpp"

namespace erpsync::connectors::http {

// "scheme://host[:port]" of an absolute http(s) URL, scheme and host lower-cased, the port left
// out when it is the scheme's default (so "https://A.example:443/x" is "https://a.example").
// "" when `url` is not an absolute http:// or https:// URL.
std::string url_origin(std::string_view url);

// 301, 302, 303, 307, 308: the statuses that are followed (300 and 305 are not).
bool is_redirect(long status);

// The request to send after `sent` was answered `status` (is_redirect()) with a Location that
// resolves to the absolute URL `location`. `credential_origin` is url_origin() of the first
// request of the chain: the origin its credentials were configured for. Throws
// HttpError{permanent} naming both URLs (redacted with `redactor`) when the redirect is refused
// by the rules above.
Request redirected_request(const Request& sent, long status, const std::string& location,
                           std::string_view credential_origin, const Redactor& redactor);

}  // namespace erpsync::connectors::http
