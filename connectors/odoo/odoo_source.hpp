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
// Not here yet: the "contacts" stream (is_company = false with a parent_id → Contacts of the
// company's Account, parked while the company is not synced) needs core support for contact
// records from an authoritative source and parking by company; it is a separate source.
//
// Thread-safety: one run at a time (the engine never runs a connector twice at once).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "connectors/odoo/odoo_transport.hpp"
#include "core/source.hpp"

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
};

class OdooCompaniesSource final : public core::AccountSource {
 public:
  OdooCompaniesSource(OdooSourceOptions options, std::unique_ptr<OdooTransport> transport);

  // The source for a configured odoo connector: a CurlHttpClient (timeout, response size cap,
  // TLS settings, password and API key registered as secrets) under an XmlRpcTransport. The
  // API key is used as the password when `password` is empty (Odoo 14+ accepts either).
  // Throws core::SyncError{permanent} for what this build cannot do: protocol "json2", a TLS
  // client certificate.
  static std::unique_ptr<OdooCompaniesSource> create(const config::ConnectorConfig& connector);

  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return false; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  std::optional<core::SourcePage> next_page() override;

  OdooTransport& transport() { return *transport_; }

 private:
  std::vector<Value> fetch(std::int64_t offset, std::int64_t limit);
  core::IncomingAccount map_row(const Value& row);
  void resolve_parents(const std::vector<Value>& rows);
  void resolve_users(const std::vector<Value>& rows);

  OdooSourceOptions options_;
  std::unique_ptr<OdooTransport> transport_;
  std::string stream_ = "companies";

  // Per run.
  std::optional<std::string> since_;         // write_date lower bound (>=)
  std::optional<OdooCursor> cursor_;         // the run's cursor so far
  std::optional<OdooCursor> anchor_;         // last row of the previous page
  std::optional<OdooCursor> skip_through_;   // after a restart: rows up to here were read
  std::int64_t consumed_ = 0;                // rows read at the current lower bound
  bool done_ = true;
  int restarts_ = 0;
  std::map<std::int64_t, std::string> parent_refs_;  // partner id → ref ("" when false)
  std::map<std::int64_t, std::optional<std::string>> logins_;  // user id → login (nullopt: unreadable)
};

}  // namespace erpsync::connectors::odoo
