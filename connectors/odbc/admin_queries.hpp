#pragma once
// The SQL behind the admin commands of SPEC §7 (report, resync, parked, rename-connector,
// migrate, merge, tree) and the daemon's own bookkeeping reads (the open-records gauges, retention): small,
// set-based statements over erpsync's own tables. Every value is bound.
//
// Thread-safety: the store's (one thread at a time). Ownership: an AdminQueries borrows its
// OdbcStore (OdbcStore::admin()), which must outlive it.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/odbc/account_merge.hpp"
#include "connectors/odbc/account_tree.hpp"
#include "connectors/odbc/odbc.hpp"

namespace erpsync::connectors::odbc {

class OdbcStore;

struct Table {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

// Open rejections and parked records of one connector stream.
struct OpenCounts {
  std::int64_t rejections = 0;
  std::int64_t parked = 0;
};

class AdminQueries {
 public:
  explicit AdminQueries(OdbcStore& store) : store_(store) {}

  // The last `last` runs of each connector and stream (newest first), optionally of one connector.
  Table recent_runs(int last, const std::optional<std::string>& connector);
  // Open (unresolved) rejections, oldest first.
  Table open_rejections(const std::optional<std::string>& connector);
  // Parked records, oldest first.
  Table parked_records(const std::optional<std::string>& connector);
  // Who holds which connector's lease (SPEC §10), by connector: state `held` until expires_at,
  // then `expired` (judged by the database server's clock; a released lease shows as expired).
  Table connector_leases(const std::optional<std::string>& connector);
  // How many rejections of (connector, stream) are open and how many of its records are parked.
  OpenCounts open_counts(const std::string& connector, const std::string& stream);
  // The abandoned carts of a Magento connector (SPEC §4.1): active, with items, last updated
  // before `updated_before` (UTC 'YYYY-MM-DD HH:MM:SS.mmm'), per Account (by its name; guest
  // carts, which have none, last), oldest first within each: account code and name, customer
  // (remote id), e-mail, items ("SKU x qty, ..."), subtotal, currency, last update, cart id.
  Table abandoned_carts(const std::string& connector, const std::string& updated_before);
  // The channels (connector names) that have carts, sorted.
  std::vector<std::string> cart_channels();
  // How many carts abandoned_carts() would list.
  std::int64_t abandoned_cart_count(const std::string& connector, const std::string& updated_before);
  // The schema version recorded in the database (0 when schema_version does not exist).
  int schema_version();

  // Moves the connector's cursors back: to the start (cursor '', content hash cleared, so a file
  // feed is read again) or, with `since`, to that UTC time. Returns the number of cursors moved.
  std::int64_t resync_cursors(const std::string& connector, const std::optional<std::string>& since);

  // Retention (SPEC §5): deletes finished runs that ended before `runs_before` and resolved
  // rejections (with their payloads) resolved before `rejections_before`; both UTC
  // 'YYYY-MM-DD HH:MM:SS.mmm'. Returns {runs, rejections} deleted.
  std::pair<std::int64_t, std::int64_t> purge_retention(const std::string& runs_before,
                                                        const std::string& rejections_before);

  // Deletes the connector's parked records (all when nullopt). Returns how many.
  std::int64_t drop_parked(const std::optional<std::string>& connector);

  // Carries cursors, bindings, rejections, parked records, runs, leases and the connector's
  // Customers, orders and carts (their channel) over from `from` to `to`, in one transaction. Refuses (returns
  // false, changing nothing) when `to` already has cursors or bindings.
  bool rename_connector(const std::string& from, const std::string& to, std::string& why);

  // `merge` (SPEC §7): the duplicate Account `from` merged into `into`, or with `dry_run` only
  // counted (account_merge.hpp). The CRM target's own: erpsync's tables here; a target with
  // tables of its own (SuiteCRM) brings its own merge behind this method.
  MergeResult merge_accounts(std::int64_t from, std::int64_t into, bool dry_run);
  // `tree` (SPEC §7): the Member-of group of the Account with External Code `code`, nullopt
  // when none has it (account_tree.hpp). The CRM target's own, as merge_accounts.
  std::optional<AccountGroup> account_group(const std::string& code);

 private:
  Connection& conn();  // the store's, reconnected if it was lost
  OdbcStore& store_;
};

}  // namespace erpsync::connectors::odbc
