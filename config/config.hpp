#pragma once
// The daemon's configuration (SPEC §6): typed values with every default applied, and the
// loader that turns a JSON-with-comments file (plus its includes and ${...} references) into
// them, or into a list of errors naming file, line, key and what was expected.
//
// Every option is declared once in options.cpp; an option whose capability this build lacks
// is refused ("not supported yet"), never ignored.
//
// Thread-safety: load_config() touches the file system and the environment only; the
// returned values are plain data.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/policy.hpp"
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

struct DatabaseConfig {
  std::string connection;  // may hold a password (PWD=): redact before logging
  int batch_size = 500;
  std::string table_prefix;
  Migrate migrate = Migrate::auto_;
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

// ---- feed (SPEC §4.3) ----------------------------------------------------------------------

// One mapped field: a path relative to the record, and optionally a value map.
struct FieldPath {
  std::string path;
  std::optional<std::map<std::string, std::string>> map;
};

struct FeedContactsConfig {
  std::string records;  // xml/json: relative to the company record; csv: unused
  std::array<std::optional<FieldPath>, core::kContactFieldCount> fields;  // by ContactField
};

enum class FeedFormat { xml, json, csv };

// A CSV feed's dialect and its contacts file (SPEC §4.3 "CSV"), and the feed's encoding (SPEC
// §4.3 "Encodings"). `fields` paths of a CSV feed are column names of the header, or 1-based
// column numbers ("3") when header is false.
struct FeedCsv {
  char delimiter = ',';
  char quote = '"';
  bool header = true;
  int skip_lines = 0;         // physical lines skipped before the header (or the first row)
  std::string contacts_url;   // the contacts file (format csv with a contacts block)
  std::string company_key;    // its column holding the company's remote id
};

struct FeedAuth {
  enum class Type { none, basic, bearer, oauth2_client_credentials };
  Type type = Type::none;
  std::string username;
  Secret password;
  Secret token;
  std::string token_url;
  Secret client_id;
  Secret client_secret;
  std::string scope;
};

struct FeedPaging {
  enum class Type { none, page, offset, next_link };
  Type type = Type::none;
  std::string param, size_param;
  std::int64_t size = 500;
  std::int64_t start = 1;
  std::string next_link;
};

struct FeedCursor {
  std::string field, param, template_ = "{cursor}", order_param, order, timezone = "UTC";
  std::string granularity = "second";  // second|day
};

struct FeedConfig {
  std::string url;  // file:///..., http://... or https://...
  FeedFormat format = FeedFormat::xml;
  std::string records;
  std::array<std::optional<FieldPath>, core::kFieldCount> fields;  // by core::Field
  std::optional<FeedContactsConfig> contacts;
  FeedCsv csv;
  std::string encoding = "utf-8";  // what iconv calls the document's encoding
  double max_shrink_percent = 20.0;
  bool allow_empty = false;
  Duration stable_for = std::chrono::seconds(5);
  std::int64_t max_size = std::int64_t{256} << 20;
  int max_depth = 64;
  // HTTP feeds: the most pages one run reads, and the most bytes a snapshot's pages add up to
  // (SPEC §10: a source whose paging never ends is an error, not an endless run).
  std::int64_t max_pages = 10'000;
  std::int64_t max_snapshot_size = std::int64_t{2} << 30;
  // Records per page handed to the engine. Not a config option: 0 (the default) hands a file's
  // document over in slices of FeedSource::kFileSliceRecords (SPEC §3 rule 7 still supersedes
  // duplicate remote ids across the whole document). HTTP feeds hand over each fetched page as
  // one page and ignore it.
  int page_size = 0;
  // HTTP only (the loader refuses them on file:// feeds); see connectors/feed/http_reader.hpp
  // and feed_source.hpp. tls.client_cert/client_key are refused as not supported yet.
  FeedAuth auth;
  std::map<std::string, std::string> headers;
  FeedPaging paging;
  std::optional<FeedCursor> cursor;
  Duration timeout = std::chrono::seconds(60);
  TlsConfig tls;
};

// ---- magento2 / odoo (declared; refused as not supported yet in this build) ---------------

struct Magento2Config {
  std::string base_url;
  enum class AuthType { oauth1, bearer, admin };
  AuthType auth_type = AuthType::oauth1;
  Secret consumer_key, consumer_secret, access_token, access_token_secret;
  Secret token;
  std::string username;
  Secret password;
  std::string account_code_attribute;
  int page_size = 100;
  std::vector<std::string> streams{"customers", "orders"};
  Duration full_resync_interval = std::chrono::hours(24 * 7);
  Duration timeout = std::chrono::seconds(60);
  std::int64_t max_response_size = std::int64_t{256} << 20;
  TlsConfig tls;
};

struct OdooConfig {
  std::string url, db, user;
  Secret password;
  enum class Protocol { xmlrpc, json2 };
  Protocol protocol = Protocol::xmlrpc;
  Secret api_key;
  int page_size = 500;
  std::vector<std::string> streams{"companies", "contacts"};
  Duration timeout = std::chrono::seconds(60);
  std::int64_t max_response_size = std::int64_t{256} << 20;
  TlsConfig tls;
};

// ---- connectors ------------------------------------------------------------------------------

enum class ConnectorType { magento2, odoo, feed };
std::string_view to_string(ConnectorType t);

struct ConnectorConfig {
  std::string name;
  ConnectorType type = ConnectorType::feed;
  bool enabled = true;
  Duration poll_interval = std::chrono::minutes(5);
  std::string default_owner;
  std::optional<std::map<std::string, std::string>> owners;  // nullopt: no table
  std::vector<core::Field> adopt_by;
  core::OwnerAuthority owner_authority = core::OwnerAuthority::crm;
  Duration park_ttl = std::chrono::hours(24 * 7);
  Duration cursor_overlap = std::chrono::seconds(30);
  std::optional<std::string> start_date;  // "YYYY-MM-DD[ HH:MM:SS]" UTC
  // Exactly one holds a value, the one matching `type`.
  std::variant<FeedConfig, Magento2Config, OdooConfig> settings;

  std::string file;  // where it was declared (main file or an included one)
  int line = 0;

  const FeedConfig* feed() const { return std::get_if<FeedConfig>(&settings); }
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

// Either a Config or the errors that stop the daemon from starting (exit 2).
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  std::vector<ConfigWarning> warnings;  // also in config->warnings
  bool ok() const { return config.has_value(); }
};

// Loads `path` and its includes, resolves ${env:}, ${file:}, ${credential:} in every string,
// validates against the option table and applies defaults. Never throws for bad input.
LoadResult load_config(const std::string& path);

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
