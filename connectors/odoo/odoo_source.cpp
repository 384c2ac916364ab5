#include "connectors/odoo/odoo_source.hpp"

#include "connectors/odoo/json2_transport.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>
#include <tuple>

namespace erpsync::connectors::odoo {

namespace {

using Kind = core::SyncError::Kind;
using core::Field;

constexpr std::string_view kModel = "res.partner";
// More restarts than this in one run means the partners change faster than we page through
// them; give up for now (transient) instead of reading forever.
constexpr int kMaxRestarts = 50;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// "YYYY-MM-DD HH:MM:SS" → seconds since the epoch (UTC).
std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const std::string_view parts[] = {s.substr(0, 4), s.substr(5, 2), s.substr(8, 2),
                                    s.substr(11, 2), s.substr(14, 2), s.substr(17, 2)};
  for (std::string_view p : parts) {
    if (!all_digits(p)) return std::nullopt;
  }
  const int y = to_int(parts[0]), mo = to_int(parts[1]), d = to_int(parts[2]);
  const int h = to_int(parts[3]), mi = to_int(parts[4]), se = to_int(parts[5]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
         mi * 60 + se;
}

std::string format_timestamp(std::int64_t t) {
  std::int64_t days = t / 86400;
  std::int64_t rem = t % 86400;
  if (rem < 0) rem += 86400, --days;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

// Odoo gives datetimes as whole seconds; tolerate a fractional part from a customised server.
std::optional<std::string> normalise_write_date(const Value& v) {
  if (v.type() != Value::Type::string && v.type() != Value::Type::datetime) return std::nullopt;
  std::string s = v.as_string();
  if (v.type() == Value::Type::datetime) {
    auto odoo = iso_to_odoo(s);
    if (!odoo) return std::nullopt;
    s = *odoo;
  }
  if (s.size() > 19 && s[19] == '.') s.resize(19);
  if (!parse_timestamp(s)) return std::nullopt;
  return s;
}

// A many2one value: [id, "display name"] or false. nullopt id for false; throws the message
// for any other shape.
struct Many2one {
  std::optional<std::int64_t> id;
  std::string error;
};
Many2one many2one(const Value* v, std::string_view field) {
  if (v == nullptr || v->is_false()) return {};
  if (v->type() == Value::Type::array && !v->as_array().empty() &&
      v->as_array().front().type() == Value::Type::integer) {
    return {v->as_array().front().as_int(), {}};
  }
  // Some servers give a bare id.
  if (v->type() == Value::Type::integer) return {v->as_int(), {}};
  return {std::nullopt, "field '" + std::string(field) + "' is " + v->debug_string().substr(0, 80) +
                            ", expected [id, name] or false"};
}

std::int64_t row_id(const Value& row, const std::string& who) {
  const Value* id = row.find("id");
  if (id == nullptr || id->type() != Value::Type::integer) {
    throw core::SyncError(Kind::permanent, who + ": res.partner row without an integer id: " +
                                               row.debug_string().substr(0, 200));
  }
  return id->as_int();
}

OdooCursor row_position(const Value& row, const std::string& who) {
  const std::int64_t id = row_id(row, who);
  const Value* wd = row.find("write_date");
  std::optional<std::string> s = wd ? normalise_write_date(*wd) : std::nullopt;
  if (!s) {
    throw core::SyncError(Kind::permanent, who + ": res.partner " + std::to_string(id) +
                                               " has no readable write_date (" +
                                               (wd ? wd->debug_string().substr(0, 60) : "absent") +
                                               "); the cursor cannot advance over it");
  }
  return {*s, id};
}

}  // namespace

std::string format_cursor(const OdooCursor& c) { return c.write_date + "#" + std::to_string(c.id); }

std::optional<OdooCursor> parse_cursor(std::string_view text) {
  const std::size_t hash = text.find('#');
  if (hash == std::string_view::npos) return std::nullopt;
  const std::string_view ts = text.substr(0, hash);
  std::string_view id = text.substr(hash + 1);
  if (!parse_timestamp(ts)) return std::nullopt;
  bool negative = !id.empty() && id.front() == '-';
  if (negative) id.remove_prefix(1);
  if (!all_digits(id) || id.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  std::from_chars(id.data(), id.data() + id.size(), v);
  return OdooCursor{std::string(ts), negative ? -v : v};
}

std::optional<std::string> shift_timestamp(std::string_view timestamp, std::chrono::milliseconds d) {
  const auto t = parse_timestamp(timestamp);
  if (!t) return std::nullopt;
  const std::int64_t ms = d.count();
  const std::int64_t secs = ms >= 0 ? (ms + 999) / 1000 : -((-ms) / 1000);
  return format_timestamp(*t - secs);
}

std::unique_ptr<OdooTransport> make_transport(const config::ConnectorConfig& connector) {
  const auto* odoo = connector.settings_as<OdooConfig>();
  if (odoo == nullptr) {
    throw core::SyncError(Kind::permanent, "connector '" + connector.name + "' is not an odoo connector");
  }
  if (!odoo->tls.client_cert.empty()) {
    throw core::SyncError(Kind::permanent, "odoo connector '" + connector.name +
                                               "': tls.client_cert is not supported by this build yet");
  }
  http::ClientOptions co;
  co.timeouts.total = odoo->timeout;
  co.max_response_bytes = static_cast<std::size_t>(odoo->max_response_size);
  co.ca_bundle = odoo->tls.ca_file;
  co.insecure_skip_tls_verify = !odoo->tls.verify;
  if (!odoo->password.empty()) co.secrets.push_back(odoo->password.reveal());
  if (!odoo->api_key.empty()) co.secrets.push_back(odoo->api_key.reveal());
  auto client = std::make_shared<http::CurlHttpClient>(std::move(co));

  if (odoo->protocol == OdooConfig::Protocol::json2) {
    Json2Settings j;
    j.connector = connector.name;
    j.url = odoo->url;
    j.db = odoo->db;
    j.user = odoo->user;
    j.api_key = odoo->api_key.reveal();
    j.limits.max_bytes = static_cast<std::size_t>(odoo->max_response_size);
    return std::make_unique<Json2Transport>(std::move(j), std::move(client));
  }
  XmlRpcSettings s;
  s.connector = connector.name;
  s.url = odoo->url;
  s.db = odoo->db;
  s.user = odoo->user;
  s.password = odoo->password.empty() ? odoo->api_key.reveal() : odoo->password.reveal();
  s.limits.max_bytes = static_cast<std::size_t>(odoo->max_response_size);
  return std::make_unique<XmlRpcTransport>(std::move(s), std::move(client));
}

OdooSourceOptions source_options(const config::ConnectorConfig& connector) {
  OdooSourceOptions o;
  o.connector = connector.name;
  o.cursor_overlap = connector.cursor_overlap;
  o.start_date = connector.start_date;
  if (const auto* odoo = connector.settings_as<OdooConfig>()) {
    o.page_size = odoo->page_size;
    o.individuals = odoo->individuals;
    o.name_split = odoo->name_split;
  }
  return o;
}

Value::Array companies_filter(bool individuals) {
  if (!individuals) return {Value::array({"is_company", "=", true})};
  return {"|", Value::array({"is_company", "=", true}), "&", "&", Value::array({"parent_id", "=", false}),
          Value::array({"type", "=", "contact"}), Value::array({"partner_share", "=", true})};
}

Value::Array contacts_filter(bool individuals) {
  Value::Array f{Value::array({"is_company", "=", false}), Value::array({"type", "=", "contact"})};
  if (!individuals) {
    f.push_back(Value::array({"parent_id.is_company", "=", true}));
    return f;
  }
  f.push_back(Value::array({"parent_id", "!=", false}));
  f.push_back("|");
  f.push_back(Value::array({"parent_id.is_company", "=", true}));
  f.push_back(Value::array({"parent_id.parent_id", "=", false}));
  return f;
}

// ---- PartnerPager ------------------------------------------------------------------------------

PartnerPager::PartnerPager(const OdooSourceOptions& options, OdooTransport& transport, Value::Array filter,
                           std::vector<std::string> fields)
    : options_(options), transport_(transport), filter_(std::move(filter)), fields_(std::move(fields)) {}

void PartnerPager::begin(const core::CursorState& cursor) {
  since_.reset();
  cursor_.reset();
  anchor_.reset();
  skip_through_.reset();
  consumed_ = 0;
  restarts_ = 0;
  done_ = false;

  const std::string who = transport_.describe();
  if (!cursor.cursor.empty()) {
    const auto c = parse_cursor(cursor.cursor);
    if (!c) {
      throw core::SyncError(Kind::permanent, who + ": stored cursor '" + cursor.cursor +
                                                 "' is not \"YYYY-MM-DD HH:MM:SS#id\"");
    }
    cursor_ = *c;
    since_ = shift_timestamp(c->write_date, options_.cursor_overlap);
  } else if (options_.start_date && !options_.start_date->empty()) {
    std::string sd = *options_.start_date;
    if (sd.size() == 10) sd += " 00:00:00";
    if (!parse_timestamp(sd)) {
      throw core::SyncError(Kind::permanent, who + ": start_date '" + *options_.start_date +
                                                 "' is not \"YYYY-MM-DD[ HH:MM:SS]\"");
    }
    since_ = sd;
  }
  // Log in at the start of every run: a changed password shows up before any page is read.
  transport_.authenticate();
}

std::vector<Value> PartnerPager::fetch(std::int64_t offset, std::int64_t limit) {
  SearchRead q;
  q.model = std::string(kModel);
  Value::Array domain = filter_;
  if (since_) domain.push_back(Value::array({"write_date", ">=", *since_}));
  q.domain = Value(std::move(domain));
  q.fields = fields_;
  q.offset = offset;
  q.limit = limit;
  q.order = "write_date asc, id asc";
  q.context = {{"active_test", false}};
  return transport_.search_read(q);
}

std::optional<PartnerPager::Page> PartnerPager::next() {
  const std::string who = transport_.describe();
  const std::int64_t page = std::max(options_.page_size, 1);
  while (!done_) {
    // After the first page, ask from one row earlier: that row must be the last one read.
    const bool check = anchor_.has_value() && consumed_ > 0;
    const std::int64_t limit = check ? page + 1 : page;
    std::vector<Value> rows = fetch(check ? consumed_ - 1 : consumed_, limit);
    if (static_cast<std::int64_t>(rows.size()) < limit) done_ = true;
    for (const Value& r : rows) row_position(r, who);  // every row has an id and a write_date
    if (check) {
      if (rows.empty() || row_position(rows.front(), who) != *anchor_) {
        // Rows before the offset changed since the last page: read again from the last row's
        // write_date, dropping what was already read.
        if (++restarts_ > kMaxRestarts) {
          throw core::SyncError(Kind::transient, who + ": res.partner rows keep changing while they are read (" +
                                                     std::to_string(kMaxRestarts) + " restarts); trying again later");
        }
        since_ = anchor_->write_date;
        skip_through_ = anchor_;
        consumed_ = 0;
        anchor_.reset();
        done_ = false;
        continue;
      }
      rows.erase(rows.begin());
    }
    consumed_ += static_cast<std::int64_t>(rows.size());
    if (rows.empty()) continue;  // done_ is set: a short page
    anchor_ = row_position(rows.back(), who);
    if (skip_through_) {
      std::erase_if(rows, [&](const Value& r) { return row_position(r, who) <= *skip_through_; });
    }
    if (rows.empty()) continue;
    if (!cursor_ || *cursor_ < *anchor_) cursor_ = *anchor_;
    return Page{std::move(rows), format_cursor(*cursor_)};
  }
  return std::nullopt;
}

// ---- OdooCompaniesSource -----------------------------------------------------------------------

OdooCompaniesSource::OdooCompaniesSource(OdooSourceOptions options, std::unique_ptr<OdooTransport> transport)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      pager_(options_, *transport_, companies_filter(options_.individuals),
             {"id", "name", "ref", "parent_id", "user_id", "email", "phone", "vat", "street", "city", "zip",
              "country_id", "active", "write_date"}) {
  if (options_.page_size < 1) options_.page_size = 1;
}

std::unique_ptr<OdooCompaniesSource> OdooCompaniesSource::create(const config::ConnectorConfig& connector) {
  auto transport = make_transport(connector);
  return std::make_unique<OdooCompaniesSource>(source_options(connector), std::move(transport));
}

core::SourceStart OdooCompaniesSource::begin(const core::CursorState& cursor) {
  parent_refs_.clear();
  logins_.clear();
  pager_.begin(cursor);
  return {};
}

std::optional<core::SourcePage> OdooCompaniesSource::next_page() {
  auto page = pager_.next();
  if (!page) return std::nullopt;
  resolve_parents(page->rows);
  resolve_users(page->rows);
  core::SourcePage out;
  out.records.reserve(page->rows.size());
  for (const Value& r : page->rows) out.records.push_back(map_row(r));
  out.cursor_after = std::move(page->cursor_after);
  return out;
}

void OdooCompaniesSource::resolve_parents(const std::vector<Value>& rows) {
  // A row's own ref is the freshest value for it as a parent.
  for (const Value& r : rows) {
    const Value* ref = r.find("ref");
    parent_refs_[r.find("id")->as_int()] =
        ref != nullptr && ref->type() == Value::Type::string ? ref->as_string() : std::string();
  }
  std::set<std::int64_t> wanted;
  for (const Value& r : rows) {
    const Many2one p = many2one(r.find("parent_id"), "parent_id");
    if (p.id && !parent_refs_.contains(*p.id)) wanted.insert(*p.id);
  }
  if (wanted.empty()) return;
  Value::Array ids;
  for (const std::int64_t id : wanted) ids.emplace_back(id);
  SearchRead q;
  q.model = std::string(kModel);
  q.domain = Value::array({Value::array({"id", "in", Value(std::move(ids))})});
  q.fields = {"ref"};
  q.context = {{"active_test", false}};  // an archived parent is still the parent
  for (const Value& p : transport_->search_read(q)) {
    const Value* id = p.find("id");
    const Value* ref = p.find("ref");
    if (id == nullptr || id->type() != Value::Type::integer) continue;
    parent_refs_[id->as_int()] = ref != nullptr && ref->type() == Value::Type::string ? ref->as_string() : "";
  }
  // Parents Odoo did not return (deleted meanwhile, or hidden by a record rule): no link.
  for (const std::int64_t id : wanted) parent_refs_.try_emplace(id, std::string());
}

void OdooCompaniesSource::resolve_users(const std::vector<Value>& rows) {
  std::vector<std::int64_t> wanted;
  for (const Value& r : rows) {
    const Many2one u = many2one(r.find("user_id"), "user_id");
    if (u.id && !logins_.contains(*u.id) &&
        std::find(wanted.begin(), wanted.end(), *u.id) == wanted.end()) {
      wanted.push_back(*u.id);
    }
  }
  if (wanted.empty()) return;
  std::sort(wanted.begin(), wanted.end());
  const auto found = transport_->read_user_logins(wanted);
  for (const std::int64_t id : wanted) {
    const auto it = found.find(id);
    if (it != found.end() && !it->second.empty()) {
      logins_[id] = it->second;
    } else {
      logins_[id] = std::nullopt;
    }
  }
}

core::IncomingAccount OdooCompaniesSource::map_row(const Value& row) {
  core::IncomingAccount a;
  const std::int64_t id = row.find("id")->as_int();
  a.set(Field::remote_id, std::to_string(id));
  std::vector<std::string> problems;

  auto text = [&](std::string_view odoo_field, Field field) {
    const Value* v = row.find(odoo_field);
    std::string out;
    if (v == nullptr || v->is_false()) {
      // Odoo's empty value.
    } else if (v->type() == Value::Type::string) {
      out = v->as_string();
    } else {
      problems.push_back("field '" + std::string(odoo_field) + "' is " +
                         std::string(type_name(v->type())) + ", expected a string or false");
    }
    a.set(field, std::move(out));
  };
  text("ref", Field::external_code);
  text("name", Field::name);
  text("email", Field::email);
  text("phone", Field::phone);
  text("vat", Field::vat);
  text("street", Field::street);
  text("city", Field::city);
  text("zip", Field::postcode);

  const Many2one parent = many2one(row.find("parent_id"), "parent_id");
  if (!parent.error.empty()) problems.push_back(parent.error);
  a.set(Field::member_of, parent.id ? parent_refs_[*parent.id] : std::string());

  const Many2one user = many2one(row.find("user_id"), "user_id");
  if (!user.error.empty()) problems.push_back(user.error);
  std::string owner;
  if (user.id) {
    const auto& login = logins_[*user.id];
    if (login) {
      owner = *login;
    } else {
      problems.push_back("salesperson (user_id " + std::to_string(*user.id) + ") has no login readable in res.users");
    }
  }
  a.set(Field::owner, std::move(owner));

  // country_id: [id, "Germany"]: the display name (see the header).
  const Value* country = row.find("country_id");
  std::string country_name;
  if (country != nullptr && !country->is_false()) {
    if (country->type() == Value::Type::array && country->as_array().size() >= 2 &&
        country->as_array()[1].type() == Value::Type::string) {
      country_name = country->as_array()[1].as_string();
    } else {
      problems.push_back("field 'country_id' is " + country->debug_string().substr(0, 80) +
                         ", expected [id, name] or false");
    }
  }
  a.set(Field::country, std::move(country_name));

  const Value* active = row.find("active");
  bool is_active = true;
  if (active != nullptr) {
    if (active->type() == Value::Type::boolean) {
      is_active = active->as_bool();
    } else {
      problems.push_back("field 'active' is " + std::string(type_name(active->type())) + ", expected a boolean");
    }
  }
  a.set(Field::active, is_active ? "true" : "false");

  if (!problems.empty()) {
    std::string msg = "res.partner " + std::to_string(id) + ": ";
    for (std::size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    a.invalid = std::move(msg);
  }
  return a;
}

// ---- OdooContactsSource ------------------------------------------------------------------------

OdooContactsSource::OdooContactsSource(OdooSourceOptions options, std::unique_ptr<OdooTransport> transport)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      pager_(options_, *transport_, contacts_filter(options_.individuals),
             {"id", "name", "parent_id", "email", "phone", "active", "write_date"}) {}

std::unique_ptr<OdooContactsSource> OdooContactsSource::create(const config::ConnectorConfig& connector) {
  auto transport = make_transport(connector);
  return std::make_unique<OdooContactsSource>(source_options(connector), std::move(transport));
}

core::SourceStart OdooContactsSource::begin(const core::CursorState& cursor) {
  pager_.begin(cursor);
  return {};
}

std::optional<core::Page<core::IncomingContactRecord>> OdooContactsSource::next_page() {
  auto page = pager_.next();
  if (!page) return std::nullopt;
  core::Page<core::IncomingContactRecord> out;
  out.records.reserve(page->rows.size());
  for (const Value& r : page->rows) out.records.push_back(map_contact_row(r, options_.name_split));
  out.cursor_after = std::move(page->cursor_after);
  return out;
}

std::pair<std::string, std::string> split_person_name(std::string_view name, OdooConfig::NameSplit how) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!name.empty() && space(name.front())) name.remove_prefix(1);
  while (!name.empty() && space(name.back())) name.remove_suffix(1);
  if (how == OdooConfig::NameSplit::none) return {std::string(), std::string(name)};
  if (how == OdooConfig::NameSplit::first_space) {
    std::size_t family_end = 0;
    while (family_end < name.size() && !space(name[family_end])) ++family_end;
    if (family_end == name.size()) return {std::string(), std::string(name)};
    std::size_t given_start = family_end;
    while (given_start < name.size() && space(name[given_start])) ++given_start;
    return {std::string(name.substr(given_start)), std::string(name.substr(0, family_end))};
  }
  std::size_t last_start = name.size();
  while (last_start > 0 && !space(name[last_start - 1])) --last_start;
  if (last_start == 0) return {std::string(), std::string(name)};
  std::size_t first_end = last_start;
  while (first_end > 0 && space(name[first_end - 1])) --first_end;
  return {std::string(name.substr(0, first_end)), std::string(name.substr(last_start))};
}

core::IncomingContactRecord map_contact_row(const Value& row, OdooConfig::NameSplit how) {
  core::IncomingContactRecord c;
  const std::int64_t id = row.find("id")->as_int();
  c.remote_id = std::to_string(id);
  std::vector<std::string> problems;

  auto text = [&](std::string_view odoo_field) {
    const Value* v = row.find(odoo_field);
    if (v == nullptr || v->is_false()) return std::string();
    if (v->type() == Value::Type::string) return v->as_string();
    problems.push_back("field '" + std::string(odoo_field) + "' is " + std::string(type_name(v->type())) +
                       ", expected a string or false");
    return std::string();
  };
  std::tie(c.first_name, c.last_name) = split_person_name(text("name"), how);
  c.email = text("email");
  c.phone = text("phone");

  const Many2one parent = many2one(row.find("parent_id"), "parent_id");
  if (!parent.error.empty()) problems.push_back(parent.error);
  if (parent.id) c.company_remote_id = std::to_string(*parent.id);

  const Value* active = row.find("active");
  if (active != nullptr) {
    if (active->type() == Value::Type::boolean) {
      c.active = active->as_bool();
    } else {
      problems.push_back("field 'active' is " + std::string(type_name(active->type())) + ", expected a boolean");
    }
  }
  if (const Value* wd = row.find("write_date")) c.updated_at = normalise_write_date(*wd).value_or("");

  if (!problems.empty()) {
    std::string msg = "res.partner " + std::to_string(id) + ": ";
    for (std::size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    c.invalid = std::move(msg);
  }
  return c;
}

}  // namespace erpsync::connectors::odoo
