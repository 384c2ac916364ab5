#pragma once
// A feed's `encoding` (SPEC §4.3 "Encodings"): the document converted to UTF-8 with glibc's iconv
// before it is parsed. A byte (or sequence) the encoding does not define does not fail the
// document: it becomes U+FFFD, the replacement character, and the mapper rejects the record
// whose value holds it (`invalid_field`, see mapper.hpp). A source in another encoding has no
// U+FFFD of its own (no single-byte code page has it), so the mark is unambiguous.
//
// Thread-safety: a Transcoder is used by one run at a time (iconv descriptors keep state).

#include <iconv.h>

#include <string>
#include <string_view>

namespace erpsync::connectors::feed {

// The UTF-8 encoding of U+FFFD: what an undefined byte becomes.
inline constexpr std::string_view kUndefinedByteMark = "\xEF\xBF\xBD";

// True for the names of UTF-8 ("utf-8", "UTF8", any case): no conversion is needed.
bool is_utf8_encoding(std::string_view name);

class Transcoder {
 public:
  // Throws core::SyncError{permanent} when iconv does not know `encoding`.
  explicit Transcoder(std::string encoding);
  ~Transcoder();
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  const std::string& encoding() const { return encoding_; }
  // False for UTF-8: to_utf8 would copy its input unchanged.
  bool converts() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  // True for UTF-8 and for single-byte encodings whose bytes below 0x80 are ASCII (windows-125x,
  // iso-8859-x, cp850, ...): a document in it can be split at its ASCII bytes (delimiters, quotes,
  // line breaks) before it is converted, and each value converted on its own, an ASCII value
  // needing no conversion at all. False for UTF-16/32, stateful (ISO-2022) and multi-byte
  // (Shift_JIS, GB18030, ...) encodings. Found by asking iconv about each byte.
  bool splits_at_ascii() const { return splits_at_ascii_; }

  // `in` as UTF-8; undefined bytes and a truncated sequence at the end become U+FFFD each. For
  // UTF-8 itself, `in` unchanged (invalid UTF-8 is left to the value checks).
  std::string to_utf8(std::string_view in);

 private:
  std::string encoding_;
  iconv_t cd_ = reinterpret_cast<iconv_t>(-1);
  bool splits_at_ascii_ = true;
};

// The encoding an XML declaration names (`<?xml version="1.0" encoding="windows-1252"?>`), ""
// when the document has none (or starts with a byte order mark).
std::string xml_declared_encoding(std::string_view doc);

// For an XML document: converts `doc` to UTF-8 from its declared encoding, else from
// `feed_encoding`, and rewrites a non-UTF-8 declaration to say UTF-8 (the parser must not
// decode the converted bytes again). Unchanged when the document is UTF-8 already. Throws
// core::SyncError{permanent} naming `what` for a declared encoding iconv does not know.
std::string xml_to_utf8(std::string doc, const std::string& feed_encoding, const std::string& what);

}  // namespace erpsync::connectors::feed
