// Redirects: see redirect.hpp.

#include "connectors/http/redirect.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "connectors/http/http_error.hpp"

namespace erpsync::connectors::http {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// One part of a parsed URL, "" when absent.
std::string url_part(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, 0) != CURLUE_OK || !text) return {};
  std::string out(text);
  curl_free(text);
  return out;
}

bool kept_across_origins(std::string_view header) {
  return iequals(header, "Accept") || iequals(header, "Accept-Language") || iequals(header, "User-Agent");
}

}  // namespace

std::string url_origin(std::string_view url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  // A space in a path or query (a next link as some servers write it) does not hide the origin.
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, std::string(url).c_str(), CURLU_ALLOW_SPACE) != CURLUE_OK)
    return {};
  const std::string scheme = lower(url_part(parsed.get(), CURLUPART_SCHEME));
  const std::string host = lower(url_part(parsed.get(), CURLUPART_HOST));
  if ((scheme != "http" && scheme != "https") || host.empty()) return {};
  std::string port = url_part(parsed.get(), CURLUPART_PORT);
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port.clear();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Request redirected_request(const Request& sent, long status, const std::string& location,
                           std::string_view credential_origin, const Redactor& redactor) {
  const std::string to_origin = url_origin(location);
  auto refuse = [&](const std::string& why) {
    throw HttpError(core::SyncError::Kind::permanent,
                    sent.method + " " + redactor.url(sent.url) + " answered " + std::to_string(status) +
                        " with a redirect to " + redactor.url(location) + ": refused, " + why,
                    status);
  };
  if (to_origin.empty())
    refuse("erpsync follows redirects to http:// and https:// URLs only; configure the URL the server means");
  if (url_origin(sent.url).starts_with("https://") && to_origin.starts_with("http://"))
    refuse("because it leads from https to http and the request would travel unencrypted; configure an https URL "
           "that does not redirect");

  Request next = sent;
  next.url = location;
  next.summary.clear();  // it named the first URL; the redirected request is named by its own
  const bool post_to_get = (status == 301 || status == 302) && sent.method == "POST";
  if (status == 303 || post_to_get) {
    if (next.method != "HEAD") next.method = "GET";
    next.body.clear();
    next.headers.remove("Content-Type");
  }
  if (to_origin != credential_origin) {
    if (!next.body.empty())
      refuse("because the request's body (it may hold a secret: a client secret, a password) would be sent to "
             "another origin than " + std::string(credential_origin) +
             "; configure the URL the server redirects to if that server is meant to receive it");
    HeaderMap kept;
    for (const auto& [name, value] : next.headers.entries())
      if (kept_across_origins(name)) kept.add(name, value);
    next.headers = std::move(kept);
  }
  return next;
}

}  // namespace erpsync::connectors::http
