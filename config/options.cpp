#include "config/options.hpp"

#include <array>
#include <map>
#include <vector>

namespace erpsync::config {
namespace {

using T = OptionType;
using C = Capability;

// What this build can do. Flip an entry to true in the change that implements it; the
// options that need it are then accepted instead of refused as "not supported yet".
constexpr std::array<std::pair<Capability, bool>, 6> kCapabilities = {{
    {C::core, true},
    {C::magento2, true},
    {C::odoo, true},
    {C::feed_http, true},
    {C::feed_cursor, true},
    {C::metrics, true},
}};

constexpr std::array<ConnectorTypeSpec, 3> kConnectorTypes = {{
    {"magento2", C::magento2, "Magento 2 REST: customers and orders (SPEC §4.1)"},
    {"odoo", C::odoo, "Odoo external API: companies and contacts (SPEC §4.2)"},
    {"feed", C::core, "a mapped XML or JSON document from a file or URL (SPEC §4.3)"},
}};

// clang-format off
const OptionSpec kOptions[] = {
  // ---- database (SPEC §5) --------------------------------------------------------------
  {"database", T::object, "", "The ODBC database erpsync writes to.", C::core, true},
  {"database.connection", T::string, "", "ODBC connection string (\"DSN=...\" or \"Driver=...;...\"). Use ${...} for a password.", C::core, true},
  {"database.batch_size", T::integer, "500", "Records per write transaction.", C::core, false, false, {}, 1, 100000},
  {"database.table_prefix", T::string, "\"\"", "Prefix of every table, index and constraint erpsync creates (letters, digits, underscore; a letter or underscore first; at most 32), e.g. \"erpsync_\" in a database a CRM application shares.", C::core},
  {"database.migrate", T::string, "\"auto\"", "auto: apply pending migrations; check: refuse to start on one; off: a DBA applies them.", C::core, false, false, "auto|check|off"},

  // ---- log (SPEC §8) ---------------------------------------------------------------------
  {"log", T::object, "{}", "Logging.", C::core},
  {"log.level", T::string, "\"info\"", "Minimum level logged.", C::core, false, false, "trace|debug|info|warn|error|critical|off"},
  {"log.format", T::string, "\"text\"", "text, or json (one object per line).", C::core, false, false, "text|json"},
  {"log.file", T::string, "", "Log to this file instead of stderr (journald).", C::core},

  // ---- engine ----------------------------------------------------------------------------
  {"workers", T::integer, "2", "Connectors synced at the same time.", C::core, false, false, {}, 1, 64},
  {"metrics", T::object, "{}", "Prometheus metrics endpoint (SPEC §8).", C::metrics},
  {"metrics.listen", T::string, "", "host:port to serve /metrics on (loopback recommended); absent: no endpoint.", C::metrics},
  {"cluster", T::object, "{}", "Leases: one process at a time syncs a connector (SPEC §10).", C::core},
  {"cluster.instance_id", T::string, "", "This instance's name in sync_leases.holder and sync_runs.instance; default: the host name. Give every running service its own.", C::core},
  {"cluster.lease_ttl", T::duration, "\"30s\"", "How long a connector's lease holds without renewal (renewed every third of it): a dead instance's connectors move within about this long.", C::core},
  {"retention", T::object, "{}", "Purging of old rows (SPEC §5).", C::core},
  {"retention.runs", T::duration, "\"90d\"", "Keep sync_runs rows this long.", C::core},
  {"retention.resolved_rejections", T::duration, "\"90d\"", "Keep resolved rejections (and their payloads) this long.", C::core},
  {"include", T::string, "", "Glob of connector files, one connector object each, relative to this file's folder (SPEC §6).", C::core},
  {"connectors", T::array, "[]", "The connectors (SPEC §4).", C::core},
  {"connectors[]", T::object, "", "One connector.", C::core},

  // ---- every connector (SPEC §3, §4) ----------------------------------------------------
  {"connectors[].name", T::string, "", "Unique name, [a-z0-9-]+; keys cursors, bindings and rejections (rename with `erpsyncd rename-connector`).", C::core, true},
  {"connectors[].type", T::string, "", "Connector type.", C::core, true, false, "magento2|odoo|feed"},
  {"connectors[].enabled", T::boolean, "true", "A disabled connector is not polled.", C::core},
  {"connectors[].poll_interval", T::duration, "\"5m\"", "Time between the end of one run and the start of the next.", C::core},
  {"connectors[].default_owner", T::string, "\"\"", "Owner (CRM login) of records whose owner value is empty, and of Magento customers' own Accounts.", C::core},
  {"connectors[].owners", T::map, "", "Source owner value → CRM login; a value not listed is rejected unknown_owner. Absent: the value is the login.", C::core},
  {"connectors[].owners.*", T::string, "", "CRM login.", C::core},
  {"connectors[].adopt_by", T::array, "[]", "Adopt code-less Accounts whose listed fields all match (SPEC §3 rule 9).", C::core},
  {"connectors[].adopt_by[]", T::string, "", "A field compared for adoption.", C::core, false, false, "vat|name"},
  {"connectors[].owner_authority", T::string, "\"crm\"", "crm: a different owner is rejected; source: the source reassigns Accounts.", C::core, false, false, "crm|source"},
  {"connectors[].park_ttl", T::duration, "\"7d\"", "Parked records become account_not_found rejections after this long.", C::core},
  {"connectors[].cursor_overlap", T::duration, "\"30s\"", "Re-read window behind the cursor for rows committed late.", C::core},
  {"connectors[].start_date", T::string, "", "UTC \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM:SS\": the first sync reads changes from then on (default: all).", C::core},

  // ---- magento2 (SPEC §4.1) ---------------------------------------------------------------
  {"connectors[magento2].base_url", T::string, "", "Store base URL, e.g. https://shop.example.com.", C::magento2, true},
  {"connectors[magento2].auth", T::object, "", "Authentication.", C::magento2, true},
  {"connectors[magento2].auth.type", T::string, "", "oauth1 (integration, HMAC-SHA256), bearer (integration token), admin (admin token; fails with 2FA).", C::magento2, true, false, "oauth1|bearer|admin"},
  {"connectors[magento2].auth.consumer_key", T::string, "", "oauth1 consumer key.", C::magento2, false, true},
  {"connectors[magento2].auth.consumer_secret", T::string, "", "oauth1 consumer secret.", C::magento2, false, true},
  {"connectors[magento2].auth.access_token", T::string, "", "oauth1 access token.", C::magento2, false, true},
  {"connectors[magento2].auth.access_token_secret", T::string, "", "oauth1 access token secret.", C::magento2, false, true},
  {"connectors[magento2].auth.token", T::string, "", "bearer: integration access token.", C::magento2, false, true},
  {"connectors[magento2].auth.username", T::string, "", "admin: user name.", C::magento2},
  {"connectors[magento2].auth.password", T::string, "", "admin: password.", C::magento2, false, true},
  {"connectors[magento2].account_code_attribute", T::string, "", "Customer custom attribute holding the Account's External Code.", C::magento2, true},
  {"connectors[magento2].page_size", T::integer, "100", "searchCriteria pageSize.", C::magento2, false, false, {}, 1, 10000},
  {"connectors[magento2].streams", T::array, "[\"customers\",\"orders\"]", "Streams to sync.", C::magento2},
  {"connectors[magento2].streams[]", T::string, "", "A stream.", C::magento2, false, false, "customers|orders"},
  {"connectors[magento2].full_resync_interval", T::duration, "\"7d\"", "Re-read each whole stream this often (address-only edits do not bump updated_at).", C::magento2},
  {"connectors[magento2].timeout", T::duration, "\"60s\"", "Per-request timeout.", C::magento2},
  {"connectors[magento2].max_response_size", T::integer, "268435456", "Largest response body in bytes.", C::magento2, false, false, {}, 1024, INT64_MAX},
  {"connectors[magento2].tls", T::object, "{}", "TLS settings.", C::magento2},
  {"connectors[magento2].tls.verify", T::boolean, "true", "Verify the server certificate.", C::magento2},
  {"connectors[magento2].tls.ca_file", T::string, "", "CA bundle (PEM) instead of the system's.", C::magento2},

  // ---- odoo (SPEC §4.2) ---------------------------------------------------------------------
  {"connectors[odoo].url", T::string, "", "Odoo base URL.", C::odoo, true},
  {"connectors[odoo].db", T::string, "", "Database name.", C::odoo, true},
  {"connectors[odoo].user", T::string, "", "Login of the sync user.", C::odoo, true},
  {"connectors[odoo].password", T::string, "", "Password or API key (xmlrpc).", C::odoo, false, true},
  {"connectors[odoo].protocol", T::string, "\"xmlrpc\"", "xmlrpc (/xmlrpc/2), or json2 (/json/2, bearer API key).", C::odoo, false, false, "xmlrpc|json2"},
  {"connectors[odoo].api_key", T::string, "", "API key for json2.", C::odoo, false, true},
  {"connectors[odoo].page_size", T::integer, "500", "Records per search_read call.", C::odoo, false, false, {}, 1, 100000},
  {"connectors[odoo].streams", T::array, "[\"companies\",\"contacts\"]", "Streams to sync.", C::odoo},
  {"connectors[odoo].streams[]", T::string, "", "A stream.", C::odoo, false, false, "companies|contacts"},
  {"connectors[odoo].timeout", T::duration, "\"60s\"", "Per-request timeout.", C::odoo},
  {"connectors[odoo].max_response_size", T::integer, "268435456", "Largest response body in bytes.", C::odoo, false, false, {}, 1024, INT64_MAX},
  {"connectors[odoo].tls", T::object, "{}", "TLS settings.", C::odoo},
  {"connectors[odoo].tls.verify", T::boolean, "true", "Verify the server certificate.", C::odoo},
  {"connectors[odoo].tls.ca_file", T::string, "", "CA bundle (PEM) instead of the system's.", C::odoo},

  // ---- feed (SPEC §4.3) -----------------------------------------------------------------------
  {"connectors[feed].url", T::string, "", "file:///path, http:// or https://.", C::core, true},
  {"connectors[feed].format", T::string, "", "Document format.", C::core, true, false, "xml|json"},
  {"connectors[feed].records", T::string, "", "One node per company: an XPath from the document root (xml) or a JSON Pointer to an array (json).", C::core, true},
  {"connectors[feed].fields", T::object, "", "Account fields, each a path relative to the record or {\"path\", \"map\"}.", C::core, true},
  {"connectors[feed].fields.remote_id", T::field_path, "", "The ERP's id apart from the code (default: the External Code, else a hash of the mapped fields).", C::core},
  {"connectors[feed].fields.external_code", T::field_path, "", "The External Code.", C::core, true},
  {"connectors[feed].fields.name", T::field_path, "", "Account name.", C::core},
  {"connectors[feed].fields.owner", T::field_path, "", "Owner value (CRM login, or a key of `owners`).", C::core},
  {"connectors[feed].fields.member_of", T::field_path, "", "Parent Account's External Code.", C::core},
  {"connectors[feed].fields.relationship", T::field_path, "", "customer|prospect|partner|reseller|distributor|supplier|other (map source codes with {\"path\", \"map\"}).", C::core},
  {"connectors[feed].fields.email", T::field_path, "", "E-mail.", C::core},
  {"connectors[feed].fields.phone", T::field_path, "", "Phone.", C::core},
  {"connectors[feed].fields.vat", T::field_path, "", "VAT number.", C::core},
  {"connectors[feed].fields.street", T::field_path, "", "Street.", C::core},
  {"connectors[feed].fields.city", T::field_path, "", "City.", C::core},
  {"connectors[feed].fields.postcode", T::field_path, "", "Postcode.", C::core},
  {"connectors[feed].fields.country", T::field_path, "", "Country.", C::core},
  {"connectors[feed].fields.active", T::field_path, "", "true/false, 1/0, yes/no, y/n (any case); absent: true.", C::core},
  {"connectors[feed].contacts", T::object, "", "Contact persons of each company record.", C::core},
  {"connectors[feed].contacts.records", T::string, "", "Contacts, relative to the company record (XPath, or JSON Pointer to an array).", C::core, true},
  {"connectors[feed].contacts.fields", T::object, "", "Contact fields.", C::core, true},
  {"connectors[feed].contacts.fields.remote_id", T::field_path, "", "Contact id.", C::core},
  {"connectors[feed].contacts.fields.first_name", T::field_path, "", "First name.", C::core},
  {"connectors[feed].contacts.fields.last_name", T::field_path, "", "Last name.", C::core},
  {"connectors[feed].contacts.fields.email", T::field_path, "", "E-mail.", C::core},
  {"connectors[feed].contacts.fields.phone", T::field_path, "", "Phone.", C::core},
  {"connectors[feed].contacts.fields.active", T::field_path, "", "true/false, 1/0, yes/no, y/n; absent: true.", C::core},
  {"connectors[feed].max_shrink", T::percentage, "\"20%\"", "Refuse a snapshot smaller than the last one by more than this.", C::core},
  {"connectors[feed].allow_empty", T::boolean, "false", "Accept an empty snapshot.", C::core},
  {"connectors[feed].stable_for", T::duration, "\"5s\"", "file://: read only once the file's mtime is at least this old.", C::core},
  {"connectors[feed].max_size", T::integer, "268435456", "Largest document in bytes.", C::core, false, false, {}, 1, INT64_MAX},
  {"connectors[feed].max_depth", T::integer, "64", "Deepest nesting of the document.", C::core, false, false, {}, 2, 1000},
  {"connectors[feed].auth", T::object, "", "HTTP authentication.", C::feed_http},
  {"connectors[feed].auth.type", T::string, "", "HTTP authentication scheme.", C::feed_http, true, false, "basic|bearer|oauth2_client_credentials"},
  {"connectors[feed].auth.username", T::string, "", "basic: user name.", C::feed_http},
  {"connectors[feed].auth.password", T::string, "", "basic: password.", C::feed_http, false, true},
  {"connectors[feed].auth.token", T::string, "", "bearer: token.", C::feed_http, false, true},
  {"connectors[feed].auth.token_url", T::string, "", "oauth2_client_credentials: token endpoint.", C::feed_http},
  {"connectors[feed].auth.client_id", T::string, "", "oauth2_client_credentials: client id.", C::feed_http, false, true},
  {"connectors[feed].auth.client_secret", T::string, "", "oauth2_client_credentials: client secret.", C::feed_http, false, true},
  {"connectors[feed].auth.scope", T::string, "", "oauth2_client_credentials: scope.", C::feed_http},
  {"connectors[feed].headers", T::map, "", "Extra request headers.", C::feed_http},
  {"connectors[feed].headers.*", T::string, "", "Header value.", C::feed_http},
  {"connectors[feed].paging", T::object, "", "HTTP paging; default {\"type\": \"none\"}.", C::feed_http},
  {"connectors[feed].paging.type", T::string, "\"none\"", "none, page (page number), offset, next_link (URL in the body).", C::feed_http, false, false, "none|page|offset|next_link"},
  {"connectors[feed].paging.param", T::string, "", "page/offset: query parameter of the page number or offset.", C::feed_http},
  {"connectors[feed].paging.size_param", T::string, "", "page/offset: query parameter of the page size.", C::feed_http},
  {"connectors[feed].paging.size", T::integer, "500", "page/offset: page size.", C::feed_http, false, false, {}, 1, 100000},
  {"connectors[feed].paging.start", T::integer, "1", "page: number of the first page.", C::feed_http, false, false, {}, 0, INT64_MAX},
  {"connectors[feed].paging.next_link", T::string, "", "next_link: path of the next URL in the body (XPath or JSON Pointer).", C::feed_http},
  {"connectors[feed].cursor", T::object, "", "\"Changed since\" support; without it the feed is a full snapshot.", C::feed_cursor},
  {"connectors[feed].cursor.field", T::string, "", "Path of the change time in the record.", C::feed_cursor, true},
  {"connectors[feed].cursor.param", T::string, "", "Query parameter carrying the filter.", C::feed_cursor, true},
  {"connectors[feed].cursor.template", T::string, "\"{cursor}\"", "Filter text; {cursor} is replaced by the cursor time.", C::feed_cursor},
  {"connectors[feed].cursor.order_param", T::string, "", "Query parameter of the sort order.", C::feed_cursor},
  {"connectors[feed].cursor.order", T::string, "", "Sort order value.", C::feed_cursor},
  {"connectors[feed].cursor.timezone", T::string, "\"UTC\"", "Time zone of the source's times without an offset and of the {cursor} value sent: UTC or a fixed offset such as \"+01:00\".", C::feed_cursor},
  {"connectors[feed].cursor.granularity", T::string, "\"second\"", "Precision of the source's times; the overlap widens to match.", C::feed_cursor, false, false, "second|day"},
  {"connectors[feed].max_pages", T::integer, "10000", "Most pages one run reads; more is an error (a source whose paging never ends).", C::feed_http, false, false, {}, 1, INT64_MAX},
  {"connectors[feed].max_snapshot_size", T::integer, "2147483648", "Most bytes a snapshot's pages add up to (they are held until written); more is an error.", C::feed_http, false, false, {}, 1, INT64_MAX},
  {"connectors[feed].timeout", T::duration, "\"60s\"", "Per-request timeout.", C::feed_http},
  {"connectors[feed].tls", T::object, "{}", "TLS settings.", C::feed_http},
  {"connectors[feed].tls.verify", T::boolean, "true", "Verify the server certificate.", C::feed_http},
  {"connectors[feed].tls.ca_file", T::string, "", "CA bundle (PEM) instead of the system's.", C::feed_http},
  {"connectors[feed].tls.client_cert", T::string, "", "Client certificate (PEM); not supported yet by this build.", C::feed_http},
  {"connectors[feed].tls.client_key", T::string, "", "Client key (PEM); not supported yet by this build.", C::feed_http, false, true},
};
// clang-format on

const std::map<std::string_view, const OptionSpec*>& index() {
  static const auto* idx = [] {
    auto* m = new std::map<std::string_view, const OptionSpec*>;
    for (const auto& o : kOptions) (*m)[o.path] = &o;
    return m;
  }();
  return *idx;
}

}  // namespace

std::string_view to_string(OptionType t) {
  switch (t) {
    case T::string: return "string";
    case T::integer: return "integer";
    case T::boolean: return "boolean";
    case T::duration: return "duration";
    case T::percentage: return "percentage";
    case T::object: return "object";
    case T::array: return "array";
    case T::map: return "map";
    case T::field_path: return "field_path";
  }
  return "?";
}

std::string_view to_string(Capability c) {
  switch (c) {
    case C::core: return "core";
    case C::magento2: return "magento2 connectors";
    case C::odoo: return "odoo connectors";
    case C::feed_http: return "feeds over http(s)";
    case C::feed_cursor: return "feed cursors";
    case C::metrics: return "the metrics endpoint";
  }
  return "?";
}

bool supported(Capability c) {
  for (const auto& [cap, on] : kCapabilities)
    if (cap == c) return on;
  return false;
}

std::span<const OptionSpec> options() { return kOptions; }

const OptionSpec* find_option(std::string_view path) {
  const auto& idx = index();
  auto it = idx.find(path);
  return it == idx.end() ? nullptr : it->second;
}

nlohmann::ordered_json default_value(const OptionSpec& spec) {
  if (spec.default_json.empty()) return nullptr;
  return nlohmann::ordered_json::parse(spec.default_json);
}

bool allowed_choice(const OptionSpec& spec, std::string_view value) {
  if (spec.choices.empty()) return true;
  std::string_view rest = spec.choices;
  while (true) {
    auto bar = rest.find('|');
    if (rest.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) return false;
    rest.remove_prefix(bar + 1);
  }
}

std::span<const ConnectorTypeSpec> connector_types() { return kConnectorTypes; }

// ---- JSON Schema ---------------------------------------------------------------------------
namespace {

using OJ = nlohmann::ordered_json;

OJ choices_json(std::string_view choices) {
  OJ arr = OJ::array();
  std::string_view rest = choices;
  while (true) {
    auto bar = rest.find('|');
    arr.push_back(std::string(rest.substr(0, bar)));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return arr;
}

OJ schema_of(const std::string& path);

// Children of `path` ("a.b" → "a.b.x" entries); for connectors of a type, the common ones too.
void add_properties(OJ& schema, const std::vector<std::string>& prefixes) {
  OJ props = OJ::object();
  OJ required = OJ::array();
  for (const auto& o : kOptions) {
    std::string_view p = o.path;
    for (const auto& prefix : prefixes) {
      if (p.size() <= prefix.size() + 1 || p.substr(0, prefix.size()) != prefix || p[prefix.size()] != '.')
        continue;
      std::string_view rest = p.substr(prefix.size() + 1);
      if (rest.find('.') != std::string_view::npos || rest.find('[') != std::string_view::npos || rest == "*")
        continue;
      props[std::string(rest)] = schema_of(std::string(p));
      if (o.required) required.push_back(std::string(rest));
    }
  }
  schema["properties"] = props;
  if (!required.empty()) schema["required"] = required;
  schema["additionalProperties"] = false;
}

OJ schema_of(const std::string& path) {
  const OptionSpec* o = find_option(path);
  OJ s = OJ::object();
  if (!o) return s;
  s["description"] = std::string(o->description) +
                     (supported(o->capability) ? "" : " (not supported yet by this build)");
  if (!o->default_json.empty()) s["default"] = OJ::parse(o->default_json);
  switch (o->type) {
    case T::string:
      s["type"] = "string";
      if (!o->choices.empty()) s["enum"] = choices_json(o->choices);
      break;
    case T::integer:
      s["type"] = "integer";
      if (o->min != INT64_MIN) s["minimum"] = o->min;
      if (o->max != INT64_MAX) s["maximum"] = o->max;
      break;
    case T::boolean: s["type"] = "boolean"; break;
    case T::duration:
      s["type"] = "string";
      s["pattern"] = "^[0-9]+(ms|s|m|h|d)$";
      break;
    case T::percentage:
      s["type"] = "string";
      s["pattern"] = "^[0-9]+(\\.[0-9]+)?%$";
      break;
    case T::object:
      s["type"] = "object";
      add_properties(s, {path});
      break;
    case T::array:
      s["type"] = "array";
      s["items"] = schema_of(path + "[]");
      break;
    case T::map:
      s["type"] = "object";
      s["additionalProperties"] = schema_of(path + ".*");
      break;
    case T::field_path:
      s["oneOf"] = OJ::array({OJ{{"type", "string"}},
                              OJ{{"type", "object"},
                                 {"properties", {{"path", {{"type", "string"}}},
                                                 {"map", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}},
                                 {"required", {"path"}},
                                 {"additionalProperties", false}}});
      break;
  }
  return s;
}

}  // namespace

nlohmann::ordered_json json_schema() {
  OJ root = OJ::object();
  root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  root["title"] = "erpsync configuration";
  root["type"] = "object";
  // Top-level keys have no prefix, so add_properties() does not apply.
  OJ props = OJ::object();
  OJ required = OJ::array();
  for (const auto& o : kOptions) {
    std::string_view p = o.path;
    if (p.find('.') != std::string_view::npos || p.find('[') != std::string_view::npos) continue;
    props[std::string(p)] = schema_of(std::string(p));
    if (o.required) required.push_back(std::string(p));
  }
  root["properties"] = props;
  root["required"] = required;
  root["additionalProperties"] = false;

  OJ variants = OJ::array();
  for (const auto& t : kConnectorTypes) {
    OJ v = OJ::object();
    v["type"] = "object";
    add_properties(v, {"connectors[]", "connectors[" + std::string(t.type) + "]"});
    v["properties"]["type"] = OJ{{"const", std::string(t.type)}, {"description", std::string(t.description)}};
    variants.push_back(v);
  }
  root["properties"]["connectors"]["items"] = OJ{{"oneOf", variants}};
  return root;
}

}  // namespace erpsync::config
