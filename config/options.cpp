#include "config/options.hpp"

#include "config/connector_type.hpp"

#include <array>
#include <map>
#include <vector>

namespace erpsync::config {
namespace {

using T = OptionType;

// clang-format off
const OptionSpec kOptions[] = {
  // ---- database (SPEC §5) --------------------------------------------------------------
  {"database", T::object, "", "The ODBC database erpsync writes to.", true},
  {"database.connection", T::string, "", "ODBC connection string (\"DSN=...\" or \"Driver=...;...\"). Use ${...} for a password.", true},
  {"database.batch_size", T::integer, "2000", "Records per write transaction.", false, false, {}, 1, 100000},
  {"database.table_prefix", T::string, "\"\"", "Prefix of every table, index and constraint erpsync creates (letters, digits, underscore; a letter or underscore first; at most 32), e.g. \"erpsync_\" in a database a CRM application shares."},
  {"database.crm", T::string, "\"erpsync\"", "Where Accounts and Contacts live (SPEC §5 \"CRM targets\"): erpsync: erpsync's own tables; suitecrm: SuiteCRM 7's own tables in the same MariaDB/MySQL database (needs database.table_prefix; docs/crm-suitecrm.md).", false, false, "erpsync|suitecrm"},
  {"database.suitecrm", T::object, "{}", "SuiteCRM 7 as the CRM (database.crm \"suitecrm\")."},
  {"database.suitecrm.code_field", T::string, "\"external_code_c\"", "The accounts_cstm column (a Studio custom field, varchar(64)) that holds the External Code."},
  {"database.suitecrm.sync_user", T::string, "", "user_name of the SuiteCRM user erpsync writes as (created_by, modified_user_id); required with database.crm \"suitecrm\"."},
  {"database.suitecrm.account_type_map", T::map, "", "relationship → accounts.account_type key; merged over the default map (customer→Customer, prospect→Prospect, partner→Partner, reseller→Reseller, distributor→Reseller, supplier→Other, other→Other)."},
  {"database.suitecrm.account_type_map.*", T::string, "", "An account_type_dom key (\"\" leaves the type blank)."},
  {"database.suitecrm.vat_field", T::string, "\"\"", "The accounts_cstm column (a Studio custom field) that holds the VAT number; \"\": none (the vat stays in erpsync's index, and adopt_by vat finds only Accounts erpsync wrote)."},
  {"database.suitecrm.inactive", T::string, "\"\"", "The account_type key an inactive Account gets in SuiteCRM (e.g. \"Inactive\", a key added to account_type_dom in Studio); \"\": SuiteCRM shows no difference (erpsync keeps the flag in its own index)."},
  {"database.migrate", T::string, "\"auto\"", "auto: apply pending migrations; check: refuse to start on one; off: a DBA applies them.", false, false, "auto|check|off"},

  // ---- log (SPEC §8) ---------------------------------------------------------------------
  {"log", T::object, "{}", "Logging."},
  {"log.level", T::string, "\"info\"", "Minimum level logged.", false, false, "trace|debug|info|warn|error|critical|off"},
  {"log.format", T::string, "\"text\"", "text, or json (one object per line).", false, false, "text|json"},
  {"log.file", T::string, "", "Log to this file instead of stderr (journald)."},

  // ---- engine ----------------------------------------------------------------------------
  {"workers", T::integer, "2", "Connectors synced at the same time.", false, false, {}, 1, 64},
  {"metrics", T::object, "{}", "Prometheus metrics endpoint (SPEC §8)."},
  {"metrics.listen", T::string, "", "host:port to serve /metrics on (loopback recommended); absent: no endpoint."},
  {"cluster", T::object, "{}", "Leases: one process at a time syncs a connector (SPEC §10)."},
  {"cluster.instance_id", T::string, "", "This instance's name in sync_leases.holder and sync_runs.instance; default: the host name. Give every running service its own."},
  {"cluster.lease_ttl", T::duration, "\"30s\"", "How long a connector's lease holds without renewal (renewed every third of it): a dead instance's connectors move within about this long."},
  {"retention", T::object, "{}", "Purging of old rows (SPEC §5)."},
  {"retention.runs", T::duration, "\"90d\"", "Keep sync_runs rows this long."},
  {"retention.resolved_rejections", T::duration, "\"90d\"", "Keep resolved rejections (and their payloads) this long."},
  {"include", T::string, "", "Glob of connector files, one connector object each, relative to this file's folder (SPEC §6)."},
  {"connectors", T::array, "[]", "The connectors (SPEC §4)."},
  {"connectors[]", T::object, "", "One connector."},

  // ---- every connector (SPEC §3, §4) ----------------------------------------------------
  {"connectors[].name", T::string, "", "Unique name, [a-z0-9-]+; keys cursors, bindings and rejections (rename with `erpsyncd rename-connector`).", true},
  {"connectors[].type", T::string, "", "Connector type.", true},  // choices: the types' names (OptionTable)
  {"connectors[].enabled", T::boolean, "true", "A disabled connector is not polled."},
  {"connectors[].poll_interval", T::duration, "\"5m\"", "Time between the end of one run and the start of the next."},
  {"connectors[].default_owner", T::string, "\"\"", "Owner (CRM login) of records whose owner value is empty, and of Magento customers' own Accounts."},
  {"connectors[].owners", T::map, "", "Source owner value → CRM login; a value not listed is rejected unknown_owner. Absent: the value is the login."},
  {"connectors[].owners.*", T::string, "", "CRM login."},
  {"connectors[].adopt_by", T::array, "[]", "Adopt code-less Accounts whose listed fields all match (SPEC §3 rule 9)."},
  {"connectors[].adopt_by[]", T::string, "", "A field compared for adoption.", false, false, "vat|name"},
  {"connectors[].owner_authority", T::string, "\"crm\"", "crm: a different owner is rejected; source: the source reassigns Accounts.", false, false, "crm|source"},
  {"connectors[].park_ttl", T::duration, "\"7d\"", "Parked records become account_not_found rejections after this long."},
  {"connectors[].cursor_overlap", T::duration, "\"30s\"", "Re-read window behind the cursor for rows committed late."},
  {"connectors[].start_date", T::string, "", "UTC \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM:SS\": the first sync reads changes from then on (default: all)."},

};
// clang-format on

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

std::span<const OptionSpec> common_options() { return kOptions; }

OptionTable::OptionTable(ConnectorTypes types) : types_(types) {
  for (const ConnectorType* t : types_) type_choices_ += (type_choices_.empty() ? "" : "|") + std::string(t->name());
  rows_.assign(std::begin(kOptions), std::end(kOptions));
  for (OptionSpec& o : rows_)
    if (o.path == "connectors[].type") o.choices = type_choices_;
  for (const ConnectorType* t : types_) rows_.insert(rows_.end(), t->options().begin(), t->options().end());
  for (const OptionSpec& o : rows_) index_[o.path] = &o;
}

const OptionSpec* OptionTable::find(std::string_view path) const {
  auto it = index_.find(path);
  return it == index_.end() ? nullptr : it->second;
}

const ConnectorType* OptionTable::type(std::string_view name) const {
  for (const ConnectorType* t : types_)
    if (t->name() == name) return t;
  return nullptr;
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

OJ schema_of(const OptionTable& table, const std::string& path);

// Children of `path` ("a.b" → "a.b.x" entries); for connectors of a type, the common ones too.
void add_properties(const OptionTable& table, OJ& schema, const std::vector<std::string>& prefixes) {
  OJ props = OJ::object();
  OJ required = OJ::array();
  for (const auto& o : table.options()) {
    std::string_view p = o.path;
    for (const auto& prefix : prefixes) {
      if (p.size() <= prefix.size() + 1 || p.substr(0, prefix.size()) != prefix || p[prefix.size()] != '.')
        continue;
      std::string_view rest = p.substr(prefix.size() + 1);
      if (rest.find('.') != std::string_view::npos || rest.find('[') != std::string_view::npos || rest == "*")
        continue;
      props[std::string(rest)] = schema_of(table, std::string(p));
      if (o.required) required.push_back(std::string(rest));
    }
  }
  schema["properties"] = props;
  if (!required.empty()) schema["required"] = required;
  schema["additionalProperties"] = false;
}

OJ schema_of(const OptionTable& table, const std::string& path) {
  const OptionSpec* o = table.find(path);
  OJ s = OJ::object();
  if (!o) return s;
  s["description"] = std::string(o->description);
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
      add_properties(table, s, {path});
      break;
    case T::array:
      s["type"] = "array";
      s["items"] = schema_of(table, path + "[]");
      break;
    case T::map:
      s["type"] = "object";
      s["additionalProperties"] = schema_of(table, path + ".*");
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

nlohmann::ordered_json json_schema(ConnectorTypes types) {
  const OptionTable table(types);
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
    props[std::string(p)] = schema_of(table, std::string(p));
    if (o.required) required.push_back(std::string(p));
  }
  root["properties"] = props;
  root["required"] = required;
  root["additionalProperties"] = false;

  OJ variants = OJ::array();
  for (const ConnectorType* t : types) {
    OJ v = OJ::object();
    v["type"] = "object";
    add_properties(table, v, {"connectors[]", "connectors[" + std::string(t->name()) + "]"});
    v["properties"]["type"] = OJ{{"const", std::string(t->name())}, {"description", std::string(t->description())}};
    variants.push_back(v);
  }
  root["properties"]["connectors"]["items"] = OJ{{"oneOf", variants}};
  return root;
}

}  // namespace erpsync::config
