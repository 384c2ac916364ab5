#include "connectors/odoo/xmlrpc.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace erpsync::connectors::odoo {

namespace {

using Kind = core::SyncError::Kind;

[[noreturn]] void malformed(const std::string& what, const std::string& reason) {
  throw core::SyncError(Kind::permanent, what + ": not a valid XML-RPC message: " + reason);
}

[[noreturn]] void wrong_type(Value::Type expected, Value::Type actual) {
  throw core::SyncError(Kind::permanent, "XML-RPC value is " + std::string(type_name(actual)) +
                                             ", expected " + std::string(type_name(expected)));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// ---- encoding ---------------------------------------------------------------------------------

void escape_into(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      // XML parsers turn a literal CR into LF; a character reference keeps it.
      case '\r': out += "&#13;"; break;
      default:
        if (u < 0x20 && c != '\t' && c != '\n') {
          throw core::SyncError(Kind::permanent,
                                "XML-RPC cannot carry control character 0x" +
                                    std::string(1, "0123456789abcdef"[u >> 4]) +
                                    std::string(1, "0123456789abcdef"[u & 15]) + " in a string");
        }
        out += c;
    }
  }
}

std::string format_double(double d) {
  if (!std::isfinite(d)) {
    throw core::SyncError(Kind::permanent, "XML-RPC cannot carry a non-finite double");
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, r.ptr);
  // Python's repr always shows a float as one: 12.0, not 12.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// xmlrpc.client.Marshaller.dump_* layout: "<value>...</value>\n", containers on their own lines.
void dump(std::string& out, const Value& v) {
  switch (v.type()) {
    case Value::Type::nil: out += "<value><nil/></value>\n"; return;
    case Value::Type::boolean:
      out += v.as_bool() ? "<value><boolean>1</boolean></value>\n"
                         : "<value><boolean>0</boolean></value>\n";
      return;
    case Value::Type::integer: {
      const std::int64_t i = v.as_int();
      const bool fits = i >= std::numeric_limits<std::int32_t>::min() &&
                        i <= std::numeric_limits<std::int32_t>::max();
      // <int> is 32-bit; <i8> is the common extension (Python reads it).
      out += fits ? "<value><int>" : "<value><i8>";
      out += std::to_string(i);
      out += fits ? "</int></value>\n" : "</i8></value>\n";
      return;
    }
    case Value::Type::double_:
      out += "<value><double>" + format_double(v.as_double()) + "</double></value>\n";
      return;
    case Value::Type::string:
      out += "<value><string>";
      escape_into(out, v.as_string());
      out += "</string></value>\n";
      return;
    case Value::Type::datetime:
      out += "<value><dateTime.iso8601>";
      escape_into(out, v.as_string());
      out += "</dateTime.iso8601></value>\n";
      return;
    case Value::Type::base64:
      out += "<value><base64>\n" + base64_encode(v.as_string()) + "\n</base64></value>\n";
      return;
    case Value::Type::array:
      out += "<value><array><data>\n";
      for (const Value& item : v.as_array()) dump(out, item);
      out += "</data></array></value>\n";
      return;
    case Value::Type::structure:
      out += "<value><struct>\n";
      for (const auto& [name, member] : v.as_struct()) {
        out += "<member>\n<name>";
        escape_into(out, name);
        out += "</name>\n";
        dump(out, member);
        out += "</member>\n";
      }
      out += "</struct></value>\n";
      return;
  }
}

// ---- decoding ---------------------------------------------------------------------------------

struct Decoder {
  std::string_view text;  // the original bytes (offset_debug() points into them)
  const std::string& what;

  [[noreturn]] void fail(pugi::xml_node at, const std::string& reason) const {
    std::string where;
    if (at) {
      const std::ptrdiff_t off = at.offset_debug();
      if (off >= 0) where = " at byte " + std::to_string(off);
    }
    malformed(what, reason + where);
  }

  static pugi::xml_node first_element(pugi::xml_node n) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) return c;
    }
    return {};
  }

  // Text content of a leaf element. pugixml's default mode drops whitespace-only text, which
  // would turn <string> </string> into ""; such text is recovered from the source bytes.
  std::string leaf_text(pugi::xml_node n) const {
    std::string out;
    bool any = false;
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        out += c.value();
        any = true;
      } else if (c.type() == pugi::node_element) {
        fail(c, "unexpected element <" + std::string(c.name()) + "> inside <" + n.name() + ">");
      }
    }
    if (any || n.first_child()) return out;
    // No child at all: <x/>, <x></x> or whitespace-only <x>  </x>.
    const std::ptrdiff_t off = n.offset_debug();
    if (off < 0 || static_cast<std::size_t>(off) >= text.size()) return out;
    const std::size_t gt = text.find('>', static_cast<std::size_t>(off));
    if (gt == std::string_view::npos || gt == 0 || text[gt - 1] == '/') return out;
    const std::size_t close = text.find("</", gt + 1);
    if (close == std::string_view::npos) return out;
    const std::string_view inner = text.substr(gt + 1, close - gt - 1);
    if (trim(inner).empty()) {
      out.assign(inner);
      // XML end-of-line handling, as the parser would have done it.
      std::string norm;
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\r') {
          norm += '\n';
          if (i + 1 < out.size() && out[i + 1] == '\n') ++i;
        } else {
          norm += out[i];
        }
      }
      out = std::move(norm);
    }
    return out;
  }

  std::int64_t parse_int(pugi::xml_node n, std::int64_t lo, std::int64_t hi) const {
    const std::string raw = leaf_text(n);
    std::string_view s = trim(raw);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) {
      fail(n, "bad integer '" + std::string(s.substr(0, 40)) + "' in <" + n.name() + ">");
    }
    if (v < lo || v > hi) fail(n, "integer " + std::string(s) + " out of range for <" + n.name() + ">");
    return v;
  }

  Value value(pugi::xml_node v) const {
    const pugi::xml_node t = first_element(v);
    if (!t) return Value(leaf_text(v));  // bare text: a string
    for (pugi::xml_node c = t.next_sibling(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) fail(c, "more than one type inside <value>");
    }
    const std::string_view name = t.name();
    if (name == "int" || name == "i4") {
      return Value(parse_int(t, std::numeric_limits<std::int32_t>::min(),
                             std::numeric_limits<std::int32_t>::max()));
    }
    if (name == "i8" || name == "i2" || name == "i1") {
      return Value(parse_int(t, std::numeric_limits<std::int64_t>::min(),
                             std::numeric_limits<std::int64_t>::max()));
    }
    if (name == "boolean") {
      const std::string raw = leaf_text(t);
      const std::string_view s = trim(raw);
      if (s == "1" || s == "true") return Value(true);
      if (s == "0" || s == "false") return Value(false);
      fail(t, "bad boolean '" + std::string(s.substr(0, 40)) + "'");
    }
    if (name == "string") return Value(leaf_text(t));
    if (name == "double") {
      const std::string raw = leaf_text(t);
      const std::string_view s = trim(raw);
      double d = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) {
        fail(t, "bad double '" + std::string(s.substr(0, 40)) + "'");
      }
      return Value(d);
    }
    if (name == "dateTime.iso8601") {
      const std::string s(trim(leaf_text(t)));
      if (!iso_to_odoo(s)) fail(t, "bad dateTime.iso8601 '" + s.substr(0, 40) + "'");
      return Value::datetime(s);
    }
    if (name == "base64") {
      auto bytes = base64_decode(leaf_text(t));
      if (!bytes) fail(t, "bad base64 text");
      return Value::base64(std::move(*bytes));
    }
    if (name == "nil" || name.ends_with(":nil")) return Value::nil();
    if (name == "array") {
      const pugi::xml_node data = t.child("data");
      if (!data) fail(t, "<array> without <data>");
      Value::Array items;
      for (pugi::xml_node c = data.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (std::string_view(c.name()) != "value") fail(c, "<data> holds <" + std::string(c.name()) + ">");
        items.push_back(value(c));
      }
      return Value(std::move(items));
    }
    if (name == "struct") {
      Value::Struct members;
      for (pugi::xml_node m = t.first_child(); m; m = m.next_sibling()) {
        if (m.type() != pugi::node_element) continue;
        if (std::string_view(m.name()) != "member") fail(m, "<struct> holds <" + std::string(m.name()) + ">");
        const pugi::xml_node n = m.child("name");
        const pugi::xml_node mv = m.child("value");
        if (!n || !mv) fail(m, "<member> without <name> and <value>");
        members.emplace_back(leaf_text(n), value(mv));
      }
      return Value(std::move(members));
    }
    fail(t, "unknown value type <" + std::string(name) + ">");
  }
};

const Value& require_struct_member(const Value& s, std::string_view name, const std::string& what) {
  const Value* v = s.find(name);
  if (!v) malformed(what, "fault without " + std::string(name));
  return *v;
}

}  // namespace

// ---- Value --------------------------------------------------------------------------------------

Value Value::datetime(std::string iso8601) {
  Value v;
  v.v_ = DateTime{std::move(iso8601)};
  return v;
}

Value Value::base64(std::string bytes) {
  Value v;
  v.v_ = Base64{std::move(bytes)};
  return v;
}

Value::Type Value::type() const {
  switch (v_.index()) {
    case 0: return Type::nil;
    case 1: return Type::boolean;
    case 2: return Type::integer;
    case 3: return Type::double_;
    case 4: return Type::string;
    case 5: return Type::datetime;
    case 6: return Type::base64;
    case 7: return Type::array;
    default: return Type::structure;
  }
}

bool Value::is_false() const {
  const bool* b = std::get_if<bool>(&v_);
  return b != nullptr && !*b;
}

bool Value::as_bool() const {
  if (const bool* b = std::get_if<bool>(&v_)) return *b;
  wrong_type(Type::boolean, type());
}

std::int64_t Value::as_int() const {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  wrong_type(Type::integer, type());
}

double Value::as_double() const {
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  wrong_type(Type::double_, type());
}

const std::string& Value::as_string() const {
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  if (const auto* d = std::get_if<DateTime>(&v_)) return d->text;
  if (const auto* b = std::get_if<Base64>(&v_)) return b->bytes;
  wrong_type(Type::string, type());
}

const Value::Array& Value::as_array() const {
  if (const auto* a = std::get_if<Array>(&v_)) return *a;
  wrong_type(Type::array, type());
}

const Value::Struct& Value::as_struct() const {
  if (const auto* s = std::get_if<Struct>(&v_)) return *s;
  wrong_type(Type::structure, type());
}

Value::Array& Value::as_array() {
  if (auto* a = std::get_if<Array>(&v_)) return *a;
  wrong_type(Type::array, type());
}

Value::Struct& Value::as_struct() {
  if (auto* s = std::get_if<Struct>(&v_)) return *s;
  wrong_type(Type::structure, type());
}

const Value* Value::find(std::string_view name) const {
  const auto* s = std::get_if<Struct>(&v_);
  if (s == nullptr) return nullptr;
  for (const auto& [k, v] : *s) {
    if (k == name) return &v;
  }
  return nullptr;
}

void Value::set(std::string name, Value v) {
  Struct& s = as_struct();
  for (auto& [k, existing] : s) {
    if (k == name) {
      existing = std::move(v);
      return;
    }
  }
  s.emplace_back(std::move(name), std::move(v));
}

std::string Value::debug_string() const {
  switch (type()) {
    case Type::nil: return "nil";
    case Type::boolean: return as_bool() ? "true" : "false";
    case Type::integer: return std::to_string(as_int());
    case Type::double_: return format_double(as_double());
    case Type::string: return "\"" + as_string() + "\"";
    case Type::datetime: return "datetime(" + as_string() + ")";
    case Type::base64: return "base64(" + std::to_string(as_string().size()) + " bytes)";
    case Type::array: {
      std::string s = "[";
      for (const Value& v : as_array()) s += (s.size() > 1 ? ", " : "") + v.debug_string();
      return s + "]";
    }
    case Type::structure: {
      std::string s = "{";
      for (const auto& [k, v] : as_struct()) s += (s.size() > 1 ? ", " : "") + k + ": " + v.debug_string();
      return s + "}";
    }
  }
  return {};
}

std::string_view type_name(Value::Type t) {
  switch (t) {
    case Value::Type::nil: return "nil";
    case Value::Type::boolean: return "boolean";
    case Value::Type::integer: return "int";
    case Value::Type::double_: return "double";
    case Value::Type::string: return "string";
    case Value::Type::datetime: return "dateTime.iso8601";
    case Value::Type::base64: return "base64";
    case Value::Type::array: return "array";
    case Value::Type::structure: return "struct";
  }
  return "?";
}

// ---- faults -------------------------------------------------------------------------------------

std::string summarize_fault(std::string_view fault_string) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= fault_string.size()) {
    std::size_t end = fault_string.find('\n', start);
    if (end == std::string_view::npos) end = fault_string.size();
    const std::string_view line = trim(fault_string.substr(start, end - start));
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) return "(empty faultString)";
  const bool traceback = lines.front().starts_with("Traceback (most recent call last)");
  std::string out(traceback ? lines.back() : lines.front());
  if (!traceback && lines.size() > 1) out += " (...)";
  constexpr std::size_t kMax = 300;
  if (out.size() > kMax) {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    out = out.substr(0, cut) + "...";
  }
  return out;
}

namespace {
core::SyncError::Kind fault_kind(int code) { return code == 3 ? Kind::auth : Kind::permanent; }
}  // namespace

XmlRpcFault::XmlRpcFault(int code, std::string fault_string, const std::string& context)
    : core::SyncError(fault_kind(code),
                      context + ": Odoo fault " + std::to_string(code) + ": " +
                          summarize_fault(fault_string)),
      code_(code),
      fault_string_(std::move(fault_string)),
      summary_(summarize_fault(fault_string_)) {}

// ---- messages -----------------------------------------------------------------------------------

std::string encode_call(std::string_view method, const std::vector<Value>& params) {
  std::string out = "<?xml version='1.0'?>\n<methodCall>\n<methodName>";
  escape_into(out, method);
  out += "</methodName>\n<params>\n";
  for (const Value& p : params) {
    out += "<param>\n";
    dump(out, p);
    out += "</param>\n";
  }
  out += "</params>\n</methodCall>\n";
  return out;
}

std::string encode_response(const Value& result) {
  std::string out = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n";
  dump(out, result);
  out += "</param>\n</params>\n\n</methodResponse>\n";
  return out;
}

std::string encode_fault(int code, std::string_view fault_string) {
  std::string out = "<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n";
  dump(out, Value::structure({{"faultCode", Value(code)}, {"faultString", Value(std::string(fault_string))}}));
  out += "</fault>\n\n</methodResponse>\n";
  return out;
}

Value decode_response(std::string_view body, const ParseLimits& limits, const std::string& what) {
  pugi::xml_document doc;
  parse_xml_bounded(doc, body, limits, what);
  const Decoder d{body, what};
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "methodResponse") {
    malformed(what, std::string("root element is <") + root.name() + ">, expected <methodResponse>");
  }
  if (const pugi::xml_node fault = root.child("fault")) {
    const pugi::xml_node fv = fault.child("value");
    if (!fv) d.fail(fault, "<fault> without <value>");
    const Value f = d.value(fv);
    if (f.type() != Value::Type::structure) d.fail(fv, "fault value is not a struct");
    const Value& code = require_struct_member(f, "faultCode", what);
    const Value& text = require_struct_member(f, "faultString", what);
    int c = 0;
    if (code.type() == Value::Type::integer) {
      c = static_cast<int>(code.as_int());
    } else if (code.type() == Value::Type::string) {
      // The legacy /xmlrpc/ endpoint sends string codes; keep the text, code 1.
      c = 1;
    } else {
      d.fail(fv, "faultCode is " + std::string(type_name(code.type())));
    }
    throw XmlRpcFault(c, text.type() == Value::Type::string ? text.as_string() : text.debug_string(),
                      what);
  }
  const pugi::xml_node params = root.child("params");
  if (!params) malformed(what, "<methodResponse> has neither <params> nor <fault>");
  pugi::xml_node param;
  int count = 0;
  for (pugi::xml_node p = params.first_child(); p; p = p.next_sibling()) {
    if (p.type() != pugi::node_element) continue;
    if (std::string_view(p.name()) != "param") d.fail(p, "<params> holds <" + std::string(p.name()) + ">");
    if (count++ == 0) param = p;
  }
  if (count != 1) malformed(what, "a response must hold exactly one <param>, this one holds " + std::to_string(count));
  const pugi::xml_node v = param.child("value");
  if (!v) d.fail(param, "<param> without <value>");
  return d.value(v);
}

MethodCall decode_call(std::string_view body, const ParseLimits& limits, const std::string& what) {
  pugi::xml_document doc;
  parse_xml_bounded(doc, body, limits, what);
  const Decoder d{body, what};
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "methodCall") {
    malformed(what, std::string("root element is <") + root.name() + ">, expected <methodCall>");
  }
  MethodCall call;
  call.method = std::string(trim(d.leaf_text(root.child("methodName"))));
  if (call.method.empty()) malformed(what, "<methodCall> without <methodName>");
  for (pugi::xml_node p = root.child("params").first_child(); p; p = p.next_sibling()) {
    if (p.type() != pugi::node_element) continue;
    const pugi::xml_node v = p.child("value");
    if (std::string_view(p.name()) != "param" || !v) d.fail(p, "bad <param>");
    call.params.push_back(d.value(v));
  }
  return call;
}

// ---- helpers --------------------------------------------------------------------------------------

std::optional<std::string> iso_to_odoo(std::string_view s) {
  // YYYYMMDDTHH:MM:SS, YYYY-MM-DDTHH:MM:SS, optionally with a trailing Z.
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  auto digits = [](std::string_view t) {
    for (char c : t) {
      if (c < '0' || c > '9') return false;
    }
    return !t.empty();
  };
  std::string_view y, mo, d, rest;
  if (s.size() == 17 && s[8] == 'T') {
    y = s.substr(0, 4), mo = s.substr(4, 2), d = s.substr(6, 2), rest = s.substr(9);
  } else if (s.size() == 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T') {
    y = s.substr(0, 4), mo = s.substr(5, 2), d = s.substr(8, 2), rest = s.substr(11);
  } else {
    return std::nullopt;
  }
  if (!digits(y) || !digits(mo) || !digits(d) || rest.size() != 8 || rest[2] != ':' ||
      rest[5] != ':' || !digits(rest.substr(0, 2)) || !digits(rest.substr(3, 2)) ||
      !digits(rest.substr(6, 2))) {
    return std::nullopt;
  }
  return std::string(y) + "-" + std::string(mo) + "-" + std::string(d) + " " + std::string(rest);
}

namespace {
constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kB64[(n >> 18) & 63], out += kB64[(n >> 12) & 63], out += kB64[(n >> 6) & 63], out += kB64[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kB64[(n >> 18) & 63], out += kB64[(n >> 12) & 63], out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kB64[(n >> 18) & 63], out += kB64[(n >> 12) & 63], out += kB64[(n >> 6) & 63], out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  int pad = 0;
  std::size_t symbols = 0;
  for (const char c : text) {
    if (is_space(c)) continue;
    if (c == '=') {
      ++pad;
      ++symbols;
      continue;
    }
    if (pad > 0) return std::nullopt;  // data after padding
    const std::size_t k = kB64.find(c);
    if (k == std::string_view::npos) return std::nullopt;
    ++symbols;
    acc = (acc << 6) | static_cast<unsigned>(k);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (symbols % 4 != 0 || pad > 2) return std::nullopt;
  return out;
}

}  // namespace erpsync::connectors::odoo
