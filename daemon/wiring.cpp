#include "daemon/wiring.hpp"

#include <chrono>
#include <ctime>
#include <limits>

#include "connectors/odbc/admin_queries.hpp"
#include "daemon/logging.hpp"

#include "connectors/feed/feed_source.hpp"
#include "connectors/odoo/odoo_source.hpp"

namespace erpsync::daemon {

namespace odbc = connectors::odbc;

std::unique_ptr<odbc::OdbcStore> open_store(const config::Config& cfg, StoreMode mode) {
  odbc::OdbcStoreOptions opts;
  opts.connection = cfg.database.connection;
  opts.instance = cfg.cluster.instance_id;
  opts.dry_run = mode == StoreMode::dry_run;
  switch (cfg.database.migrate) {
    case config::Migrate::auto_: opts.migrate = odbc::MigrateMode::auto_apply; break;
    case config::Migrate::check: opts.migrate = odbc::MigrateMode::check; break;
    case config::Migrate::off: opts.migrate = odbc::MigrateMode::off; break;
  }
  try {
    return std::make_unique<odbc::OdbcStore>(opts);
  } catch (const odbc::SchemaError& e) {
    throw StoreOpenRefused(std::string("database schema: ") + e.what());
  }
}

namespace {

// 'YYYY-MM-DD HH:MM:SS.mmm' UTC, the store's timestamp form.
std::string utc_text(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf) + ".000";
}

}  // namespace

void apply_retention(const config::Config& cfg, odbc::OdbcStore& store) {
  const auto now = std::chrono::system_clock::now();
  try {
    const auto [runs, rejections] = odbc::purge_retention(
        store.connection(), utc_text(now - cfg.retention.runs), utc_text(now - cfg.retention.resolved_rejections));
    if (runs + rejections > 0)
      logger("daemon")->info("retention: removed {} old run(s) and {} resolved rejection(s)", runs, rejections);
  } catch (const std::exception& e) {
    logger("daemon")->warn("retention: purge failed, retried later: {}", cfg.redact(e.what()));
  }
}

std::vector<std::string> streams_of(const config::ConnectorConfig& conn) {
  switch (conn.type) {
    case config::ConnectorType::feed: return {"accounts"};
    case config::ConnectorType::odoo: return std::get<config::OdooConfig>(conn.settings).streams;
    case config::ConnectorType::magento2: return {};
  }
  return {};
}

namespace {

// The source of one stream. Throws core::SyncError when it cannot be built (an unsupported URL).
std::unique_ptr<core::AccountSource> make_source(const config::ConnectorConfig& conn, const std::string& stream) {
  if (conn.type == config::ConnectorType::odoo && stream == "companies")
    return connectors::odoo::OdooCompaniesSource::create(conn);
  if (const config::FeedConfig* feed = conn.feed()) {
    config::ConnectorConfig copy = conn;
    if (!feed->cursor) {
      // A snapshot is one fetched document: the engine sees it as one page, so that duplicate
      // rows anywhere in it are superseded (rule 7); batches still split it for the database.
      std::get<config::FeedConfig>(copy.settings).page_size = std::numeric_limits<int>::max();
    }
    return connectors::feed::FeedSource::create(copy);
  }
  throw core::SyncError(core::SyncError::Kind::permanent,
                        "connector type " + std::string(config::to_string(conn.type)) + " is not supported by this build");
}

}  // namespace

core::SyncReport run_connector_stream(const config::Config& cfg, const config::ConnectorConfig& conn,
                                      const std::string& stream, core::Store& store, core::SyncEvents& events,
                                      core::SyncError::Kind* error_kind) {
  core::StreamRunOptions options;
  options.batch_size = static_cast<std::size_t>(cfg.database.batch_size);
  options.instance = cfg.cluster.instance_id;
  if (const config::FeedConfig* feed = conn.feed()) {
    options.snapshot.max_shrink_percent = feed->max_shrink_percent;
    options.snapshot.allow_empty = feed->allow_empty;
  }
  const core::MatchPolicy policy = conn.match_policy(stream);
  std::unique_ptr<core::AccountSource> source;
  try {
    source = make_source(conn, stream);
  } catch (const core::SyncError& e) {
    core::SyncReport report;
    report.connector = conn.name;
    report.stream = stream;
    report.status = "error";
    report.message = e.what();
    report.error_kind = e.kind();
    if (error_kind) *error_kind = e.kind();
    return report;
  }
  return core::run_stream(policy, *source, store, options, events, error_kind);
}

}  // namespace erpsync::daemon
