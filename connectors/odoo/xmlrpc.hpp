#pragma once
// XML-RPC codec (pugixml): the dynamic Value an Odoo call carries, method-call and response
// encoding in the layout of Python's xmlrpc.client (what Odoo's own marshaller produces), and
// decoding of untrusted responses through parse_xml_bounded (size and depth limits).
//
// Value is the data model of the whole Odoo connector, not only of XML-RPC: the JSON-2
// transport (Odoo 19+) maps JSON onto the same Value, so the source and its mapping never
// learn which protocol brought a record.
//
// Odoo on the wire (erp-protocols.md §1.4): `false` (<boolean>0</boolean>) stands for every
// empty char/many2one/date field, dates come as <string> "YYYY-MM-DD HH:MM:SS" UTC, binary as
// base64 text in <string>, and <nil/> never appears (and must never be sent). The codec still
// reads and writes every XML-RPC type: other servers use them.
//
// Thread-safety: plain values and free functions; no shared state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "connectors/http/bounded_parse.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::odoo {

class Value {
 public:
  enum class Type { nil, boolean, integer, double_, string, datetime, base64, array, structure };
  using Array = std::vector<Value>;
  // Members in order of arrival (encoding keeps the caller's order; order has no meaning).
  using Member = std::pair<std::string, Value>;
  using Struct = std::vector<Member>;

  Value() = default;  // nil
  Value(bool b) : v_(b) {}                                  // NOLINT: implicit on purpose
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}        // NOLINT
  Value(std::int64_t i) : v_(i) {}                          // NOLINT
  Value(double d) : v_(d) {}                                // NOLINT
  Value(std::string s) : v_(std::move(s)) {}                // NOLINT
  Value(const char* s) : v_(std::string(s)) {}              // NOLINT
  Value(Array a) : v_(std::move(a)) {}                      // NOLINT
  Value(Struct s) : v_(std::move(s)) {}                     // NOLINT

  static Value nil() { return Value(); }
  // <dateTime.iso8601>: the text as sent (e.g. "20240304T08:15:02"); see iso_to_odoo().
  static Value datetime(std::string iso8601);
  // <base64>: holds the decoded bytes.
  static Value base64(std::string bytes);
  static Value array(std::initializer_list<Value> items) { return Value(Array(items)); }
  static Value structure(std::initializer_list<Member> members) { return Value(Struct(members)); }

  Type type() const;
  bool is_nil() const { return type() == Type::nil; }
  // Odoo's "empty": <boolean>0</boolean>.
  bool is_false() const;

  // Typed access. Throws core::SyncError{permanent} naming the expected and actual type.
  bool as_bool() const;
  std::int64_t as_int() const;
  double as_double() const;          // <int> values convert
  const std::string& as_string() const;  // string, datetime (its text) and base64 (its bytes)
  const Array& as_array() const;
  const Struct& as_struct() const;
  Array& as_array();
  Struct& as_struct();

  // A struct member, or nullptr (also when this is not a struct).
  const Value* find(std::string_view name) const;
  // Sets (replaces or appends) a struct member. REQUIRES: this is a struct.
  void set(std::string name, Value v);

  bool operator==(const Value&) const = default;

  // Short human-readable form for messages and test failures: 7, "x", false, [1, "a"], {k: v}.
  std::string debug_string() const;

 private:
  struct DateTime {
    std::string text;
    bool operator==(const DateTime&) const = default;
  };
  struct Base64 {
    std::string bytes;
    bool operator==(const Base64&) const = default;
  };
  std::variant<std::monostate, bool, std::int64_t, double, std::string, DateTime, Base64, Array,
               Struct>
      v_;
};

std::string_view type_name(Value::Type t);

// A <fault> answer (HTTP 200 with <methodResponse><fault>): Odoo's error channel.
// Odoo's codes on /xmlrpc/2/ (rpc.py): 1 any exception (faultString is a Python traceback),
// 2 UserError/ValidationError, 3 AccessDenied, 4 AccessError.
// Kind: 3 is auth; everything else permanent (retrying the same call gives the same fault).
// what() names the call and gives summary(), never the whole traceback.
class XmlRpcFault : public core::SyncError {
 public:
  XmlRpcFault(int code, std::string fault_string, const std::string& context);
  int code() const { return code_; }
  const std::string& fault_string() const { return fault_string_; }  // as sent (may be long)
  const std::string& summary() const { return summary_; }

 private:
  int code_;
  std::string fault_string_;
  std::string summary_;
};

// One line for a faultString: a Python traceback is reduced to its last line (the exception,
// e.g. "ValueError: Invalid field 'x' on model 'res.partner'"); other texts to their first
// non-empty line; at most 300 characters.
std::string summarize_fault(std::string_view fault_string);

// <?xml version='1.0'?><methodCall>... in xmlrpc.client's layout. Throws core::SyncError
// {permanent} for values XML cannot carry (C0 control characters other than tab, LF, CR;
// non-finite doubles) — Odoo would refuse them too.
std::string encode_call(std::string_view method, const std::vector<Value>& params);
// <?xml version="1.0"?><methodResponse>... in Odoo's layout (used by the fake server).
std::string encode_response(const Value& result);
std::string encode_fault(int code, std::string_view fault_string);

// Decodes a methodResponse. Returns the single result value; throws XmlRpcFault for a fault
// and core::SyncError{permanent} for anything that is not a well-formed XML-RPC response
// (not XML, too large, too deep, unknown type, bad number, ...). `what` names the exchange
// in those messages.
Value decode_response(std::string_view body, const ParseLimits& limits, const std::string& what);

struct MethodCall {
  std::string method;
  std::vector<Value> params;
};
// Decodes a methodCall (the fake server's side). Throws core::SyncError{permanent}.
MethodCall decode_call(std::string_view body, const ParseLimits& limits, const std::string& what);

// "20240304T08:15:02" (or "2024-03-04T08:15:02", with optional Z) → "2024-03-04 08:15:02";
// nullopt when it is neither.
std::optional<std::string> iso_to_odoo(std::string_view iso8601);

std::string base64_encode(std::string_view bytes);
// Whitespace is ignored; nullopt for invalid input.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace erpsync::connectors::odoo
