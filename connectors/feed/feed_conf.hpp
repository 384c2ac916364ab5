#pragma once
// The feed connector's configuration (SPEC §4.3), owned here and nowhere else: the options of
// "connectors[feed]" (declared in feed_conf.cpp, in the rows config/ joins into its option
// table), the checks the table cannot express (URLs, XPaths and JSON Pointers compiled at load
// time so --check-config catches a bad one, auth and paging keys, HTTP-only keys on file://
// feeds, cursor values), the typed settings (FeedConfig) parsed from a validated connector
// object, and the streams a feed offers ("accounts", company records; "contacts" for a CSV
// feed's contacts file).
//
// Thread-safety: plain data and an immutable type descriptor.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/record.hpp"

namespace erpsync::connectors::feed {

using config::Duration;
using config::Secret;

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

// A CSV feed's dialect and its contacts file (SPEC §4.3 "CSV"). `fields` paths of a CSV feed
// are column names of the header, or 1-based column numbers ("3") when header is false.
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

struct FeedConfig final : config::ConnectorSettings {
  std::string url;  // file:///..., http://... or https://...
  FeedFormat format = FeedFormat::xml;
  std::string records;
  std::array<std::optional<FieldPath>, core::kFieldCount> fields;  // by core::Field
  std::optional<FeedContactsConfig> contacts;
  FeedCsv csv;
  std::string encoding = "utf-8";  // what iconv calls the document's encoding (SPEC §4.3 "Encodings")
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
  // HTTP only (the loader refuses them on file:// feeds); see http_reader.hpp and
  // feed_source.hpp. tls.client_cert/client_key are refused as not supported yet.
  FeedAuth auth;
  std::map<std::string, std::string> headers;
  FeedPaging paging;
  std::optional<FeedCursor> cursor;
  Duration timeout = std::chrono::seconds(60);
  config::TlsConfig tls;

  // format csv with a contacts block: the contacts come from a file of their own.
  bool has_contacts_file() const { return format == FeedFormat::csv && contacts && !csv.contacts_url.empty(); }

  // "accounts" (core::StreamKind::companies); with a contacts file, then "contacts"
  // (core::StreamKind::contacts): its rows that no company row takes (feed_source.hpp).
  std::vector<config::StreamPlan> streams() const override;
};

// The "feed" connector type.
const config::ConnectorType& connector_type();

}  // namespace erpsync::connectors::feed
