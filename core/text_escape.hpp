#pragma once
// Remote text made safe to show on one line (SPEC §10 "remote text with control characters"):
// the one place that escapes control characters, for the report line's quoted values, text log
// lines and the command line's tables. Pure functions; safe from any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace erpsync::core {

// Appends `text` to `out` with every control character escaped, so it can neither end the line
// nor drive a terminal: LF, CR and TAB as \n, \r, \t; other C0 bytes and DEL as \xHH; the C1
// controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) as \u00HH. Everything else, invalid UTF-8
// included, is copied as it is. With `quotes`, '"' and '\' are escaped too (a quoted value).
void append_escaped(std::string& out, std::string_view text, bool quotes = false);
std::string escape_controls(std::string_view text);

// True when `text` holds a character append_escaped would escape (quotes aside).
bool has_controls(std::string_view text);

// `text` cut after `max_chars` characters (UTF-8 sequences kept whole; any other byte counts as
// one) with "..." appended when anything was cut.
std::string shorten(std::string_view text, std::size_t max_chars);

}  // namespace erpsync::core
