#include "daemon/wiring.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

#include "connectors/odbc/admin_queries.hpp"
#include "daemon/logging.hpp"
#include "daemon/read_ahead_source.hpp"
#include "daemon/redacting_store.hpp"
#include "core/text.hpp"

#include "connectors/feed/feed_source.hpp"
#include "connectors/feed/url.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/magento2/client.hpp"
#include "connectors/magento2/magento2_conf.hpp"
#include "connectors/magento2/source.hpp"
#include "connectors/odoo/odoo_source.hpp"

namespace erpsync::daemon {

namespace odbc = connectors::odbc;

odbc::SuiteCrmOptions suitecrm_options(const config::DatabaseConfig& db) {
  odbc::SuiteCrmOptions o;
  o.code_field = db.suitecrm.code_field;
  o.sync_user = db.suitecrm.sync_user;
  o.account_type_map = db.suitecrm.account_type_map;
  o.inactive = db.suitecrm.inactive;
  o.vat_field = db.suitecrm.vat_field;
  return o;
}

std::unique_ptr<odbc::OdbcStore> open_store(const config::Config& cfg, StoreMode mode) {
  odbc::OdbcStoreOptions opts;
  opts.connection = cfg.database.connection;
  opts.table_prefix = cfg.database.table_prefix;
  opts.dry_run = mode == StoreMode::dry_run;
  if (cfg.database.crm == config::CrmTarget::suitecrm) opts.suitecrm = suitecrm_options(cfg.database);
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
std::string store_time(std::chrono::system_clock::time_point t) { return core::utc_text(t) + ".000"; }

}  // namespace

void apply_retention(const config::Config& cfg, odbc::OdbcStore& store) {
  const auto now = std::chrono::system_clock::now();
  try {
    const auto [runs, rejections] = store.admin().purge_retention(store_time(now - cfg.retention.runs),
                                                                  store_time(now - cfg.retention.resolved_rejections));
    if (runs + rejections > 0)
      logger("daemon")->info("retention: removed {} old run(s) and {} resolved rejection(s)", runs, rejections);
  } catch (const std::exception& e) {
    logger("daemon")->warn("retention: purge failed, retried later: {}", e.what());
  }
}

std::vector<StreamPlan> streams_of(const config::ConnectorConfig& conn) { return conn.streams(); }

core::RunOptions run_options(const config::Config& cfg, const config::ConnectorConfig& conn) {
  core::RunOptions options;
  options.batch_size = static_cast<std::size_t>(cfg.database.batch_size);
  options.instance = cfg.cluster.instance_id;
  options.park_ttl = std::chrono::duration_cast<std::chrono::seconds>(conn.park_ttl);
  if (const auto* feed = conn.settings_as<connectors::feed::FeedConfig>()) {
    options.snapshot.max_shrink_percent = feed->max_shrink_percent;
    options.snapshot.allow_empty = feed->allow_empty;
  }
  return options;
}

std::optional<std::string> abandoned_cutoff(const config::ConnectorConfig& conn,
                                            std::chrono::system_clock::time_point now) {
  const auto* m = conn.settings_as<connectors::magento2::Magento2Config>();
  if (!m) return std::nullopt;
  const auto streams = streams_of(conn);
  if (std::none_of(streams.begin(), streams.end(), [](const StreamPlan& s) { return s.kind == core::StreamKind::carts; }))
    return std::nullopt;
  const auto before = now - std::chrono::duration_cast<std::chrono::system_clock::duration>(m->abandoned_after);
  return core::utc_text(before) + ".000";
}

// What one run of one stream needs besides its source.
struct RunContext {
  const config::ConnectorConfig& conn;
  const core::RunOptions& options;
  core::Store& store;
  core::SyncEvents& events;

  template <class Record>
  core::SyncReport run(const StreamPlan& stream, core::Source<Record>& source) const {
    return core::run_stream(conn.match_policy(stream.name), source, store, options, events);
  }
};

// One connector's streams as its type builds them: what outlives a run, and each stream's run.
class ConnectorStreams {
 public:
  virtual ~ConnectorStreams() = default;
  // Builds `stream`'s source and runs it. Throws core::SyncError when the source cannot be
  // built (a bad URL, an unreadable key file).
  virtual core::SyncReport run(const StreamPlan& stream, const RunContext& run) = 0;
};

namespace {

class FeedStreams final : public ConnectorStreams {
 public:
  core::SyncReport run(const StreamPlan& stream, const RunContext& run) override {
    // A CSV feed's contacts file: the rows the "accounts" run's companies did not take are
    // handed to the "contacts" run that follows it (feed_source.hpp).
    if (stream.kind == core::StreamKind::contacts) {
      connectors::feed::FeedContactsSource source(contacts_);
      return run.run(stream, source);
    }
    std::unique_ptr<connectors::feed::FeedSource> feed = connectors::feed::FeedSource::create(run.conn);
    if (run.conn.settings_as<connectors::feed::FeedConfig>()->has_contacts_file()) {
      // The contacts stream's cursor: the content hash its last committed rows came from. Not
      // readable now: none, so the files are read again (the safe side).
      std::string contacts_cursor;
      try {
        contacts_cursor = run.store.load_cursor(run.conn.name, "contacts").cursor;
      } catch (const std::exception&) {
      }
      feed->hand_contacts_to(contacts_, std::move(contacts_cursor));
    }
    std::unique_ptr<core::AccountSource> source = std::move(feed);
    // A file feed maps its next slice on a thread of its own while the engine decides and
    // writes this one (see read_ahead_source.hpp). Not an http(s) feed: a page fetched ahead
    // would be an HTTP request still under way when SIGTERM asks the run to stop, and the stop
    // would wait for it.
    if (!connectors::feed::is_http_url(run.conn.settings_as<connectors::feed::FeedConfig>()->url))
      source = std::make_unique<ReadAheadSource>(std::move(source));
    return run.run(stream, *source);
  }

 private:
  std::shared_ptr<connectors::feed::ContactHandoff> contacts_ = std::make_shared<connectors::feed::ContactHandoff>();
};

class OdooStreams final : public ConnectorStreams {
 public:
  core::SyncReport run(const StreamPlan& stream, const RunContext& run) override {
    if (stream.kind == core::StreamKind::contacts) {
      auto source = connectors::odoo::OdooContactsSource::create(run.conn);
      return run.run(stream, *source);
    }
    auto source = connectors::odoo::OdooCompaniesSource::create(run.conn);
    return run.run(stream, *source);
  }
};

class Magento2Streams final : public ConnectorStreams {
 public:
  core::SyncReport run(const StreamPlan& stream, const RunContext& run) override {
    // The client outlives the run: it keeps the admin token, and refuses to retry a failed
    // login until the configuration is reloaded (a new runner).
    if (!client_) {
      auto http = std::make_shared<connectors::http::CurlHttpClient>(connectors::magento2::http_options(run.conn));
      client_ = std::make_shared<connectors::magento2::Magento2Client>(
          connectors::magento2::settings_from_config(run.conn), std::move(http));
    }
    if (stream.kind == core::StreamKind::orders) {
      connectors::magento2::OrdersSource source(client_);
      return run.run(stream, source);
    }
    if (stream.kind == core::StreamKind::carts) {
      connectors::magento2::CartsSource source(client_);
      return run.run(stream, source);
    }
    connectors::magento2::CustomersSource source(client_);
    return run.run(stream, source);
  }

 private:
  std::shared_ptr<connectors::magento2::Magento2Client> client_;
};

// The registry: each connector type (connectors/registry.hpp) and what builds its streams.
template <class Streams>
std::unique_ptr<ConnectorStreams> make() {
  return std::make_unique<Streams>();
}

std::unique_ptr<ConnectorStreams> streams_for(const std::string& type) {
  using Factory = std::unique_ptr<ConnectorStreams> (*)();
  static const std::pair<const config::ConnectorType*, Factory> registry[] = {
      {&connectors::magento2::connector_type(), &make<Magento2Streams>},
      {&connectors::odoo::connector_type(), &make<OdooStreams>},
      {&connectors::feed::connector_type(), &make<FeedStreams>},
  };
  for (const auto& [t, factory] : registry)
    if (t->name() == type) return factory();
  return nullptr;
}

}  // namespace

ConnectorRunner::ConnectorRunner(const config::Config& cfg, const config::ConnectorConfig& conn)
    : options_(run_options(cfg, conn)), conn_(conn), streams_(streams_for(conn.type)) {}

ConnectorRunner::~ConnectorRunner() = default;

core::SyncReport ConnectorRunner::run(const StreamPlan& stream, core::Store& target, core::SyncEvents& events) {
  RedactingStore store(target);  // the run's message is stored redacted, as it is logged
  try {
    if (!streams_)
      throw core::SyncError(core::SyncError::Kind::permanent,
                            "connector " + conn_.name + ": stream " + stream.name + " is not supported by this build");
    return streams_->run(stream, RunContext{conn_, options_, store, events});
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
