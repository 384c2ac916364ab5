#include "connectors/feed/feed_conf.hpp"

#include <iconv.h>

#include <cctype>
#include <set>

#include <pugixml.hpp>

namespace erpsync::connectors::feed {

using config::ErrorSink;
using config::Json;
using config::Loc;
using config::in_quotes;

std::vector<config::StreamPlan> FeedConfig::streams() const {
  std::vector<config::StreamPlan> out{{"accounts", core::StreamKind::companies}};
  if (has_contacts_file()) out.push_back({"contacts", core::StreamKind::contacts});
  return out;
}

namespace {

using T = config::OptionType;

// clang-format off
const config::OptionSpec kOptions[] = {
  {"connectors[feed].url", T::string, "", "file:///path, http:// or https://.", true},
  {"connectors[feed].format", T::string, "", "Document format.", true, false, "xml|json|csv"},
  {"connectors[feed].records", T::string, "", "One node per company: an XPath from the document root (xml) or a JSON Pointer to an array (json); required for xml and json, not used by csv."},
  {"connectors[feed].fields", T::object, "", "Account fields, each a path relative to the record or {\"path\", \"map\"}.", true},
  {"connectors[feed].fields.remote_id", T::field_path, "", "The ERP's id apart from the code (default: the External Code, else a hash of the mapped fields)."},
  {"connectors[feed].fields.external_code", T::field_path, "", "The External Code.", true},
  {"connectors[feed].fields.name", T::field_path, "", "Account name."},
  {"connectors[feed].fields.owner", T::field_path, "", "Owner value (CRM login, or a key of `owners`)."},
  {"connectors[feed].fields.member_of", T::field_path, "", "Parent Account's External Code."},
  {"connectors[feed].fields.relationship", T::field_path, "", "customer|prospect|partner|reseller|distributor|supplier|other (map source codes with {\"path\", \"map\"})."},
  {"connectors[feed].fields.email", T::field_path, "", "E-mail."},
  {"connectors[feed].fields.phone", T::field_path, "", "Phone."},
  {"connectors[feed].fields.vat", T::field_path, "", "VAT number."},
  {"connectors[feed].fields.street", T::field_path, "", "Street."},
  {"connectors[feed].fields.city", T::field_path, "", "City."},
  {"connectors[feed].fields.postcode", T::field_path, "", "Postcode."},
  {"connectors[feed].fields.country", T::field_path, "", "Country."},
  {"connectors[feed].fields.active", T::field_path, "", "true/false, 1/0, yes/no, y/n (any case); absent: true."},
  {"connectors[feed].contacts", T::object, "", "Contact persons of each company record."},
  {"connectors[feed].contacts.records", T::string, "", "Contacts, relative to the company record (XPath, or JSON Pointer to an array); required for xml and json, not used by csv."},
  {"connectors[feed].contacts.fields", T::object, "", "Contact fields.", true},
  {"connectors[feed].contacts.fields.remote_id", T::field_path, "", "Contact id."},
  {"connectors[feed].contacts.fields.first_name", T::field_path, "", "First name."},
  {"connectors[feed].contacts.fields.last_name", T::field_path, "", "Last name."},
  {"connectors[feed].contacts.fields.email", T::field_path, "", "E-mail."},
  {"connectors[feed].contacts.fields.phone", T::field_path, "", "Phone."},
  {"connectors[feed].contacts.fields.active", T::field_path, "", "true/false, 1/0, yes/no, y/n; absent: true."},
  {"connectors[feed].max_shrink", T::percentage, "\"20%\"", "Refuse a snapshot smaller than the last one by more than this."},
  {"connectors[feed].allow_empty", T::boolean, "false", "Accept an empty snapshot."},
  {"connectors[feed].stable_for", T::duration, "\"5s\"", "file://: read only once the file's mtime is at least this old."},
  {"connectors[feed].max_size", T::integer, "268435456", "Largest document in bytes.", false, false, {}, 1, INT64_MAX},
  {"connectors[feed].max_depth", T::integer, "64", "Deepest nesting of the document.", false, false, {}, 2, 1000},
  {"connectors[feed].auth", T::object, "", "HTTP authentication."},
  {"connectors[feed].auth.type", T::string, "", "HTTP authentication scheme.", true, false, "basic|bearer|oauth2_client_credentials"},
  {"connectors[feed].auth.username", T::string, "", "basic: user name."},
  {"connectors[feed].auth.password", T::string, "", "basic: password.", false, true},
  {"connectors[feed].auth.token", T::string, "", "bearer: token.", false, true},
  {"connectors[feed].auth.token_url", T::string, "", "oauth2_client_credentials: token endpoint."},
  {"connectors[feed].auth.client_id", T::string, "", "oauth2_client_credentials: client id.", false, true},
  {"connectors[feed].auth.client_secret", T::string, "", "oauth2_client_credentials: client secret.", false, true},
  {"connectors[feed].auth.scope", T::string, "", "oauth2_client_credentials: scope."},
  {"connectors[feed].headers", T::map, "", "Extra request headers."},
  {"connectors[feed].headers.*", T::string, "", "Header value."},
  {"connectors[feed].paging", T::object, "", "HTTP paging; default {\"type\": \"none\"}."},
  {"connectors[feed].paging.type", T::string, "\"none\"", "none, page (page number), offset, next_link (URL in the body).", false, false, "none|page|offset|next_link"},
  {"connectors[feed].paging.param", T::string, "", "page/offset: query parameter of the page number or offset."},
  {"connectors[feed].paging.size_param", T::string, "", "page/offset: query parameter of the page size."},
  {"connectors[feed].paging.size", T::integer, "500", "page/offset: page size.", false, false, {}, 1, 100000},
  {"connectors[feed].paging.start", T::integer, "1", "page: number of the first page.", false, false, {}, 0, INT64_MAX},
  {"connectors[feed].paging.next_link", T::string, "", "next_link: path of the next URL in the body (XPath or JSON Pointer)."},
  {"connectors[feed].cursor", T::object, "", "\"Changed since\" support; without it the feed is a full snapshot."},
  {"connectors[feed].cursor.field", T::string, "", "Path of the change time in the record.", true},
  {"connectors[feed].cursor.param", T::string, "", "Query parameter carrying the filter.", true},
  {"connectors[feed].cursor.template", T::string, "\"{cursor}\"", "Filter text; {cursor} is replaced by the cursor time."},
  {"connectors[feed].cursor.order_param", T::string, "", "Query parameter of the sort order."},
  {"connectors[feed].cursor.order", T::string, "", "Sort order value."},
  {"connectors[feed].cursor.timezone", T::string, "\"UTC\"", "Time zone of the source's times without an offset and of the {cursor} value sent: UTC or a fixed offset such as \"+01:00\"."},
  {"connectors[feed].cursor.granularity", T::string, "\"second\"", "Precision of the source's times; the overlap widens to match.", false, false, "second|day"},
  {"connectors[feed].max_pages", T::integer, "10000", "Most pages one run reads; more is an error (a source whose paging never ends).", false, false, {}, 1, INT64_MAX},
  {"connectors[feed].max_snapshot_size", T::integer, "2147483648", "Most bytes a snapshot's pages add up to (they are held until written); more is an error.", false, false, {}, 1, INT64_MAX},
  {"connectors[feed].csv", T::object, "{}", "format csv: the file's dialect (SPEC §4.3 \"CSV\")."},
  {"connectors[feed].csv.delimiter", T::string, "\",\"", "Field delimiter: one character (\";\", \"\\t\", \"|\" ...)."},
  {"connectors[feed].csv.quote", T::string, "\"\\\"\"", "Quote character: one character; a quoted field may hold the delimiter, doubled quotes and line breaks."},
  {"connectors[feed].csv.header", T::boolean, "true", "The first row names the columns (fields name them); false: fields name columns by number, \"1\" the first."},
  {"connectors[feed].csv.skip_lines", T::integer, "0", "Lines skipped before the header (or the first row) of the file and of the contacts file: an export's title lines.", false, false, {}, 0, 1000},
  {"connectors[feed].contacts.url", T::string, "", "format csv: the contacts file (file://, http:// or https://), read with the same csv settings and encoding."},
  {"connectors[feed].contacts.company_key", T::string, "", "format csv: the contacts file's column holding the company's remote id."},
  {"connectors[feed].encoding", T::string, "\"utf-8\"", "The document's encoding, converted to UTF-8 before parsing (iconv's names: windows-1252, iso-8859-15 ...); an XML declaration's encoding wins."},
  {"connectors[feed].timeout", T::duration, "\"60s\"", "Per-request timeout."},
  {"connectors[feed].tls", T::object, "{}", "TLS settings."},
  {"connectors[feed].tls.verify", T::boolean, "true", "Verify the server certificate."},
  {"connectors[feed].tls.ca_file", T::string, "", "CA bundle (PEM) instead of the system's."},
  {"connectors[feed].tls.client_cert", T::string, "", "Client certificate (PEM); not supported yet by this build."},
  {"connectors[feed].tls.client_key", T::string, "", "Client key (PEM); not supported yet by this build.", false, true},
};
// clang-format on

const std::set<std::string> kRelationships = {"customer", "prospect", "partner", "reseller",
                                              "distributor", "supplier", "other"};

// The checks of one feed connector object.
std::string_view option_description(std::string_view path) {
  for (const config::OptionSpec& o : kOptions)
    if (o.path == path) return o.description;
  return {};
}

class FeedChecks {
 public:
  explicit FeedChecks(ErrorSink& errors) : errors_(errors) {}

  void check_path(const std::string& path, const std::string& format, const Loc& at, bool records) {
    if (format == "csv") {
      if (path.empty()) error(at, "expected a column name of the header (or a column number such as \"3\"), got an empty string");
      return;
    }
    if (format == "json") {
      if (!path.empty() && path[0] != '/') {
        error(at, "expected a JSON Pointer such as \"/name\" (format is json), got " + q(path));
        return;
      }
      try {
        nlohmann::json::json_pointer p(path);
      } catch (const std::exception& e) {
        error(at, "bad JSON Pointer " + q(path) + ": " + e.what());
      }
    } else {
      if (path.empty()) {
        error(at, "expected an XPath, got an empty string");
        return;
      }
      try {
        pugi::xpath_query query(path.c_str());
        if (records && query.return_type() != pugi::xpath_type_node_set)
          error(at, "expected an XPath that selects nodes, got " + q(path));
      } catch (const pugi::xpath_exception& e) {
        error(at, "bad XPath " + q(path) + ": " + e.what() + " at offset " +
                      std::to_string(e.result().offset));
      }
    }
  }

  void check_fields(const Json& fields, const std::string& format, const Loc& at, bool account) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      Loc c = at.child(it.key());
      const Json& f = it.value();
      if (f.is_string()) {
        check_path(f.get<std::string>(), format, c, false);
      } else if (f.is_object() && f.contains("path") && f["path"].is_string()) {
        check_path(f["path"].get<std::string>(), format, c.child("path"), false);
        if (account && it.key() == "relationship" && f.contains("map") && f["map"].is_object())
          for (auto m = f["map"].begin(); m != f["map"].end(); ++m)
            if (m.value().is_string() && !kRelationships.count(m.value().get<std::string>()))
              error(c.child("map").child(m.key()),
                    "maps to " + q(m.value().get<std::string>()) +
                        ": expected one of \"customer\", \"prospect\", \"partner\", \"reseller\", "
                        "\"distributor\", \"supplier\" or \"other\"");
      }
    }
  }

  void check_feed(const Json& v, const Loc& at) {
    if (v.contains("url") && v["url"].is_string()) {
      const std::string url = v["url"].get<std::string>();
      Loc u = at.child("url");
      const bool http = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
      if (url.rfind("file://", 0) == 0) {
        std::string rest = url.substr(7);
        if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);
        if (rest.empty() || rest[0] != '/' || rest == "/")
          error(u, "expected an absolute file URL such as \"file:///srv/erp/accounts.xml\", got " + q(url));
      } else if (!http) {
        error(u, "expected a file://, http:// or https:// URL, got " + q(url));
      }
    }
    const std::string format = v.contains("format") && v["format"].is_string() ? v["format"].get<std::string>() : "";
    // Required for xml and json (and while the format is unknown): only csv has no records path.
    if (format != "csv" && !v.contains("records"))
      error(at, "missing required key \"records\" (" + std::string(option_description("connectors[feed].records")) + ")");
    if (format.empty()) return;
    check_csv_settings(v, at, format);
    if (format != "xml" && format != "json" && format != "csv") return;
    if (format != "csv" && v.contains("contacts") && v["contacts"].is_object() && !v["contacts"].contains("records"))
      error(at.child("contacts"), "missing required key \"records\" (format " + format + ")");
    if (format == "csv" && v.contains("records")) error(at.child("records"), "not used by format \"csv\": every row is a record");
    if (v.contains("records") && v["records"].is_string())
      check_path(v["records"].get<std::string>(), format, at.child("records"), true);
    if (v.contains("fields") && v["fields"].is_object()) check_fields(v["fields"], format, at.child("fields"), true);
    if (v.contains("contacts") && v["contacts"].is_object()) {
      const Json& c = v["contacts"];
      Loc cl = at.child("contacts");
      if (c.contains("records") && c["records"].is_string())
        check_path(c["records"].get<std::string>(), format, cl.child("records"), true);
      if (c.contains("fields") && c["fields"].is_object()) check_fields(c["fields"], format, cl.child("fields"), false);
    }
    config::check_auth(v, at, errors_,
                       {{"basic", {"username", "password"}},
                        {"bearer", {"token"}},
                        {"oauth2_client_credentials", {"token_url", "client_id", "client_secret"}}});
    if (v.contains("paging") && v["paging"].is_object()) {
      const Json& p = v["paging"];
      std::string t = p.value("type", "none");
      Loc pl = at.child("paging");
      if ((t == "page" || t == "offset") && !p.contains("param"))
        error(pl, "missing required key \"param\" for paging type " + q(t));
      if (t == "next_link" && !p.contains("next_link"))
        error(pl, "missing required key \"next_link\" for paging type \"next_link\"");
      if (t == "next_link" && p.contains("next_link") && p["next_link"].is_string())
        check_path(p["next_link"].get<std::string>(), format, pl.child("next_link"), false);
    }
    check_feed_http(v, at, format);
  }

  // HTTP-only options (auth, headers, paging, cursor, timeout, tls) and the cursor's values.
  // The CSV and encoding options (SPEC §4.3 "CSV", "Encodings"): one-character delimiter and
  // quote, a contacts file with its company_key (csv only), no paging for csv, an encoding
  // iconv knows.
  void check_csv_settings(const Json& v, const Loc& at, const std::string& format) {
    const bool csv = format == "csv";
    if (v.contains("csv") && !csv) error(at.child("csv"), "only for format \"csv\", got format " + q(format));
    if (csv && v.contains("csv") && v["csv"].is_object()) {
      const Json& c = v["csv"];
      for (const char* key : {"delimiter", "quote"})
        if (c.contains(key) && c[key].is_string() && c[key].get<std::string>().size() != 1)
          error(at.child("csv").child(key), "expected one character, got " + q(c[key].get<std::string>()));
      if (c.value("delimiter", ",") == c.value("quote", "\""))
        error(at.child("csv"), "delimiter and quote must differ");
      // Without a header, columns are numbered: every path must be a column number.
      if (c.contains("header") && c["header"].is_boolean() && !c["header"].get<bool>()) {
        auto numbered = [&](const Json& fields, const Loc& fl) {
          for (auto it = fields.begin(); it != fields.end(); ++it) {
            const Json& f = it.value();
            const Json& p = f.is_object() && f.contains("path") ? f["path"] : f;
            if (!p.is_string()) continue;
            const std::string path = p.get<std::string>();
            const bool number = !path.empty() && path.size() <= 6 && path[0] != '0' &&
                                std::all_of(path.begin(), path.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
            if (!number)
              error(fl.child(it.key()), "expected a column number such as \"3\" (csv.header is false), got " + q(path));
          }
        };
        if (v.contains("fields") && v["fields"].is_object()) numbered(v["fields"], at.child("fields"));
        if (v.contains("contacts") && v["contacts"].is_object() && v["contacts"].contains("fields") &&
            v["contacts"]["fields"].is_object())
          numbered(v["contacts"]["fields"], at.child("contacts").child("fields"));
      }
    }
    if (v.contains("contacts") && v["contacts"].is_object()) {
      const Json& c = v["contacts"];
      Loc cl = at.child("contacts");
      for (const char* key : {"url", "company_key"}) {
        if (csv && !c.contains(key)) error(cl, std::string("missing required key \"") + key + "\" (format csv: contacts come from a second file)");
        if (!csv && c.contains(key)) error(cl.child(key), "only for format \"csv\" (xml and json contacts are inside the company record: use records)");
      }
      if (csv && c.contains("records")) error(cl.child("records"), "not used by format \"csv\": contacts come from contacts.url, keyed by company_key");
      if (csv && c.contains("url") && c["url"].is_string()) {
        const std::string u = c["url"].get<std::string>();
        if (u.rfind("file:///", 0) != 0 && u.rfind("file://localhost/", 0) != 0 && u.rfind("http://", 0) != 0 &&
            u.rfind("https://", 0) != 0)
          error(cl.child("url"), "expected a file://, http:// or https:// URL, got " + q(u));
      }
    }
    if (csv && v.contains("paging") && v["paging"].is_object() && v["paging"].value("type", "none") != "none")
      error(at.child("paging"), "format csv has no paging: a CSV export is read whole, as one document");
    if (v.contains("encoding") && v["encoding"].is_string()) {
      const std::string e = v["encoding"].get<std::string>();
      iconv_t cd = ::iconv_open("UTF-8", e.c_str());
      if (cd == reinterpret_cast<iconv_t>(-1))
        error(at.child("encoding"), "unknown encoding " + q(e) + " (expected a name iconv knows, such as \"utf-8\", \"windows-1252\", \"iso-8859-15\"; `iconv -l` lists them)");
      else
        ::iconv_close(cd);
    }
  }

  void check_feed_http(const Json& v, const Loc& at, const std::string& format) {
    const bool http = v.contains("url") && v["url"].is_string() &&
                      (v["url"].get<std::string>().rfind("http://", 0) == 0 ||
                       v["url"].get<std::string>().rfind("https://", 0) == 0);
    if (!http && v.contains("url") && v["url"].is_string() && v["url"].get<std::string>().rfind("file://", 0) == 0) {
      // A file has no request to authenticate, page or filter: such keys would be ignored.
      for (const char* key : {"auth", "headers", "paging", "cursor", "timeout", "tls", "max_pages", "max_snapshot_size"})
        if (v.contains(key))
          error(at.child(key), std::string("only for http:// and https:// feeds") +
                                   (std::string_view(key) == "cursor"
                                        ? " (the cursor is a request parameter); a file is read whole as a snapshot"
                                        : ""));
    }
    if (v.contains("auth") && v["auth"].is_object() && v["auth"].contains("token_url") &&
        v["auth"]["token_url"].is_string()) {
      const std::string u = v["auth"]["token_url"].get<std::string>();
      if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
        error(at.child("auth").child("token_url"), "expected an http:// or https:// URL, got " + q(u));
    }
    if (v.contains("tls") && v["tls"].is_object())
      for (const char* key : {"client_cert", "client_key"})
        if (v["tls"].contains(key))
          error(at.child("tls").child(key), "TLS client certificates are not supported yet by this build");
    if (v.contains("cursor") && v["cursor"].is_object()) {
      const Json& c = v["cursor"];
      Loc cl = at.child("cursor");
      if (c.contains("field") && c["field"].is_string())
        check_path(c["field"].get<std::string>(), format, cl.child("field"), false);
      if (c.contains("template") && c["template"].is_string() &&
          c["template"].get<std::string>().find("{cursor}") == std::string::npos)
        error(cl.child("template"), "expected a filter text containing {cursor}, got " + q(c["template"].get<std::string>()));
      if (c.contains("timezone") && c["timezone"].is_string() && !valid_timezone(c["timezone"].get<std::string>()))
        error(cl.child("timezone"), "expected \"UTC\" or a fixed offset such as \"+01:00\" or \"-05:00\", got " +
                                        q(c["timezone"].get<std::string>()) +
                                        " (named zones are not supported: their offset changes with daylight saving time)");
      if (c.contains("order_param") != c.contains("order"))
        error(cl, "order_param and order go together: set both or neither");
    }
  }

  // "UTC", "Z", "±HH:MM", "±HHMM", "±HH", "UTC±HH:MM" (connectors/feed/cursor_time.hpp reads them).
  static bool valid_timezone(std::string tz) {
    if (tz == "UTC" || tz == "utc" || tz == "Z") return true;
    if (tz.rfind("UTC", 0) == 0) tz = tz.substr(3);
    if (tz.empty() || (tz[0] != '+' && tz[0] != '-')) return false;
    auto d = [&](std::size_t i) { return i < tz.size() && std::isdigit(static_cast<unsigned char>(tz[i])); };
    int h = -1, m = 0;
    if (tz.size() == 3 && d(1) && d(2)) {
      h = std::stoi(tz.substr(1, 2));
    } else if (tz.size() == 5 && d(1) && d(2) && d(3) && d(4)) {
      h = std::stoi(tz.substr(1, 2));
      m = std::stoi(tz.substr(3, 2));
    } else if (tz.size() == 6 && d(1) && d(2) && tz[3] == ':' && d(4) && d(5)) {
      h = std::stoi(tz.substr(1, 2));
      m = std::stoi(tz.substr(4, 2));
    }
    return h >= 0 && h <= 23 && m <= 59;
  }

 private:
  void error(const Loc& at, std::string message) { errors_.error(at, std::move(message)); }
  static std::string q(std::string_view s) { return in_quotes(s); }

  ErrorSink& errors_;
};

FieldPath field_path(const Json& f) {
  FieldPath fp;
  if (f.is_string()) {
    fp.path = f.get<std::string>();
  } else {
    fp.path = f["path"].get<std::string>();
    if (f.contains("map")) {
      std::map<std::string, std::string> m;
      for (auto it = f["map"].begin(); it != f["map"].end(); ++it) m[it.key()] = it.value().get<std::string>();
      fp.map = std::move(m);
    }
  }
  return fp;
}

class FeedType final : public config::ConnectorType {
 public:
  std::string_view name() const override { return "feed"; }
  std::string_view description() const override {
    return "a mapped XML, JSON or CSV document from a file or URL (SPEC §4.3)";
  }
  std::span<const config::OptionSpec> options() const override { return kOptions; }
  void check(const Json& conn, const Loc& at, ErrorSink& errors) const override { FeedChecks(errors).check_feed(conn, at); }

  std::shared_ptr<const config::ConnectorSettings> parse(const Json& v) const override {
    auto out = std::make_shared<FeedConfig>();
    FeedConfig& f = *out;
    f.url = v["url"].get<std::string>();
    const std::string format = v["format"].get<std::string>();
    f.format = format == "json" ? FeedFormat::json : format == "csv" ? FeedFormat::csv : FeedFormat::xml;
    f.records = read_.str(v, "records");
    for (auto it = v["fields"].begin(); it != v["fields"].end(); ++it)
      f.fields[static_cast<std::size_t>(*core::field_from_name(it.key()))] = field_path(it.value());
    if (v.contains("contacts")) {
      FeedContactsConfig c;
      c.records = read_.str(v["contacts"], "records");
      const Json& cf = v["contacts"]["fields"];
      for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
        auto name = std::string(core::contact_field_name(static_cast<core::ContactField>(i)));
        if (cf.contains(name)) c.fields[i] = field_path(cf[name]);
      }
      f.contacts = std::move(c);
    }
    f.max_shrink_percent = *config::parse_percentage(read_.get(v, "max_shrink", "max_shrink").get<std::string>());
    f.allow_empty = read_.get(v, "allow_empty", "allow_empty").get<bool>();
    f.stable_for = read_.duration(v, "stable_for", "stable_for");
    f.max_size = read_.get(v, "max_size", "max_size").get<std::int64_t>();
    f.max_depth = read_.get(v, "max_depth", "max_depth").get<int>();
    f.timeout = read_.duration(v, "timeout", "timeout");
    f.max_pages = read_.get(v, "max_pages", "max_pages").get<std::int64_t>();
    f.max_snapshot_size = read_.get(v, "max_snapshot_size", "max_snapshot_size").get<std::int64_t>();
    if (v.contains("auth")) {
      const Json& a = v["auth"];
      std::string t = a["type"].get<std::string>();
      f.auth.type = t == "basic"    ? FeedAuth::Type::basic
                    : t == "bearer" ? FeedAuth::Type::bearer
                                    : FeedAuth::Type::oauth2_client_credentials;
      f.auth.username = read_.str(a, "username");
      f.auth.password = Secret(read_.str(a, "password"));
      f.auth.token = Secret(read_.str(a, "token"));
      f.auth.token_url = read_.str(a, "token_url");
      f.auth.client_id = Secret(read_.str(a, "client_id"));
      f.auth.client_secret = Secret(read_.str(a, "client_secret"));
      f.auth.scope = read_.str(a, "scope");
    }
    if (v.contains("headers"))
      for (auto it = v["headers"].begin(); it != v["headers"].end(); ++it) f.headers[it.key()] = it.value();
    if (v.contains("paging")) {
      const Json& p = v["paging"];
      std::string t = read_.str(p, "type", "paging.type");
      f.paging.type = t == "page"     ? FeedPaging::Type::page
                      : t == "offset" ? FeedPaging::Type::offset
                      : t == "next_link" ? FeedPaging::Type::next_link
                                         : FeedPaging::Type::none;
      f.paging.param = read_.str(p, "param");
      f.paging.size_param = read_.str(p, "size_param");
      f.paging.size = read_.get(p, "size", "paging.size").get<std::int64_t>();
      f.paging.start = read_.get(p, "start", "paging.start").get<std::int64_t>();
      f.paging.next_link = read_.str(p, "next_link");
    }
    if (v.contains("cursor")) {
      const Json& c = v["cursor"];
      FeedCursor fc;
      fc.field = read_.str(c, "field");
      fc.param = read_.str(c, "param");
      fc.template_ = read_.str(c, "template", "cursor.template");
      fc.order_param = read_.str(c, "order_param");
      fc.order = read_.str(c, "order");
      fc.timezone = read_.str(c, "timezone", "cursor.timezone");
      fc.granularity = read_.str(c, "granularity", "cursor.granularity");
      f.cursor = std::move(fc);
    }
    f.tls = read_.tls(v);
    csv_settings(v, f);
    return out;
  }

 private:
  // The CSV dialect, contacts file and encoding of a validated feed (see check_csv_settings).
  void csv_settings(const Json& v, FeedConfig& f) const {
    const Json c = read_.get(v, "csv", "csv");
    f.csv.delimiter = read_.str(c, "delimiter", "csv.delimiter")[0];
    f.csv.quote = read_.str(c, "quote", "csv.quote")[0];
    f.csv.header = read_.get(c, "header", "csv.header").get<bool>();
    f.csv.skip_lines = read_.get(c, "skip_lines", "csv.skip_lines").get<int>();
    if (v.contains("contacts")) {
      f.csv.contacts_url = read_.str(v["contacts"], "url");
      f.csv.company_key = read_.str(v["contacts"], "company_key");
    }
    f.encoding = read_.str(v, "encoding", "encoding");
  }

  config::OptionReader read_{kOptions, "connectors[feed]."};
};

}  // namespace

const config::ConnectorType& connector_type() {
  static const FeedType type;
  return type;
}

}  // namespace erpsync::connectors::feed
