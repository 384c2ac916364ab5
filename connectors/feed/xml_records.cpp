#include "connectors/feed/xml_records.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace erpsync::connectors::feed {
namespace {

// ASCII letters and digits, '_', '-', '.', ':' and every byte from 0x80 (a lookup table: this is
// asked for every byte of every tag name).
constexpr std::array<bool, 256> kNameChars = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || c >= 0x80;
  return t;
}();

bool is_name_char(char c) { return kNameChars[static_cast<unsigned char>(c)]; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The declared encoding of an XML declaration's text ("version='1.0' encoding='x'"), or "".
std::string_view declared_encoding(std::string_view decl) {
  auto at = decl.find("encoding");
  if (at == std::string_view::npos) return {};
  at += 8;
  while (at < decl.size() && (is_space(decl[at]) || decl[at] == '=')) ++at;
  if (at >= decl.size() || (decl[at] != '"' && decl[at] != '\'')) return {};
  const char quote = decl[at];
  const auto end = decl.find(quote, at + 1);
  if (end == std::string_view::npos) return {};
  return decl.substr(at + 1, end - at - 1);
}

}  // namespace

std::optional<std::vector<std::string>> plain_records_path(const std::string& xpath) {
  std::vector<std::string> steps;
  std::size_t at = 0;
  while (at < xpath.size()) {
    if (xpath[at] != '/') return std::nullopt;
    std::size_t end = at + 1;
    while (end < xpath.size() && is_name_char(xpath[end])) ++end;
    std::string step = xpath.substr(at + 1, end - at - 1);
    // A name: not empty, not starting with a digit, '-' or '.', no axis ("a::b").
    if (step.empty() || std::isdigit(static_cast<unsigned char>(step[0])) || step[0] == '-' || step[0] == '.' ||
        step.find("::") != std::string::npos || step.front() == ':' || step.back() == ':')
      return std::nullopt;
    steps.push_back(std::move(step));
    at = end;
  }
  if (steps.empty()) return std::nullopt;
  return steps;
}

bool record_local_xpath(const std::string& xpath) {
  // Outside string literals: no "..", no axis or function that reads beyond the subtree, no
  // variable, and every '/' continues a relative path (follows a name, '*', ')', ']' or '/').
  static const char* const kOutside[] = {"..", "ancestor", "parent", "preceding", "following", "namespace",
                                         "id(", "lang(", "$"};
  std::string code;  // the path with string literals blanked
  for (std::size_t i = 0; i < xpath.size(); ++i) {
    const char c = xpath[i];
    if (c == '\'' || c == '"') {
      const auto end = xpath.find(c, i + 1);
      if (end == std::string::npos) return false;
      code += "''";
      i = end;
      continue;
    }
    code += c;
  }
  for (const char* bad : kOutside)
    if (code.find(bad) != std::string::npos) return false;
  char previous = 0;  // the last non-space character
  for (char c : code) {
    if (is_space(c)) continue;
    if (c == '/' && !(is_name_char(previous) || previous == '*' || previous == ')' || previous == ']' ||
                      previous == '/'))
      return false;
    previous = c;
  }
  return true;
}

std::optional<XmlRecordScan> scan_xml_records(std::string_view doc, const std::vector<std::string>& path) {
  std::size_t i = 0;
  if (doc.size() >= 3 && std::memcmp(doc.data(), "\xEF\xBB\xBF", 3) == 0) i = 3;  // UTF-8 BOM
  // Any other byte order mark, or UTF-16/32 without one, starts with a zero or 0xFE/0xFF byte.
  if (i == 0 && !doc.empty() && (doc[0] == '\0' || static_cast<unsigned char>(doc[0]) >= 0xFE)) return std::nullopt;
  if (doc.size() > 1 && doc[1] == '\0') return std::nullopt;

  XmlRecordScan scan;
  std::vector<std::string_view> open;  // the names of the open elements
  std::size_t matched = 0;             // open[0, matched) equals path[0, matched)
  const std::size_t depth = path.size();
  std::size_t record_begin = 0;
  std::size_t copied = 0;  // doc[0, copied) is accounted for in the skeleton

  auto end_record = [&](std::size_t end) {
    scan.skeleton.append(doc.substr(copied, record_begin - copied));
    scan.records.push_back({record_begin, end});
    copied = end;
  };

  while (true) {
    const void* lt = std::memchr(doc.data() + i, '<', doc.size() - i);
    if (!lt) break;
    i = static_cast<std::size_t>(static_cast<const char*>(lt) - doc.data());
    const std::string_view rest = doc.substr(i);
    if (rest.substr(0, 4) == "<!--") {
      const auto end = doc.find("-->", i + 4);
      if (end == std::string_view::npos) return std::nullopt;
      i = end + 3;
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      const auto end = doc.find("]]>", i + 9);
      if (end == std::string_view::npos) return std::nullopt;
      i = end + 3;
    } else if (rest.substr(0, 2) == "<!") {
      return std::nullopt;  // DOCTYPE (or malformed): parsed whole
    } else if (rest.substr(0, 2) == "<?") {
      const auto end = doc.find("?>", i + 2);
      if (end == std::string_view::npos) return std::nullopt;
      if (rest.substr(0, 5) == "<?xml" && rest.size() > 5 && is_space(rest[5])) {
        const std::string_view enc = declared_encoding(doc.substr(i + 5, end - i - 5));
        if (!enc.empty() && !iequals(enc, "utf-8") && !iequals(enc, "utf8")) return std::nullopt;
      }
      i = end + 2;
    } else if (rest.substr(0, 2) == "</") {
      std::size_t end = i + 2;
      while (end < doc.size() && is_name_char(doc[end])) ++end;
      const std::string_view name = doc.substr(i + 2, end - i - 2);
      const auto gt = doc.find('>', end);
      if (gt == std::string_view::npos || open.empty() || open.back() != name) return std::nullopt;
      if (open.size() == matched) {
        if (matched == depth) end_record(gt + 1);
        --matched;
      }
      open.pop_back();
      i = gt + 1;
    } else {
      std::size_t end = i + 1;
      while (end < doc.size() && is_name_char(doc[end])) ++end;
      const std::string_view name = doc.substr(i + 1, end - i - 1);
      if (name.empty()) return std::nullopt;
      // The attributes: up to the '>' outside quotes.
      std::size_t j = end;
      while (j < doc.size() && doc[j] != '>') {
        if (doc[j] == '"' || doc[j] == '\'') {
          const auto close = doc.find(doc[j], j + 1);
          if (close == std::string_view::npos) return std::nullopt;
          j = close;
        }
        ++j;
      }
      if (j >= doc.size()) return std::nullopt;
      const bool empty_element = doc[j - 1] == '/';
      const bool is_record = open.size() == matched && matched + 1 == depth && name == path[matched];
      if (is_record) record_begin = i;
      if (empty_element) {
        if (is_record) end_record(j + 1);
      } else {
        if (open.size() == matched && matched < depth && name == path[matched]) ++matched;
        open.push_back(name);
      }
      i = j + 1;
    }
  }
  if (!open.empty()) return std::nullopt;
  scan.skeleton.append(doc.substr(copied));
  return scan;
}

}  // namespace erpsync::connectors::feed
