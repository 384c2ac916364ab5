#pragma once
// Magento2Client: authenticated GETs against a Magento 2 store's REST API (SPEC §4.1), over
// the project's HttpClient. It owns authentication:
//   - oauth1: every request signed (oauth1.hpp); a 401 is retried once with a fresh nonce and
//     timestamp;
//   - bearer: the integration token as "Authorization: Bearer"; a 401 is final (nothing to renew);
//   - admin:  POST /rest/V1/integration/admin/token once, the JWT cached and renewed once on a
//     401. A failing login is never retried by this client (six failures lock the admin
//     account): every later call fails at once until a new client is built (config reload). The
//     two-factor answer is refused as such.
// A 401 that persists after the one renewal throws SyncError{auth} naming the auth mode and what
// to check. Other statuses go through http::status_error (429/5xx transient with Retry-After,
// other 4xx permanent); bodies are parsed with parse_exact_json (money kept exact).
//
// Thread-safety: one thread at a time (the customers and orders sources of one connector may
// share a client when they run one after the other).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "connectors/magento2/magento2_conf.hpp"
#include "connectors/http/bounded_parse.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/magento2/oauth1.hpp"

namespace erpsync::connectors::magento2 {

enum class AuthType { oauth1, bearer, admin };
std::string_view to_string(AuthType a);

struct Magento2Settings {
  std::string connector;  // for messages
  std::string base_url;   // "https://shop.example.com" (the store's root; "/rest" is appended)
  AuthType auth = AuthType::oauth1;
  OAuthCredentials oauth;
  std::string token;  // bearer
  std::string username, password;  // admin
  std::string account_code_attribute;
  int page_size = 100;
  std::chrono::seconds cursor_overlap{30};
  std::optional<std::string> start_date;  // 'YYYY-MM-DD HH:MM:SS' UTC
  std::chrono::seconds full_resync_interval{std::chrono::hours(24 * 7)};
  ParseLimits limits;
  std::chrono::milliseconds timeout{60'000};
};

// The settings of a `magento2` connector of the config (start_date "YYYY-MM-DD" → midnight).
Magento2Settings settings_from_config(const config::ConnectorConfig& connector);
// HttpClient options for it: timeouts, size cap, CA bundle/TLS, and every credential registered
// as a secret so no log line or error can show it.
http::ClientOptions http_options(const config::ConnectorConfig& connector);

class Magento2Client {
 public:
  Magento2Client(Magento2Settings settings, std::shared_ptr<http::HttpClient> http);

  // GET /rest<route>?<query>, e.g. route "/V1/customers/search". Returns the parsed body of a
  // 2xx answer. Throws SyncError (see above).
  nlohmann::json get(const std::string& route, const QueryParams& query);

  const Magento2Settings& settings() const { return settings_; }

 private:
  // GET base_url + "/rest" + route, signed or with its token, named by request_summary().
  http::Response send_get(const std::string& route, const QueryParams& query);
  std::string admin_token();  // cached or fetched once
  [[noreturn]] void auth_failed(const http::Response& r, const std::string& what);
  std::string what(const http::Response& r) const;

  Magento2Settings settings_;
  std::shared_ptr<http::HttpClient> http_;
  std::optional<std::string> admin_token_;
  std::optional<std::string> login_failure_;  // set once a login failed: never retried
};

// How a request is named in logs and errors (SPEC §4.1): "/rest" + route and the search
// criteria in readable form, e.g. "/rest/V1/orders updated_at>2026-11-01 10:00:00 page 1" or
// "/rest/V1/carts/search updated_at=2026-11-01 10:00:00 AND entity_id>4711 page 1": filter
// groups joined by AND (the filters of a group by OR), conditions eq neq gt gteq lt lteq as
// = != > >= < <= (others by name, "field like value"), then the page; sort orders and the page
// size are left out. A parameter that is not a search criterion shows as name=value.
std::string request_summary(const std::string& route, const QueryParams& query);

// Magento error bodies carry a message template and its parameters ({"message": "The consumer
// isn't authorized to access %resources.", "parameters": {"resources": "..."}}); this fills it in.
// Returns "" when `body` is not such an object.
std::string render_error_message(std::string_view body);

}  // namespace erpsync::connectors::magento2
