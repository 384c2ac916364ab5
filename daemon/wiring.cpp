#include "daemon/wiring.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

#include "connectors/odbc/admin_queries.hpp"
#include "daemon/logging.hpp"
#include "daemon/read_ahead_source.hpp"

#include "connectors/feed/feed_source.hpp"
#include "connectors/feed/url.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/magento2/client.hpp"
#include "connectors/magento2/source.hpp"
#include "connectors/odoo/odoo_source.hpp"

namespace erpsync::daemon {

namespace odbc = connectors::odbc;

std::unique_ptr<odbc::OdbcStore> open_store(const config::Config& cfg, StoreMode mode) {
  odbc::OdbcStoreOptions opts;
  opts.connection = cfg.database.connection;
  opts.table_prefix = cfg.database.table_prefix;
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
    const auto [runs, rejections] = store.admin().purge_retention(utc_text(now - cfg.retention.runs),
                                                                  utc_text(now - cfg.retention.resolved_rejections));
    if (runs + rejections > 0)
      logger("daemon")->info("retention: removed {} old run(s) and {} resolved rejection(s)", runs, rejections);
  } catch (const std::exception& e) {
    logger("daemon")->warn("retention: purge failed, retried later: {}", cfg.redact(e.what()));
  }
}

std::vector<StreamPlan> streams_of(const config::ConnectorConfig& conn) {
  // Kinds in the order they run; a connector runs those its config lists.
  auto listed = [](const std::vector<std::string>& configured, std::initializer_list<StreamPlan> offered) {
    std::vector<StreamPlan> out;
    for (const StreamPlan& s : offered)
      if (std::find(configured.begin(), configured.end(), s.name) != configured.end()) out.push_back(s);
    return out;
  };
  switch (conn.type) {
    case config::ConnectorType::feed: return {{"accounts", core::StreamKind::companies}};
    case config::ConnectorType::odoo:
      return listed(std::get<config::OdooConfig>(conn.settings).streams,
                    {{"companies", core::StreamKind::companies}, {"contacts", core::StreamKind::contacts}});
    case config::ConnectorType::magento2:
      return listed(std::get<config::Magento2Config>(conn.settings).streams,
                    {{"customers", core::StreamKind::customers}, {"orders", core::StreamKind::orders}});
  }
  return {};
}

core::RunOptions run_options(const config::Config& cfg, const config::ConnectorConfig& conn) {
  core::RunOptions options;
  options.batch_size = static_cast<std::size_t>(cfg.database.batch_size);
  options.instance = cfg.cluster.instance_id;
  options.park_ttl = std::chrono::duration_cast<std::chrono::seconds>(conn.park_ttl);
  if (const config::FeedConfig* feed = conn.feed()) {
    options.snapshot.max_shrink_percent = feed->max_shrink_percent;
    options.snapshot.allow_empty = feed->allow_empty;
  }
  return options;
}

ConnectorRunner::ConnectorRunner(const config::Config& cfg, const config::ConnectorConfig& conn)
    : options_(run_options(cfg, conn)), conn_(conn) {}

ConnectorRunner::~ConnectorRunner() = default;

template <class Record>
core::SyncReport ConnectorRunner::run_source(const StreamPlan& stream, core::Source<Record>& source,
                                             core::Store& store, core::SyncEvents& events) {
  return core::run_stream(conn_.match_policy(stream.name), source, store, options_, events);
}

core::SyncReport ConnectorRunner::run(const StreamPlan& stream, core::Store& store, core::SyncEvents& events) {
  try {
    switch (conn_.type) {
      case config::ConnectorType::feed: {
        std::unique_ptr<core::AccountSource> source = connectors::feed::FeedSource::create(conn_);
        // A file feed maps its next slice on a thread of its own while the engine decides and
        // writes this one (see read_ahead_source.hpp). Not an http(s) feed: a page fetched
        // ahead would be an HTTP request still under way when SIGTERM asks the run to stop,
        // and the stop would wait for it.
        if (!connectors::feed::is_http_url(conn_.feed()->url))
          source = std::make_unique<ReadAheadSource>(std::move(source));
        return run_source(stream, *source, store, events);
      }
      case config::ConnectorType::odoo:
        if (stream.kind == core::StreamKind::contacts) {
          auto source = connectors::odoo::OdooContactsSource::create(conn_);
          return run_source(stream, *source, store, events);
        } else {
          auto source = connectors::odoo::OdooCompaniesSource::create(conn_);
          return run_source(stream, *source, store, events);
        }
      case config::ConnectorType::magento2: {
        // The client outlives the run: it keeps the admin token, and refuses to retry a failed
        // login until the configuration is reloaded (a new runner).
        if (!magento_) {
          auto http = std::make_shared<connectors::http::CurlHttpClient>(connectors::magento2::http_options(conn_));
          magento_ = std::make_shared<connectors::magento2::Magento2Client>(
              connectors::magento2::settings_from_config(conn_), std::move(http));
        }
        if (stream.kind == core::StreamKind::orders) {
          connectors::magento2::OrdersSource source(magento_);
          return run_source(stream, source, store, events);
        }
        connectors::magento2::CustomersSource source(magento_);
        return run_source(stream, source, store, events);
      }
    }
    throw core::SyncError(core::SyncError::Kind::permanent,
                          "connector " + conn_.name + ": stream " + stream.name + " is not supported by this build");
  } catch (const core::SyncError& e) {
    // The source could not be built (a bad URL, an unreadable key file): the run's error.
    core::SyncReport report;
    report.connector = conn_.name;
    report.stream = stream.name;
    report.fail(e);
    return report;
  }
}

}  // namespace erpsync::daemon
