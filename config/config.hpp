#pragma once
// The daemon's configuration (SPEC §6): typed values with every default applied, and the
// loader that turns a JSON-with-comments file (plus its includes and ${...} references) into
// them, or into a list of errors naming file, line, key and what was expected.
//
// Every option is declared once: the common ones in options.cpp, each connector type's in its
// connectors/<type>/<type>_conf.cpp. config/ knows no connector type: the loader is handed
// the list (connector_type.hpp), and a connector's own settings sit behind ConnectorSettings.
//
// Thread-safety: load_config() touches the file system and the environment only; the
// returned values are plain data.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/connector_type.hpp"
#include "core/rules/policy.hpp"
#include "core/record.hpp"

namespace erpsync::config {

using Duration = std::chrono::milliseconds;

struct ConfigError {
  std::string file;
  int line = 0;         // 1-based; 0 when the error is about the file as a whole
  std::string key;      // display path, e.g. "connectors[2].auth.type"; empty: the file
  std::string message;  // what is wrong and what was expected
  std::string to_string() const;  // "file:line: key: message"
};

struct ConfigWarning {
  std::string file;
  int line = 0;
  std::string key;
  std::string message;
  std::string to_string() const;
};

// A value that must never reach a log line. Deliberately not streamable; use reveal() where
// the credential is actually sent.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string v) : value_(std::move(v)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  bool operator==(const Secret&) const = default;

 private:
  std::string value_;
};

// ---- top level ---------------------------------------------------------------------------

enum class Migrate { auto_, check, off };

enum class CrmTarget { erpsync, suitecrm };

// database.suitecrm (SPEC §5 "CRM targets", docs/crm-suitecrm.md).
struct SuiteCrmConfig {
  std::string code_field = "external_code_c";  // accounts_cstm column of the External Code
  std::string sync_user;                       // users.user_name erpsync writes as
  std::map<std::string, std::string> account_type_map;  // relationship → account_type: overrides of the store's default map
  std::string inactive;                                 // account_type of inactive Accounts; "": none
  std::string vat_field;                                // accounts_cstm column of the VAT number; "": none
  bool operator==(const SuiteCrmConfig&) const = default;
};

struct DatabaseConfig {
  std::string connection;  // may hold a password (PWD=): redact before logging
  int batch_size = 2000;
  std::string table_prefix;
  Migrate migrate = Migrate::auto_;
  CrmTarget crm = CrmTarget::erpsync;
  SuiteCrmConfig suitecrm;
};

enum class LogFormat { text, json };

struct LogConfig {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off (spdlog names)
  LogFormat format = LogFormat::text;
  std::optional<std::string> file;  // nullopt: stderr
};

struct MetricsConfig {
  std::optional<std::string> listen;  // host:port; nullopt: no endpoint
};

struct ClusterConfig {
  std::string instance_id;  // defaults to the host name
  Duration lease_ttl = std::chrono::seconds(30);
};

struct RetentionConfig {
  Duration runs = std::chrono::hours(24 * 90);
  Duration resolved_rejections = std::chrono::hours(24 * 90);
};

struct TlsConfig {
  bool verify = true;
  std::string ca_file;
  std::string client_cert;
  Secret client_key;
};

// ---- connectors ------------------------------------------------------------------------------

struct ConnectorConfig {
  std::string name;
  std::string type;  // a ConnectorType's name(): "feed", "odoo", "magento2"
  bool enabled = true;
  Duration poll_interval = std::chrono::minutes(5);
  std::string default_owner;
  std::optional<std::map<std::string, std::string>> owners;  // nullopt: no table
  std::vector<core::Field> adopt_by;
  core::OwnerAuthority owner_authority = core::OwnerAuthority::crm;
  Duration park_ttl = std::chrono::hours(24 * 7);
  Duration cursor_overlap = std::chrono::seconds(30);
  std::optional<std::string> start_date;  // "YYYY-MM-DD[ HH:MM:SS]" UTC
  // The type's own settings (ConnectorType::parse); never null in a loaded config.
  std::shared_ptr<const ConnectorSettings> settings;

  std::string file;  // where it was declared (main file or an included one)
  int line = 0;

  // The settings as the type's own struct, e.g. settings_as<connectors::feed::FeedConfig>();
  // nullptr when they are of another type.
  template <class Settings>
  const Settings* settings_as() const {
    return dynamic_cast<const Settings*>(settings.get());
  }
  // The streams this connector syncs, in the order they run (none without settings).
  std::vector<StreamPlan> streams() const { return settings ? settings->streams() : std::vector<StreamPlan>{}; }
  // The matcher's view of this connector for `stream`.
  core::MatchPolicy match_policy(const std::string& stream) const;
};

struct Config {
  std::string path;  // the main file
  DatabaseConfig database;
  LogConfig log;
  int workers = 2;
  MetricsConfig metrics;
  ClusterConfig cluster;
  RetentionConfig retention;
  std::vector<ConnectorConfig> connectors;  // main file first, then includes in glob order

  // Key paths (e.g. "connectors[1].auth.token", "database.connection") of every value that is
  // a declared credential or came from ${file:} / ${credential:}, and those values, so a log
  // sink can redact them (redact()).
  std::vector<std::string> secret_keys;
  std::vector<std::string> secret_values;
  std::vector<ConfigWarning> warnings;

  const ConnectorConfig* connector(std::string_view name) const;
  // `text` with every secret value (and any ODBC PWD=/Password= value) replaced by "***".
  std::string redact(std::string_view text) const;
};

// `text` with the value of every ODBC PWD= / Password= attribute (braced or not) replaced by "***".
std::string redact_odbc_passwords(std::string text);

// Either a Config or the errors that stop the daemon from starting (exit 2).
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  std::vector<ConfigWarning> warnings;  // also in config->warnings
  bool ok() const { return config.has_value(); }
};

// Loads `path` and its includes, resolves ${env:}, ${file:}, ${credential:} in every string,
// validates against the option table of the common options and `types`' (a connector of a type
// not listed is an error) and applies defaults. Never throws for bad input.
LoadResult load_config(const std::string& path, ConnectorTypes types);

// Only the `database` section (and `log`): for admin commands (report, resync, migrate, ...)
// that must work when connector secrets are not resolvable. Other sections are not validated
// and their ${...} are not resolved.
LoadResult load_database_only(const std::string& path);

// "500ms", "90s", "5m", "1h", "7d" → duration; nullopt for anything else.
std::optional<Duration> parse_duration(std::string_view text);
// "20%", "12.5%" (0..100) → 20.0; nullopt for anything else.
std::optional<double> parse_percentage(std::string_view text);

// True for an extra HTTP header (a feed's `headers`) whose name says it carries a credential:
// API and subscription keys, tokens, auth, secrets, sessions, cookies, passwords, signatures.
// Such values are masked in every log line, and sending them over plain http:// is warned about.
bool is_credential_header(std::string_view name);

// Host name for cluster.instance_id's default.
std::string default_instance_id();

}  // namespace erpsync::config
