#pragma once
// Turns configuration into objects: the store for a config, and per connector a runner that
// builds each stream's source and runs it. wiring.cpp's registry is the only place that knows
// which connector type's streams are built from which folder (each type's configuration and
// the streams it offers are its connectors/<type>/<type>_conf.*).

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "core/engine.hpp"

namespace erpsync::daemon {

enum class StoreMode { normal, dry_run };

// The schema cannot be used as configured (pending migrations under migrate=check, a schema
// newer than this binary, a dry run on a database without the current schema): exit 2.
class StoreOpenRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Connects, applies or checks migrations per database.migrate, marks runs left `running` by a
// dead process as aborted. Dry-run stores need the current schema and never migrate.
// Throws StoreOpenRefused, or core::SyncError when the database cannot be reached.
std::unique_ptr<connectors::odbc::OdbcStore> open_store(const config::Config& cfg, StoreMode mode);
// database.suitecrm as the store takes it (database.crm "suitecrm").
connectors::odbc::SuiteCrmOptions suitecrm_options(const config::DatabaseConfig& db);

// Retention (SPEC §5 `retention`): purges runs and resolved rejections (with their payloads)
// older than configured, and logs what it removed. Never throws: a failure is logged.
void apply_retention(const config::Config& cfg, connectors::odbc::OdbcStore& store);

// One stream a connector syncs: its name (the sync_runs / cursor key) and its record kind.
using StreamPlan = config::StreamPlan;

// The streams a connector syncs, in the order they run (feed: "accounts", then "contacts" for a
// CSV feed's contacts file; odoo: "companies" before "contacts"; magento2: "customers" before
// "orders" and "carts"): records that attach to others
// run after them, whatever order the config lists them in. Its type declares them
// (config::ConnectorSettings::streams).
std::vector<StreamPlan> streams_of(const config::ConnectorConfig& conn);

// Magento carts (SPEC §4.1 `abandoned_after`): when `conn` syncs a "carts" stream, the UTC time
// ('YYYY-MM-DD HH:MM:SS.mmm') before which an active cart's last update makes it abandoned
// (`now` - abandoned_after); nullopt for every other connector.
std::optional<std::string> abandoned_cutoff(const config::ConnectorConfig& conn,
                                            std::chrono::system_clock::time_point now);

// The engine's options for `conn`'s runs.
core::RunOptions run_options(const config::Config& cfg, const config::ConnectorConfig& conn);

class ConnectorStreams;

// One connector's runs. Keeps what must outlive a run (a Magento client holds its admin token
// and refuses to retry a failed login until the configuration is reloaded, i.e. until a new
// runner is built); builds each stream's source anew per run.
// Thread-safety: one run at a time (the scheduler never runs a connector twice at once).
class ConnectorRunner {
 public:
  ConnectorRunner(const config::Config& cfg, const config::ConnectorConfig& conn);
  ~ConnectorRunner();

  const config::ConnectorConfig& connector() const { return conn_; }
  // One run of one stream (never throws: a failure to build its source is the report's error
  // too; see core::run_stream).
  core::SyncReport run(const StreamPlan& stream, core::Store& store, core::SyncEvents& events);

 private:
  core::RunOptions options_;
  config::ConnectorConfig conn_;
  std::unique_ptr<ConnectorStreams> streams_;  // nullptr: a type this build cannot run
};

}  // namespace erpsync::daemon
