#include "config/config.hpp"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "config/jsonc.hpp"
#include "config/options.hpp"

namespace erpsync::config {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

std::string ConfigWarning::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

core::MatchPolicy ConnectorConfig::match_policy(const std::string& stream) const {
  core::MatchPolicy p;
  p.connector = name;
  p.stream = stream;
  p.default_owner = default_owner;
  p.owners = owners;
  p.adopt_by = adopt_by;
  p.owner_authority = owner_authority;
  for (const StreamPlan& plan : streams())
    if (plan.kind == core::StreamKind::companies) p.company_stream = plan.name;
  return p;
}

const ConnectorConfig* Config::connector(std::string_view name) const {
  for (const auto& c : connectors)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

bool iequals_prefix(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != std::tolower(static_cast<unsigned char>(word[i])))
      return false;
  return true;
}

}  // namespace

std::string redact_odbc_passwords(std::string s) {
  for (std::string_view key : {"pwd=", "password="}) {
    std::size_t pos = 0;
    while (pos < s.size()) {
      bool at_key_start = pos == 0 || s[pos - 1] == ';' || s[pos - 1] == ' ' || s[pos - 1] == '"';
      if (at_key_start && iequals_prefix(s, pos, key)) {
        std::size_t start = pos + key.size();
        std::size_t end = start;
        if (end < s.size() && s[end] == '{') {
          end = s.find('}', end);
          end = end == std::string::npos ? s.size() : end + 1;
        } else {
          while (end < s.size() && s[end] != ';' && s[end] != '"' && s[end] != ' ') ++end;
        }
        s.replace(start, end - start, "***");
        pos = start + 3;
      } else {
        ++pos;
      }
    }
  }
  return s;
}

std::string Config::redact(std::string_view text) const {
  std::string out(text);
  // Longest first, so a secret containing another is replaced whole.
  std::vector<std::string> values = secret_values;
  std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& v : values) {
    if (v.size() < 3) continue;  // too short to redact without mangling every line
    std::size_t pos = 0;
    while ((pos = out.find(v, pos)) != std::string::npos) {
      out.replace(pos, v.size(), "***");
      pos += 3;
    }
  }
  return redact_odbc_passwords(std::move(out));
}

std::optional<Duration> parse_duration(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (n > (std::uint64_t{1} << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string_view unit = text.substr(i);
  std::int64_t ms_per_unit;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m") ms_per_unit = 60 * 1000;
  else if (unit == "h") ms_per_unit = 3600 * 1000;
  else if (unit == "d") ms_per_unit = 24LL * 3600 * 1000;
  else return std::nullopt;
  return Duration(static_cast<std::int64_t>(n) * ms_per_unit);
}

std::optional<double> parse_percentage(std::string_view text) {
  if (text.size() < 2 || text.back() != '%') return std::nullopt;
  std::string_view num = text.substr(0, text.size() - 1);
  std::size_t i = 0, digits = 0;
  while (i < num.size() && std::isdigit(static_cast<unsigned char>(num[i]))) ++i, ++digits;
  if (digits == 0) return std::nullopt;
  if (i < num.size() && num[i] == '.') {
    ++i;
    std::size_t frac = 0;
    while (i < num.size() && std::isdigit(static_cast<unsigned char>(num[i]))) ++i, ++frac;
    if (frac == 0) return std::nullopt;
  }
  if (i != num.size()) return std::nullopt;
  double v = std::strtod(std::string(num).c_str(), nullptr);
  if (v < 0 || v > 100) return std::nullopt;
  return v;
}

bool is_credential_header(std::string_view name) {
  for (std::string_view word : {"key", "token", "auth", "secret", "session", "cookie", "password", "signature"})
    for (std::size_t p = 0; p + word.size() <= name.size(); ++p)
      if (iequals_prefix(name, p, word)) return true;
  return false;
}

std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  out += s;
  return out + "\"";
}

std::vector<StreamPlan> listed_streams(const std::vector<std::string>& names,
                                       std::initializer_list<StreamPlan> offered) {
  std::vector<StreamPlan> out;
  for (const StreamPlan& s : offered)
    if (std::find(names.begin(), names.end(), s.name) != names.end()) out.push_back(s);
  return out;
}

Json OptionReader::get(const Json& obj, const std::string& key, std::string_view option) const {
  if (obj.is_object() && obj.contains(key)) return obj[key];
  const std::string path = prefix_ + std::string(option);
  for (const OptionSpec& o : options_)
    if (o.path == path) return default_value(o);
  return Json();
}

Duration OptionReader::duration(const Json& obj, const std::string& key, std::string_view option) const {
  return *parse_duration(get(obj, key, option).get<std::string>());
}

std::string OptionReader::str(const Json& obj, const std::string& key, std::string_view option) const {
  Json v = get(obj, key, option);
  return v.is_string() ? v.get<std::string>() : std::string();
}

TlsConfig OptionReader::tls(const Json& conn) const {
  TlsConfig t;
  if (!conn.contains("tls")) return t;
  const Json& j = conn["tls"];
  t.verify = get(j, "verify", "tls.verify").get<bool>();
  t.ca_file = str(j, "ca_file");
  t.client_cert = str(j, "client_cert");
  t.client_key = Secret(str(j, "client_key"));
  return t;
}

void check_auth(const Json& conn, const Loc& at, ErrorSink& errors,
                const std::map<std::string, std::vector<std::string>>& by_type) {
  if (!conn.contains("auth") || !conn["auth"].is_object()) return;
  const Json& auth = conn["auth"];
  Loc a = at.child("auth");
  if (!auth.contains("type") || !auth["type"].is_string()) return;
  auto it = by_type.find(auth["type"].get<std::string>());
  if (it == by_type.end()) return;
  std::set<std::string> all;
  for (const auto& [t, keys] : by_type) all.insert(keys.begin(), keys.end());
  for (const auto& k : it->second)
    if (!auth.contains(k))
      errors.error(a, "missing required key " + in_quotes(k) + " for auth type " + in_quotes(it->first));
  for (auto k = auth.begin(); k != auth.end(); ++k)
    if (k.key() != "type" && all.count(k.key()) &&
        std::find(it->second.begin(), it->second.end(), k.key()) == it->second.end())
      errors.error(a.child(k.key()), "not used by auth type " + in_quotes(it->first));
}

std::string default_instance_id() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

namespace {

// ---- files ------------------------------------------------------------------------------------

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return ss.str();
}

bool world_readable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0;
}

std::string json_type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number with a fraction";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "a value";
  }
}

std::string q(std::string_view s) { return in_quotes(s); }

std::string choices_text(std::string_view choices) {
  std::string out;
  std::string_view rest = choices;
  while (true) {
    auto bar = rest.find('|');
    if (!out.empty()) out += bar == std::string_view::npos ? " or " : ", ";
    out += q(rest.substr(0, bar));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// ---- the loader ---------------------------------------------------------------------------------

// The common options' defaults.
const OptionReader& common() {
  static const OptionReader reader(common_options(), "");
  return reader;
}

class Loader final : public ErrorSink {
 public:
  explicit Loader(const OptionTable& table) : table_(table) {}

  std::vector<ConfigError> errors;
  std::vector<ConfigWarning> warnings;
  std::vector<std::string> secret_keys;
  std::vector<std::string> secret_values;

  void error(const Loc& at, std::string message) override {
    errors.push_back({at.file->path, at.line(), at.key, std::move(message)});
  }
  void file_error(const std::string& file, int line, std::string message) {
    errors.push_back({file, line, "", std::move(message)});
  }

  // Loads and parses one file; nullptr (with an error recorded) when it cannot.
  std::unique_ptr<SourceFile> load_file(const std::string& path, const std::string& included_from = "",
                                        int include_line = 0) {
    std::string why;
    auto text = read_file(path, why);
    if (!text) {
      if (included_from.empty())
        file_error(path, 0, "cannot read the config file: " + why);
      else
        errors.push_back({included_from, include_line, "include", "cannot read included file " + path + ": " + why});
      return nullptr;
    }
    auto parsed = parse_jsonc(*text);
    if (!parsed.doc) {
      file_error(path, parsed.error.line,
                 "column " + std::to_string(parsed.error.column) + ": " + parsed.error.message);
      return nullptr;
    }
    auto f = std::make_unique<SourceFile>();
    f->path = path;
    f->dir = dir_of(path);
    f->world_readable = world_readable(path);
    f->doc = std::move(*parsed.doc);
    return f;
  }

  // ${env:NAME}, ${file:/path}, ${credential:NAME} inside `s`. `$${` is a literal `${`.
  // Returns false (with an error) when a reference cannot be resolved.
  bool expand(std::string& s, const Loc& at, bool& from_secret_store, bool& had_reference) {
    if (s.find('$') == std::string::npos) return true;
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
      if (s.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (s.compare(i, 2, "${") != 0) {
        out += s[i++];
        continue;
      }
      std::size_t close = s.find('}', i + 2);
      if (close == std::string::npos) {
        error(at, "unterminated ${...} reference (write $${ for a literal ${)");
        return false;
      }
      std::string ref = s.substr(i + 2, close - i - 2);
      had_reference = true;
      auto colon = ref.find(':');
      std::string kind = colon == std::string::npos ? ref : ref.substr(0, colon);
      std::string arg = colon == std::string::npos ? "" : ref.substr(colon + 1);
      if (colon == std::string::npos || arg.empty()) {
        error(at, "bad reference ${" + ref + "}: expected ${env:NAME}, ${file:/path} or ${credential:NAME}");
        return false;
      }
      if (kind == "env") {
        const char* v = std::getenv(arg.c_str());
        if (!v) {
          error(at, "environment variable " + arg + " is not set (referenced as ${env:" + arg + "})");
          return false;
        }
        out += v;
      } else if (kind == "file" || kind == "credential") {
        std::string path;
        if (kind == "file") {
          path = arg[0] == '/' ? arg : at.file->dir + "/" + arg;
        } else {
          if (arg.find('/') != std::string::npos || arg == "." || arg == "..") {
            error(at, "bad credential name \"" + arg + "\": expected a LoadCredential= name without '/'");
            return false;
          }
          const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
          if (!dir || !*dir) {
            error(at, "${credential:" + arg +
                          "} needs $CREDENTIALS_DIRECTORY, which is not set (run under systemd with LoadCredential=" +
                          arg + ":...)");
            return false;
          }
          path = std::string(dir) + "/" + arg;
        }
        std::string why;
        auto text = read_file(path, why);
        if (!text) {
          error(at, "cannot read " + path + " (referenced as ${" + ref + "}): " + why);
          return false;
        }
        if (!text->empty() && text->back() == '\n') {
          text->pop_back();
          if (!text->empty() && text->back() == '\r') text->pop_back();
        }
        out += *text;
        from_secret_store = true;
      } else {
        error(at, "unknown reference kind \"" + kind + "\" in ${" + ref +
                      "}: expected ${env:NAME}, ${file:/path} or ${credential:NAME}");
        return false;
      }
      i = close + 1;
    }
    s = std::move(out);
    return true;
  }

  // Expands a string value in place and records secrets and inline-secret warnings.
  bool expand_string(Json& v, const Loc& at, bool declared_secret) {
    std::string s = v.get<std::string>();
    const std::string raw = s;
    bool from_store = false, had_ref = false;
    if (!expand(s, at, from_store, had_ref)) return false;
    bool inline_odbc_password = false;
    if (at.key == "database.connection" && !had_ref) {
      for (std::string_view k : {"pwd=", "password="})
        for (std::size_t p = 0; p < raw.size(); ++p)
          if ((p == 0 || raw[p - 1] == ';') && iequals_prefix(raw, p, k)) inline_odbc_password = true;
    }
    if ((declared_secret || from_store) && !s.empty()) {
      secret_keys.push_back(at.key);
      secret_values.push_back(s);
    }
    if (at.file->world_readable && ((declared_secret && !had_ref && !raw.empty()) || inline_odbc_password)) {
      warnings.push_back({at.file->path, at.line(), at.key,
                          "a secret is written inline in a world-readable file: use ${file:...} or "
                          "${credential:...}, or make the file unreadable to others (chmod o-r)"});
    }
    v = s;
    return true;
  }

  // ---- generic validation against the option table ---------------------------------------

  // `pattern` is the option path of `v`; `ctype` the connector type when inside a connector.
  void validate(Json& v, const Loc& at, const std::string& pattern, const std::string& ctype) {
    const OptionSpec* spec = table_.find(pattern);
    if (!spec) return;  // callers only pass declared patterns
    switch (spec->type) {
      case OptionType::string:
        if (!v.is_string()) return error(at, "expected a string, got " + json_type_name(v));
        if (!expand_string(v, at, spec->secret)) return;
        if (!allowed_choice(*spec, v.get<std::string>()))
          error(at, "expected one of " + choices_text(spec->choices) + ", got " + q(v.get<std::string>()));
        return;
      case OptionType::integer: {
        if (!v.is_number_integer()) return error(at, "expected an integer, got " + json_type_name(v));
        auto n = v.get<std::int64_t>();
        if (n < spec->min || n > spec->max) {
          std::string range = spec->max == INT64_MAX ? "at least " + std::to_string(spec->min)
                                                     : "between " + std::to_string(spec->min) + " and " +
                                                           std::to_string(spec->max);
          error(at, "expected an integer " + range + ", got " + std::to_string(n));
        }
        return;
      }
      case OptionType::boolean:
        if (!v.is_boolean()) error(at, "expected true or false, got " + json_type_name(v));
        return;
      case OptionType::duration:
        if (!v.is_string())
          return error(at, "expected a duration string such as \"90s\", \"5m\", \"1h\" or \"7d\", got " +
                               json_type_name(v));
        if (!expand_string(v, at, false)) return;
        if (!parse_duration(v.get<std::string>()))
          error(at, "expected a duration such as \"500ms\", \"90s\", \"5m\", \"1h\" or \"7d\", got " +
                        q(v.get<std::string>()));
        return;
      case OptionType::percentage:
        if (!v.is_string()) return error(at, "expected a percentage string such as \"20%\", got " + json_type_name(v));
        if (!expand_string(v, at, false)) return;
        if (!parse_percentage(v.get<std::string>()))
          error(at, "expected a percentage between \"0%\" and \"100%\" such as \"20%\", got " +
                        q(v.get<std::string>()));
        return;
      case OptionType::array:
        if (!v.is_array()) return error(at, "expected an array, got " + json_type_name(v));
        for (std::size_t i = 0; i < v.size(); ++i) validate(v[i], at.item(i), pattern + "[]", ctype);
        return;
      case OptionType::map:
        if (!v.is_object()) return error(at, "expected an object of names to strings, got " + json_type_name(v));
        for (auto it = v.begin(); it != v.end(); ++it) validate(it.value(), at.child(it.key()), pattern + ".*", ctype);
        return;
      case OptionType::field_path:
        return validate_field_path(v, at);
      case OptionType::object:
        return validate_object(v, at, pattern, ctype);
    }
  }

  void validate_field_path(Json& v, const Loc& at) {
    if (v.is_string()) {
      expand_string(v, at, false);
      return;
    }
    if (!v.is_object())
      return error(at, "expected a path string or {\"path\": ..., \"map\": {...}}, got " + json_type_name(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      Loc c = at.child(it.key());
      if (it.key() == "path") {
        if (!it.value().is_string()) error(c, "expected a path string, got " + json_type_name(it.value()));
        else expand_string(it.value(), c, false);
      } else if (it.key() == "map") {
        if (!it.value().is_object()) {
          error(c, "expected an object mapping source values to values, got " + json_type_name(it.value()));
          continue;
        }
        for (auto m = it.value().begin(); m != it.value().end(); ++m) {
          Loc mc = c.child(m.key());
          if (!m.value().is_string()) error(mc, "expected a string, got " + json_type_name(m.value()));
          else expand_string(m.value(), mc, false);
        }
      } else {
        error(c, "unknown key " + q(it.key()) + " in a field mapping: expected \"path\" and optionally \"map\"");
      }
    }
    if (!v.contains("path")) error(at, "missing required key \"path\" in a field mapping");
  }

  // Child option path of `key` inside the object declared at `pattern`.
  std::string child_pattern(const std::string& pattern, const std::string& key, const std::string& ctype) const {
    if (pattern == "connectors[]") {
      std::string common = "connectors[]." + key;
      if (table_.find(common)) return common;
      return "connectors[" + ctype + "]." + key;
    }
    if (pattern.empty()) return key;
    return pattern + "." + key;
  }

  // Declared keys of the object at `pattern` (for suggestions and required checks).
  std::vector<const OptionSpec*> children(const std::string& pattern, const std::string& ctype) const {
    std::vector<std::string> prefixes;
    if (pattern == "connectors[]") {
      prefixes = {"connectors[].", "connectors[" + ctype + "]."};
    } else {
      prefixes = {pattern.empty() ? "" : pattern + "."};
    }
    std::vector<const OptionSpec*> out;
    for (const auto& o : table_.options()) {
      for (const auto& pre : prefixes) {
        std::string_view p = o.path;
        if (p.size() <= pre.size() || p.substr(0, pre.size()) != pre) continue;
        auto rest = p.substr(pre.size());
        if (rest.find('.') != std::string_view::npos || rest.find('[') != std::string_view::npos || rest == "*")
          continue;
        out.push_back(&o);
      }
    }
    return out;
  }

  static std::string last_segment(std::string_view path) {
    auto dot = path.rfind('.');
    return std::string(dot == std::string_view::npos ? path : path.substr(dot + 1));
  }

  void validate_object(Json& v, const Loc& at, const std::string& pattern, const std::string& ctype) {
    if (!v.is_object()) return error(at, "expected an object, got " + json_type_name(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& key = it.key();
      std::string cp = child_pattern(pattern, key, ctype);
      Loc c = at.child(key);
      if (!table_.find(cp)) {
        if (pattern == "connectors[]" && ctype.empty()) continue;  // type unknown: judged once it is fixed
        std::string msg = "unknown key " + q(key);
        std::string best;
        std::size_t best_d = 3;
        for (const auto* o : children(pattern, ctype)) {
          auto name = last_segment(o->path);
          auto d = edit_distance(key, name);
          if (d < best_d) best_d = d, best = name;
        }
        if (!best.empty()) msg += " (did you mean " + q(best) + "?)";
        else if (pattern == "connectors[]")
          msg += " for a connector of type " + q(ctype);
        error(c, msg);
        continue;
      }
      validate(it.value(), c, cp, ctype);
    }
    for (const auto* o : children(pattern, ctype)) {
      std::string name = last_segment(o->path);
      if (o->required && !v.contains(name)) {
        if (pattern == "connectors[]" && ctype.empty() && std::string_view(o->path).find("[]") == std::string_view::npos)
          continue;
        error(at, "missing required key " + q(name) + " (" + std::string(o->description) + ")");
      }
    }
  }

  // Validates one connector object; returns its type (nullptr when unknown).
  const ConnectorType* validate_connector(Json& v, const Loc& at) {
    if (!v.is_object()) {
      error(at, "expected a connector object, got " + json_type_name(v));
      return nullptr;
    }
    const ConnectorType* type = nullptr;
    if (v.contains("type") && v["type"].is_string()) type = table_.type(v["type"].get<std::string>());
    const std::string ctype = type ? std::string(type->name()) : std::string();
    validate_object(v, at, "connectors[]", ctype);
    if (!type) return nullptr;
    // Names key identities: [a-z0-9-]+.
    if (v.contains("name") && v["name"].is_string()) {
      const auto& n = v["name"].get_ref<const std::string&>();
      bool ok = !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      });
      if (!ok) error(at.child("name"), "expected a name of lowercase letters, digits and '-' ([a-z0-9-]+), got " + q(n));
    }
    if (v.contains("start_date") && v["start_date"].is_string() && !valid_start_date(v["start_date"].get<std::string>()))
      error(at.child("start_date"), "expected a UTC date \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM:SS\", got " +
                                        q(v["start_date"].get<std::string>()));
    if (v.contains("owners") && v["owners"].is_object())
      for (auto it = v["owners"].begin(); it != v["owners"].end(); ++it)
        if (it.value().is_string() && it.value().get<std::string>().empty())
          error(at.child("owners").child(it.key()), "expected a CRM login, got an empty string");
    type->check(v, at, *this);
    warn_plain_http(v, at, ctype);
    return type;
  }

  // SPEC §10: credentials over plain http:// can be read by anyone on the network path. Allowed
  // (a test system, a trusted segment), but said at start and at every reload, naming the
  // connector, the key and what to do.
  void warn_plain_http(const Json& v, const Loc& at, const std::string& ctype) {
    const std::string name = v.contains("name") && v["name"].is_string() ? v["name"].get<std::string>() : "?";
    auto plain = [](const Json& obj, const char* key) {
      return obj.contains(key) && obj[key].is_string() && obj[key].get<std::string>().rfind("http://", 0) == 0;
    };
    auto warn = [&](const Loc& where, const std::string& what) {
      warnings.push_back({where.file->path, where.line(), where.key,
                          "connector " + q(name) + " sends " + what +
                              " over plain http://, where anyone on the network path can read them: use https://"});
    };
    if (v.contains("enabled") && v["enabled"].is_boolean() && !v["enabled"].get<bool>()) return;  // sends nothing
    const bool has_auth = v.contains("auth") && v["auth"].is_object();
    if (ctype == "magento2" && plain(v, "base_url")) warn(at.child("base_url"), "its Magento credentials");
    if (ctype == "odoo" && plain(v, "url")) warn(at.child("url"), "its Odoo password or API key");
    if (ctype != "feed") return;
    if (plain(v, "url")) {
      std::string what;
      if (has_auth && v["auth"].contains("type") && v["auth"]["type"].is_string())
        what = "its credentials (auth " + v["auth"]["type"].get<std::string>() + ")";
      if (v.contains("headers") && v["headers"].is_object())
        for (auto h = v["headers"].begin(); h != v["headers"].end(); ++h)
          if (is_credential_header(h.key())) what += (what.empty() ? "its credential header " : " and header ") + h.key();
      if (!what.empty()) warn(at.child("url"), what);
    }
    if (has_auth && plain(v["auth"], "token_url"))
      warn(at.child("auth").child("token_url"), "its OAuth2 client secret");
  }

  static bool valid_start_date(const std::string& s) {
    auto digits = [&](std::size_t from, std::size_t n) {
      for (std::size_t i = from; i < from + n; ++i)
        if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      return true;
    };
    bool date = s.size() >= 10 && digits(0, 4) && s[4] == '-' && digits(5, 2) && s[7] == '-' && digits(8, 2);
    if (!date) return false;
    int mo = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
    if (s.size() == 10) return true;
    return s.size() == 19 && (s[10] == ' ' || s[10] == 'T') && digits(11, 2) && s[13] == ':' && digits(14, 2) &&
           s[16] == ':' && digits(17, 2) && std::stoi(s.substr(11, 2)) < 24 && std::stoi(s.substr(14, 2)) < 60 &&
           std::stoi(s.substr(17, 2)) < 60;
  }

  // ---- typed extraction (only on validated trees) ----------------------------------------

  static Json get(const Json& obj, const std::string& key, const std::string& option) {
    return common().get(obj, key, option);
  }
  static Duration dur(const Json& obj, const std::string& key, const std::string& option) {
    return common().duration(obj, key, option);
  }
  static std::string str(const Json& obj, const std::string& key, const std::string& option = "") {
    return common().str(obj, key, option);
  }

  static ConnectorConfig connector(const Json& v, const ConnectorType& type) {
    const std::string P = "connectors[].";
    ConnectorConfig c;
    c.name = v["name"].get<std::string>();
    c.enabled = get(v, "enabled", P + "enabled").get<bool>();
    c.poll_interval = dur(v, "poll_interval", P + "poll_interval");
    c.default_owner = str(v, "default_owner", P + "default_owner");
    if (v.contains("owners")) c.owners = v["owners"].get<std::map<std::string, std::string>>();
    for (const auto& a : get(v, "adopt_by", P + "adopt_by")) {
      auto f = *core::field_from_name(a.get<std::string>());
      if (std::find(c.adopt_by.begin(), c.adopt_by.end(), f) == c.adopt_by.end()) c.adopt_by.push_back(f);
    }
    c.owner_authority = str(v, "owner_authority", P + "owner_authority") == "source" ? core::OwnerAuthority::source
                                                                                    : core::OwnerAuthority::crm;
    c.park_ttl = dur(v, "park_ttl", P + "park_ttl");
    c.cursor_overlap = dur(v, "cursor_overlap", P + "cursor_overlap");
    if (v.contains("start_date")) c.start_date = v["start_date"].get<std::string>();
    c.type = type.name();
    c.settings = type.parse(v);
    return c;
  }

  static DatabaseConfig database(const Json& root) {
    const Json& d = root["database"];
    DatabaseConfig db;
    db.connection = d["connection"].get<std::string>();
    db.batch_size = get(d, "batch_size", "database.batch_size").get<int>();
    db.table_prefix = str(d, "table_prefix", "database.table_prefix");
    std::string m = str(d, "migrate", "database.migrate");
    db.migrate = m == "check" ? Migrate::check : m == "off" ? Migrate::off : Migrate::auto_;
    db.crm = str(d, "crm", "database.crm") == "suitecrm" ? CrmTarget::suitecrm : CrmTarget::erpsync;
    const Json sc = d.contains("suitecrm") ? d["suitecrm"] : Json::object();
    db.suitecrm.code_field = str(sc, "code_field", "database.suitecrm.code_field");
    db.suitecrm.sync_user = str(sc, "sync_user", "database.suitecrm.sync_user");
    if (sc.contains("account_type_map"))
      db.suitecrm.account_type_map = sc["account_type_map"].get<std::map<std::string, std::string>>();
    db.suitecrm.inactive = str(sc, "inactive", "database.suitecrm.inactive");
    db.suitecrm.vat_field = str(sc, "vat_field", "database.suitecrm.vat_field");
    return db;
  }

  static LogConfig log(const Json& root) {
    LogConfig l;
    Json j = root.contains("log") ? root["log"] : Json::object();
    l.level = str(j, "level", "log.level");
    l.format = str(j, "format", "log.format") == "json" ? LogFormat::json : LogFormat::text;
    if (j.contains("file")) l.file = j["file"].get<std::string>();
    return l;
  }

  // SPEC §5: the prefix starts every table, index and constraint name erpsync creates, so it is
  // an SQL identifier's start (the store checks it again: connectors/odbc/table_names.cpp).
  static std::string table_prefix_problem(const std::string& p) {
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!std::all_of(p.begin(), p.end(), ident))
      return "expected letters, digits and '_' only (it becomes part of SQL table names), got " + q(p);
    if (!p.empty() && std::isdigit(static_cast<unsigned char>(p.front())))
      return "expected a letter or '_' first (it begins SQL table names), got " + q(p);
    if (p.size() > 32)
      return "expected at most 32 characters (table and index names must stay within the engines' limits), got " +
             std::to_string(p.size());
    return {};
  }

  void check_database(const Json& root, const Loc& at) {
    if (!root.contains("database") || !root["database"].is_object()) return;
    const Json& d = root["database"];
    if (d.contains("table_prefix") && d["table_prefix"].is_string())
      if (auto problem = table_prefix_problem(d["table_prefix"].get_ref<const std::string&>()); !problem.empty())
        error(at.child("database").child("table_prefix"), problem);
    if (d.contains("connection") && d["connection"].is_string() && d["connection"].get<std::string>().empty())
      error(at.child("database").child("connection"), "expected an ODBC connection string, got an empty string");
    check_suitecrm(d, at.child("database"));
  }

  // database.crm "suitecrm" (SPEC §5 "CRM targets"): erpsync's own tables need a prefix beside
  // SuiteCRM's (its `accounts` and `contacts` would collide), and it writes as a SuiteCRM user.
  void check_suitecrm(const Json& d, const Loc& at) {
    const bool suitecrm = d.contains("crm") && d["crm"] == "suitecrm";
    const Json sc = d.contains("suitecrm") && d["suitecrm"].is_object() ? d["suitecrm"] : Json::object();
    if (suitecrm) {
      if (!d.contains("table_prefix") || !d["table_prefix"].is_string() ||
          d["table_prefix"].get<std::string>().empty())
        error(at.child("table_prefix"),
              "database.crm \"suitecrm\" needs a table_prefix (e.g. \"erpsync_\"): erpsync's own tables live beside "
              "SuiteCRM's, whose accounts and contacts tables they would otherwise collide with");
      if (!sc.contains("sync_user") || !sc["sync_user"].is_string() || sc["sync_user"].get<std::string>().empty())
        error(at.child("suitecrm").child("sync_user"),
              "database.crm \"suitecrm\" needs suitecrm.sync_user: the user_name of the SuiteCRM user erpsync writes as "
              "(created_by, modified_user_id)");
    }
    for (const char* key : {"code_field", "vat_field"}) {
      if (!sc.contains(key) || !sc[key].is_string()) continue;
      const auto& f = sc[key].get_ref<const std::string&>();
      if (f.empty() && std::string(key) == "vat_field") continue;  // none
      auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
      if (f.empty() || !std::all_of(f.begin(), f.end(), ident) || std::isdigit(static_cast<unsigned char>(f.front())))
        error(at.child("suitecrm").child(key),
              "expected the name of an accounts_cstm column (letters, digits and '_', e.g. \"external_code_c\"), got " + q(f));
    }
    if (sc.contains("account_type_map") && sc["account_type_map"].is_object())
      for (auto it = sc["account_type_map"].begin(); it != sc["account_type_map"].end(); ++it) {
        static const std::set<std::string> kRelationships = {"customer", "prospect", "partner", "reseller",
                                                             "distributor", "supplier", "other"};
        if (!kRelationships.count(it.key()))
          error(at.child("suitecrm").child("account_type_map").child(it.key()),
                "expected a relationship (customer, prospect, partner, reseller, distributor, supplier, other), got " +
                    q(it.key()));
        else if (it.value().is_string() && it.value().get<std::string>().size() > 50)
          error(at.child("suitecrm").child("account_type_map").child(it.key()),
                "expected an account_type key of at most 50 characters (accounts.account_type is varchar(50))");
      }
  }

 private:
  const OptionTable& table_;
};

// Validates the top level of `root` against the table, but only the keys in `only` when set.
void validate_top(Loader& L, const OptionTable& table, Json& root, const Loc& at, const std::set<std::string>* only) {
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    if (only && !only->count(key)) continue;
    if (key == "connectors") continue;  // handled connector by connector
    Loc c = at.child(key);
    if (!table.find(key)) {
      std::string msg = "unknown key " + q(key);
      std::string best;
      std::size_t best_d = 3;
      for (const auto& o : table.options()) {
        std::string_view p = o.path;
        if (p.find('.') != std::string_view::npos || p.find('[') != std::string_view::npos) continue;
        auto d = edit_distance(key, p);
        if (d < best_d) best_d = d, best = std::string(p);
      }
      if (!best.empty()) msg += " (did you mean " + q(best) + "?)";
      L.error(c, msg);
      continue;
    }
    L.validate(it.value(), c, key, "");
  }
  if (!root.contains("database")) L.error(at, "missing required key \"database\" (the ODBC database erpsync writes to)");
  L.check_database(root, at);
}

LoadResult finish(Loader& L, std::optional<Config> cfg) {
  LoadResult r;
  r.errors = std::move(L.errors);
  r.warnings = L.warnings;
  if (r.errors.empty() && cfg) {
    cfg->warnings = std::move(L.warnings);
    cfg->secret_keys = std::move(L.secret_keys);
    cfg->secret_values = std::move(L.secret_values);
    r.config = std::move(cfg);
  }
  return r;
}

}  // namespace

LoadResult load_config(const std::string& path, ConnectorTypes types) {
  const OptionTable table(types);
  Loader L(table);
  auto main = L.load_file(path);
  if (!main) return finish(L, std::nullopt);
  Json& root = main->doc.root;
  Loc top{main.get(), "", ""};
  if (!root.is_object()) {
    L.error(top, "expected a JSON object at the top of the file, got " + json_type_name(root));
    return finish(L, std::nullopt);
  }
  validate_top(L, table, root, top, nullptr);

  // Connectors of the main file, then one per included file.
  struct Unit {
    Json* v;
    Loc at;
    const ConnectorType* type;
  };
  std::vector<Unit> units;
  if (root.contains("connectors")) {
    Json& arr = root["connectors"];
    Loc al = top.child("connectors");
    if (!arr.is_array()) {
      L.error(al, "expected an array of connector objects, got " + json_type_name(arr));
    } else {
      for (std::size_t i = 0; i < arr.size(); ++i) units.push_back({&arr[i], al.item(i), nullptr});
    }
  }
  std::vector<std::unique_ptr<SourceFile>> included;
  if (root.contains("include") && root["include"].is_string()) {
    std::string pattern = root["include"].get<std::string>();
    if (!pattern.empty() && pattern[0] != '/') pattern = main->dir + "/" + pattern;
    glob_t g{};
    // A folder that does not exist is "no match" (fine); one that cannot be read is an error.
    static thread_local int glob_errno = 0;
    glob_errno = 0;
    auto on_error = [](const char*, int eerrno) -> int {
      if (eerrno == ENOENT || eerrno == ENOTDIR) return 0;
      glob_errno = eerrno;
      return 1;
    };
    int rc = ::glob(pattern.c_str(), 0, on_error, &g);
    Loc il = top.child("include");
    if (glob_errno != 0) {
      L.error(il, "cannot read the folder of include pattern " + q(pattern) + ": " + std::strerror(glob_errno));
    } else if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        auto f = L.load_file(g.gl_pathv[i], main->path, il.line());
        if (f) included.push_back(std::move(f));
      }
    }  // GLOB_NOMATCH: fine (SPEC §6)
    globfree(&g);
    for (auto& f : included) {
      std::size_t index = units.size();
      Loc at{f.get(), "", path_index("connectors", index)};
      if (!f->doc.root.is_object()) {
        L.error(at, "expected one connector object in an included file, got " + json_type_name(f->doc.root));
        continue;
      }
      units.push_back({&f->doc.root, at, nullptr});
    }
  }
  std::map<std::string, Loc> names;
  for (auto& u : units) {
    u.type = L.validate_connector(*u.v, u.at);
    if (u.v->is_object() && u.v->contains("name") && (*u.v)["name"].is_string()) {
      std::string n = (*u.v)["name"].get<std::string>();
      Loc nl = u.at.child("name");
      auto [it, fresh] = names.emplace(n, nl);
      if (!fresh)
        L.error(nl, "duplicate connector name " + q(n) + " (first declared in " + it->second.file->path + ":" +
                        std::to_string(it->second.line()) + ")");
    }
  }
  if (!L.errors.empty()) return finish(L, std::nullopt);

  Config cfg;
  cfg.path = path;
  cfg.database = Loader::database(root);
  cfg.log = Loader::log(root);
  cfg.workers = Loader::get(root, "workers", "workers").get<int>();
  if (root.contains("metrics") && root["metrics"].contains("listen"))
    cfg.metrics.listen = root["metrics"]["listen"].get<std::string>();
  Json cluster = root.contains("cluster") ? root["cluster"] : Json::object();
  cfg.cluster.instance_id = cluster.contains("instance_id") ? cluster["instance_id"].get<std::string>()
                                                            : default_instance_id();
  cfg.cluster.lease_ttl = Loader::dur(cluster, "lease_ttl", "cluster.lease_ttl");
  Json retention = root.contains("retention") ? root["retention"] : Json::object();
  cfg.retention.runs = Loader::dur(retention, "runs", "retention.runs");
  cfg.retention.resolved_rejections = Loader::dur(retention, "resolved_rejections", "retention.resolved_rejections");
  for (auto& u : units) {
    ConnectorConfig c = Loader::connector(*u.v, *u.type);
    c.file = u.at.file->path;
    c.line = u.at.line();
    cfg.connectors.push_back(std::move(c));
  }
  return finish(L, std::move(cfg));
}

LoadResult load_database_only(const std::string& path) {
  const OptionTable table({});
  Loader L(table);
  auto main = L.load_file(path);
  if (!main) return finish(L, std::nullopt);
  Json& root = main->doc.root;
  Loc top{main.get(), "", ""};
  if (!root.is_object()) {
    L.error(top, "expected a JSON object at the top of the file, got " + json_type_name(root));
    return finish(L, std::nullopt);
  }
  const std::set<std::string> only = {"database", "log"};
  validate_top(L, table, root, top, &only);
  if (!L.errors.empty()) return finish(L, std::nullopt);
  Config cfg;
  cfg.path = path;
  cfg.database = Loader::database(root);
  cfg.log = Loader::log(root);
  return finish(L, std::move(cfg));
}

}  // namespace erpsync::config
