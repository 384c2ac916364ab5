#pragma once
// Value normalisation shared by the matching rules and the store's lookups.

#include <optional>
#include <string>
#include <string_view>

namespace erpsync::core {

// Rule 1: trim surrounding white space (ASCII space, tab, CR, LF, VT, FF). Codes then compare
// exactly (case-sensitive).
std::string normalize_code(std::string_view raw);

// Rule 9: names compared case- and space-insensitively: ASCII-lowercased, runs of white space
// folded to one space, trimmed.
std::string normalize_name(std::string_view raw);

// True when `s` is valid UTF-8 (no overlongs, no surrogates, no code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `active` values: true/false, 1/0, yes/no, y/n in any case; empty means true.
// nullopt for anything else.
std::optional<bool> parse_active(std::string_view raw);

}  // namespace erpsync::core
