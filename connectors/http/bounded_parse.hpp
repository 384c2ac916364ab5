#pragma once
// Parsing untrusted documents with limits (SPEC §10 "huge or deeply nested documents").
// nlohmann/json parses a 1M-deep body but crashes later on dump or copy, so JSON is checked
// by a depth-counting SAX pass first; pugixml has no limits of its own, so the size is capped
// before it sees the bytes. Neither expands external entities.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

namespace erpsync::connectors {

struct ParseLimits {
  std::size_t max_bytes = std::size_t{256} << 20;  // 256 MiB
  int max_depth = 64;                               // nesting of arrays/objects or elements
};

// Parses `text` as JSON. Throws core::SyncError{permanent} whose message names `what` (the
// connector and URL or file), the byte offset and the reason: malformed, too large, too deep,
// invalid UTF-8.
nlohmann::json parse_json_bounded(std::string_view text, const ParseLimits& limits,
                                  const std::string& what);

// Parses `text` as XML into `doc` (pugixml, no DOCTYPE entity expansion). Throws
// core::SyncError{permanent} naming `what`, the byte offset (and line) and the reason:
// malformed, too large, too deep.
void parse_xml_bounded(pugi::xml_document& doc, std::string_view text, const ParseLimits& limits,
                       const std::string& what);

}  // namespace erpsync::connectors
