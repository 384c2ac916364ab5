#include "connectors/odoo/json2_transport.hpp"

#include <cmath>
#include <limits>

#include "connectors/http/http_error.hpp"

namespace erpsync::connectors::odoo {

namespace {

using Kind = core::SyncError::Kind;

std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// "werkzeug.exceptions.Unauthorized" → "Unauthorized", "odoo.exceptions.AccessError" → "AccessError".
std::string short_class_name(std::string_view qualified) {
  const std::size_t dot = qualified.rfind('.');
  return std::string(dot == std::string_view::npos ? qualified : qualified.substr(dot + 1));
}

}  // namespace

nlohmann::json to_json(const Value& v) {
  switch (v.type()) {
    case Value::Type::nil:
      return nullptr;
    case Value::Type::boolean:
      return v.as_bool();
    case Value::Type::integer:
      return v.as_int();
    case Value::Type::double_: {
      const double d = v.as_double();
      if (!std::isfinite(d)) {
        throw core::SyncError(Kind::permanent, "odoo json2: cannot send the non-finite number " + v.debug_string());
      }
      return d;
    }
    case Value::Type::string:
      return v.as_string();
    case Value::Type::datetime: {
      auto odoo = iso_to_odoo(v.as_string());
      return odoo ? *odoo : v.as_string();
    }
    case Value::Type::base64:
      return base64_encode(v.as_string());
    case Value::Type::array: {
      nlohmann::json out = nlohmann::json::array();
      for (const Value& item : v.as_array()) out.push_back(to_json(item));
      return out;
    }
    case Value::Type::structure: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [name, member] : v.as_struct()) out[name] = to_json(member);
      return out;
    }
  }
  return nullptr;
}

Value from_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return Value::nil();
    case nlohmann::json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Value(static_cast<std::int64_t>(u));
      }
      return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      Value::Array out;
      out.reserve(j.size());
      for (const auto& item : j) out.push_back(from_json(item));
      return Value(std::move(out));
    }
    case nlohmann::json::value_t::object: {
      Value::Struct out;
      out.reserve(j.size());
      for (const auto& [name, member] : j.items()) out.emplace_back(name, from_json(member));
      return Value(std::move(out));
    }
    case nlohmann::json::value_t::binary:
      break;
  }
  throw core::SyncError(Kind::permanent, "odoo json2: unexpected JSON value of type " + std::string(j.type_name()));
}

std::optional<std::string> summarize_json2_error(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto name = j.find("name");
  const auto message = j.find("message");
  const bool has_name = name != j.end() && name->is_string();
  const bool has_message = message != j.end() && message->is_string();
  if (!has_name && !has_message) return std::nullopt;
  std::string line;
  if (has_name) line = short_class_name(name->get<std::string>());
  if (has_message) {
    if (!line.empty()) line += ": ";
    line += message->get<std::string>();
  }
  // First line, at most 300 characters (a UserError's message can be a paragraph).
  return summarize_fault(line);
}

Json2Transport::Json2Transport(Json2Settings settings, std::shared_ptr<http::HttpClient> client)
    : settings_(std::move(settings)), client_(std::move(client)) {
  settings_.url = strip_trailing_slashes(settings_.url);
}

std::string Json2Transport::describe() const {
  return "odoo connector '" + settings_.connector + "' (database '" + settings_.db + "' at " +
         client_->redactor().url(settings_.url) + ", json2)";
}

Value Json2Transport::call(const std::string& model, const std::string& method, const Value::Struct& kwargs) {
  const http::Redactor& redactor = client_->redactor();
  const std::string label = model + "." + method;
  http::Request request;
  request.method = "POST";
  request.url = settings_.url + "/json/2/" + model + "/" + method;
  request.headers.set("Authorization", "bearer " + settings_.api_key);
  if (!settings_.db.empty()) request.headers.set("X-Odoo-Database", settings_.db);
  request.headers.set("Content-Type", "application/json; charset=utf-8");
  request.headers.set("Accept", "application/json");
  try {
    request.body = to_json(Value(kwargs)).dump();
  } catch (const nlohmann::json::type_error& e) {  // a string that is not UTF-8
    throw core::SyncError(Kind::permanent, describe() + ": " + label + ": arguments cannot be sent as JSON: " +
                                               redactor.text(e.what()));
  }
  request.timeouts = settings_.timeouts;

  // Transport failures throw HttpError (classified, redacted). A status is classified here so
  // that the message says what Odoo said, not its traceback.
  const http::Response response = send_naming(*client_, request, /*checked=*/false, describe(), label);
  const std::string where = describe() + ": " + label + " (" + response.description + ")";
  if (!http::is_success(response.status)) {
    const http::HttpError generic = http::status_error(response, redactor);
    const auto summary = summarize_json2_error(response.body);
    std::string message = where + ": HTTP " + std::to_string(response.status);
    if (response.status == 401) {
      message += ": Odoo refused the API key";
      if (summary) message += " (" + *summary + ")";
      message += "; check `api_key` (a key expires, at most three months after it was made)";
    } else if (response.status == 403) {
      message += ": Odoo refused access to the API key's user";
      if (summary) message += " (" + *summary + ")";
      message += "; check the key and the user's access rights";
    } else if (summary) {
      message += ": " + *summary;
    } else if (!generic.excerpt().empty()) {
      message += ": " + generic.excerpt();
    }
    if (generic.retry_after_s()) {
      message += " (retry_after=" + std::to_string(static_cast<long long>(*generic.retry_after_s())) + "s)";
    }
    throw http::HttpError(generic.kind(), redactor.text(message), response.status, generic.excerpt(),
                          generic.retry_after_s());
  }
  nlohmann::json body;
  try {
    body = parse_json_bounded(response.body, settings_.limits, where);
  } catch (const core::SyncError& e) {
    // Not JSON (a proxy's page, a cut body): say what came instead.
    throw core::SyncError(e.kind(), redactor.text(std::string(e.what()) + "; body starts: " +
                                                  http::body_excerpt(response, redactor)));
  }
  return from_json(body);
}

std::int64_t Json2Transport::authenticate() {
  // The key alone decides whose rights every call has: ask Odoo whose it is
  // (res.users.context_get carries the caller's uid) ...
  const Value context = call("res.users", "context_get", {});
  const Value* uid = context.type() == Value::Type::structure ? context.find("uid") : nullptr;
  if (uid == nullptr || uid->type() != Value::Type::integer) {
    throw core::SyncError(Kind::permanent, describe() + ": res.users.context_get returned " +
                                               context.debug_string().substr(0, 200) + ", expected a context with a uid");
  }
  // ... and refuse a key of anyone but `user`: a run with another user's rights would read
  // what that user sees (an administrator: every company's partners).
  const Value ids = call("res.users", "search",
                         {{"domain", Value::array({Value::array({"login", "=", settings_.user})})}, {"limit", 1}});
  if (ids.type() != Value::Type::array) {
    throw core::SyncError(Kind::permanent, describe() + ": res.users.search returned " +
                                               std::string(type_name(ids.type())) + ", expected an array of ids");
  }
  if (!ids.as_array().empty() && ids.as_array().front() == *uid) return uid->as_int();
  std::string owner = "user id " + std::to_string(uid->as_int());
  try {
    const auto logins = read_user_logins({uid->as_int()});
    if (const auto it = logins.find(uid->as_int()); it != logins.end()) owner = "user '" + it->second + "'";
  } catch (const core::SyncError&) {
    // The id alone names the owner well enough.
  }
  if (ids.as_array().empty()) {
    throw core::SyncError(Kind::auth, describe() + ": Odoo has no active user with login '" + settings_.user +
                                          "' (the API key belongs to " + owner + "): check `user`");
  }
  throw core::SyncError(Kind::auth, describe() + ": the API key belongs to " + owner + ", not to `user` '" +
                                        settings_.user + "'; refused so that the sync never reads with another "
                                        "user's rights: make the key as '" + settings_.user +
                                        "' (or set `user` to the key's owner)");
}

std::vector<Value> Json2Transport::search_read(const SearchRead& q) {
  Value::Struct kwargs = search_read_options(q);
  kwargs.emplace(kwargs.begin(), "domain", q.domain);
  return search_read_rows(call(q.model, "search_read", kwargs), q);
}

}  // namespace erpsync::connectors::odoo
