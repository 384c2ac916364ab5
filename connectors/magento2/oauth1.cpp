#include "connectors/magento2/oauth1.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>

namespace erpsync::connectors::magento2 {
namespace {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string random_nonce() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Fall back to the clock: a nonce must be unique, not secret.
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(t >> (8 * (i % 8)));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

std::string base_string_uri(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::string scheme = to_lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  const auto path_at = rest.find_first_of("/?#");
  std::string authority = to_lower(rest.substr(0, path_at));
  std::string_view path = path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  if (const auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path.empty()) path = "/";
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if ((scheme == "http" && authority.ends_with(":80")) || (scheme == "https" && authority.ends_with(":443")))
    authority.resize(authority.rfind(':'));
  return scheme + "://" + authority + std::string(path);
}

std::string signature_base_string(std::string_view method, std::string_view url, const QueryParams& query,
                                  const OAuthParams& oauth) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : query) params.emplace_back(percent_encode(k), percent_encode(v));
  auto add = [&](const char* k, const std::string& v) { params.emplace_back(k, percent_encode(v)); };
  add("oauth_consumer_key", oauth.consumer_key);
  add("oauth_nonce", oauth.nonce);
  add("oauth_signature_method", oauth.signature_method);
  add("oauth_timestamp", oauth.timestamp);
  if (!oauth.token.empty()) add("oauth_token", oauth.token);
  add("oauth_version", oauth.version);
  std::sort(params.begin(), params.end());
  std::string normalized;
  for (const auto& [k, v] : params) {
    if (!normalized.empty()) normalized += '&';
    normalized += k + "=" + v;
  }
  std::string m(method);
  for (char& c : m)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return m + "&" + percent_encode(base_string_uri(url)) + "&" + percent_encode(normalized);
}

std::string hmac_sha256_signature(std::string_view base_string, std::string_view consumer_secret,
                                  std::string_view token_secret) {
  const std::string key = percent_encode(consumer_secret) + "&" + percent_encode(token_secret);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(base_string.data()), base_string.size(), md, &len))
    return {};
  return base64(md, len);
}

std::string authorization_header(const OAuthParams& oauth, std::string_view signature) {
  std::string h = "OAuth ";
  auto add = [&](const char* k, std::string_view v, bool last = false) {
    h += k;
    h += "=\"" + percent_encode(v) + "\"";
    if (!last) h += ", ";
  };
  add("oauth_consumer_key", oauth.consumer_key);
  if (!oauth.token.empty()) add("oauth_token", oauth.token);
  add("oauth_signature_method", oauth.signature_method);
  add("oauth_timestamp", oauth.timestamp);
  add("oauth_nonce", oauth.nonce);
  add("oauth_version", oauth.version);
  add("oauth_signature", signature, true);
  return h;
}

std::string sign_request(std::string_view method, std::string_view url, const QueryParams& query,
                         const OAuthCredentials& creds) {
  OAuthParams p;
  p.consumer_key = creds.consumer_key;
  p.token = creds.access_token;
  p.nonce = random_nonce();
  p.timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const std::string base = signature_base_string(method, url, query, p);
  return authorization_header(p, hmac_sha256_signature(base, creds.consumer_secret, creds.access_token_secret));
}

}  // namespace erpsync::connectors::magento2
