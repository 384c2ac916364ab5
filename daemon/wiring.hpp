#pragma once
// Turns configuration into objects: the store for a config, the source and policy of a
// connector stream, and one run of it. The only place that knows which connector type is
// built from which folder.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "core/sync_engine.hpp"

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

// Retention (SPEC §5 `retention`): purges runs and resolved rejections (with their payloads)
// older than configured, and logs what it removed. Never throws: a failure is logged.
void apply_retention(const config::Config& cfg, connectors::odbc::OdbcStore& store);

// The streams a connector syncs, in order (feed: "accounts").
std::vector<std::string> streams_of(const config::ConnectorConfig& conn);

// One run of one stream of `conn` (never throws for source or database failures: see
// core::run_stream).
core::SyncReport run_connector_stream(const config::Config& cfg, const config::ConnectorConfig& conn,
                                      const std::string& stream, core::Store& store, core::SyncEvents& events,
                                      core::SyncError::Kind* error_kind = nullptr);

}  // namespace erpsync::daemon
