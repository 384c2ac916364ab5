#include "daemon/wiring.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

#include "connectors/odbc/admin_queries.hpp"
#include "daemon/logging.hpp"
#include "daemon/read_ahead_source.hpp"
#include "daemon/redacting_store.hpp"

#include "connectors/feed/feed_source.hpp"
#include "connectors/feed/url.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/magento2/client.hpp"
#include "connectors/magento2/source.hpp"
#include "connectors/odoo/odoo_source.hpp"
#include "core/commerce_engine.hpp"

namespace erpsync::daemon {

namespace odbc = connectors::odbc;

std::unique_ptr<odbc::OdbcStore> open_store(const config::Config& cfg, StoreMode mode) {
  odbc::OdbcStoreOptions opts;
  opts.connection = cfg.database.connection;
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
    logger("daemon")->warn("retention: purge failed, retried later: {}", e.what());
  }
}

std::vector<std::string> streams_of(const config::ConnectorConfig& conn) {
  switch (conn.type) {
    case config::ConnectorType::feed: return {"accounts"};
    case config::ConnectorType::odoo: {
      // Contacts attach to companies: companies first, whatever order the config lists them in.
      std::vector<std::string> out;
      const auto& streams = std::get<config::OdooConfig>(conn.settings).streams;
      for (const char* s : {"companies", "contacts"})
        if (std::find(streams.begin(), streams.end(), s) != streams.end()) out.push_back(s);
      return out;
    }
    case config::ConnectorType::magento2: {
      // Orders link to customers: customers first, whatever order the config lists them in.
      std::vector<std::string> out;
      const auto& streams = std::get<config::Magento2Config>(conn.settings).streams;
      for (const char* s : {"customers", "orders"})
        if (std::find(streams.begin(), streams.end(), s) != streams.end()) out.push_back(s);
      return out;
    }
  }
  return {};
}

namespace {

// The source of one company-record stream. Throws core::SyncError when it cannot be built.
std::unique_ptr<core::AccountSource> make_account_source(const config::ConnectorConfig& conn, const std::string& stream) {
  if (conn.type == config::ConnectorType::odoo && stream == "companies")
    return connectors::odoo::OdooCompaniesSource::create(conn);
  // A file's document goes to the engine in slices; FeedSource keeps rule 7 (duplicate remote
  // ids superseded) across the whole document.
  if (conn.feed()) return connectors::feed::FeedSource::create(conn);
  throw core::SyncError(core::SyncError::Kind::permanent, "connector " + conn.name + ": stream " + stream +
                                                              " is not supported by this build");
}

core::SyncReport failed_report(const config::ConnectorConfig& conn, const std::string& stream, const core::SyncError& e) {
  core::SyncReport report;
  report.connector = conn.name;
  report.stream = stream;
  report.status = "error";
  report.message = e.what();
  report.error_kind = e.kind();
  return report;
}

}  // namespace

ConnectorRunner::ConnectorRunner(const config::Config& cfg, const config::ConnectorConfig& conn)
    : batch_size_(static_cast<std::size_t>(cfg.database.batch_size)), instance_(cfg.cluster.instance_id), conn_(conn) {}

ConnectorRunner::~ConnectorRunner() = default;

core::SyncReport ConnectorRunner::run(const std::string& stream, core::Store& target, core::SyncEvents& events) {
  RedactingStore store(target);  // the run's message is stored redacted, as it is logged
  core::StreamRunOptions options;
  options.batch_size = batch_size_;
  options.instance = instance_;
  const core::MatchPolicy policy = conn_.match_policy(stream);

  // Streams of records that attach to an Account (and park while it is missing).
  auto run_attached = [&](core::CommerceSource& source) {
    core::CommerceRunOptions commerce;
    commerce.stream = options;
    commerce.park_ttl = std::chrono::duration_cast<std::chrono::seconds>(conn_.park_ttl);
    return core::run_commerce_stream(policy, source, store, commerce, events);
  };
  if (conn_.type == config::ConnectorType::odoo && stream == "contacts") {
    try {
      auto source = connectors::odoo::OdooContactsSource::create(conn_);
      return run_attached(*source);
    } catch (const core::SyncError& e) {
      return failed_report(conn_, stream, e);
    }
  }
  if (conn_.type == config::ConnectorType::magento2) {
    try {
      if (!magento_) {
        auto http = std::make_shared<connectors::http::CurlHttpClient>(connectors::magento2::http_options(conn_));
        magento_ = std::make_shared<connectors::magento2::Magento2Client>(connectors::magento2::settings_from_config(conn_),
                                                                           std::move(http));
      }
      connectors::magento2::Magento2Source source(stream, magento_);
      return run_attached(source);
    } catch (const core::SyncError& e) {
      return failed_report(conn_, stream, e);
    }
  }

  if (const config::FeedConfig* feed = conn_.feed()) {
    options.snapshot.max_shrink_percent = feed->max_shrink_percent;
    options.snapshot.allow_empty = feed->allow_empty;
  }
  std::unique_ptr<core::AccountSource> source;
  try {
    source = make_account_source(conn_, stream);
    // A file feed maps its next slice on a thread of its own while the engine decides and
    // writes this one (see read_ahead_source.hpp). Not an http(s) feed: a page fetched ahead
    // would be an HTTP request still under way when SIGTERM asks the run to stop, and the stop
    // would wait for it. Odoo's source is left as it is.
    if (const config::FeedConfig* feed = conn_.feed(); feed && !connectors::feed::is_http_url(feed->url))
      source = std::make_unique<ReadAheadSource>(std::move(source));
  } catch (const core::SyncError& e) {
    return failed_report(conn_, stream, e);
  }
  return core::run_stream(policy, *source, store, options, events);
}

}  // namespace erpsync::daemon
