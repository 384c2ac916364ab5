#include "connectors/feed/json_records.hpp"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

namespace erpsync::connectors::feed {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view d, std::size_t i) {
  while (i < d.size() && is_space(d[i])) ++i;
  return i;
}

// One past the closing quote of the string whose opening quote is at `i`.
std::size_t string_end(std::string_view d, std::size_t i) {
  for (++i; i < d.size(); ++i) {
    if (d[i] == '\\') ++i;
    else if (d[i] == '"') return i + 1;
  }
  return d.size();
}

// The text of a key (a string literal, quotes included).
std::string key_text(std::string_view literal) {
  if (literal.find('\\') == std::string_view::npos) return std::string(literal.substr(1, literal.size() - 2));
  return nlohmann::json::parse(literal).get<std::string>();
}

// An array index token as json_pointer reads it: digits, no leading zero, at most 9 of them.
std::optional<std::size_t> index_of(const std::string& token) {
  if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0') ||
      !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return static_cast<std::size_t>(std::stoul(token));
}

// After a member or an element that ends at `i`: the start of the next one, if any.
std::size_t next_item(std::string_view d, std::size_t i) {
  i = skip_space(d, i);
  return i < d.size() && d[i] == ',' ? skip_space(d, i + 1) : i;
}

}  // namespace

std::size_t json_value_end(std::string_view d, std::size_t i) {
  i = skip_space(d, i);
  if (i >= d.size()) return d.size();
  if (d[i] == '"') return string_end(d, i);
  if (d[i] != '{' && d[i] != '[') {
    while (i < d.size() && d[i] != ',' && d[i] != ']' && d[i] != '}' && !is_space(d[i])) ++i;
    return i;
  }
  std::size_t depth = 0;
  for (; i < d.size(); ++i) {
    const char c = d[i];
    if (c == '"') {
      i = string_end(d, i) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return d.size();
}

std::optional<ByteRange> json_value_range(std::string_view d, const std::vector<std::string>& tokens) {
  std::size_t at = d.size() >= 3 && std::memcmp(d.data(), "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;  // UTF-8 BOM
  at = skip_space(d, at);
  for (const std::string& token : tokens) {
    if (at >= d.size()) return std::nullopt;
    std::optional<std::size_t> found;
    if (d[at] == '{') {
      for (std::size_t i = skip_space(d, at + 1); i < d.size() && d[i] == '"';) {
        const std::size_t key_end = string_end(d, i);
        const bool match = key_text(d.substr(i, key_end - i)) == token;
        const std::size_t value = skip_space(d, skip_space(d, key_end) + 1);  // past the ':'
        if (match) found = value;  // the last one counts
        i = next_item(d, json_value_end(d, value));
      }
    } else if (d[at] == '[') {
      const std::optional<std::size_t> wanted = index_of(token);
      if (!wanted) return std::nullopt;
      std::size_t n = 0;
      for (std::size_t i = skip_space(d, at + 1); i < d.size() && d[i] != ']'; ++n) {
        if (n == *wanted) {
          found = i;
          break;
        }
        i = next_item(d, json_value_end(d, i));
      }
    }
    if (!found) return std::nullopt;
    at = *found;
  }
  if (at >= d.size()) return std::nullopt;
  return ByteRange{at, json_value_end(d, at)};
}

std::vector<std::uint32_t> json_array_elements(std::string_view d, ByteRange array) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = skip_space(d, array.begin + 1); i < array.end && d[i] != ']';) {
    out.push_back(static_cast<std::uint32_t>(i));
    i = next_item(d, json_value_end(d, i));
  }
  return out;
}

}  // namespace erpsync::connectors::feed
