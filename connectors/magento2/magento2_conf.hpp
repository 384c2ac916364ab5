#pragma once
// The magento2 connector's configuration (SPEC §4.1), owned here and nowhere else: the options
// of "connectors[magento2]" (declared in magento2_conf.cpp, in the rows config/ joins into its
// option table), the check the table cannot express (the keys each auth type needs), the typed
// settings (Magento2Config) parsed from a validated connector object, and the streams a Magento
// connector offers ("customers", then "orders" and "carts", which attach to them).
//
// Thread-safety: plain data and an immutable type descriptor.

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace erpsync::connectors::magento2 {

struct Magento2Config final : config::ConnectorSettings {
  std::string base_url;
  enum class AuthType { oauth1, bearer, admin };
  AuthType auth_type = AuthType::oauth1;
  config::Secret consumer_key, consumer_secret, access_token, access_token_secret;
  config::Secret token;
  std::string username;
  config::Secret password;
  std::string account_code_attribute;
  int page_size = 100;
  std::vector<std::string> stream_names{"customers", "orders"};  // as listed in "streams"
  config::Duration full_resync_interval = std::chrono::hours(24 * 7);
  // An active cart with items whose updated_at is older than this is abandoned (SPEC §4.1).
  config::Duration abandoned_after = std::chrono::hours(24);
  config::Duration timeout = std::chrono::seconds(60);
  std::int64_t max_response_size = std::int64_t{256} << 20;
  config::TlsConfig tls;

  // Those of "customers" (core::StreamKind::customers), "orders" (orders) and "carts" (carts)
  // that stream_names lists, customers first.
  std::vector<config::StreamPlan> streams() const override;
};

// The "magento2" connector type.
const config::ConnectorType& connector_type();

}  // namespace erpsync::connectors::magento2
