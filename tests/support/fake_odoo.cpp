#include "support/fake_odoo.hpp"

#include <nlohmann/json.hpp>

#include "connectors/odoo/json2_transport.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace erpsync::testing {

namespace {

using odoo::Value;
using Type = Value::Type;

// An Odoo exception on its way to becoming a <fault>.
struct OdooFault {
  int code;
  std::string text;
};

[[noreturn]] void python_error(const std::string& last_line) {
  // What Odoo's rpc.py sends for an unexpected exception: the whole traceback.
  throw OdooFault{1,
                  "Traceback (most recent call last):\n"
                  "  File \"/opt/odoo/odoo/addons/base/controllers/rpc.py\", line 162, in xmlrpc_2\n"
                  "    response = self._xmlrpc(service)\n"
                  "  File \"/opt/odoo/odoo/service/model.py\", line 64, in execute_kw\n"
                  "    return execute(db, uid, obj, method, *args, **kw or {})\n" +
                      last_line + "\n"};
}

enum class Kind { integer, boolean, char_, datetime, many2one, one2many, related };

struct FieldDef {
  Kind kind;
  std::string target;  // many2one/one2many: model; related: "via.field"
};

const std::map<std::string, std::map<std::string, FieldDef>>& schemas() {
  static const std::map<std::string, std::map<std::string, FieldDef>> s = {
      {"res.partner",
       {{"id", {Kind::integer, ""}},           {"name", {Kind::char_, ""}},
        {"display_name", {Kind::related, ""}}, {"ref", {Kind::char_, ""}},
        {"is_company", {Kind::boolean, ""}},   {"parent_id", {Kind::many2one, "res.partner"}},
        {"type", {Kind::char_, ""}},          {"partner_share", {Kind::boolean, ""}},
        {"child_ids", {Kind::one2many, "res.partner"}},
        {"user_id", {Kind::many2one, "res.users"}},
        {"email", {Kind::char_, ""}},          {"phone", {Kind::char_, ""}},
        {"vat", {Kind::char_, ""}},            {"street", {Kind::char_, ""}},
        {"street2", {Kind::char_, ""}},        {"city", {Kind::char_, ""}},
        {"zip", {Kind::char_, ""}},            {"country_id", {Kind::many2one, "res.country"}},
        {"country_code", {Kind::related, "country_id.code"}},
        {"active", {Kind::boolean, ""}},       {"write_date", {Kind::datetime, ""}},
        {"create_date", {Kind::datetime, ""}}}},
      {"res.users",
       {{"id", {Kind::integer, ""}},
        {"login", {Kind::char_, ""}},
        {"name", {Kind::char_, ""}},
        {"display_name", {Kind::related, ""}},
        {"active", {Kind::boolean, ""}},
        {"write_date", {Kind::datetime, ""}}}},
      {"res.country",
       {{"id", {Kind::integer, ""}},
        {"name", {Kind::char_, ""}},
        {"display_name", {Kind::related, ""}},
        {"code", {Kind::char_, ""}}}},
  };
  return s;
}

const std::map<std::string, FieldDef>& schema(const std::string& model) {
  const auto it = schemas().find(model);
  if (it == schemas().end()) python_error("KeyError: '" + model + "'");
  return it->second;
}

std::string default_order(const std::string& model) {
  if (model == "res.partner") return "name asc, id desc";  // complete_name ASC, id DESC
  if (model == "res.users") return "name asc, login asc";
  return "name asc";
}

bool is_null(const Value& v) { return v.is_nil() || v.is_false() || (v.type() == Type::string && v.as_string().empty()); }

// <0, 0, >0, or nullopt when the two cannot be compared.
std::optional<int> compare(const Value& a, const Value& b) {
  if (a.type() == Type::integer && b.type() == Type::integer) {
    return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  }
  if ((a.type() == Type::integer || a.type() == Type::double_) &&
      (b.type() == Type::integer || b.type() == Type::double_)) {
    return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double() ? 1 : 0;
  }
  if (a.type() == Type::boolean && b.type() == Type::boolean) return int(a.as_bool()) - int(b.as_bool());
  if ((a.type() == Type::string || a.type() == Type::datetime) &&
      (b.type() == Type::string || b.type() == Type::datetime)) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

bool equal(const Value& a, const Value& b) {
  const auto c = compare(a, b);
  return c && *c == 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// SQL LIKE with % and _ (no escapes).
bool like(std::string_view text, std::string_view pattern) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '%') {
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (like(text.substr(i), pattern.substr(1))) return true;
    }
    return false;
  }
  if (text.empty()) return false;
  if (pattern.front() == '_' || pattern.front() == text.front()) return like(text.substr(1), pattern.substr(1));
  return false;
}

std::string leaf_text(const Value& leaf) { return leaf.debug_string(); }

std::int64_t parse_ts(const std::string& s) {
  std::tm tm{};
  if (std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6) {
    throw std::invalid_argument("bad timestamp " + s);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string format_ts(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

const Value* FakeOdoo::Call::arg(const std::string& name, std::size_t position) const {
  for (const auto& [k, v] : kwargs) {
    if (k == name) return &v;
  }
  return position < args.size() ? &args[position] : nullptr;
}

FakeOdoo::FakeOdoo() {
  models_["res.users"][uid_] = Record{{"id", uid_}, {"login", login_}, {"name", "Sync Bot"}, {"active", true},
                                      {"write_date", now_}};
  server_.on("POST", "/xmlrpc/2/common", [this](const RecordedRequest& r) { return handle("common", r); });
  server_.on("POST", "/xmlrpc/2/object", [this](const RecordedRequest& r) { return handle("object", r); });
  // The kit routes exact paths: one route per model and method served. Any other path is a
  // 404, as Odoo answers an unknown model or method.
  for (const auto& [model, fields] : schemas()) {
    for (const char* method : {"search_read", "search_count", "search", "read"}) {
      server_.on("POST", "/json/2/" + model + "/" + method,
                 [this, model = model, method = std::string(method)](const RecordedRequest& r) {
                   return handle_json2(model, method, r);
                 });
    }
  }
  server_.on("POST", "/json/2/res.users/context_get",
             [this](const RecordedRequest& r) { return handle_json2("res.users", "context_get", r); });
}

FakeOdoo::~FakeOdoo() { server_.stop(); }

void FakeOdoo::set_credentials(std::string db, std::string login, std::string password, std::int64_t uid) {
  std::lock_guard lock(mutex_);
  Table& users = models_["res.users"];
  if (const auto old = users.find(uid_); old != users.end() && old->second.at("login") == Value(login_)) users.erase(old);
  db_ = std::move(db), login_ = std::move(login), password_ = std::move(password), uid_ = uid;
  users[uid_] = Record{{"id", uid_}, {"login", login_}, {"name", "Sync Bot"}, {"active", true}, {"write_date", now_}};
}

void FakeOdoo::add_api_key(std::int64_t uid, std::string key) {
  std::lock_guard lock(mutex_);
  api_keys_[std::move(key)] = uid;
}

std::optional<std::int64_t> FakeOdoo::login_uid(const std::string& login, const std::string& secret) const {
  if (login == login_ && secret == password_) return uid_;
  const auto key = api_keys_.find(secret);
  if (key == api_keys_.end()) return std::nullopt;
  const auto& users = models_.at("res.users");
  const auto user = users.find(key->second);
  if (user == users.end() || user->second.at("login") != Value(login)) return std::nullopt;
  return key->second;
}

void FakeOdoo::set_now(std::string timestamp) {
  std::lock_guard lock(mutex_);
  now_ = std::move(timestamp);
}

void FakeOdoo::advance(std::int64_t seconds) {
  std::lock_guard lock(mutex_);
  now_ = format_ts(parse_ts(now_) + seconds);
}

std::string FakeOdoo::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void FakeOdoo::add_partner(Value::Struct fields) {
  Record r;
  for (const auto& [name, def] : schema("res.partner")) {
    if (def.kind != Kind::related && def.kind != Kind::one2many) r[name] = false;
  }
  r["active"] = true;
  r["type"] = "contact";  // Odoo's default: a person (or company) rather than an address
  r["partner_share"] = true;  // not an internal user's partner
  std::lock_guard lock(mutex_);
  r["write_date"] = now_;
  r["create_date"] = now_;
  for (auto& [k, v] : fields) r[k] = std::move(v);
  const std::int64_t id = r.at("id").as_int();
  models_["res.partner"][id] = std::move(r);
}

void FakeOdoo::add_user(std::int64_t id, std::string login, std::string name, bool active) {
  std::lock_guard lock(mutex_);
  models_["res.users"][id] = Record{{"id", id}, {"login", std::move(login)}, {"name", std::move(name)},
                                    {"active", active}, {"write_date", now_}};
}

void FakeOdoo::add_country(std::int64_t id, std::string name, std::string code) {
  std::lock_guard lock(mutex_);
  models_["res.country"][id] = Record{{"id", id}, {"name", std::move(name)}, {"code", std::move(code)}};
}

void FakeOdoo::write(const std::string& model, std::int64_t id, Value::Struct fields) {
  std::lock_guard lock(mutex_);
  Record& r = models_.at(model).at(id);
  r["write_date"] = now_;
  for (auto& [k, v] : fields) r[k] = std::move(v);
}

Value FakeOdoo::field(const std::string& model, std::int64_t id, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto m = models_.find(model);
  if (m == models_.end()) return {};
  const auto r = m->second.find(id);
  if (r == m->second.end()) return {};
  const auto f = r->second.find(name);
  return f == r->second.end() ? Value() : f->second;
}

void FakeOdoo::set_interceptor(Interceptor interceptor) {
  std::lock_guard lock(mutex_);
  interceptor_ = std::move(interceptor);
}

void FakeOdoo::fail_next(FakeReply reply) {
  std::lock_guard lock(mutex_);
  fail_next_.push_back([reply = std::move(reply)](const Call&) { return reply; });
}

void FakeOdoo::fail_next(ReplyFor reply) {
  std::lock_guard lock(mutex_);
  fail_next_.push_back(std::move(reply));
}

FakeReply FakeOdoo::fault(int code, std::string fault_string) {
  return FakeReply::xml(200, odoo::encode_fault(code, fault_string));
}

FakeReply FakeOdoo::json2_error(unsigned status, std::string name, std::string message, std::string debug) {
  nlohmann::json body = {{"name", std::move(name)},
                         {"message", message},
                         {"arguments", nlohmann::json::array({message})},
                         {"context", nlohmann::json::object()},
                         {"debug", std::move(debug)}};
  return FakeReply::json(status, body.dump());
}

FakeReply FakeOdoo::error(const Call& call, int code, std::string fault_string) {
  if (call.service != "json2") return fault(code, std::move(fault_string));
  // The exception line: a traceback's last line, else the whole text (a UserError's message).
  std::string line = fault_string;
  if (line.starts_with("Traceback")) {
    std::size_t end = line.find_last_not_of("\n");
    line.resize(end == std::string::npos ? 0 : end + 1);
    line = line.substr(line.find_last_of('\n') + 1);
  }
  switch (code) {
    case 2:
      return json2_error(422, "odoo.exceptions.UserError", fault_string);
    case 3:
      return json2_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey");
    case 4:
      return json2_error(403, "odoo.exceptions.AccessError", fault_string);
    default: {
      // "ValueError: Invalid field ..." → name builtins.ValueError; "psycopg2.errors.X: ..." kept.
      const std::size_t colon = line.find(": ");
      std::string name = colon == std::string::npos ? "Exception" : line.substr(0, colon);
      std::string message = colon == std::string::npos ? line : line.substr(colon + 2);
      if (name.find('.') == std::string::npos) name = "builtins." + name;
      return json2_error(500, std::move(name), std::move(message), std::move(fault_string));
    }
  }
}

FakeReply FakeOdoo::result(const Call& call, const Value& result) {
  if (call.service == "json2") return FakeReply::json(200, odoo::to_json(result).dump());
  return FakeReply::xml(200, odoo::encode_response(result));
}

FakeReply FakeOdoo::deeply_nested(int depth) {
  std::string body = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n";
  for (int i = 0; i < depth; ++i) body += "<value><array><data>";
  body += "<value><int>1</int></value>";
  for (int i = 0; i < depth; ++i) body += "</data></array></value>";
  body += "\n</param>\n</params>\n\n</methodResponse>\n";
  return FakeReply::xml(200, std::move(body));
}

FakeReply FakeOdoo::truncated(std::string body, std::size_t bytes) {
  return FakeReply::xml(200, std::move(body)).with_fault(FakeReply::Fault::truncate, bytes);
}

std::vector<FakeOdoo::Call> FakeOdoo::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::size_t FakeOdoo::count(const std::string& model, const std::string& method) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(calls_.begin(), calls_.end(), [&](const Call& c) {
    return (c.method == "execute_kw" || c.service == "json2") && c.model == model && c.model_method == method;
  }));
}

void FakeOdoo::clear_calls() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

FakeReply FakeOdoo::handle(const std::string& service, const RecordedRequest& request) {
  Call call;
  call.service = service;
  try {
    odoo::MethodCall mc = odoo::decode_call(request.body, {}, "fake odoo request");
    call.method = std::move(mc.method);
    call.params = std::move(mc.params);
  } catch (const std::exception& e) {
    return fault(1, std::string("Traceback (most recent call last):\n  ...\nxml.parsers.expat.ExpatError: ") + e.what());
  }
  if (call.method == "execute_kw" && call.params.size() >= 5) {
    if (call.params[3].type() == Type::string) call.model = call.params[3].as_string();
    if (call.params[4].type() == Type::string) call.model_method = call.params[4].as_string();
    if (call.params[1].type() == Type::integer) call.uid = call.params[1].as_int();
    if (call.params.size() > 5 && call.params[5].type() == Type::array) call.args = call.params[5].as_array();
    if (call.params.size() > 6 && call.params[6].type() == Type::structure) call.kwargs = call.params[6].as_struct();
  }
  return answer(call, [&] {
    try {
      return FakeReply::xml(200, odoo::encode_response(execute(call)));
    } catch (const OdooFault& f) {
      return fault(f.code, f.text);
    } catch (const core::SyncError& e) {  // a value the codec cannot carry, or a bad argument type
      return fault(1, std::string("Traceback (most recent call last):\n  ...\nTypeError: ") + e.what());
    }
  });
}

FakeReply FakeOdoo::answer(const Call& call, const std::function<FakeReply()>& normal) {
  Interceptor interceptor;
  {
    std::lock_guard lock(mutex_);
    calls_.push_back(call);
    interceptor = interceptor_;
  }
  if (interceptor) {
    if (auto reply = interceptor(call)) return std::move(*reply);
  }
  std::lock_guard lock(mutex_);
  if (call.service != "common" && !fail_next_.empty()) {
    ReplyFor reply = std::move(fail_next_.front());
    fail_next_.pop_front();
    return reply(call);
  }
  return normal();
}

FakeReply FakeOdoo::handle_json2(const std::string& model, const std::string& method, const RecordedRequest& request) {
  std::string db;
  std::map<std::string, std::int64_t> keys;  // bearer key → uid
  {
    std::lock_guard lock(mutex_);
    db = db_;
    keys = api_keys_;
    keys[password_] = uid_;
  }
  // What Odoo checks before the method runs: the database (routing), the bearer key
  // (ir.http _auth_method_bearer), then the body (Json2Dispatcher).
  const auto database = request.header("X-Odoo-Database");
  if (!database || *database != db) {
    return json2_error(404, "werkzeug.exceptions.NotFound",
                       "The requested URL was not found on the server. (database " +
                           (database ? "'" + *database + "' does not exist" : std::string("not selected")) + ")");
  }
  const auto authorization = request.header("Authorization");
  if (!authorization) return json2_error(401, "werkzeug.exceptions.Unauthorized", "Missing \"Authorization\" header");
  const std::size_t space = authorization->find(' ');
  const std::string scheme = lower(authorization->substr(0, space));
  const std::string token = space == std::string::npos ? "" : authorization->substr(space + 1);
  const auto key = keys.find(token);
  if (scheme != "bearer" || key == keys.end()) {
    return json2_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey",
                       "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/addons/base/models/ir_http.py\", "
                       "line 240, in _auth_method_bearer\n    raise werkzeug.exceptions.Unauthorized(\n"
                       "werkzeug.exceptions.Unauthorized: 401 Unauthorized: Invalid apikey\n");
  }
  const auto content_type = request.header("Content-Type");
  if (!content_type || !lower(*content_type).starts_with("application/json")) {
    return json2_error(400, "werkzeug.exceptions.BadRequest",
                       "State-changing json2 requests must use the 'application/json' Content-Type (CSRF protection).");
  }
  const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return json2_error(400, "werkzeug.exceptions.BadRequest", "could not parse the body as json: Expecting value");
  }
  if (!body.is_object()) return json2_error(400, "werkzeug.exceptions.BadRequest", "Top-level JSON must be an object");

  Call call;
  call.service = "json2";
  call.method = method;
  call.model = model;
  call.model_method = method;
  call.kwargs = odoo::from_json(body).as_struct();
  call.uid = key->second;
  return answer(call, [&] {
    try {
      return result(call, call_model(call));
    } catch (const OdooFault& f) {
      return error(call, f.code, f.text);
    } catch (const core::SyncError& e) {  // a bad argument type
      return error(call, 1, std::string("Traceback (most recent call last):\n  ...\nTypeError: ") + e.what());
    }
  });
}

Value FakeOdoo::execute(const Call& call) {
  const auto& p = call.params;
  auto str = [&](std::size_t i) { return i < p.size() && p[i].type() == Type::string ? p[i].as_string() : std::string(); };
  if (call.service == "common") {
    if (call.method == "version") {
      return Value::structure({{"server_version", "17.0"},
                               {"server_version_info", Value::array({17, 0, 0, "final", 0, ""})},
                               {"server_serie", "17.0"},
                               {"protocol_version", 1}});
    }
    if (call.method == "authenticate") {
      if (p.size() < 4) python_error("TypeError: exp_authenticate() missing 1 required positional argument: 'user_agent_env'");
      if (str(0) != db_) {
        python_error("psycopg2.OperationalError: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  database \"" +
                     str(0) + "\" does not exist");
      }
      if (const auto uid = login_uid(str(1), str(2))) return Value(*uid);
      return Value(false);
    }
    python_error("NameError: method not available on common: " + call.method);
  }
  if (call.method != "execute_kw") python_error("NameError: method not available on object: " + call.method);
  if (p.size() < 6) python_error("TypeError: execute_kw() missing required positional arguments");
  if (str(0) != db_) python_error("psycopg2.OperationalError: FATAL:  database \"" + str(0) + "\" does not exist");
  const auto key = api_keys_.find(str(2));
  const bool valid = p[1].type() == Type::integer &&
                     ((p[1].as_int() == uid_ && str(2) == password_) ||
                      (key != api_keys_.end() && key->second == p[1].as_int()));
  if (!valid) throw OdooFault{3, "Access Denied"};
  return call_model(call);
}

Value FakeOdoo::call_model(const Call& call) {
  if (!models_.contains(call.model) && !schemas().contains(call.model)) python_error("KeyError: '" + call.model + "'");
  schema(call.model);
  if (call.model_method == "search_read") return search_read(call.model, call, false);
  if (call.model_method == "search_count") return search_read(call.model, call, true);
  if (call.model_method == "search") {
    const Value rows = search_read(call.model, call, false);
    Value::Array ids;
    for (const Value& r : rows.as_array()) ids.push_back(*r.find("id"));
    return Value(std::move(ids));
  }
  if (call.model_method == "read") return read(call.model, call);
  if (call.model == "res.users" && call.model_method == "context_get") {
    // Odoo's res.users.context_get: the calling user's lang and tz, and its uid.
    return Value::structure({{"lang", "en_US"}, {"tz", false}, {"uid", call.uid ? call.uid : uid_}});
  }
  python_error("AttributeError: The method '" + call.model + "." + call.model_method + "' does not exist");
}

void FakeOdoo::check_field(const std::string& model, const std::string& name) const {
  if (!schema(model).contains(name)) {
    python_error("ValueError: Invalid field '" + name + "' on model '" + model + "'");
  }
}

namespace {

struct DomainEval {
  const std::function<Value(const std::string&)>& get;
  const std::function<void(const std::string&)>& check;
  const Value::Array& domain;
  std::size_t pos = 0;

  bool leaf(const Value& l) {
    if (l.type() != Type::array || l.as_array().size() != 3) {
      python_error("ValueError: Invalid leaf " + leaf_text(l));
    }
    const Value& f = l.as_array()[0];
    const Value& opv = l.as_array()[1];
    const Value& value = l.as_array()[2];
    if (opv.type() != Type::string) python_error("ValueError: Invalid leaf " + leaf_text(l));
    const std::string op = lower(opv.as_string());
    if (f.type() == Type::integer) {  // TRUE_LEAF (1, '=', 1) / FALSE_LEAF (0, '=', 1)
      return op == "=" && equal(f, value);
    }
    if (f.type() != Type::string) python_error("ValueError: Invalid leaf " + leaf_text(l));
    check(f.as_string());
    const Value v = get(f.as_string());
    if (v.is_nil() && f.as_string().find('.') != std::string::npos) return false;  // through an empty many2one
    const bool null = is_null(v);
    auto in_list = [&] {
      if (value.type() != Type::array) return equal(v, value) || (null && value.is_false());
      for (const Value& item : value.as_array()) {
        if (equal(v, item) || (null && item.is_false())) return true;
      }
      return false;
    };
    auto text_match = [&](bool ci, bool raw_pattern) {
      if (null || v.type() != Type::string || value.type() != Type::string) return false;
      std::string text = v.as_string(), pat = value.as_string();
      if (ci) text = lower(text), pat = lower(pat);
      return like(text, raw_pattern ? pat : "%" + pat + "%");
    };
    if (op == "=" || op == "==") return value.is_false() ? null : (!null && equal(v, value)) || (v.is_false() && value.is_false());
    if (op == "!=" || op == "<>") return value.is_false() ? !null : null || !equal(v, value);
    if (op == ">" || op == ">=" || op == "<" || op == "<=") {
      if (null) return false;
      const auto c = compare(v, value);
      if (!c) python_error("ValueError: Invalid comparison " + leaf_text(l));
      return op == ">" ? *c > 0 : op == ">=" ? *c >= 0 : op == "<" ? *c < 0 : *c <= 0;
    }
    if (op == "in") return in_list();
    if (op == "not in") return !in_list();
    if (op == "like") return text_match(false, false);
    if (op == "ilike") return text_match(true, false);
    if (op == "not like") return null || !text_match(false, false);
    if (op == "not ilike") return null || !text_match(true, false);
    if (op == "=like") return text_match(false, true);
    if (op == "=ilike") return text_match(true, true);
    python_error("ValueError: Invalid operator '" + op + "' in leaf " + leaf_text(l));
  }

  bool expr() {
    if (pos >= domain.size()) python_error("ValueError: Invalid domain: missing operand");
    const Value& e = domain[pos++];
    if (e.type() == Type::string) {
      const std::string& op = e.as_string();
      if (op == "!") return !expr();
      if (op == "&") {
        const bool a = expr();
        const bool b = expr();
        return a && b;
      }
      if (op == "|") {
        const bool a = expr();
        const bool b = expr();
        return a || b;
      }
      python_error("ValueError: Invalid domain operator '" + op + "'");
    }
    return leaf(e);
  }

  bool all() {
    bool ok = true;
    while (pos < domain.size()) ok = expr() && ok;  // implicit AND; evaluate all for validation
    return ok;
  }
};

bool domain_mentions(const Value::Array& domain, const std::string& field) {
  for (const Value& e : domain) {
    if (e.type() == Type::array && !e.as_array().empty() && e.as_array()[0].type() == Type::string &&
        e.as_array()[0].as_string() == field) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool FakeOdoo::matches(const std::string& model, const Record& r, const Value::Array& domain) const {
  // A leaf's field may be a path through many2one fields ("parent_id.is_company"). As in Odoo 19
  // (a subquery on the many2one), a path through an empty many2one matches no leaf, whatever the
  // operator: neither `parent_id.parent_id = False` nor `parent_id.is_company != True` holds for
  // a partner without a parent. `get` answers nil for such a path.
  const std::function<Value(const std::string&)> get = [&](const std::string& path) {
    const Record* at = &r;
    std::string m = model, rest = path;
    for (std::size_t dot; (dot = rest.find('.')) != std::string::npos;) {
      const std::string via = rest.substr(0, dot);
      rest = rest.substr(dot + 1);
      const auto it = at->find(via);
      m = schema(m).at(via).target;
      if (it == at->end() || it->second.type() != Type::integer) return Value::nil();
      const auto t = models_.find(m);
      if (t == models_.end() || !t->second.contains(it->second.as_int())) return Value::nil();
      at = &t->second.at(it->second.as_int());
    }
    const auto it = at->find(rest);
    return it == at->end() ? Value(false) : it->second;
  };
  const std::function<void(const std::string&)> check = [&](const std::string& path) {
    std::string m = model, rest = path;
    for (;;) {
      const std::size_t dot = rest.find('.');
      const std::string f = rest.substr(0, dot);
      const auto& s = schema(m);
      const auto it = s.find(f);
      if (it == s.end() || it->second.kind == Kind::related || it->second.kind == Kind::one2many ||
          (dot != std::string::npos && it->second.kind != Kind::many2one)) {
        python_error("ValueError: Invalid field " + m + "." + f + " in leaf");
      }
      if (dot == std::string::npos) return;
      m = it->second.target;
      rest = rest.substr(dot + 1);
    }
  };
  DomainEval eval{get, check, domain};
  return eval.all();
}

Value FakeOdoo::present(const std::string& model, const Record& r, const std::vector<std::string>& fields) const {
  const auto& s = schema(model);
  auto display_name = [&](const std::string& m, std::int64_t id) -> std::optional<std::string> {
    const auto mt = models_.find(m);
    if (mt == models_.end()) return std::nullopt;
    const auto rt = mt->second.find(id);
    if (rt == mt->second.end()) return std::nullopt;
    const Record& t = rt->second;
    std::string name = t.contains("name") && t.at("name").type() == Type::string ? t.at("name").as_string() : "";
    if (m == "res.partner" && t.contains("parent_id") && t.at("parent_id").type() == Type::integer &&
        !(t.contains("is_company") && t.at("is_company").type() == Type::boolean && t.at("is_company").as_bool())) {
      const auto parent = mt->second.find(t.at("parent_id").as_int());
      if (parent != mt->second.end() && parent->second.at("name").type() == Type::string) {
        name = parent->second.at("name").as_string() + ", " + name;
      }
    }
    return name;
  };
  Value out = Value::Struct{};
  std::vector<std::string> wanted = fields;
  if (wanted.empty()) {
    for (const auto& [name, def] : s) wanted.push_back(name);
  }
  if (std::find(wanted.begin(), wanted.end(), "id") == wanted.end()) wanted.insert(wanted.begin(), "id");
  for (const std::string& f : wanted) {
    const FieldDef& def = s.at(f);
    const auto it = r.find(f);
    const Value stored = it == r.end() ? Value(false) : it->second;
    switch (def.kind) {
      case Kind::many2one: {
        if (stored.type() != Type::integer) {
          out.set(f, false);
        } else if (auto name = display_name(def.target, stored.as_int())) {
          out.set(f, Value::array({stored.as_int(), *name}));
        } else {
          out.set(f, false);
        }
        break;
      }
      case Kind::one2many: {
        Value::Array ids;
        if (const auto mt = models_.find(def.target); mt != models_.end()) {
          for (const auto& [cid, child] : mt->second) {
            const auto pit = child.find("parent_id");
            const auto ait = child.find("active");
            if (pit != child.end() && pit->second.type() == Type::integer && pit->second.as_int() == r.at("id").as_int() &&
                (ait == child.end() || ait->second.is_nil() || ait->second.as_bool())) {
              ids.emplace_back(cid);
            }
          }
        }
        out.set(f, Value(std::move(ids)));
        break;
      }
      case Kind::related: {
        if (f == "display_name") {
          auto name = display_name(model, r.at("id").as_int());
          out.set(f, name ? Value(*name) : Value(false));
        } else {  // via.field
          const std::string via = def.target.substr(0, def.target.find('.'));
          const std::string sub = def.target.substr(def.target.find('.') + 1);
          Value v = false;
          const auto vit = r.find(via);
          const std::string target = s.at(via).target;
          if (vit != r.end() && vit->second.type() == Type::integer && models_.contains(target) &&
              models_.at(target).contains(vit->second.as_int())) {
            const Record& t = models_.at(target).at(vit->second.as_int());
            if (t.contains(sub) && !is_null(t.at(sub))) v = t.at(sub);
          }
          out.set(f, v);
        }
        break;
      }
      case Kind::char_:
        // A value never set (NULL) is false; one saved empty stays "" (a real Odoo 19 answers
        // "name": "" for an address saved without a name).
        out.set(f, stored.is_nil() || stored.is_false() ? Value(false) : stored);
        break;
      default:
        out.set(f, stored.is_nil() ? Value(false) : stored);
    }
  }
  return out;
}

Value FakeOdoo::search_read(const std::string& model, const Call& call, bool count_only) {
  const auto& s = schema(model);
  Value::Array domain;
  if (const Value* d = call.arg("domain", 0); d != nullptr && !d->is_false() && !d->is_nil()) {
    if (d->type() != Type::array) python_error("ValueError: Invalid domain " + d->debug_string());
    domain = d->as_array();
  }
  std::vector<std::string> fields;
  std::int64_t offset = 0;
  std::optional<std::int64_t> limit;
  std::string order = default_order(model);
  if (!count_only) {
    if (const Value* f = call.arg("fields", 1); f != nullptr && f->type() == Type::array) {
      for (const Value& v : f->as_array()) {
        if (v.type() != Type::string) python_error("TypeError: field names must be strings");
        check_field(model, v.as_string());
        fields.push_back(v.as_string());
      }
    }
    if (const Value* o = call.arg("offset", 2); o != nullptr && o->type() == Type::integer) offset = o->as_int();
    if (const Value* l = call.arg("limit", 3); l != nullptr && l->type() == Type::integer && l->as_int() > 0) {
      limit = l->as_int();
    }
    if (const Value* o = call.arg("order", 4); o != nullptr && o->type() == Type::string && !o->as_string().empty()) {
      order = o->as_string();
    }
  }
  bool active_test = true;
  for (const auto& [k, v] : call.kwargs) {
    if (k == "context" && v.type() == Type::structure) {
      if (const Value* at = v.find("active_test"); at != nullptr && at->type() == Type::boolean) active_test = at->as_bool();
    }
  }
  const bool filter_active = active_test && s.contains("active") && !domain_mentions(domain, "active");

  // "write_date asc, id asc" → [(field, descending)]
  std::vector<std::pair<std::string, bool>> keys;
  std::size_t start = 0;
  while (start < order.size()) {
    std::size_t end = order.find(',', start);
    if (end == std::string::npos) end = order.size();
    std::string part = order.substr(start, end - start);
    start = end + 1;
    std::vector<std::string> words;
    for (std::size_t i = 0; i < part.size();) {
      while (i < part.size() && std::isspace(static_cast<unsigned char>(part[i]))) ++i;
      std::size_t j = i;
      while (j < part.size() && !std::isspace(static_cast<unsigned char>(part[j]))) ++j;
      if (j > i) words.push_back(part.substr(i, j - i));
      i = j;
    }
    if (words.empty()) continue;
    if (words.size() > 2 || (words.size() == 2 && lower(words[1]) != "asc" && lower(words[1]) != "desc")) {
      python_error("ValueError: Invalid \"order\" specified (" + order + ")");
    }
    check_field(model, words[0]);
    keys.emplace_back(words[0], words.size() == 2 && lower(words[1]) == "desc");
  }

  std::vector<const Record*> found;
  for (const auto& [id, r] : models_[model]) {
    if (filter_active) {
      const auto a = r.find("active");
      if (a != r.end() && a->second.type() == Type::boolean && !a->second.as_bool()) continue;
    }
    if (matches(model, r, domain)) found.push_back(&r);
  }
  if (count_only) return Value(static_cast<std::int64_t>(found.size()));

  auto get = [](const Record* r, const std::string& f) {
    const auto it = r->find(f);
    return it == r->end() ? Value(false) : it->second;
  };
  std::stable_sort(found.begin(), found.end(), [&](const Record* a, const Record* b) {
    for (const auto& [f, desc] : keys) {
      const Value va = get(a, f), vb = get(b, f);
      const bool na = is_null(va), nb = is_null(vb);
      if (na != nb) return desc ? na : nb;  // PostgreSQL: NULLS LAST for ASC, FIRST for DESC
      if (na) continue;
      const auto c = compare(va, vb);
      if (!c || *c == 0) continue;
      return desc ? *c > 0 : *c < 0;
    }
    return false;
  });
  Value::Array out;
  for (std::size_t i = static_cast<std::size_t>(std::max<std::int64_t>(offset, 0)); i < found.size(); ++i) {
    if (limit && static_cast<std::int64_t>(out.size()) >= *limit) break;
    out.push_back(present(model, *found[i], fields));
  }
  return Value(std::move(out));
}

Value FakeOdoo::read(const std::string& model, const Call& call) {
  const Value* ids = call.arg("ids", 0);
  if (ids == nullptr) python_error("TypeError: read() missing 1 required positional argument: 'ids'");
  std::vector<std::string> fields;
  if (const Value* f = call.arg("fields", 1); f != nullptr && f->type() == Type::array) {
    for (const Value& v : f->as_array()) {
      check_field(model, v.as_string());
      fields.push_back(v.as_string());
    }
  }
  Value::Array list = ids->type() == Type::array ? ids->as_array() : Value::Array{*ids};
  Value::Array out;
  for (const Value& id : list) {
    const auto it = models_[model].find(id.as_int());
    if (it == models_[model].end()) {
      throw OdooFault{2, "Record does not exist or has been deleted.\n(Record: " + model + "(" +
                             std::to_string(id.as_int()) + ",), User: " + std::to_string(uid_) + ")"};
    }
    out.push_back(present(model, it->second, fields));
  }
  return Value(std::move(out));
}

}  // namespace erpsync::testing
