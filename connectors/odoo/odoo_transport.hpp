#pragma once
// OdooTransport: the few Odoo calls the connector needs, whatever the protocol carries them.
// XmlRpcTransport (/xmlrpc/2/common + /xmlrpc/2/object on an HttpClient) is defined here;
// Json2Transport (json2_transport.hpp; Odoo 19+: POST /json/2/<model>/<method>, bearer API
// key; XML-RPC is due to be removed in Odoo 22) implements the same interface, mapping JSON
// onto Value, so the source and its mapping do not know which protocol is in use.
//
// Errors: every call throws core::SyncError, already classified, and every message starts with
// describe() ("odoo connector 'erp' (database 'acme' at https://erp.example.com)"): transport
// and HTTP status failures come from the HTTP layer (transient/permanent/auth), an Odoo fault is an
// XmlRpcFault (faultCode 3 → auth, else permanent), a refused login is SyncError{auth} naming
// the database and the user (never the password), a malformed answer is permanent. (JSON-2's
// errors: json2_transport.hpp.)
//
// Thread-safety: one caller at a time (a connector's runs never overlap).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/http/bounded_parse.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/odoo/xmlrpc.hpp"

namespace erpsync::connectors::odoo {

// search_read's arguments (Odoo's BaseModel.search_read, sent as keyword arguments).
struct SearchRead {
  std::string model;
  Value domain = Value::Array{};  // Polish-notation list: [field, op, value] triples, "&", "|", "!"
  std::vector<std::string> fields;  // `id` always comes back
  std::int64_t offset = 0;
  std::optional<std::int64_t> limit;  // nullopt: no limit
  std::string order;                  // e.g. "write_date asc, id asc"; empty: the model's default
  Value::Struct context;              // e.g. {active_test: false}
};

class OdooTransport {
 public:
  virtual ~OdooTransport() = default;
  OdooTransport() = default;
  OdooTransport(const OdooTransport&) = delete;
  OdooTransport& operator=(const OdooTransport&) = delete;

  // Logs in and returns the uid (kept for later calls). Throws SyncError{auth} when Odoo
  // refuses the credentials.
  virtual std::int64_t authenticate() = 0;
  // The matching records (structs), in the requested order. Authenticates first if needed.
  virtual std::vector<Value> search_read(const SearchRead& query) = 0;
  // res.users id → login for the given ids (archived users included). Ids Odoo does not
  // return are absent from the map.
  virtual std::map<std::int64_t, std::string> read_user_logins(const std::vector<std::int64_t>& ids);

  // "odoo connector 'erp' (acme_prod at https://erp.example.com)": for messages.
  virtual std::string describe() const = 0;

 protected:
  // search_read's keyword arguments as both protocols send them (fields, order, offset, limit,
  // context); the domain travels positionally (XML-RPC) or by name (JSON-2).
  static Value::Struct search_read_options(const SearchRead& query);
  // client.send(request) — or send_checked() when `checked` — with a failure of the HTTP layer
  // (a timeout, a refused connection, a reset; with `checked`, a non-2xx status) rethrown with
  // `who` and `label` in front, so that every error of the connector names it. Kind, status and
  // Retry-After are kept.
  static http::Response send_naming(http::HttpClient& client, const http::Request& request, bool checked,
                                    const std::string& who, const std::string& label);
  // `result` checked as search_read's answer, an array of structs; anything else is a
  // SyncError{permanent} naming this transport and the model.
  std::vector<Value> search_read_rows(Value result, const SearchRead& query) const;
};

struct XmlRpcSettings {
  std::string connector;  // for messages
  std::string url;        // base URL, e.g. https://erp.example.com (no /xmlrpc suffix)
  std::string db;
  std::string user;
  std::string password;   // password or API key; sent with every call, never logged
  ParseLimits limits;     // responses (max_bytes from the connector's max_response_size)
  std::optional<http::Timeouts> timeouts;
};

// XML-RPC over the HTTP client. A faultCode 3 (AccessDenied) on /object — the password was
// changed, the uid is stale — re-authenticates once and repeats the call; a second one is
// the auth error.
class XmlRpcTransport final : public OdooTransport {
 public:
  XmlRpcTransport(XmlRpcSettings settings, std::shared_ptr<http::HttpClient> client);

  std::int64_t authenticate() override;
  std::vector<Value> search_read(const SearchRead& query) override;
  std::string describe() const override;

  // execute_kw(db, uid, password, model, method, args, kwargs): the generic call.
  Value execute_kw(const std::string& model, const std::string& method, Value::Array args,
                   Value::Struct kwargs);

 private:
  Value call(const std::string& service, const std::string& method, const std::vector<Value>& params,
             const std::string& label);

  XmlRpcSettings settings_;
  std::shared_ptr<http::HttpClient> client_;
  std::optional<std::int64_t> uid_;
};

}  // namespace erpsync::connectors::odoo
