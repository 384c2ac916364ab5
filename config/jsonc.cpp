#include "config/jsonc.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace erpsync::config {

int JsoncDocument::line_of(const std::string& path) const {
  auto it = lines.find(path);
  return it == lines.end() ? 0 : it->second;
}

std::string path_join(const std::string& prefix, std::string_view key) {
  bool plain = !key.empty();
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) plain = false;
  }
  if (plain) return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  std::string out = prefix + "[\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"]";
}

std::string path_index(const std::string& prefix, std::size_t index) {
  return prefix + "[" + std::to_string(index) + "]";
}

namespace {

constexpr int kMaxDepth = 128;

struct ParseFailure {
  JsoncError error;
};

class Parser {
 public:
  Parser(std::string_view text, JsoncDocument& doc) : s_(text), doc_(doc) {}

  Json parse_document(const std::string& prefix) {
    skip_ws();
    doc_.lines[prefix] = line_;
    Json v = parse_value(prefix, 0);
    skip_ws();
    if (pos_ < s_.size()) fail("unexpected text after the end of the document");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw ParseFailure{JsoncError{line_, static_cast<int>(pos_ - line_start_) + 1, what}};
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }

  void advance() {
    if (s_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  void skip_ws() {
    while (!at_end()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        while (!at_end() && s_[pos_] != '\n') advance();
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        int start_line = line_;
        advance();
        advance();
        while (true) {
          if (at_end()) {
            fail("unterminated /* comment (opened on line " + std::to_string(start_line) + ")");
          }
          if (s_[pos_] == '*' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
            advance();
            advance();
            break;
          }
          advance();
        }
      } else if (c == '\xEF' && pos_ == 0 && s_.substr(0, 3) == "\xEF\xBB\xBF") {
        pos_ += 3;  // UTF-8 byte order mark
        line_start_ = pos_;
      } else {
        break;
      }
    }
  }

  Json parse_value(const std::string& path, int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    skip_ws();
    if (at_end()) fail("unexpected end of file: expected a value");
    char c = peek();
    if (c == '{') return parse_object(path, depth);
    if (c == '[') return parse_array(path, depth);
    if (c == '"') return Json(parse_string());
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    if (match_word("true")) return Json(true);
    if (match_word("false")) return Json(false);
    if (match_word("null")) return Json(nullptr);
    if (c == '\'') fail("strings must use double quotes");
    fail(std::string("unexpected character '") + c + "': expected a value");
  }

  bool match_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    std::size_t end = pos_ + w.size();
    if (end < s_.size() && std::isalnum(static_cast<unsigned char>(s_[end]))) return false;
    pos_ = end;
    return true;
  }

  Json parse_object(const std::string& path, int depth) {
    advance();  // {
    Json obj = Json::object();
    skip_ws();
    if (peek() == '}') {
      advance();
      return obj;
    }
    while (true) {
      skip_ws();
      if (peek() == '}') fail("trailing comma before '}'");
      if (peek() != '"') fail("expected a key in double quotes");
      int key_line = line_;
      std::string key = parse_string();
      std::string child = path_join(path, key);
      if (obj.contains(key)) {
        line_ = key_line;
        fail("duplicate key \"" + key + "\" (first on line " + std::to_string(doc_.line_of(child)) + ")");
      }
      doc_.lines[child] = key_line;
      skip_ws();
      if (peek() != ':') fail("expected ':' after key \"" + key + "\"");
      advance();
      obj[key] = parse_value(child, depth + 1);
      skip_ws();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == '}') {
        advance();
        return obj;
      }
      fail(at_end() ? "unexpected end of file: expected ',' or '}'" : "expected ',' or '}'");
    }
  }

  Json parse_array(const std::string& path, int depth) {
    advance();  // [
    Json arr = Json::array();
    skip_ws();
    if (peek() == ']') {
      advance();
      return arr;
    }
    while (true) {
      skip_ws();
      if (peek() == ']') fail("trailing comma before ']'");
      std::string child = path_index(path, arr.size());
      doc_.lines[child] = line_;
      arr.push_back(parse_value(child, depth + 1));
      skip_ws();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') {
        advance();
        return arr;
      }
      fail(at_end() ? "unexpected end of file: expected ',' or ']'" : "expected ',' or ']'");
    }
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    advance();  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      char c = s_[pos_];
      if (c == '"') {
        advance();
        return out;
      }
      if (c == '\n') fail("unterminated string (line break inside a string)");
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c != '\\') {
        out += c;
        advance();
        continue;
      }
      advance();
      if (at_end()) fail("unterminated string");
      char e = s_[pos_];
      advance();
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail("lone UTF-16 surrogate in \\u escape");
            pos_ += 2;
            unsigned lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("bad UTF-16 surrogate pair in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("lone UTF-16 surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(std::string("bad escape '\\") + e + "' in string");
      }
    }
  }

  Json parse_number() {
    std::size_t start = pos_;
    bool is_float = false;
    if (peek() == '-') ++pos_;
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("bad number");
    if (peek() == '0' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))
      fail("numbers must not have leading zeros");
    while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    if (peek() == '.') {
      is_float = true;
      ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("bad number: digits expected after '.'");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      is_float = true;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("bad number: digits expected in exponent");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    std::string text(s_.substr(start, pos_ - start));
    if (!is_float) {
      errno = 0;
      long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) fail("integer out of range");
      return Json(static_cast<std::int64_t>(v));
    }
    return Json(std::strtod(text.c_str(), nullptr));
  }

  std::string_view s_;
  JsoncDocument& doc_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace

JsoncResult parse_jsonc(std::string_view text, const std::string& path_prefix) {
  JsoncResult r;
  JsoncDocument doc;
  try {
    Parser p(text, doc);
    doc.root = p.parse_document(path_prefix);
    r.doc = std::move(doc);
  } catch (const ParseFailure& f) {
    r.error = f.error;
  }
  return r;
}

}  // namespace erpsync::config
