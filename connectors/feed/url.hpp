#pragma once
// URL text helpers for HTTP feeds: query parameters for paging and cursors, next links.
// Pure string work; libcurl does the real parsing when the request is sent.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/http/redirect.hpp"

namespace erpsync::connectors::feed {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// True for an http:// or https:// URL (an HTTP feed); a feed's other URLs are files.
bool is_http_url(std::string_view url);

// Percent-encodes a query parameter name or value: unreserved characters and "$:/@!'()*,;"
// stay (OData's "$filter" and ISO times read as sent), everything else ("&", "=", "+", "#",
// space, non-ASCII bytes) becomes %XX.
std::string encode_query_component(std::string_view text);

// `url` with `params` appended to its query (after any it has), before a fragment.
std::string with_query(const std::string& url, const QueryParams& params);

// "scheme://host[:port]" of an absolute http(s) URL (connectors/http/redirect.hpp).
using http::url_origin;

// `ref` (a next link: absolute, "//host/...", "/path", "?query" or a relative path) resolved
// against `base`.
std::string resolve_url(const std::string& base, const std::string& ref);

}  // namespace erpsync::connectors::feed
