#pragma once
// FakeOdoo: an Odoo server as far as erpsync talks to it, speaking real XML-RPC and the
// External JSON-2 API over HTTP on the fake-server kit (127.0.0.1:<os port>).
//
//   FakeOdoo odoo;                                   // db acme_prod, sync-bot@example.com / kPassword, uid 2
//   odoo.add_user(9, "tomasz@example.com", "Tomasz Przyklad");
//   odoo.add_partner({{"id", 41}, {"name", "Nordwind"}, {"ref", "C-1"}, {"is_company", true},
//                     {"user_id", 9}, {"write_date", "2024-03-04 08:15:02"}});
//   ... point the connector at odoo.url() ...
//   odoo.write("res.partner", 41, {{"name", "Nordwind AG"}});   // write_date = odoo.now()
//
// Served: /xmlrpc/2/common `version`, `authenticate` (wrong db → fault 1 like a missing
// database; wrong login or password → false), /xmlrpc/2/object `execute_kw` (bad uid or
// password → fault 3 "Access Denied") with `search_read`, `read`, `search_count` on
// res.partner and res.users (and `search`, keyword arguments only): positional or keyword arguments (domain, fields, offset, limit,
// order; context with active_test), Polish-notation domains (&, |, !, implicit AND; operators
// =, !=, >, >=, <, <=, in, not in, like, ilike, not ilike, =like, =ilike; Odoo's TRUE/FALSE
// leaves), unknown fields → fault 1 with a traceback, like Odoo.
//
// JSON-2 (Odoo 19+): POST /json/2/<model>/<method> for res.partner, res.users and res.country
// with search_read, search_count, search and read (and res.users/context_get: {lang, tz, uid}
// of the key's user), over the same records and the same domain
// evaluation; the JSON body's members are the keyword arguments (`ids` for read). Checked like
// Odoo: `Authorization: bearer <key>` (the key is the password set above; else 401
// {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey", ...}), the
// `X-Odoo-Database` header (required here, as on a server with several databases: missing or
// unknown → 404), an application/json body that is a JSON object (else 400). Odoo exceptions
// become its JSON error object {name, message, arguments, context, debug} with Odoo's status:
// 401 AccessDenied, 403 AccessError, 422 UserError, 500 anything else (a traceback's
// ValueError, KeyError ...).
//
// Records are held in memory as Odoo stores them: many2one fields (parent_id, user_id,
// country_id) hold an id (or false) and are answered as [id, display_name]; char fields never
// set are answered as false, one set to "" as "" (as Odoo answers a value saved empty); a partner's `type` is "contact" unless set ("invoice", "delivery",
// "other": addresses); `partner_share` is true unless set (false: an internal user's own
// partner, which Odoo makes for every user). Domain leaves may name a path through many2one fields
// ("parent_id.is_company"); a path through an empty many2one matches no leaf (Odoo 19's
// subquery), whatever the operator. Records may be edited between (and, through an interceptor, during)
// requests.
//
// Faults: an interceptor sees every decoded call first and may answer instead (a fault, a 500,
// a truncated body ...); fail_next() queues one-shot replies.
//
// Threading: handlers run on the kit's connection threads; every public method locks, so tests
// may edit records from any thread, also from inside an interceptor (called without the lock).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/odoo/xmlrpc.hpp"
#include "support/fake_http_server.hpp"

namespace erpsync::testing {

namespace odoo = erpsync::connectors::odoo;

class FakeOdoo {
 public:
  static constexpr const char* kDb = "acme_prod";
  static constexpr const char* kLogin = "sync-bot@example.com";
  static constexpr const char* kPassword = "0123456789abcdef0123456789abcdef01234567";
  static constexpr std::int64_t kUid = 2;

  // One decoded request, as the interceptor and calls() see it.
  struct Call {
    std::string service;  // "common" or "object" (XML-RPC), "json2"
    std::string method;   // "authenticate", "execute_kw", ...; JSON-2: the model method
    std::vector<odoo::Value> params;
    // execute_kw and JSON-2 (whose body members are all kwargs):
    std::string model, model_method;
    odoo::Value::Array args;
    odoo::Value::Struct kwargs;
    std::int64_t uid = 0;  // JSON-2: the user the bearer key belongs to
    // A keyword argument, else the positional one at `position` (search_read's order:
    // domain 0, fields 1, offset 2, limit 3, order 4), else nullptr.
    const odoo::Value* arg(const std::string& name, std::size_t position) const;
  };
  // Returns a reply to send instead of the normal answer, or nullopt to answer normally.
  using Interceptor = std::function<std::optional<FakeReply>(const Call&)>;
  // A reply made for the call it answers (in the call's protocol).
  using ReplyFor = std::function<FakeReply(const Call&)>;

  FakeOdoo();
  ~FakeOdoo();
  FakeOdoo(const FakeOdoo&) = delete;
  FakeOdoo& operator=(const FakeOdoo&) = delete;

  std::string url() const { return server_.url(""); }  // base URL: http://127.0.0.1:<port>
  FakeHttpServer& http() { return server_; }

  // Credentials it accepts (defaults above). The user is a res.users record too (id uid, the
  // login, "Sync Bot"), as in Odoo: JSON-2 clients look their login up.
  void set_credentials(std::string db, std::string login, std::string password, std::int64_t uid);
  // Another API key, of user `uid` (added with add_user, or the credentials' user). As in
  // Odoo, a key belongs to one user: over JSON-2 the key alone decides whose rights a call has
  // (res.users/context_get answers that user's uid); over XML-RPC it is a password of that
  // user's login only.
  void add_api_key(std::int64_t uid, std::string key);

  // The clock that stamps write_date on add/write ("YYYY-MM-DD HH:MM:SS", UTC).
  void set_now(std::string timestamp);
  void advance(std::int64_t seconds);
  std::string now() const;

  // Records. Fields are Odoo field names; many2one fields take the target id (or false).
  // add_*: `id` required; absent write_date = now(); res.partner defaults: active true,
  // is_company false, other fields false.
  void add_partner(odoo::Value::Struct fields);
  void add_user(std::int64_t id, std::string login, std::string name, bool active = true);
  void add_country(std::int64_t id, std::string name, std::string code);
  // Changes fields and stamps write_date = now() (unless `fields` sets it).
  void write(const std::string& model, std::int64_t id, odoo::Value::Struct fields);
  // A raw stored field (many2one as an id), or nil when absent.
  odoo::Value field(const std::string& model, std::int64_t id, const std::string& name) const;

  // Fault injection.
  void set_interceptor(Interceptor interceptor);
  // The next model call (execute_kw or JSON-2) gets `reply` instead (one-shot, queued in order).
  void fail_next(FakeReply reply);
  void fail_next(ReplyFor reply);
  // An XML-RPC <fault> (HTTP 200).
  static FakeReply fault(int code, std::string fault_string);
  // Odoo's JSON-2 error: `status` with {name, message, arguments, context, debug}.
  static FakeReply json2_error(unsigned status, std::string name, std::string message, std::string debug = "");
  // An Odoo exception as the call's protocol carries it: XML-RPC fault `code` (1 any exception,
  // 2 UserError, 3 AccessDenied, 4 AccessError), or the JSON-2 status and error object for it.
  static FakeReply error(const Call& call, int code, std::string fault_string);
  // A successful answer carrying `result` in the call's protocol.
  static FakeReply result(const Call& call, const odoo::Value& result);
  // HTTP 200 with `depth` nested arrays: a parser without a depth limit overflows its stack.
  static FakeReply deeply_nested(int depth);
  // A valid response cut after `bytes` bytes, announced with its full Content-Length.
  static FakeReply truncated(std::string body, std::size_t bytes);

  // Every decoded call, in order.
  std::vector<Call> calls() const;
  // How many model.method calls (execute_kw or JSON-2) were answered (intercepted ones included).
  std::size_t count(const std::string& model, const std::string& method) const;
  void clear_calls();

 private:
  using Record = std::map<std::string, odoo::Value>;
  using Table = std::map<std::int64_t, Record>;

  FakeReply handle(const std::string& service, const RecordedRequest& request);
  FakeReply handle_json2(const std::string& model, const std::string& method, const RecordedRequest& request);
  // The interceptor, then fail_next, then `answer` (called with the lock held).
  FakeReply answer(const Call& call, const std::function<FakeReply()>& answer);
  odoo::Value execute(const Call& call);  // throws Fault
  // The uid `secret` authenticates as `login` (XML-RPC), or nullopt.
  std::optional<std::int64_t> login_uid(const std::string& login, const std::string& secret) const;
  odoo::Value call_model(const Call& call);  // the model method, credentials already checked
  odoo::Value search_read(const std::string& model, const Call& call, bool count_only);
  odoo::Value read(const std::string& model, const Call& call);
  odoo::Value present(const std::string& model, const Record& r,
                      const std::vector<std::string>& fields) const;
  void check_field(const std::string& model, const std::string& name) const;
  bool matches(const std::string& model, const Record& r, const odoo::Value::Array& domain) const;

  mutable std::mutex mutex_;
  std::string db_ = kDb, login_ = kLogin, password_ = kPassword;
  std::int64_t uid_ = kUid;
  std::map<std::string, std::int64_t> api_keys_;  // add_api_key: key → uid
  std::string now_ = "2024-03-01 00:00:00";
  std::map<std::string, Table> models_;
  Interceptor interceptor_;
  std::deque<ReplyFor> fail_next_;
  std::vector<Call> calls_;
  FakeHttpServer server_;  // last: stopped first, before the state its handlers use
};

}  // namespace erpsync::testing
