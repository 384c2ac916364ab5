#include "core/rules/normalize.hpp"

namespace erpsync::core {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string normalize_code(std::string_view raw) {
  std::size_t b = 0, e = raw.size();
  while (b < e && is_space(raw[b])) ++b;
  while (e > b && is_space(raw[e - 1])) --e;
  return std::string(raw.substr(b, e - b));
}

std::string normalize_email(std::string_view raw) {
  std::string out = normalize_code(raw);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

std::string normalize_name(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool pending_space = false;
  for (char c : raw) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(ascii_lower(c));
  }
  return out;
}

std::size_t decode_utf8(std::string_view s, std::size_t at, char32_t& cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  const unsigned char c = p[at];
  std::size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;  // continuation byte first, C0/C1 (overlong 2-byte), F5..FF
  }
  if (at + len > n) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char cc = p[at + k];
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (len == 3 && cp < 0x800) return 0;              // overlong
  if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;         // surrogates
  if (cp == 0xFDD0) return 0;                         // kInvalidUtf8Marker
  return len;
}

bool is_valid_utf8(std::string_view s) {
  char32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::optional<bool> parse_active(std::string_view raw) {
  const std::string v = normalize_name(raw);
  if (v.empty() || v == "true" || v == "1" || v == "yes" || v == "y") return true;
  if (v == "false" || v == "0" || v == "no" || v == "n") return false;
  return std::nullopt;
}

}  // namespace erpsync::core
