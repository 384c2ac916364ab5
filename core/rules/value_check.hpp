#pragma once
// The one check of an incoming value against its column (SPEC §5 limits, §10 bad input), and
// the one way a bad value is shown and stored: shortened and escaped, so that the row that
// reports it (sync_rejections) always fits, on every engine. Used by every decider
// (companies, contacts, Magento customers and orders). Pure; no I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/write_batch.hpp"

namespace erpsync::core {

// Text (names, streets, phones ...): valid UTF-8 (is_valid_utf8), no NUL byte (PostgreSQL
// refuses one in text, SQLite's driver cuts the value at it) and at most `max` characters
// (code points: VARCHAR(n) counts characters on PostgreSQL and MariaDB). nullopt when the value
// fits; else why not, naming `what` and showing the value (shown()).
std::optional<std::string> check_text(std::string_view what, std::string_view value, std::size_t max);

// Codes, remote ids, logins and e-mails: check_text, and no control character at all (C0, DEL,
// C1): such a value is never what the source meant, and compares unequal to what a human types.
std::optional<std::string> check_id(std::string_view what, std::string_view value, std::size_t max);

// Logins and e-mails, whose surrounding white space the rules trim (rule 12, owner resolution):
// check_text on the value as it is stored, check_id on it trimmed (normalize_code), so that a
// padded value ("jsmith\n" from a pretty-printed export) is not refused for its padding.
std::optional<std::string> check_trimmed_id(std::string_view what, std::string_view value, std::size_t max);

// check_id(...) == nullopt, without building a message: may the value be looked up as a key?
bool fits_id(std::string_view value, std::size_t max);
// check_text(...) == nullopt, without building a message.
bool fits_text(std::string_view value, std::size_t max);

// How a bad value is shown in a message: control characters, bytes that are not UTF-8 and the
// invalid-UTF-8 marker escaped (\x00, \x7f, \u0085, \xfc ...), cut after kShownChars characters
// with "…", in double quotes.
inline constexpr std::size_t kShownChars = 40;
std::string shown(std::string_view value);

// What a column of `max` characters holds for `value`, which may be bad: the value itself when
// fits_id(value, max); else its escaped form (as in shown(), unquoted), and when that is longer
// than `max`, cut and ended by "…" and 8 hex digits of the value's SHA-256, so that two long
// values that differ only past the cut stay two keys. Deterministic: the same value always
// gives the same text. Requires max >= 16.
std::string fit_column(std::string_view value, std::size_t max);

// The remote id as sync_rejections stores it, and so as a batch looks its open rejections up:
// fit_column(remote_id, kMaxRemoteId).
std::string rejection_key(std::string_view remote_id);

// The rejection row as it is stored: remote id by rejection_key(), code and owners by
// fit_column() to their columns' sizes (kMaxExternalCode, kMaxOwner: the same as accounts'),
// the message escaped if it holds a NUL byte or bytes that are not UTF-8. The payload is kept
// as it is (JSON text: control characters in it are escaped by the JSON encoding).
RejectionWrite fit_rejection_row(RejectionWrite r);

}  // namespace erpsync::core
