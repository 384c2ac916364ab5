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

// Rule 12: e-mails compared trimmed and case-insensitively: trimmed (as normalize_code) and
// ASCII-lowercased.
std::string normalize_email(std::string_view raw);

// What the JSON parsers (connectors/http/bounded_parse.hpp) put inside a string in place of
// each byte that does not begin a well-formed UTF-8 sequence, so that the document still parses
// and only the record holding that string is rejected (SPEC §10: invalid UTF-8 is an
// `invalid_field`, the batch goes on). U+FDD0 is a Unicode noncharacter, reserved for a
// program's internal use and never assigned: no ERP or shop sends it in a name or a code.
inline constexpr std::string_view kInvalidUtf8Marker = "\xEF\xB7\x90";  // U+FDD0

// True when `s` is valid UTF-8 (no overlongs, no surrogates, no code points past U+10FFFF)
// and holds no kInvalidUtf8Marker (a value that came from ill-formed bytes is not valid).
bool is_valid_utf8(std::string_view s);

// The well-formed UTF-8 sequence starting at s[at] (at < s.size()): its length in bytes, with its
// code point in `cp`; 0 when the bytes there are not one (is_valid_utf8's rules: no overlongs,
// surrogates or code points past U+10FFFF, and not kInvalidUtf8Marker).
std::size_t decode_utf8(std::string_view s, std::size_t at, char32_t& cp);

// `active` values: true/false, 1/0, yes/no, y/n in any case; empty means true.
// nullopt for anything else.
std::optional<bool> parse_active(std::string_view raw);

}  // namespace erpsync::core
