#include "core/rules/value_check.hpp"

#include <limits>

#include "core/rules/normalize.hpp"
#include "core/rules/payload.hpp"
#include "core/record.hpp"
#include "core/text_escape.hpp"

namespace erpsync::core {
namespace {

// What one pass over a value finds.
struct Scan {
  bool utf8 = true;       // is_valid_utf8
  bool nul = false;       // a NUL byte
  bool control = false;   // a C0 control (NUL included), DEL or a C1 control
  std::size_t chars = 0;  // code points (a byte that begins none counts as one)
};

bool is_control(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

Scan scan(std::string_view s) {
  Scan r;
  char32_t cp;
  for (std::size_t i = 0; i < s.size(); ++r.chars) {
    if (const auto c = static_cast<unsigned char>(s[i]); c >= 0x20 && c < 0x7F) {  // most of every value
      ++i;
      continue;
    }
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      r.utf8 = false;
      ++i;
      continue;
    }
    if (is_control(cp)) {
      r.control = true;
      r.nul = r.nul || cp == 0;
    }
    i += len;
  }
  return r;
}

constexpr char kHex[] = "0123456789abcdef";

// `value` with every control character, stray byte and invalid-UTF-8 marker escaped, at most
// `budget` characters of it (whole escapes only); `cut` says whether anything was left out.
std::string escaped(std::string_view value, std::size_t budget, bool& cut) {
  std::string out;
  std::size_t chars = 0;
  cut = false;
  char32_t cp;
  for (std::size_t i = 0; i < value.size();) {
    std::string piece;
    std::size_t len = decode_utf8(value, i, cp);
    if (len == 0 && value.substr(i, kInvalidUtf8Marker.size()) == kInvalidUtf8Marker) {
      piece = "\\ufdd0";
      len = kInvalidUtf8Marker.size();
    } else if (len == 0) {
      const auto b = static_cast<unsigned char>(value[i]);
      piece = {'\\', 'x', kHex[b >> 4], kHex[b & 0x0F]};
      len = 1;
    } else if (is_control(cp)) {
      piece = escape_controls(value.substr(i, len));  // spelled as in logs and tables: \r, \x1b, \u0085
    }
    const std::size_t piece_chars = piece.empty() ? 1 : piece.size();
    if (chars + piece_chars > budget) {
      cut = true;
      break;
    }
    if (piece.empty()) out.append(value.substr(i, len));
    else out += piece;
    chars += piece_chars;
    i += len;
  }
  return out;
}

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026, one character
constexpr std::size_t kHashChars = 8;

std::string too_long(std::string_view what, std::size_t chars, std::size_t max) {
  return std::string(what) + " is " + std::to_string(chars) + " characters long, longer than " + std::to_string(max);
}

std::optional<std::string> check(std::string_view what, std::string_view value, std::size_t max, bool id) {
  const Scan s = scan(value);
  std::string why;
  if (!s.utf8) why = std::string(what) + " is not valid UTF-8";
  else if (s.nul) why = std::string(what) + " holds a NUL byte";
  else if (id && s.control) why = std::string(what) + " holds a control character";
  else if (s.chars > max) why = too_long(what, s.chars, max);
  else return std::nullopt;
  return why + ": " + shown(value);
}

bool fits(std::string_view value, std::size_t max, bool id) {
  const Scan s = scan(value);
  return s.utf8 && !s.nul && !(id && s.control) && s.chars <= max;
}

}  // namespace

std::optional<std::string> check_text(std::string_view what, std::string_view value, std::size_t max) {
  return check(what, value, max, /*id=*/false);
}

std::optional<std::string> check_id(std::string_view what, std::string_view value, std::size_t max) {
  return check(what, value, max, /*id=*/true);
}

std::optional<std::string> check_trimmed_id(std::string_view what, std::string_view value, std::size_t max) {
  if (auto e = check_text(what, value, max)) return e;
  return check_id(what, normalize_code(value), max);
}

bool fits_id(std::string_view value, std::size_t max) { return fits(value, max, /*id=*/true); }
bool fits_text(std::string_view value, std::size_t max) { return fits(value, max, /*id=*/false); }

std::string shown(std::string_view value) {
  bool cut = false;
  std::string out = "\"" + escaped(value, kShownChars, cut);
  if (cut) out += kEllipsis;
  return out + "\"";
}

std::string fit_column(std::string_view value, std::size_t max) {
  if (fits_id(value, max)) return std::string(value);
  bool cut = false;
  std::string out = escaped(value, max, cut);
  if (!cut) return out;
  out = escaped(value, max - 1 - kHashChars, cut);
  out += kEllipsis;
  out += sha256_hex(value).substr(0, kHashChars);
  return out;
}

std::string rejection_key(std::string_view remote_id) { return fit_column(remote_id, kMaxRemoteId); }

RejectionWrite fit_rejection_row(RejectionWrite r) {
  r.remote_id = rejection_key(r.remote_id);
  r.external_code = fit_column(r.external_code, kMaxExternalCode);
  r.existing_owner = fit_column(r.existing_owner, kMaxOwner);
  r.incoming_owner = fit_column(r.incoming_owner, kMaxOwner);
  if (!fits_text(r.message, std::numeric_limits<std::size_t>::max())) {
    bool cut = false;
    r.message = escaped(r.message, std::numeric_limits<std::size_t>::max(), cut);
  }
  return r;
}

}  // namespace erpsync::core
