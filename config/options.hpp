#pragma once
// The declared table of every configuration option SPEC names (§4, §4.1–4.3, §5, §6, §8,
// §10), in the spirit of fluent-bit's config maps: each option has a path, a type, a default
// and a description. This file declares the options every config has (top level and every
// connector's common keys); each connector type declares its own in its
// connectors/<type>/<type>_conf.cpp, and an OptionTable joins them. The loader validates a file
// against that table (unknown keys and wrong types are errors) and takes defaults from it. The
// JSON Schema of the config file is generated from the same table (json_schema()).
//
// Paths:
//   "database.batch_size"               a key of a top-level object
//   "connectors[].poll_interval"        a key every connector has
//   "connectors[feed].records"          a key of connectors of type "feed" only
//   "connectors[feed].headers.*"        the values of a map
//   "connectors[magento2].streams[]"    the items of an array
//
// Thread-safety: the declared rows are immutable after static initialisation; an OptionTable
// is immutable once built.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace erpsync::config {

enum class OptionType {
  string,
  integer,
  boolean,
  duration,    // a string: "500ms", "90s", "5m", "1h", "7d"
  percentage,  // a string: "20%", "12.5%" (0..100)
  object,      // keys declared as sub-options
  array,       // items declared as "<path>[]"
  map,         // free keys, values declared as "<path>.*"
  field_path,  // a mapped field: a path string, or {"path": <string>, "map": {<from>: <to>}}
};
std::string_view to_string(OptionType t);

struct OptionSpec {
  std::string_view path;
  OptionType type;
  std::string_view default_json;  // JSON text of the default; empty: no default
  std::string_view description;
  bool required = false;
  bool secret = false;            // holds a credential: never logged; inline values warned about
  std::string_view choices = {};  // allowed string values, "a|b|c"; empty: any
  std::int64_t min = INT64_MIN;   // integers
  std::int64_t max = INT64_MAX;
};

// The options every config has (top level, and the keys every connector has), in declaration
// order.
std::span<const OptionSpec> common_options();

// The declared default of `spec`, parsed (null when it has none).
nlohmann::ordered_json default_value(const OptionSpec& spec);

// True when `value` is one of spec.choices (or spec has none).
bool allowed_choice(const OptionSpec& spec, std::string_view value);

class ConnectorType;
using ConnectorTypes = std::span<const ConnectorType* const>;

// The common options followed by each connector type's, in the order of `types`; the choices of
// "connectors[].type" are the types' names.
class OptionTable {
 public:
  explicit OptionTable(ConnectorTypes types);
  OptionTable(const OptionTable&) = delete;
  OptionTable& operator=(const OptionTable&) = delete;

  std::span<const OptionSpec> options() const { return rows_; }
  // The option declared at exactly `path`, or nullptr.
  const OptionSpec* find(std::string_view path) const;
  ConnectorTypes types() const { return types_; }
  // The connector type named `name`, or nullptr.
  const ConnectorType* type(std::string_view name) const;

 private:
  ConnectorTypes types_;
  std::string type_choices_;  // "magento2|odoo|feed": what rows_'s "connectors[].type" points into
  std::vector<OptionSpec> rows_;
  std::map<std::string_view, const OptionSpec*> index_;
};

// JSON Schema (draft 2020-12) of the config file, generated from the table. Durations and
// percentages are strings with a pattern; connectors are a oneOf over their types.
nlohmann::ordered_json json_schema(ConnectorTypes types);

}  // namespace erpsync::config
