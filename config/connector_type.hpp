#pragma once
// What the loader needs of a connector type, and what a connector type gets from the loader.
// config/ knows no connector: each connectors/<type>/<type>_conf.* implements ConnectorType
// (its options, its checks, its settings and the streams it offers), and the caller hands the
// list of types to load_config() and json_schema() (connectors/registry.hpp has the list).
//
// Thread-safety: a ConnectorType is immutable; its methods may be called from any thread.

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/jsonc.hpp"
#include "config/options.hpp"
#include "core/stream_kind.hpp"

namespace erpsync::config {

using Duration = std::chrono::milliseconds;
struct TlsConfig;

// One stream a connector syncs: its name (the sync_runs / cursor key) and its record kind.
struct StreamPlan {
  std::string name;
  core::StreamKind kind;
};

// A connector type's own settings (e.g. connectors::feed::FeedConfig); ConnectorConfig holds
// them behind this base. Read them with ConnectorConfig::settings_as<T>().
class ConnectorSettings {
 public:
  virtual ~ConnectorSettings() = default;
  // The streams this connector syncs, in the order they run: records that attach to others run
  // after them, whatever order the config lists them in.
  virtual std::vector<StreamPlan> streams() const = 0;
};

// One parsed file (the main one or an included one).
struct SourceFile {
  std::string path;
  std::string dir;
  bool world_readable = false;
  JsoncDocument doc;
};

// Where a value sits: its file, its path inside that file's document (for the line) and its
// display key in the merged config (for messages).
struct Loc {
  const SourceFile* file;
  std::string rel;  // path in file->doc
  std::string key;  // display path

  Loc child(std::string_view k) const { return {file, path_join(rel, k), path_join(key, k)}; }
  Loc item(std::size_t i) const { return {file, path_index(rel, i), path_index(key, i)}; }
  int line() const { return file->doc.line_of(rel); }
};

// Where a connector type's checks report what is wrong.
class ErrorSink {
 public:
  virtual ~ErrorSink() = default;
  virtual void error(const Loc& at, std::string message) = 0;
};

// A connector type: its name (the value of "type"), its options ("connectors[<name>]...."
// paths), the checks the option table cannot express, and its settings.
class ConnectorType {
 public:
  virtual ~ConnectorType() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  virtual std::span<const OptionSpec> options() const = 0;
  // Checks across keys and of values' contents, after `conn` (the whole connector object, at
  // `at`) passed the option table; reports each problem to `errors`.
  virtual void check(const Json& conn, const Loc& at, ErrorSink& errors) const = 0;
  // The settings of a connector object that passed validation and check().
  virtual std::shared_ptr<const ConnectorSettings> parse(const Json& conn) const = 0;
};

// Typed reads of a validated object, with the declared defaults of a connector type's options.
class OptionReader {
 public:
  // `prefix`: the option path of the connector's keys, e.g. "connectors[feed].".
  OptionReader(std::span<const OptionSpec> options, std::string prefix)
      : options_(options), prefix_(std::move(prefix)) {}

  // obj[key], else the declared default of the option at prefix + `option` (null when the
  // option is not declared or has no default).
  Json get(const Json& obj, const std::string& key, std::string_view option) const;
  Duration duration(const Json& obj, const std::string& key, std::string_view option) const;
  // obj[key] when a string, else the declared default when a string, else "".
  std::string str(const Json& obj, const std::string& key, std::string_view option = {}) const;
  // The connector's "tls" object with the defaults of prefix + "tls.*".
  TlsConfig tls(const Json& conn) const;

 private:
  std::span<const OptionSpec> options_;
  std::string prefix_;
};

// auth.type decides which keys of conn["auth"] belong: each type's keys in `by_type` must be
// there, and other types' keys are errors.
void check_auth(const Json& conn, const Loc& at, ErrorSink& errors,
                const std::map<std::string, std::vector<std::string>>& by_type);

// The streams of `offered` (in that order) whose names `names` lists.
std::vector<StreamPlan> listed_streams(const std::vector<std::string>& names,
                                       std::initializer_list<StreamPlan> offered);

// `s` in double quotes, as messages quote values.
std::string in_quotes(std::string_view s);

}  // namespace erpsync::config
