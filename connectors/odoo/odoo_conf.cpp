#include "connectors/odoo/odoo_conf.hpp"

#include <algorithm>

namespace erpsync::connectors::odoo {

using config::ErrorSink;
using config::Json;
using config::Loc;
using config::Secret;
using config::in_quotes;

std::vector<config::StreamPlan> OdooConfig::streams() const {
  return config::listed_streams(stream_names,
                                {{"companies", core::StreamKind::companies}, {"contacts", core::StreamKind::contacts}});
}

namespace {

using T = config::OptionType;

// clang-format off
const config::OptionSpec kOptions[] = {
  {"connectors[odoo].url", T::string, "", "Odoo base URL.", true},
  {"connectors[odoo].db", T::string, "", "Database name.", true},
  {"connectors[odoo].user", T::string, "", "Login of the sync user.", true},
  {"connectors[odoo].password", T::string, "", "Password or API key (xmlrpc).", false, true},
  {"connectors[odoo].protocol", T::string, "\"xmlrpc\"", "xmlrpc (/xmlrpc/2), or json2 (/json/2, bearer API key).", false, false, "xmlrpc|json2"},
  {"connectors[odoo].api_key", T::string, "", "API key for json2.", false, true},
  {"connectors[odoo].page_size", T::integer, "500", "Records per search_read call.", false, false, {}, 1, 100000},
  {"connectors[odoo].streams", T::array, "[\"companies\",\"contacts\"]", "Streams to sync."},
  {"connectors[odoo].streams[]", T::string, "", "A stream.", false, false, "companies|contacts"},
  {"connectors[odoo].timeout", T::duration, "\"60s\"", "Per-request timeout."},
  {"connectors[odoo].max_response_size", T::integer, "268435456", "Largest response body in bytes.", false, false, {}, 1024, INT64_MAX},
  {"connectors[odoo].individuals", T::boolean, "false", "Persons without a parent company (B2C customers) become Accounts (their ref the External Code), their own contacts their Contacts; false: neither is read."},
  {"connectors[odoo].name_split", T::string, "\"last_space\"", "How a contact's one name splits: last_space (last word is the last name), first_space (first word is the family name: Chinese, Japanese, Korean, Hungarian), none (all of it is the last name).", false, false, "last_space|first_space|none"},
  {"connectors[odoo].tls", T::object, "{}", "TLS settings."},
  {"connectors[odoo].tls.verify", T::boolean, "true", "Verify the server certificate."},
  {"connectors[odoo].tls.ca_file", T::string, "", "CA bundle (PEM) instead of the system's."},
};
// clang-format on

class OdooType final : public config::ConnectorType {
 public:
  std::string_view name() const override { return "odoo"; }
  std::string_view description() const override { return "Odoo external API: companies and contacts (SPEC §4.2)"; }
  std::span<const config::OptionSpec> options() const override { return kOptions; }
  void check(const Json& conn, const Loc& at, ErrorSink& errors) const override {
    std::string proto = conn.value("protocol", "xmlrpc");
    const char* needed = proto == "json2" ? "api_key" : "password";
    if (!conn.contains(needed))
      errors.error(at, "missing required key " + in_quotes(needed) + " for protocol " + in_quotes(proto));
  }

  std::shared_ptr<const config::ConnectorSettings> parse(const Json& v) const override {
    auto out = std::make_shared<OdooConfig>();
    OdooConfig& o = *out;
    o.url = v["url"].get<std::string>();
    o.db = v["db"].get<std::string>();
    o.user = v["user"].get<std::string>();
    o.password = Secret(read_.str(v, "password"));
    o.protocol = read_.str(v, "protocol", "protocol") == "json2" ? OdooConfig::Protocol::json2
                                                                     : OdooConfig::Protocol::xmlrpc;
    o.api_key = Secret(read_.str(v, "api_key"));
    o.page_size = read_.get(v, "page_size", "page_size").get<int>();
    o.stream_names = read_.get(v, "streams", "streams").get<std::vector<std::string>>();
    o.timeout = read_.duration(v, "timeout", "timeout");
    o.max_response_size = read_.get(v, "max_response_size", "max_response_size").get<std::int64_t>();
    o.tls = read_.tls(v);
    o.individuals = read_.get(v, "individuals", "individuals").get<bool>();
    const std::string split = read_.str(v, "name_split", "name_split");
    o.name_split = split == "first_space" ? OdooConfig::NameSplit::first_space
                   : split == "none"      ? OdooConfig::NameSplit::none
                                          : OdooConfig::NameSplit::last_space;
    return out;
  }

 private:
  config::OptionReader read_{kOptions, "connectors[odoo]."};
};

}  // namespace

const config::ConnectorType& connector_type() {
  static const OdooType type;
  return type;
}

}  // namespace erpsync::connectors::odoo
