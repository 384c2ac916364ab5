#pragma once
// The one declared table of every configuration option SPEC names (§4, §4.1–4.3, §5, §6,
// §8, §10), in the spirit of fluent-bit's config maps: each option has a path, a type, a
// default, a description and the capability it needs. The loader validates a file against
// this table (unknown keys and wrong types are errors), takes defaults from it, and refuses
// options whose capability this build does not have yet ("not supported yet", never ignored).
// The JSON Schema of the config file is generated from the same table (json_schema()).
//
// Paths:
//   "database.batch_size"               a key of a top-level object
//   "connectors[].poll_interval"        a key every connector has
//   "connectors[feed].records"          a key of connectors of type "feed" only
//   "connectors[feed].headers.*"        the values of a map
//   "connectors[magento2].streams[]"    the items of an array
//
// Thread-safety: everything here is immutable after static initialisation.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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
  field_path,  // a feed field: a path string, or {"path": <string>, "map": {<from>: <to>}}
};
std::string_view to_string(OptionType t);

// What an option needs of the build. Each capability is switched on in options.cpp
// (kCapabilities) by the change that implements it.
enum class Capability {
  core,           // the engine, the database, logs, file feeds: always present
  magento2,       // connectors of type magento2 (SPEC §4.1)
  odoo,           // connectors of type odoo (SPEC §4.2)
  feed_http,      // feeds over http:// and https:// (auth, headers, paging, TLS)
  feed_cursor,    // feeds with a "changed since" cursor
  metrics,        // the Prometheus endpoint (SPEC §8)
};
std::string_view to_string(Capability c);
bool supported(Capability c);

struct OptionSpec {
  std::string_view path;
  OptionType type;
  std::string_view default_json;  // JSON text of the default; empty: no default
  std::string_view description;
  Capability capability = Capability::core;
  bool required = false;
  bool secret = false;            // holds a credential: never logged; inline values warned about
  std::string_view choices = {};  // allowed string values, "a|b|c"; empty: any
  std::int64_t min = INT64_MIN;   // integers
  std::int64_t max = INT64_MAX;
};

// The whole table, in declaration order.
std::span<const OptionSpec> options();

// The option declared at exactly `path`, or nullptr.
const OptionSpec* find_option(std::string_view path);

// The declared default of `spec`, parsed (null when it has none).
nlohmann::ordered_json default_value(const OptionSpec& spec);

// True when `value` is one of spec.choices (or spec has none).
bool allowed_choice(const OptionSpec& spec, std::string_view value);

// Connector types and the capability each needs.
struct ConnectorTypeSpec {
  std::string_view type;
  Capability capability;
  std::string_view description;
};
std::span<const ConnectorTypeSpec> connector_types();

// JSON Schema (draft 2020-12) of the config file, generated from the table. Durations and
// percentages are strings with a pattern; connectors are a oneOf over their types.
nlohmann::ordered_json json_schema();

}  // namespace erpsync::config
