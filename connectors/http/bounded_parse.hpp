#pragma once
// Parsing untrusted documents with limits (SPEC §10 "huge or deeply nested documents", "a
// hostile document that inflates in memory"). nlohmann/json parses a 1M-deep body but crashes
// later on dump or copy, so JSON is checked by a depth-counting SAX pass first; pugixml has no
// limits of its own, so the size is capped before it sees the bytes. Both trees can be given a
// memory budget (ParseLimits::max_dom_bytes). Neither expands external entities.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

namespace erpsync::connectors {

struct ParseLimits {
  std::size_t max_bytes = std::size_t{256} << 20;  // 256 MiB
  int max_depth = 64;                               // nesting of arrays/objects or elements
  // The most memory a parse may give its tree (JSON: counted while it is built; XML: estimated
  // from the text before pugixml sees it): a document over it is refused as one that inflates
  // in memory (SPEC §10). Unlimited unless set; file feeds set dom_budget() of their document.
  std::size_t max_dom_bytes = SIZE_MAX;
};

// SPEC §10/§11: a document parsed whole takes at most 32 MB + 3x its size. The document itself
// is one of the three; its tree gets two more and half of the 32 MB (the daemon's own memory,
// its libraries and the mapped records of a slice take the other half).
constexpr std::size_t kDomSlack = std::size_t{16} << 20;
constexpr std::size_t dom_budget(std::size_t document_bytes) { return kDomSlack + 2 * document_bytes; }

// An upper estimate of the memory pugixml takes for the tree of `text` (its nodes and
// attributes, not the text): one pass over the bytes, nothing allocated.
std::size_t xml_dom_estimate(std::string_view text);

// A JSON document whose ill-formed UTF-8 inside strings was replaced (see below).
struct Utf8MarkedJson {
  std::string text;                // the document, each bad byte inside a string now a marker
  std::vector<std::size_t> marks;  // offsets in `text` where a marker begins, ascending
  // The offset in the original document of `offset` in `text` (for error positions).
  std::size_t original_offset(std::size_t offset) const;
};

// SPEC §10: invalid UTF-8 in a field rejects that record, not the document. nlohmann refuses a
// whole document over one ill-formed byte, so before parsing, every byte inside a string
// literal (a value or a key) that does not begin a well-formed UTF-8 sequence (RFC 3629: no
// overlongs, surrogates or code points past U+10FFFF) is replaced by core::kInvalidUtf8Marker,
// which the field checks reject as "not valid UTF-8" (core::is_valid_utf8). Bytes outside
// strings are left alone: the parser reports such a document malformed, at that byte.
// nullopt when nothing needed replacing (the usual case: one pass, no copy).
std::optional<Utf8MarkedJson> mark_invalid_utf8_in_json_strings(std::string_view text);

// Parses `text` as JSON (ill-formed UTF-8 inside strings marked as above). Throws
// core::SyncError{permanent} whose message names `what` (the connector and URL or file), the
// byte offset and the reason: malformed, too large, too deep, invalid UTF-8 outside a string.
nlohmann::json parse_json_bounded(std::string_view text, const ParseLimits& limits,
                                  const std::string& what);

// The checks of parse_json_bounded (size, depth, well-formed) without building a value: throws
// the same errors. Returns the UTF-8-marked copy of `text` when one was needed (then it is
// what a parse must read), else nullopt.
std::optional<Utf8MarkedJson> check_json_bounded(std::string_view text, const ParseLimits& limits,
                                                 const std::string& what);

// Parses `text`, which check_json_bounded() accepted (or one value inside such a document),
// into a value whose tree stays within limits.max_dom_bytes: beyond it, throws
// core::SyncError{permanent} naming `what`.
nlohmann::json parse_checked_json(std::string_view text, const ParseLimits& limits, const std::string& what);

// Parses `text` as XML into `doc` (pugixml, no DOCTYPE entity expansion). Throws
// core::SyncError{permanent} naming `what`, the byte offset (and line) and the reason:
// malformed, too large, too deep, an undefined entity (xml_entities.hpp).
void parse_xml_bounded(pugi::xml_document& doc, std::string_view text, const ParseLimits& limits,
                       const std::string& what);

// The same, parsing `text` in place: no copy of the document, whose nodes then point into
// `text` (which must outlive `doc`'s use and is rewritten by the parse). Same errors, except
// that an error's line is counted in the rewritten bytes (the byte offset is exact); a caller
// that can read the document again gets the exact line from parse_xml_bounded.
void parse_xml_bounded_inplace(pugi::xml_document& doc, std::string& text, const ParseLimits& limits,
                               const std::string& what);

// The first element of `doc` nested deeper than `max_depth` levels (the root element is level
// 1), in document order, or an empty node when there is none. An iterative pre-order walk: no
// recursion, so a 1M-deep tree cannot overflow the stack.
pugi::xml_node first_too_deep(const pugi::xml_document& doc, int max_depth);

}  // namespace erpsync::connectors
