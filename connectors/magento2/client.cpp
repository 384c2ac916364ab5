#include "connectors/magento2/client.hpp"

#include <map>

#include "connectors/http/http_error.hpp"
#include "connectors/magento2/exact_json.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::magento2 {
namespace {

using nlohmann::json;
using core::SyncError;

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string encode_query(const QueryParams& query) {
  std::string q;
  for (const auto& [k, v] : query) {
    if (!q.empty()) q += '&';
    q += percent_encode(k) + "=" + percent_encode(v);
  }
  return q;
}

std::string what_to_check(AuthType a) {
  switch (a) {
    case AuthType::oauth1:
      return "check auth.consumer_key, consumer_secret, access_token and access_token_secret of the "
             "integration (System > Extensions > Integrations: active, re-authorized after a change), that its "
             "API resources include customers and sales (and Magento_Cart::manage for the carts stream), and that this host's clock is within 600 s of the store's";
    case AuthType::bearer:
      return "check auth.token; since Magento 2.4.4 an integration access token is refused as a bearer token "
             "unless 'Allow OAuth Access Tokens to be used as standalone Bearer tokens' is enabled (Stores > "
             "Configuration > Services > OAuth) - or use auth.type oauth1 with the integration's four credentials; "
             "also check the integration's API resources";
    case AuthType::admin:
      return "check that the admin user's role grants Magento_Customer::customer and Magento_Sales::sales (and "
             "Magento_Cart::manage for the carts stream); an "
             "admin token lives 60 minutes and was renewed once";
  }
  return {};
}

// "searchCriteria[filter_groups][G][filters][F][leaf]" → {G, F, leaf}; nullopt otherwise.
struct FilterKey {
  int group = 0, filter = 0;
  std::string leaf;
};
std::optional<FilterKey> filter_key(const std::string& key) {
  static const std::string kHead = "searchCriteria[filter_groups][";
  if (key.rfind(kHead, 0) != 0) return std::nullopt;
  FilterKey k;
  std::size_t at = kHead.size();
  auto number = [&](int& out) {
    const std::size_t end = key.find(']', at);
    if (end == std::string::npos || end == at) return false;
    try {
      out = std::stoi(key.substr(at, end - at));
    } catch (const std::exception&) {
      return false;
    }
    at = end + 1;
    return true;
  };
  if (!number(k.group) || key.compare(at, 10, "[filters][") != 0) return std::nullopt;
  at += 10;
  if (!number(k.filter) || at >= key.size() || key[at] != '[' || key.back() != ']') return std::nullopt;
  k.leaf = key.substr(at + 1, key.size() - at - 2);
  return k;
}

std::string condition_text(const std::string& op) {
  static const std::pair<const char*, const char*> kOps[] = {{"eq", "="},  {"neq", "!="}, {"gt", ">"},
                                                             {"gteq", ">="}, {"lt", "<"},  {"lteq", "<="}};
  for (auto [name, symbol] : kOps)
    if (op == name) return symbol;
  return " " + op + " ";
}

}  // namespace

std::string request_summary(const std::string& route, const QueryParams& query) {
  struct Filter {
    std::string field, value, op = "eq";
  };
  std::map<int, std::map<int, Filter>> groups;
  std::string page, others;
  for (const auto& [k, v] : query) {
    if (auto f = filter_key(k)) {
      Filter& filter = groups[f->group][f->filter];
      if (f->leaf == "field") filter.field = v;
      else if (f->leaf == "value") filter.value = v;
      else if (f->leaf == "condition_type") filter.op = v;
    } else if (k == "searchCriteria[currentPage]") {
      page = v;
    } else if (k.rfind("searchCriteria[sortOrders]", 0) != 0 && k != "searchCriteria[pageSize]") {
      others += " " + k + "=" + v;
    }
  }
  std::string criteria;
  for (const auto& [g, filters] : groups) {
    std::string group;
    for (const auto& [i, f] : filters) group += (group.empty() ? "" : " OR ") + f.field + condition_text(f.op) + f.value;
    if (filters.size() > 1 && groups.size() > 1) group = "(" + group + ")";
    criteria += (criteria.empty() ? "" : " AND ") + group;
  }
  std::string out = "/rest" + route;
  if (!criteria.empty()) out += " " + criteria;
  out += others;
  if (!page.empty()) out += " page " + page;
  return out;
}

std::string_view to_string(AuthType a) {
  switch (a) {
    case AuthType::oauth1: return "oauth1";
    case AuthType::bearer: return "bearer";
    case AuthType::admin: return "admin";
  }
  return "?";
}

std::string render_error_message(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) return {};
  std::string msg = j["message"].get<std::string>();
  auto params = j.find("parameters");
  if (params == j.end()) return msg;
  auto value_text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (params->is_object()) {
    for (auto it = params->begin(); it != params->end(); ++it) {
      const std::string ph = "%" + it.key();
      for (std::size_t at = msg.find(ph); at != std::string::npos; at = msg.find(ph, at + 1))
        msg.replace(at, ph.size(), value_text(it.value()));
    }
  } else if (params->is_array()) {
    for (std::size_t i = params->size(); i-- > 0;) {  // %10 before %1
      const std::string ph = "%" + std::to_string(i + 1);
      for (std::size_t at = msg.find(ph); at != std::string::npos; at = msg.find(ph, at + 1))
        msg.replace(at, ph.size(), value_text((*params)[i]));
    }
  }
  return msg;
}

Magento2Settings settings_from_config(const config::ConnectorConfig& c) {
  const auto* m = c.settings_as<Magento2Config>();
  if (!m) throw std::logic_error("connector " + c.name + " is not a magento2 connector");
  Magento2Settings s;
  s.connector = c.name;
  s.base_url = m->base_url;
  switch (m->auth_type) {
    case Magento2Config::AuthType::oauth1: s.auth = AuthType::oauth1; break;
    case Magento2Config::AuthType::bearer: s.auth = AuthType::bearer; break;
    case Magento2Config::AuthType::admin: s.auth = AuthType::admin; break;
  }
  s.oauth = {m->consumer_key.reveal(), m->consumer_secret.reveal(), m->access_token.reveal(),
             m->access_token_secret.reveal()};
  s.token = m->token.reveal();
  s.username = m->username;
  s.password = m->password.reveal();
  s.account_code_attribute = m->account_code_attribute;
  s.page_size = m->page_size;
  s.cursor_overlap = std::chrono::duration_cast<std::chrono::seconds>(c.cursor_overlap);
  if (c.start_date) s.start_date = c.start_date->size() == 10 ? *c.start_date + " 00:00:00" : *c.start_date;
  s.full_resync_interval = std::chrono::duration_cast<std::chrono::seconds>(m->full_resync_interval);
  s.limits.max_bytes = static_cast<std::size_t>(m->max_response_size);
  s.timeout = m->timeout;
  return s;
}

http::ClientOptions http_options(const config::ConnectorConfig& c) {
  const auto* m = c.settings_as<Magento2Config>();
  if (!m) throw std::logic_error("connector " + c.name + " is not a magento2 connector");
  http::ClientOptions o;
  o.timeouts.total = m->timeout;
  o.max_response_bytes = static_cast<std::size_t>(m->max_response_size);
  for (const auto* s : {&m->consumer_key, &m->consumer_secret, &m->access_token, &m->access_token_secret, &m->token,
                        &m->password})
    if (!s->empty()) o.secrets.push_back(s->reveal());
  return o;
}

Magento2Client::Magento2Client(Magento2Settings settings, std::shared_ptr<http::HttpClient> http)
    : settings_(std::move(settings)), http_(std::move(http)) {
  settings_.base_url = trim_slash(settings_.base_url);
}

std::string Magento2Client::what(const http::Response& r) const {
  return "magento2 connector " + settings_.connector + ": " + r.description;
}

http::Response Magento2Client::send_get(const std::string& route, const QueryParams& query) {
  const std::string url = settings_.base_url + "/rest" + route;
  http::Request req;
  req.method = "GET";
  req.url = query.empty() ? url : url + "?" + encode_query(query);
  req.summary = request_summary(route, query);
  req.headers.set("Accept", "application/json");
  switch (settings_.auth) {
    case AuthType::oauth1: req.headers.set("Authorization", sign_request("GET", url, query, settings_.oauth)); break;
    case AuthType::bearer: req.headers.set("Authorization", "Bearer " + settings_.token); break;
    case AuthType::admin: req.headers.set("Authorization", "Bearer " + admin_token()); break;
  }
  return http_->send(req);
}

json Magento2Client::get(const std::string& route, const QueryParams& query) {
  http::Response r = send_get(route, query);
  if (r.status == 401) {
    // One renewal: a fresh signature, or a new admin token. A bearer token cannot be renewed.
    if (settings_.auth == AuthType::bearer) auth_failed(r, "");
    if (settings_.auth == AuthType::admin) admin_token_.reset();
    r = send_get(route, query);
    if (r.status == 401) auth_failed(r, " after one renewal");
  }
  if (!http::is_success(r.status)) throw http::status_error(r, http_->redactor());
  const auto type = r.headers.get("Content-Type");
  if (type && type->find("json") == std::string::npos)
    throw SyncError(SyncError::Kind::permanent,
                    what(r) + ": expected JSON, got Content-Type " + *type + ": " +
                        http::body_excerpt(r, http_->redactor()));
  return parse_exact_json(r.body, settings_.limits, what(r));
}

void Magento2Client::auth_failed(const http::Response& r, const std::string& when) {
  std::string msg = render_error_message(r.body);
  if (msg.empty()) msg = http::body_excerpt(r, http_->redactor());
  throw SyncError(SyncError::Kind::auth,
                  http_->redactor().text(what(r) + " answered 401 \"" + msg + "\"" + when + " with auth.type " +
                                         std::string(to_string(settings_.auth)) + ": " +
                                         what_to_check(settings_.auth)));
}

std::string Magento2Client::admin_token() {
  if (admin_token_) return *admin_token_;
  if (login_failure_)
    throw SyncError(SyncError::Kind::auth, *login_failure_ + " (not retried until the configuration is reloaded)");
  http::Request req;
  req.method = "POST";
  req.url = settings_.base_url + "/rest/V1/integration/admin/token";
  req.headers.set("Accept", "application/json");
  req.headers.set("Content-Type", "application/json");
  req.body = json{{"username", settings_.username}, {"password", settings_.password}}.dump();
  const http::Response r = http_->send(req);
  const std::string prefix = "magento2 connector " + settings_.connector + ": admin login as '" + settings_.username + "'";
  if (r.status == 400 || r.status == 401) {
    const std::string msg = render_error_message(r.body);
    std::string why;
    if (msg.find("2fa") != std::string::npos || msg.find("Two-Factor") != std::string::npos ||
        msg.find("two-factor") != std::string::npos) {
      why = prefix + " refused: the store enforces two-factor authentication (\"" + msg +
            "\"), so an unattended daemon cannot use auth.type admin; create an integration and use auth.type oauth1";
    } else {
      why = prefix + " failed with " + std::to_string(r.status) + " \"" + msg +
            "\": check auth.username and auth.password; not retried, since six failed logins lock the admin account";
    }
    login_failure_ = http_->redactor().text(why);
    throw SyncError(SyncError::Kind::auth, *login_failure_);
  }
  if (!http::is_success(r.status)) throw http::status_error(r, http_->redactor());
  const json token = parse_exact_json(r.body, settings_.limits, prefix);
  if (!token.is_string() || token.get<std::string>().empty())
    throw SyncError(SyncError::Kind::permanent, prefix + ": the token answer is not a JSON string");
  admin_token_ = token.get<std::string>();
  // A credential like any configured one: masked wherever a log line or a stored run message
  // could show it (a store that echoes it in an error body, say).
  http::process_secrets().add_learned(*admin_token_);
  return *admin_token_;
}

}  // namespace erpsync::connectors::magento2
