// Parsing untrusted documents with limits: see bounded_parse.hpp.
//
// JSON: nlohmann/json parses a 1M-deep document (its parser and destructor are iterative) but
// dump() and copy are recursive and overflow the stack later, far from the input. So a
// depth-counting SAX pass runs first and aborts as soon as the nesting exceeds the limit; only a
// document that passed it is parsed into a value, by a builder that counts what the tree takes
// and stops at ParseLimits::max_dom_bytes (a tree of many tiny values takes 10-30x the text).
// XML: pugixml has no limits of its own (and expands no entities), so the size is capped before
// it sees the bytes, so is the tree's memory (estimated from the text), and the depth is checked
// afterwards by an iterative walk (no recursion, so a 1M-deep tree cannot overflow the stack
// here either).

#include "connectors/http/bounded_parse.hpp"

#include "connectors/http/xml_entities.hpp"

#include <algorithm>
#include <string>

#include "core/errors.hpp"
#include "core/rules/normalize.hpp"

namespace erpsync::connectors {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& what, const char* format, std::size_t offset,
                       const std::string& reason) {
  throw core::SyncError(core::SyncError::Kind::permanent,
                        what + ": invalid " + format + " at byte " + std::to_string(offset) +
                            ": " + reason);
}

// Counts nesting and stops the parser (returns false) once it goes beyond max_depth. Everything
// else is accepted and discarded: this pass builds nothing.
class DepthLimitSax final : public nlohmann::json_sax<json> {
 public:
  explicit DepthLimitSax(int max_depth) : max_depth_(max_depth) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool key(string_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_position_ = position;
    error_message_ = ex.what();
    has_error_ = true;
    return false;
  }

  bool too_deep() const { return too_deep_; }
  bool has_error() const { return has_error_; }
  std::size_t error_position() const { return error_position_; }
  const std::string& error_message() const { return error_message_; }

 private:
  bool enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  bool has_error_ = false;
  std::size_t error_position_ = 0;
  std::string error_message_;
};

// Byte offset of the bracket that takes the nesting beyond max_depth (only called once the SAX
// pass said "too deep", so the document is known to reach that depth).
std::size_t json_depth_offset(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return text.size();
}

// nlohmann's messages look like "[json.exception.parse_error.101] parse error at line 1, column
// 7: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: ...".
// Keep the part after the position prefix and drop "last read" (it echoes input bytes, which may
// be invalid UTF-8 themselves or data we should not log).
std::string json_reason(const std::string& message) {
  std::string reason = message;
  if (auto colon = reason.find(": "); colon != std::string::npos &&
                                      reason.rfind("[json.exception", 0) == 0) {
    reason = reason.substr(colon + 2);
  }
  if (auto last = reason.find("; last read"); last != std::string::npos) reason.resize(last);
  return reason;
}

std::size_t line_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

// Length of the well-formed UTF-8 sequence (RFC 3629) that starts at p[i], or 0 when the byte
// there does not begin one. p[i] >= 0x80.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n, std::size_t i) {
  const unsigned char c = p[i];
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if ((p[i + k] & 0xC0) != 0x80) return 0;
  return len;
}

}  // namespace

std::size_t Utf8MarkedJson::original_offset(std::size_t offset) const {
  // Each marker stands for one original byte, so it adds (marker size - 1) bytes.
  const auto before = static_cast<std::size_t>(std::lower_bound(marks.begin(), marks.end(), offset) - marks.begin());
  return offset - before * (core::kInvalidUtf8Marker.size() - 1);
}

std::optional<Utf8MarkedJson> mark_invalid_utf8_in_json_strings(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::optional<Utf8MarkedJson> out;  // created at the first bad byte
  std::size_t copied = 0;             // text[0, copied) is in out->text already
  bool in_string = false;
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (in_string && c == '\\') {
        i += (i + 1 < n && p[i + 1] < 0x80) ? 2 : 1;  // an escaped ASCII byte; a bad one is checked next
        continue;
      }
      if (c == '"') in_string = !in_string;
      ++i;
      continue;
    }
    if (const std::size_t len = utf8_sequence_length(p, n, i)) {
      i += len;
      continue;
    }
    if (!in_string) {  // structural garbage: the parser reports it
      ++i;
      continue;
    }
    if (!out) {
      out.emplace();
      out->text.reserve(n + 64);
    }
    out->text.append(text.substr(copied, i - copied));
    out->marks.push_back(out->text.size());
    out->text.append(core::kInvalidUtf8Marker);
    copied = ++i;
  }
  if (out) out->text.append(text.substr(copied));
  return out;
}

namespace {

// Builds the value as nlohmann's own DOM parser does, counting what the tree takes, and stops
// once that passes the budget. The counts are upper estimates for x86-64 with glibc's malloc
// (16 bytes of overhead per block), peaks included: a value is 16 bytes in its array, but 64
// are counted, since a vector that grows holds its old and its new buffer at once (up to 3x),
// and destroying a nested tree moves its values onto a growing stack of nlohmann's (measured:
// 54 bytes a value at the peak); an object member is a map node (key string, value, links); a
// string or a container a block of its own, and a string longer than 15 bytes one more for its
// characters.
class BudgetedDomSax {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  BudgetedDomSax(json& result, std::size_t budget) : inner_(result, false), budget_(budget) {}

  bool null() { return spend(kSlot) && inner_.null(); }
  bool boolean(bool v) { return spend(kSlot) && inner_.boolean(v); }
  bool number_integer(number_integer_t v) { return spend(kSlot) && inner_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return spend(kSlot) && inner_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) { return spend(kSlot) && inner_.number_float(v, s); }
  bool string(string_t& s) { return spend(kSlot + kBlock + heap(s.size())) && inner_.string(s); }
  bool binary(binary_t& b) { return spend(kSlot + kBlock + b.size()) && inner_.binary(b); }
  bool key(string_t& k) { return spend(kMember + heap(k.size())) && inner_.key(k); }
  bool start_object(std::size_t n) { return spend(kSlot + kBlock + 32) && inner_.start_object(n); }
  bool end_object() { return inner_.end_object(); }
  bool start_array(std::size_t n) { return spend(kSlot + kBlock + 8) && inner_.start_array(n); }
  bool end_array() { return inner_.end_array(); }
  bool parse_error(std::size_t position, const std::string& last, const nlohmann::detail::exception& ex) {
    return inner_.parse_error(position, last, ex);
  }

  bool over_budget() const { return over_; }

 private:
  static constexpr std::size_t kSlot = 64, kBlock = 48, kMember = 128;
  static std::size_t heap(std::size_t n) { return n > 15 ? n + 1 + 16 : 0; }
  bool spend(std::size_t n) {
    used_ += n;
    over_ = used_ > budget_;
    return !over_;
  }

  nlohmann::detail::json_sax_dom_parser<json> inner_;
  std::size_t budget_;
  std::size_t used_ = 0;
  bool over_ = false;
};

std::string mib(std::size_t bytes) { return std::to_string((bytes + (std::size_t{1} << 20) - 1) >> 20) + " MiB"; }

// The depth, size and well-formedness checks of parse_json_bounded, on a document already
// marked; `marked` (when set) maps error offsets back.
void check_json_marked(std::string_view text, const Utf8MarkedJson* marked, const ParseLimits& limits,
                       const std::string& what) {
  auto original = [&](std::size_t offset) { return marked ? marked->original_offset(offset) : offset; };
  DepthLimitSax sax(limits.max_depth);
  const bool ok = json::sax_parse(text.begin(), text.end(), &sax);
  if (!ok) {
    if (sax.too_deep()) {
      fail(what, "JSON", original(json_depth_offset(text, limits.max_depth)),
           "nesting deeper than " + std::to_string(limits.max_depth) + " levels");
    }
    if (sax.has_error()) {
      const std::string reason = json_reason(sax.error_message());
      // nlohmann reports the position after the offending byte (1-based count of bytes read).
      const std::size_t offset = sax.error_position() > 0 ? sax.error_position() - 1 : 0;
      const bool utf8 = reason.find("UTF-8") != std::string::npos;
      fail(what, "JSON", original(offset), utf8 ? "invalid UTF-8 (" + reason + ")" : reason);
    }
    fail(what, "JSON", 0, "rejected by the parser");
  }
}

// parse_json_bounded on a document already marked and checked.
nlohmann::json build_json(std::string_view text, const ParseLimits& limits, const std::string& what) {
  json result;
  BudgetedDomSax sax(result, limits.max_dom_bytes);
  const bool ok = json::sax_parse(text.begin(), text.end(), &sax);
  if (sax.over_budget())
    throw core::SyncError(core::SyncError::Kind::permanent,
                          what + ": JSON document refused: its values would take more than " +
                              mib(limits.max_dom_bytes) + " in memory (many small values); SPEC allows 32 MB + 3x the document");
  // The check pass accepted the document; a failure here would be a library bug, but it is
  // still reported as bad input rather than escaping as a nlohmann exception.
  if (!ok || result.is_discarded()) fail(what, "JSON", 0, "rejected by the parser");
  return result;
}

}  // namespace

nlohmann::json parse_json_bounded(std::string_view text, const ParseLimits& limits,
                                  const std::string& what) {
  if (text.size() > limits.max_bytes) {
    fail(what, "JSON", limits.max_bytes,
         "document too large (" + std::to_string(text.size()) + " bytes, limit " +
             std::to_string(limits.max_bytes) + ")");
  }
  if (const auto marked = check_json_bounded(text, limits, what)) return build_json(marked->text, limits, what);
  return build_json(text, limits, what);
}

nlohmann::json parse_checked_json(std::string_view text, const ParseLimits& limits, const std::string& what) {
  return build_json(text, limits, what);
}

std::optional<Utf8MarkedJson> check_json_bounded(std::string_view text, const ParseLimits& limits,
                                                 const std::string& what) {
  if (text.size() > limits.max_bytes) {
    fail(what, "JSON", limits.max_bytes,
         "document too large (" + std::to_string(text.size()) + " bytes, limit " +
             std::to_string(limits.max_bytes) + ")");
  }
  std::optional<Utf8MarkedJson> marked = mark_invalid_utf8_in_json_strings(text);
  check_json_marked(marked ? std::string_view(marked->text) : text, marked ? &*marked : nullptr, limits, what);
  return marked;
}

std::size_t xml_dom_estimate(std::string_view text) {
  // pugixml: 64 bytes per node (element, text, CDATA), 40 per attribute, in 32 KiB pages.
  constexpr std::size_t kNode = 72, kAttribute = 48;
  std::size_t nodes = 1, attributes = 0;  // the document node
  bool in_tag = false, has_text = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (in_tag) {
      if (c == '"' || c == '\'') quote = c;
      else if (c == '=') ++attributes;
      else if (c == '>') in_tag = false;
    } else if (c == '<') {
      nodes += has_text ? 1 : 0;
      has_text = false;
      in_tag = true;
      const char next = i + 1 < text.size() ? text[i + 1] : '/';
      if (next != '/' && next != '?') ++nodes;  // a start tag, a CDATA section or a declaration
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      has_text = true;
    }
  }
  return (nodes + (has_text ? 1 : 0)) * kNode + attributes * kAttribute;
}

namespace {

// The depth check after a successful parse (first_too_deep). `text` is what offsets and lines
// are counted in.
void check_xml_depth(pugi::xml_document& doc, std::string_view text, const ParseLimits& limits,
                     const std::string& what) {
  const pugi::xml_node node = first_too_deep(doc, limits.max_depth);
  if (!node) return;
  const std::ptrdiff_t at = node.offset_debug();
  auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(at, 0));
  // offset_debug() points at the element's name; report the '<' that opens it.
  if (offset > 0 && offset <= text.size() && text[offset - 1] == '<') --offset;
  doc.reset();
  fail(what, "XML", offset,
       "nesting deeper than " + std::to_string(limits.max_depth) + " levels (line " +
           std::to_string(line_of(text, offset)) + ")");
}

// The offset of the '<' of the first element nested deeper than max_depth, from the text alone
// (what check_xml_depth finds in the tree), or nullopt.
std::optional<std::size_t> xml_depth_offset(std::string_view text, int max_depth) {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '<' || i + 1 >= text.size()) continue;
    const char next = text[i + 1];
    const std::size_t open = i;
    char quote = 0;
    for (++i; i < text.size() && (quote || text[i] != '>'); ++i)
      if (quote ? text[i] == quote : (text[i] == '"' || text[i] == '\'')) quote = quote ? 0 : text[i];
    if (next == '/') --depth;
    else if (next != '!' && next != '?' && text[i - 1] != '/' && ++depth > max_depth) return open;
    else if (next != '!' && next != '?' && text[i - 1] == '/' && depth + 1 > max_depth) return open;
  }
  return std::nullopt;
}

// The size cap, then the tree's memory (estimated before pugixml allocates any of it). A
// document that is also too deep is refused as such (what the parse would have said).
void check_xml_size(std::string_view text, const ParseLimits& limits, const std::string& what) {
  if (text.size() > limits.max_bytes) {
    fail(what, "XML", limits.max_bytes,
         "document too large (" + std::to_string(text.size()) + " bytes, limit " +
             std::to_string(limits.max_bytes) + ")");
  }
  if (limits.max_dom_bytes == SIZE_MAX) return;
  const std::size_t need = xml_dom_estimate(text);
  if (need <= limits.max_dom_bytes) return;
  if (const auto deep = xml_depth_offset(text, limits.max_depth))
    fail(what, "XML", *deep,
         "nesting deeper than " + std::to_string(limits.max_depth) + " levels (line " +
             std::to_string(line_of(text, *deep)) + ")");
  throw core::SyncError(core::SyncError::Kind::permanent,
                        what + ": XML document refused: its tree would take about " + mib(need) +
                            " in memory, more than " + mib(limits.max_dom_bytes) +
                            " (many small elements or attributes); SPEC allows 32 MB + 3x the document");
}

// After pugixml parsed `text` into `doc`: a parse error names its offset and line (and leaves
// `doc` empty); a document deeper than the limits is refused.
void check_xml_parsed(pugi::xml_document& doc, const pugi::xml_parse_result& result, std::string_view text,
                      const ParseLimits& limits, const std::string& what) {
  if (!result) {
    const auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(result.offset, 0));
    doc.reset();
    fail(what, "XML", offset,
         std::string(result.description()) + " (line " + std::to_string(line_of(text, offset)) +
             ")");
  }
  check_xml_depth(doc, text, limits, what);
}

}  // namespace

void parse_xml_bounded(pugi::xml_document& doc, std::string_view text, const ParseLimits& limits,
                       const std::string& what) {
  check_xml_size(text, limits, what);
  refuse_unknown_entities(text, what);  // pugixml would keep "&foo;" as text
  // parse_default: no parse_doctype, so DOCTYPE internals (entity declarations) are skipped, and
  // pugixml never expands custom or external entities anyway.
  check_xml_parsed(doc, doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto), text,
                   limits, what);
}

void parse_xml_bounded_inplace(pugi::xml_document& doc, std::string& text, const ParseLimits& limits,
                               const std::string& what) {
  check_xml_size(text, limits, what);
  refuse_unknown_entities(text, what);
  // Same options as parse_xml_bounded. pugixml rewrites the bytes as it goes (terminators,
  // unescaped text), so the line of an error is counted in the rewritten bytes.
  check_xml_parsed(doc, doc.load_buffer_inplace(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto),
                   text, limits, what);
}

pugi::xml_node first_too_deep(const pugi::xml_document& doc, int max_depth) {
  int depth = 0;
  pugi::xml_node node = doc.first_child();
  while (node) {
    const bool element = node.type() == pugi::node_element;
    if (element && depth + 1 > max_depth) return node;
    if (element && node.first_child()) {
      ++depth;
      node = node.first_child();
      continue;
    }
    // Climb until a sibling exists; each element left behind closes one level.
    while (node && !node.next_sibling()) {
      node = node.parent();
      if (!node || node.type() == pugi::node_document) return {};
      --depth;
    }
    if (node) node = node.next_sibling();
  }
  return {};
}

}  // namespace erpsync::connectors
