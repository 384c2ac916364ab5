#include "connectors/feed/url.hpp"

#include "connectors/http/url_encode.hpp"

#include <cctype>

namespace erpsync::connectors::feed {
namespace {

// Position just after "scheme://authority" (the start of the path), or npos.
std::size_t path_start(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string_view::npos;
  auto p = url.find_first_of("/?#", scheme_end + 3);
  return p == std::string_view::npos ? url.size() : p;
}

}  // namespace

std::string encode_query_component(std::string_view text) {
  // Sub-delimiters and ':' '/' '@' are legal in a query component and stay readable.
  return http::percent_encode(text, "$:/@!'()*,;");
}

std::string with_query(const std::string& url, const QueryParams& params) {
  if (params.empty()) return url;
  std::string base = url, fragment;
  if (auto hash = base.find('#'); hash != std::string::npos) {
    fragment = base.substr(hash);
    base.resize(hash);
  }
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  if (!base.empty() && (base.back() == '?' || base.back() == '&')) sep = 0;
  for (const auto& [name, value] : params) {
    if (sep) base += sep;
    base += encode_query_component(name) + "=" + encode_query_component(value);
    sep = '&';
  }
  return base + fragment;
}

std::string resolve_url(const std::string& base, const std::string& ref) {
  if (ref.find("://") != std::string::npos && ref.find("://") < ref.find_first_of("/?#")) return ref;
  auto scheme_end = base.find("://");
  if (scheme_end == std::string::npos) return ref;
  if (ref.rfind("//", 0) == 0) return base.substr(0, scheme_end + 1) + ref;
  const std::size_t ps = path_start(base);
  if (ref.rfind("/", 0) == 0) return base.substr(0, ps) + ref;
  std::string no_fragment = base.substr(0, base.find('#'));
  std::string path_and_dir = no_fragment.substr(0, no_fragment.find('?'));
  if (ref.rfind("?", 0) == 0) return path_and_dir + ref;
  if (ref.empty()) return no_fragment;
  // A relative path replaces the last segment of the base's path.
  auto slash = path_and_dir.rfind('/');
  if (slash == std::string::npos || slash < ps) return path_and_dir + "/" + ref;
  return path_and_dir.substr(0, slash + 1) + ref;
}

bool is_http_url(std::string_view url) { return url.starts_with("http://") || url.starts_with("https://"); }

}  // namespace erpsync::connectors::feed
