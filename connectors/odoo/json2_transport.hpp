#pragma once
// Json2Transport: the OdooTransport over Odoo's External JSON-2 API (Odoo 19+), the successor
// of XML-RPC (deprecated in 19, to be removed in 22).
//
// Wire format (Odoo's external_api.rst, "External JSON-2 API"):
//   POST {url}/json/2/<model>/<method>
//   Authorization: bearer <api key>        X-Odoo-Database: <db>
//   Content-Type: application/json; charset=utf-8
//   {"domain": [...], "fields": [...], "offset": 0, "limit": 500, "order": "...", "context": {...}}
// The method's keyword arguments are the members of the JSON object (no positional
// arguments); `ids` would name the records of a non-@api.model method. Success is 200 with the
// method's return value as the body (search_read: a JSON array of record objects). An error is
// a 4xx/5xx with {"name": <Python exception class>, "message", "arguments", "context",
// "debug": <traceback>}: 401 for a refused API key, 403 AccessError, 404 MissingError or an
// unknown model/method, 422 UserError/ValidationError, 500 anything else.
//
// JSON maps onto Value as the XML-RPC codec's values do, so the source and its mapping do not
// know the protocol: Odoo serialises empty fields as `false`, many2one as [id, "name"],
// datetimes as "YYYY-MM-DD HH:MM:SS" UTC strings. JSON null becomes nil (Odoo does not send it
// for fields); integers stay integers, other numbers become doubles.
//
// Errors (every call throws core::SyncError, already classified, secrets redacted):
//   transport failures, timeouts, 408, 429, 5xx → transient (from the HTTP layer; Retry-After kept)
//   401 → auth: "Odoo refused the API key"; 403 → auth: access refused to the key's user;
//   a key of another user than `user` → auth (authenticate(), below)
//   other 4xx → permanent;  a 2xx body that is not JSON, too large or too deep → permanent,
//   naming the request (method and redacted URL).
// Odoo's error object is summarised to one line ("ValueError: Invalid field 'x' on model
// 'res.partner'"), never its traceback. The API key is sent only in the Authorization header
// and never appears in a message.
//
// There is no login in JSON-2 (every request carries the key, and the key alone decides whose
// rights a call has). authenticate() asks Odoo whose key it is (res.users/context_get: the
// caller's uid) and looks up the configured `user`'s id (res.users/search on `login`): a key of
// any other user is refused (SyncError{auth} naming the key's owner and `user`), so a sync
// configured as a restricted user never reads with an administrator's rights. A revoked key
// fails there before any partner is read.
//
// Thread-safety: one caller at a time (a connector's runs never overlap).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "connectors/http/bounded_parse.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/odoo/odoo_transport.hpp"

namespace erpsync::connectors::odoo {

struct Json2Settings {
  std::string connector;  // for messages
  std::string url;        // base URL, e.g. https://erp.example.com (no /json/2 suffix)
  std::string db;         // sent as X-Odoo-Database (omitted when empty)
  std::string user;       // login whose id authenticate() returns
  std::string api_key;    // bearer token; never logged
  ParseLimits limits;     // responses (max_bytes from the connector's max_response_size)
  std::optional<http::Timeouts> timeouts;
};

class Json2Transport final : public OdooTransport {
 public:
  Json2Transport(Json2Settings settings, std::shared_ptr<http::HttpClient> client);

  std::int64_t authenticate() override;
  std::vector<Value> search_read(const SearchRead& query) override;
  std::string describe() const override;

  // POST /json/2/<model>/<method> with `kwargs` as the body object: the generic call. Returns
  // the decoded body.
  Value call(const std::string& model, const std::string& method, const Value::Struct& kwargs);

 private:
  Json2Settings settings_;
  std::shared_ptr<http::HttpClient> client_;
};

// Value ↔ JSON as JSON-2 carries it. to_json: nil → null, datetime → "YYYY-MM-DD HH:MM:SS"
// (its text as sent when it is not ISO 8601), base64 → its base64 text, struct → object
// (a repeated key keeps the last value). Throws core::SyncError{permanent} for a non-finite
// double or a string that is not UTF-8 (JSON cannot carry either).
nlohmann::json to_json(const Value& v);
// null → nil, integers that fit int64 → integer, other numbers → double. Object members come
// in key order (nlohmann::json keeps objects sorted; member order has no meaning to Odoo).
Value from_json(const nlohmann::json& j);

// One line for an Odoo JSON-2 error body: "<exception class>: <message>" (the class without its
// module, e.g. "ValueError", "Unauthorized", "AccessError"); a body that is not such an object
// gives nullopt. At most 300 characters.
std::optional<std::string> summarize_json2_error(std::string_view body);

}  // namespace erpsync::connectors::odoo
