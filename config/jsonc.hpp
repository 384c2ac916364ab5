#pragma once
// JSON with comments (`//` and `/* */`), as the config files are written (SPEC §6).
//
// A small recursive-descent parser instead of nlohmann's: the config loader must name the
// line of every key it complains about, and nlohmann keeps no positions. Comments are skipped
// by the tokenizer (never inside strings), so line numbers stay those of the file.
// Duplicate keys in one object are an error (the last one silently winning is a trap).

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace erpsync::config {

using Json = nlohmann::ordered_json;

struct JsoncDocument {
  Json root;
  // Display path ("connectors[2].auth.type", see path_join) → 1-based line of its key (or of
  // the value for array items and the root).
  std::map<std::string, int> lines;

  int line_of(const std::string& path) const;  // 0 when unknown
};

struct JsoncError {
  int line = 0;
  int column = 0;
  std::string message;
};

// Parses `text`; on failure returns the first syntax error (line, column, what was expected).
// `path_prefix` is prepended to every recorded path (an included file's place in the tree).
struct JsoncResult {
  std::optional<JsoncDocument> doc;
  JsoncError error;
};
JsoncResult parse_jsonc(std::string_view text, const std::string& path_prefix = "");

// "a" + "b" → "a.b"; keys that are not plain identifiers are quoted: a["john@x.com"].
std::string path_join(const std::string& prefix, std::string_view key);
std::string path_index(const std::string& prefix, std::size_t index);

}  // namespace erpsync::config
