#include "connectors/magento2/magento2_conf.hpp"

#include <algorithm>

namespace erpsync::connectors::magento2 {

using config::ErrorSink;
using config::Json;
using config::Loc;
using config::Secret;
using config::in_quotes;

std::vector<config::StreamPlan> Magento2Config::streams() const {
  return config::listed_streams(stream_names,
                                {{"customers", core::StreamKind::customers},
                                 {"orders", core::StreamKind::orders},
                                 {"carts", core::StreamKind::carts}});
}

namespace {

using T = config::OptionType;

// clang-format off
const config::OptionSpec kOptions[] = {
  {"connectors[magento2].base_url", T::string, "", "Store base URL, e.g. https://shop.example.com.", true},
  {"connectors[magento2].auth", T::object, "", "Authentication.", true},
  {"connectors[magento2].auth.type", T::string, "", "oauth1 (integration, HMAC-SHA256), bearer (integration token), admin (admin token; fails with 2FA).", true, false, "oauth1|bearer|admin"},
  {"connectors[magento2].auth.consumer_key", T::string, "", "oauth1 consumer key.", false, true},
  {"connectors[magento2].auth.consumer_secret", T::string, "", "oauth1 consumer secret.", false, true},
  {"connectors[magento2].auth.access_token", T::string, "", "oauth1 access token.", false, true},
  {"connectors[magento2].auth.access_token_secret", T::string, "", "oauth1 access token secret.", false, true},
  {"connectors[magento2].auth.token", T::string, "", "bearer: integration access token.", false, true},
  {"connectors[magento2].auth.username", T::string, "", "admin: user name."},
  {"connectors[magento2].auth.password", T::string, "", "admin: password.", false, true},
  {"connectors[magento2].account_code_attribute", T::string, "", "Customer custom attribute holding the Account's External Code.", true},
  {"connectors[magento2].page_size", T::integer, "100", "searchCriteria pageSize.", false, false, {}, 1, 10000},
  {"connectors[magento2].streams", T::array, "[\"customers\",\"orders\"]", "Streams to sync: customers, orders, and carts (optional: the integration needs the Magento_Cart::manage resource)."},
  {"connectors[magento2].streams[]", T::string, "", "A stream.", false, false, "customers|orders|carts"},
  {"connectors[magento2].abandoned_after", T::duration, "\"24h\"", "An active cart with items not updated for this long is abandoned (report, metric)."},
  {"connectors[magento2].full_resync_interval", T::duration, "\"7d\"", "Re-read each whole stream this often (address-only edits do not bump updated_at)."},
  {"connectors[magento2].timeout", T::duration, "\"60s\"", "Per-request timeout."},
  {"connectors[magento2].max_response_size", T::integer, "268435456", "Largest response body in bytes.", false, false, {}, 1024, INT64_MAX},
  {"connectors[magento2].tls", T::object, "{}", "TLS settings."},
  {"connectors[magento2].tls.verify", T::boolean, "true", "Verify the server certificate."},
  {"connectors[magento2].tls.ca_file", T::string, "", "CA bundle (PEM) instead of the system's."},
};
// clang-format on

class Magento2Type final : public config::ConnectorType {
 public:
  std::string_view name() const override { return "magento2"; }
  std::string_view description() const override { return "Magento 2 REST: customers, orders and carts (SPEC §4.1)"; }
  std::span<const config::OptionSpec> options() const override { return kOptions; }
  void check(const Json& conn, const Loc& at, ErrorSink& errors) const override {
    config::check_auth(conn, at, errors,
                       {{"oauth1", {"consumer_key", "consumer_secret", "access_token", "access_token_secret"}},
                        {"bearer", {"token"}},
                        {"admin", {"username", "password"}}});
  }

  std::shared_ptr<const config::ConnectorSettings> parse(const Json& v) const override {
    auto out = std::make_shared<Magento2Config>();
    Magento2Config& m = *out;
    m.base_url = v["base_url"].get<std::string>();
    const Json& a = v["auth"];
    std::string t = a["type"].get<std::string>();
    m.auth_type = t == "bearer" ? Magento2Config::AuthType::bearer
                  : t == "admin" ? Magento2Config::AuthType::admin
                                 : Magento2Config::AuthType::oauth1;
    m.consumer_key = Secret(read_.str(a, "consumer_key"));
    m.consumer_secret = Secret(read_.str(a, "consumer_secret"));
    m.access_token = Secret(read_.str(a, "access_token"));
    m.access_token_secret = Secret(read_.str(a, "access_token_secret"));
    m.token = Secret(read_.str(a, "token"));
    m.username = read_.str(a, "username");
    m.password = Secret(read_.str(a, "password"));
    m.account_code_attribute = v["account_code_attribute"].get<std::string>();
    m.page_size = read_.get(v, "page_size", "page_size").get<int>();
    m.stream_names = read_.get(v, "streams", "streams").get<std::vector<std::string>>();
    m.full_resync_interval = read_.duration(v, "full_resync_interval", "full_resync_interval");
    m.abandoned_after = read_.duration(v, "abandoned_after", "abandoned_after");
    m.timeout = read_.duration(v, "timeout", "timeout");
    m.max_response_size = read_.get(v, "max_response_size", "max_response_size").get<std::int64_t>();
    m.tls = read_.tls(v);
    return out;
  }

 private:
  config::OptionReader read_{kOptions, "connectors[magento2]."};
};

}  // namespace

const config::ConnectorType& connector_type() {
  static const Magento2Type type;
  return type;
}

}  // namespace erpsync::connectors::magento2
