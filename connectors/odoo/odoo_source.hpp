#pragma once
// OdooCompaniesSource: an `odoo` connector's "companies" stream (SPEC §4.2), as the engine
// polls it: res.partner records with is_company = true, read incrementally by write_date.
//
// Reading. begin() logs in (a refused login is SyncError{auth} naming database and user) and
// starts at the stored cursor minus `cursor_overlap`; next_page() calls
//   search_read(res.partner, [is_company = true, write_date >= since],
//               order "write_date asc, id asc", offset, limit = page_size,
//               context {active_test: false})        -- archived partners arrive too
// paging by offset inside the run. Offsets shift when a partner already read is edited
// mid-run (it moves to the end), which would silently skip the row that slid into the gap;
// so every page after the first is asked from one row earlier and must start with the last
// row already read. When it does not, the read restarts from that row's write_date (rows up
// to and including it are dropped), so nothing is skipped. The first run without a cursor
// reads from the connector's start_date, or everything.
//
// Cursor: "YYYY-MM-DD HH:MM:SS#id" (Odoo's UTC write_date and the partner id) of the last row
// read so far, never moving backwards; each page carries it (committed with the page's last
// batch). Rows re-read through the overlap come back unchanged by hash in the core.
//
// Mapping (Odoo's `false` is empty everywhere):
//   id → remote_id (as a string)       ref → external_code        name → name
//   parent_id → member_of: the parent partner's `ref` (read per page with one search_read on
//               the parent ids not seen yet in this run; a parent without ref, or one Odoo
//               does not return, gives an empty member_of)
//   user_id → owner: the salesperson's login from res.users, read once per user id per run
//             (archived users included); a user whose login cannot be read makes the record
//             an invalid_field rejection rather than silently falling back to default_owner
//   email, phone, vat, street, city → same names    zip → postcode
//   country_id → country: the country's name as Odoo displays it (the many2one's display
//               name; English, since no `lang` is sent). The ISO code would need res.country
//               reads or `country_code` (Odoo 14+ only); the name works on every version.
//   active → "true" / "false"
// relationship is not mapped (the CRM keeps its value). A row with a field of an unexpected
// wire type becomes an invalid_field rejection naming the partner and the field; a row without
// an integer id or a readable write_date makes the page unreadable (SyncError{permanent}).
//
// With `individuals`, persons without a parent (B2C customers) come through the same stream and
// mapping (their own `ref` the External Code, no member_of): see companies_filter().
//
// OdooContactsSource: the "contacts" stream — res.partner persons (type 'contact') whose parent
// is a company (or, with `individuals`, a person without a parent),
//   search_read(res.partner, contacts_filter(individuals) + [write_date >= since], ...)
// read by the same pager (order, context, overlap, restart safeguard and cursor format as
// above; its own cursor), each mapped to a core::IncomingContactRecord and decided by
// core::decide_contacts through run_commerce_stream() (contacts land on their company's
// Account; a contact whose company is not synced is parked):
//   id → remote_id                    parent_id → company_remote_id (the parent partner's id:
//                                     the companies stream binds companies by id)
//   name → first_name / last_name: Odoo keeps one `name`; `name_split` says how it splits
//          (split_person_name); the two joined with a space (first_space: last name first)
//          give the Odoo name back, inner runs of white space aside.
//   email, phone → same names         active → active       write_date → updated_at
// A row with a field of an unexpected wire type becomes an invalid_field rejection naming the
// partner and the field.
//
// Thread-safety: one run at a time (the engine never runs a connector twice at once).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "connectors/odoo/odoo_conf.hpp"
#include "connectors/odoo/odoo_transport.hpp"
#include "core/ports/source.hpp"
#include "core/ports/source.hpp"

namespace erpsync::connectors::odoo {

// (write_date, id): the position of a partner in the read order.
struct OdooCursor {
  std::string write_date;  // "YYYY-MM-DD HH:MM:SS" UTC
  std::int64_t id = 0;
  auto operator<=>(const OdooCursor&) const = default;
};
std::string format_cursor(const OdooCursor& c);
// nullopt unless `text` is "YYYY-MM-DD HH:MM:SS#<id>".
std::optional<OdooCursor> parse_cursor(std::string_view text);
// "YYYY-MM-DD HH:MM:SS" minus `d` (rounded up to whole seconds); nullopt for a bad timestamp.
std::optional<std::string> shift_timestamp(std::string_view timestamp, std::chrono::milliseconds d);

struct OdooSourceOptions {
  std::string connector;
  std::chrono::milliseconds cursor_overlap = std::chrono::seconds(30);
  std::optional<std::string> start_date;  // "YYYY-MM-DD[ HH:MM:SS]" UTC: bounds the first sync
  int page_size = 500;                    // ≥ 1
  bool individuals = false;               // OdooConfig::individuals
  OdooConfig::NameSplit name_split = OdooConfig::NameSplit::last_space;
};

// The res.partner filters of the two streams (each AND-ed with write_date >= since):
//   companies:  [is_company = true]
//               individuals: ['|', is_company = true,
//                             '&', '&', parent_id = false, type = 'contact', partner_share = true]
//               (persons without a parent, except internal users' own partners, which Odoo
//               makes for every user: partner_share is false only for those)
//   contacts:   [is_company = false, type = 'contact', parent_id.is_company = true]
//               individuals: [is_company = false, type = 'contact', parent_id != false,
//                             '|', parent_id.is_company = true, parent_id.parent_id = false]
// so invoice, delivery and other addresses are never Contacts, and without `individuals` the
// children of a person are not read at all (they would wait parked for an Account that never
// comes). (Odoo evaluates a path through an empty many2one as no match, whatever the operator.)
Value::Array companies_filter(bool individuals);
Value::Array contacts_filter(bool individuals);

// The transport and options of a configured odoo connector: a CurlHttpClient (timeout,
// response size cap, TLS settings, password and API key registered as secrets) under an
// XmlRpcTransport (protocol "xmlrpc": the API key is used as the password when `password` is
// empty; Odoo 14+ accepts either) or a Json2Transport (protocol "json2": the API key as bearer
// token, `db` as X-Odoo-Database). Throws core::SyncError{permanent} for what this build cannot
// do: a TLS client certificate, a connector of another type.
std::unique_ptr<OdooTransport> make_transport(const config::ConnectorConfig& connector);
OdooSourceOptions source_options(const config::ConnectorConfig& connector);

// Reads res.partner rows matching `filter` (AND-ed with write_date >= since) in
// (write_date, id) order, page by page, with the offset-shift safeguard described above. Both
// streams read through one.
class PartnerPager {
 public:
  struct Page {
    std::vector<Value> rows;   // never empty; every row has an integer id and a readable write_date
    std::string cursor_after;  // format_cursor() of the furthest row read so far
  };

  PartnerPager(const OdooSourceOptions& options, OdooTransport& transport, Value::Array filter,
               std::vector<std::string> fields);

  // Starts at `cursor` minus the overlap (or start_date, or the beginning) and logs in.
  void begin(const core::CursorState& cursor);
  // The next rows not read yet in this run, or nullopt when the source is exhausted.
  std::optional<Page> next();

 private:
  std::vector<Value> fetch(std::int64_t offset, std::int64_t limit);

  const OdooSourceOptions& options_;
  OdooTransport& transport_;
  Value::Array filter_;
  std::vector<std::string> fields_;

  std::optional<std::string> since_;         // write_date lower bound (>=)
  std::optional<OdooCursor> cursor_;         // the run's cursor so far
  std::optional<OdooCursor> anchor_;         // last row of the previous page
  std::optional<OdooCursor> skip_through_;   // after a restart: rows up to here were read
  std::int64_t consumed_ = 0;                // rows read at the current lower bound
  bool done_ = true;
  int restarts_ = 0;
};

class OdooCompaniesSource final : public core::AccountSource {
 public:
  OdooCompaniesSource(OdooSourceOptions options, std::unique_ptr<OdooTransport> transport);

  // The source for a configured odoo connector (make_transport, source_options).
  static std::unique_ptr<OdooCompaniesSource> create(const config::ConnectorConfig& connector);

  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return false; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  std::optional<core::SourcePage> next_page() override;

  OdooTransport& transport() { return *transport_; }

 private:
  core::IncomingAccount map_row(const Value& row);
  void resolve_parents(const std::vector<Value>& rows);
  void resolve_users(const std::vector<Value>& rows);

  OdooSourceOptions options_;
  std::unique_ptr<OdooTransport> transport_;
  PartnerPager pager_;
  std::string stream_ = "companies";

  // Per run.
  std::map<std::int64_t, std::string> parent_refs_;  // partner id → ref ("" when false)
  std::map<std::int64_t, std::optional<std::string>> logins_;  // user id → login (nullopt: unreadable)
};

// The "contacts" stream (see the header comment): run it with core::run_stream() and a policy
// whose stream is "contacts".
class OdooContactsSource final : public core::ContactSource {
 public:
  OdooContactsSource(OdooSourceOptions options, std::unique_ptr<OdooTransport> transport);
  static std::unique_ptr<OdooContactsSource> create(const config::ConnectorConfig& connector);

  const std::string& stream() const override { return stream_; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  std::optional<core::Page<core::IncomingContactRecord>> next_page() override;

  OdooTransport& transport() { return *transport_; }

 private:
  OdooSourceOptions options_;
  std::unique_ptr<OdooTransport> transport_;
  PartnerPager pager_;
  std::string stream_ = "contacts";
};

// Odoo's one `name` as {first, last} name, trimmed, by `how`:
//   last_space   at the last run of white space: "Jean Paul Sartre" → "Jean Paul" / "Sartre"
//   first_space  at the first run (family name first, as in Chinese, Japanese, Korean and
//                Hungarian names): "Wang Xiao Ming" → first "Xiao Ming", last "Wang";
//                "Nagy Ferenc" → "Ferenc" / "Nagy"
//   none         all of it is the last name: "Wang Xiaoming" → "" / "Wang Xiaoming"
// One word is all last name whatever `how` says ("Cher" → "" / "Cher").
std::pair<std::string, std::string> split_person_name(
    std::string_view name, OdooConfig::NameSplit how = OdooConfig::NameSplit::last_space);
// The contact record of one res.partner row (id and write_date already checked).
core::IncomingContactRecord map_contact_row(const Value& row,
                                            OdooConfig::NameSplit how = OdooConfig::NameSplit::last_space);

}  // namespace erpsync::connectors::odoo
