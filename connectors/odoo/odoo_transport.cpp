#include "connectors/odoo/odoo_transport.hpp"

#include "connectors/http/http_error.hpp"

namespace erpsync::connectors::odoo {

namespace {
using Kind = core::SyncError::Kind;

std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}
}  // namespace

Value::Struct OdooTransport::search_read_options(const SearchRead& q) {
  Value::Struct kwargs;
  Value::Array fields;
  for (const std::string& f : q.fields) fields.emplace_back(f);
  kwargs.emplace_back("fields", Value(std::move(fields)));
  if (!q.order.empty()) kwargs.emplace_back("order", q.order);
  kwargs.emplace_back("offset", Value(q.offset));
  if (q.limit) kwargs.emplace_back("limit", Value(*q.limit));
  if (!q.context.empty()) kwargs.emplace_back("context", Value(q.context));
  return kwargs;
}

http::Response OdooTransport::send_naming(http::HttpClient& client, const http::Request& request, bool checked,
                                          const std::string& who, const std::string& label) {
  try {
    return checked ? client.send_checked(request) : client.send(request);
  } catch (const http::HttpError& e) {
    throw http::HttpError(e.kind(), who + ": " + label + ": " + e.what(), e.status(), e.excerpt(), e.retry_after_s());
  }
}

std::vector<Value> OdooTransport::search_read_rows(Value result, const SearchRead& q) const {
  if (result.type() != Value::Type::array) {
    throw core::SyncError(Kind::permanent, describe() + ": " + q.model + ".search_read returned " +
                                               std::string(type_name(result.type())) + ", expected an array");
  }
  std::vector<Value> records = std::move(result.as_array());
  for (const Value& r : records) {
    if (r.type() != Value::Type::structure) {
      throw core::SyncError(Kind::permanent, describe() + ": " + q.model + ".search_read returned a " +
                                                 std::string(type_name(r.type())) + " row, expected a struct");
    }
  }
  return records;
}

std::map<std::int64_t, std::string> OdooTransport::read_user_logins(const std::vector<std::int64_t>& ids) {
  std::map<std::int64_t, std::string> logins;
  if (ids.empty()) return logins;
  Value::Array id_values;
  for (const std::int64_t id : ids) id_values.emplace_back(id);
  SearchRead q;
  q.model = "res.users";
  q.domain = Value::array({Value::array({"id", "in", Value(std::move(id_values))})});
  q.fields = {"login"};
  // A salesperson who left the company is archived, and still owns the partners.
  q.context = {{"active_test", false}};
  for (const Value& user : search_read(q)) {
    const Value* id = user.find("id");
    const Value* login = user.find("login");
    if (id == nullptr || id->type() != Value::Type::integer) {
      throw core::SyncError(Kind::permanent, describe() + ": res.users record without an integer id");
    }
    if (login != nullptr && login->type() == Value::Type::string) logins[id->as_int()] = login->as_string();
  }
  return logins;
}

XmlRpcTransport::XmlRpcTransport(XmlRpcSettings settings, std::shared_ptr<http::HttpClient> client)
    : settings_(std::move(settings)), client_(std::move(client)) {
  settings_.url = strip_trailing_slashes(settings_.url);
}

std::string XmlRpcTransport::describe() const {
  return "odoo connector '" + settings_.connector + "' (database '" + settings_.db + "' at " +
         client_->redactor().url(settings_.url) + ")";
}

Value XmlRpcTransport::call(const std::string& service, const std::string& method,
                            const std::vector<Value>& params, const std::string& label) {
  http::Request request;
  request.method = "POST";
  request.url = settings_.url + "/xmlrpc/2/" + service;
  request.headers.set("Content-Type", "text/xml");
  request.headers.set("Accept", "text/xml");
  request.body = encode_call(method, params);
  request.timeouts = settings_.timeouts;
  // Transport failures throw HttpError (classified); a non-2xx status is classified here.
  // Odoo answers faults with 200, so a 4xx/5xx is a proxy, a missing route or a crash.
  const http::Response response = send_naming(*client_, request, /*checked=*/true, describe(), label);
  const std::string what = describe() + ": " + label + " (" + response.description + ")";
  try {
    return decode_response(response.body, settings_.limits, what);
  } catch (const XmlRpcFault&) {
    throw;
  } catch (const core::SyncError& e) {
    // Not XML-RPC (a login page, a proxy's HTML): say what came instead.
    throw core::SyncError(e.kind(), std::string(e.what()) + "; body starts: " +
                                        http::body_excerpt(response, client_->redactor()));
  }
}

std::int64_t XmlRpcTransport::authenticate() {
  const Value result = call("common", "authenticate",
                            {settings_.db, settings_.user, settings_.password, Value(Value::Struct{})},
                            "authenticate on database '" + settings_.db + "'");
  if (result.type() == Value::Type::integer && result.as_int() > 0) {
    uid_ = result.as_int();
    return *uid_;
  }
  uid_.reset();
  if (result.is_false()) {
    throw core::SyncError(Kind::auth, describe() + ": Odoo refused the login of user '" + settings_.user +
                                          "' on database '" + settings_.db +
                                          "' (authenticate returned false): check `user` and `password`/`api_key` "
                                          "(an API key expires, and must be the user's own)");
  }
  throw core::SyncError(Kind::permanent,
                        describe() + ": authenticate returned " + result.debug_string() + ", expected a uid or false");
}

Value XmlRpcTransport::execute_kw(const std::string& model, const std::string& method, Value::Array args,
                                  Value::Struct kwargs) {
  if (!uid_) authenticate();
  const std::string label = "execute_kw " + model + "." + method;
  auto params = [&] {
    return std::vector<Value>{settings_.db, Value(*uid_), settings_.password, model, method, Value(args),
                              Value(kwargs)};
  };
  try {
    return call("object", "execute_kw", params(), label);
  } catch (const XmlRpcFault& fault) {
    if (fault.code() != 3) throw;
  }
  // AccessDenied: the uid or the key went stale. Log in again once; a refusal throws auth.
  authenticate();
  try {
    return call("object", "execute_kw", params(), label);
  } catch (const XmlRpcFault& fault) {
    if (fault.code() != 3) throw;
    throw core::SyncError(Kind::auth, std::string(fault.what()) + " (user '" + settings_.user + "' on database '" +
                                          settings_.db + "', after logging in again): check its access rights and key");
  }
}

std::vector<Value> XmlRpcTransport::search_read(const SearchRead& q) {
  return search_read_rows(execute_kw(q.model, "search_read", {q.domain}, search_read_options(q)), q);
}

}  // namespace erpsync::connectors::odoo
