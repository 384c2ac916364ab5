#include "daemon/metrics.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <list>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/logging.hpp"
#include "version.hpp"

namespace erpsync::daemon {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::array<core::Outcome, 8> kOutcomes = {
    core::Outcome::created,    core::Outcome::adopted, core::Outcome::updated,  core::Outcome::unchanged,
    core::Outcome::superseded, core::Outcome::parked,  core::Outcome::rejected, core::Outcome::failed};

std::int64_t outcome_count(const core::Counters& c, core::Outcome o) {
  switch (o) {
    case core::Outcome::created: return c.created;
    case core::Outcome::adopted: return c.adopted;
    case core::Outcome::updated: return c.updated;
    case core::Outcome::unchanged: return c.unchanged;
    case core::Outcome::superseded: return c.superseded;
    case core::Outcome::parked: return c.parked;
    case core::Outcome::rejected: return c.rejected;
    case core::Outcome::failed: return c.failed;
  }
  return 0;
}

// A sample value: the shortest text that reads back as the same double ("0.1", "1764000000.5").
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : std::to_string(v);
}

// Label values escape backslash, double quote and line feed (exposition format 0.0.4).
std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string labels(const std::string& connector, const std::string& stream, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  std::string out = "{connector=\"" + escape_label(connector) + "\",stream=\"" + escape_label(stream) + "\"";
  if (!extra_name.empty()) {
    out += ",";
    out += extra_name;
    out += "=\"" + escape_label(extra_value) + "\"";
  }
  return out + "}";
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, const std::string& labels, const std::string& value) {
  out += name;
  out += labels;
  out += ' ';
  out += value;
  out += '\n';
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace

// ---- registry -----------------------------------------------------------------------------

void MetricsRegistry::record_run(const core::SyncReport& report) {
  record_run(report, std::chrono::system_clock::now());
}

void MetricsRegistry::record_run(const core::SyncReport& report, std::chrono::system_clock::time_point finished) {
  const double seconds = static_cast<double>(std::max<std::int64_t>(0, report.duration_ms)) / 1000.0;
  const double at = unix_seconds(finished);
  std::lock_guard lock(mu_);
  Series& s = series_[{report.connector, report.stream}];
  ++s.runs[std::string(core::to_string(report.status))];
  if (report.status == core::RunStatus::error) ++s.failures;
  const auto bucket = std::find_if(kDurationBuckets.begin(), kDurationBuckets.end(),
                                   [&](double le) { return seconds <= le; });
  if (bucket != kDurationBuckets.end()) ++s.buckets[static_cast<std::size_t>(bucket - kDurationBuckets.begin())];
  ++s.duration_count;
  s.duration_sum += seconds;
  s.records += report.counters;
  s.last_run = at;
  if (report.ok()) s.last_success = at;
}

void MetricsRegistry::set_open(const std::string& connector, const std::string& stream, std::int64_t rejections,
                               std::int64_t parked) {
  std::lock_guard lock(mu_);
  Series& s = series_[{connector, stream}];
  s.open_rejections = rejections;
  s.parked = parked;
}

void MetricsRegistry::set_abandoned_carts(const std::string& connector, std::int64_t carts) {
  std::lock_guard lock(mu_);
  abandoned_carts_[connector] = carts;
}

void MetricsRegistry::set_lease_held(const std::string& connector, bool held) {
  std::lock_guard lock(mu_);
  lease_held_[connector] = held;
}

void MetricsRegistry::retain_only(const std::set<std::string>& connectors) {
  std::lock_guard lock(mu_);
  std::erase_if(series_, [&](const auto& kv) { return !connectors.contains(kv.first.first); });
  std::erase_if(lease_held_, [&](const auto& kv) { return !connectors.contains(kv.first); });
  std::erase_if(abandoned_carts_, [&](const auto& kv) { return !connectors.contains(kv.first); });
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(512 + series_.size() * 4096);

  family(out, "erpsync_build_info", "gauge", "erpsync version of this process (always 1).");
  out += "erpsync_build_info{version=\"" + escape_label(kVersion) + "\"} 1\n";

  family(out, "erpsync_runs_total", "counter", "Finished runs by status (ok, error, stopped).");
  for (const auto& [key, s] : series_) {
    std::map<std::string, std::int64_t> runs = s.runs;
    runs.try_emplace("ok", 0);
    runs.try_emplace("error", 0);
    for (const auto& [status, n] : runs)
      sample(out, "erpsync_runs_total", labels(key.first, key.second, "status", status), std::to_string(n));
  }

  family(out, "erpsync_run_failures_total", "counter", "Runs that ended with status=error.");
  for (const auto& [key, s] : series_)
    sample(out, "erpsync_run_failures_total", labels(key.first, key.second), std::to_string(s.failures));

  family(out, "erpsync_run_duration_seconds", "histogram", "Duration of finished runs.");
  for (const auto& [key, s] : series_) {
    const std::string base = "{connector=\"" + escape_label(key.first) + "\",stream=\"" + escape_label(key.second) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
      cumulative += s.buckets[i];
      sample(out, "erpsync_run_duration_seconds_bucket", base + ",le=\"" + number(kDurationBuckets[i]) + "\"}",
             std::to_string(cumulative));
    }
    sample(out, "erpsync_run_duration_seconds_bucket", base + ",le=\"+Inf\"}", std::to_string(s.duration_count));
    sample(out, "erpsync_run_duration_seconds_sum", base + "}", number(s.duration_sum));
    sample(out, "erpsync_run_duration_seconds_count", base + "}", std::to_string(s.duration_count));
  }

  family(out, "erpsync_records_fetched_total", "counter", "Records read from the source (the sum of the outcomes).");
  for (const auto& [key, s] : series_)
    sample(out, "erpsync_records_fetched_total", labels(key.first, key.second), std::to_string(s.records.fetched));

  family(out, "erpsync_records_total", "counter", "Records by outcome.");
  for (const auto& [key, s] : series_)
    for (core::Outcome o : kOutcomes)
      sample(out, "erpsync_records_total", labels(key.first, key.second, "outcome", core::to_string(o)),
             std::to_string(outcome_count(s.records, o)));

  family(out, "erpsync_records_missing_total", "counter", "Bound records a full snapshot no longer held (never deleted).");
  for (const auto& [key, s] : series_)
    sample(out, "erpsync_records_missing_total", labels(key.first, key.second), std::to_string(s.records.missing));

  family(out, "erpsync_warnings_total", "counter", "Warnings (records written with a refused member_of link).");
  for (const auto& [key, s] : series_)
    sample(out, "erpsync_warnings_total", labels(key.first, key.second), std::to_string(s.records.warnings));

  family(out, "erpsync_last_run_timestamp_seconds", "gauge", "Unix time the last run ended, whatever its status.");
  for (const auto& [key, s] : series_)
    if (s.last_run) sample(out, "erpsync_last_run_timestamp_seconds", labels(key.first, key.second), number(*s.last_run));

  family(out, "erpsync_last_success_timestamp_seconds", "gauge", "Unix time the last run with status=ok ended.");
  for (const auto& [key, s] : series_)
    if (s.last_success)
      sample(out, "erpsync_last_success_timestamp_seconds", labels(key.first, key.second), number(*s.last_success));

  family(out, "erpsync_open_rejections", "gauge", "Unresolved rejections (sync_rejections without resolved_at).");
  for (const auto& [key, s] : series_)
    if (s.open_rejections)
      sample(out, "erpsync_open_rejections", labels(key.first, key.second), std::to_string(*s.open_rejections));

  family(out, "erpsync_parked_records", "gauge", "Parked records waiting for what they refer to (sync_parked).");
  for (const auto& [key, s] : series_)
    if (s.parked) sample(out, "erpsync_parked_records", labels(key.first, key.second), std::to_string(*s.parked));

  family(out, "erpsync_abandoned_carts", "gauge",
         "Magento carts that are active, hold items and were not updated for the connector's abandoned_after.");
  for (const auto& [connector, n] : abandoned_carts_)
    sample(out, "erpsync_abandoned_carts", "{connector=\"" + escape_label(connector) + "\"}", std::to_string(n));

  family(out, "erpsync_lease_held", "gauge",
         "1 while this process holds the connector's lease, 0 while another instance does.");
  for (const auto& [connector, held] : lease_held_)
    sample(out, "erpsync_lease_held", "{connector=\"" + escape_label(connector) + "\"}", held ? "1" : "0");
  return out;
}

// ---- listen address -----------------------------------------------------------------------

ListenAddress parse_listen(std::string_view listen) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("metrics.listen: \"" + std::string(listen) + "\": " + why +
                                " (expected host:port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\")");
  };
  std::string_view host, port;
  if (listen.starts_with('[')) {
    const auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      fail("an IPv6 address in brackets must be followed by :port");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) fail("no port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) fail("an IPv6 address needs brackets");
  }
  if (host.empty()) fail("no address (give the one to bind, loopback preferably)");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
    fail("the port must be a number from 0 to 65535");

  ListenAddress out;
  out.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  boost::system::error_code bad;
  const auto address = net::ip::make_address(out.host, bad);
  if (bad) fail("not an IP address (host names other than localhost are not resolved)");
  out.loopback = address.is_loopback();
  return out;
}

// ---- server ---------------------------------------------------------------------------------

namespace {
class Session;
}

struct MetricsServer::Impl {
  Impl(const MetricsRegistry& r, Options o) : registry(r), options(o) {}

  const MetricsRegistry& registry;
  const Options options;
  std::shared_ptr<spdlog::logger> log;
  int open_connections = 0;  // touched on the server thread only
  // Connections still waiting for their request, oldest first (server thread only). When
  // max_connections are open, a new connection closes the oldest of these instead of being
  // turned away: idle sockets cannot starve the scraper, whose request arrives at once.
  std::list<std::weak_ptr<Session>> waiting;
  // Declared before the acceptor and timer, destroyed after them; its destructor destroys
  // the handlers still pending, and with them the sessions (their sockets close).
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer retry{ioc};
  std::thread thread;

  void accept();
};

namespace {

// One connection: read one request (bounded in size and time), answer it, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(MetricsServer::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), buffer_(server.options.max_request_bytes) {
    ++server_.open_connections;
  }
  ~Session() {
    leave_waiting();
    --server_.open_connections;
  }

  void start() {
    parser_.header_limit(static_cast<std::uint32_t>(server_.options.max_request_bytes));
    parser_.body_limit(server_.options.max_request_bytes);
    stream_.expires_after(server_.options.timeout);
    waiting_ = server_.waiting.insert(server_.waiting.end(), weak_from_this());
    in_waiting_ = true;
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  // Closes a connection whose request has not arrived (its read ends with an error).
  void evict() {
    leave_waiting();
    close();
  }

 private:
  void leave_waiting() {
    if (!in_waiting_) return;
    server_.waiting.erase(waiting_);
    in_waiting_ = false;
  }

  void on_read(beast::error_code ec) {
    leave_waiting();
    // Too large, too slow, not HTTP or evicted: the connection is closed without an answer.
    if (ec) return close();
    const auto& req = parser_.get();
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    res_.version(req.version());
    res_.keep_alive(false);
    if (target != "/metrics") {
      res_.result(http::status::not_found);
      res_.set(http::field::content_type, "text/plain; charset=utf-8");
      res_.body() = "not found: metrics are served on /metrics\n";
    } else if (req.method() != http::verb::get) {
      res_.result(http::status::method_not_allowed);
      res_.set(http::field::allow, "GET");
      res_.set(http::field::content_type, "text/plain; charset=utf-8");
      res_.body() = "method not allowed\n";
    } else {
      res_.result(http::status::ok);
      res_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res_.body() = server_.registry.render();
    }
    res_.prepare_payload();
    stream_.expires_after(server_.options.timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  MetricsServer::Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> res_;
  std::list<std::weak_ptr<Session>>::iterator waiting_;  // valid while in_waiting_
  bool in_waiting_ = false;
};

}  // namespace

void MetricsServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // E.g. out of file descriptors: try again in a second rather than spin.
      log->warn("metrics: accept failed: {}", ec.message());
      retry.expires_after(std::chrono::seconds(1));
      retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) accept();
      });
      return;
    }
    auto oldest_waiting = waiting.empty() ? nullptr : waiting.front().lock();
    if (open_connections >= options.max_connections && !oldest_waiting) {
      beast::error_code ignored;  // every connection is being answered: this one is refused
      socket.close(ignored);
    } else {
      // At the limit, the oldest connection still waiting for its request makes room (its
      // session ends once its cancelled read completes).
      if (open_connections >= options.max_connections) oldest_waiting->evict();
      std::make_shared<Session>(*this, std::move(socket))->start();
    }
    accept();
  });
}

std::unique_ptr<MetricsServer> MetricsServer::start(const std::string& listen, const MetricsRegistry& registry) {
  return start(listen, registry, Options{});
}

std::unique_ptr<MetricsServer> MetricsServer::start(const std::string& listen, const MetricsRegistry& registry,
                                                     Options options) {
  const ListenAddress where = parse_listen(listen);
  auto impl = std::make_unique<Impl>(registry, options);
  impl->log = logger("metrics");
  const tcp::endpoint endpoint(net::ip::make_address(where.host), where.port);
  try {
    impl->acceptor.open(endpoint.protocol());
    impl->acceptor.set_option(tcp::acceptor::reuse_address(true));
    if (endpoint.address().is_v6()) impl->acceptor.set_option(net::ip::v6_only(true));
    impl->acceptor.bind(endpoint);
    impl->acceptor.listen(net::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code().value(), std::generic_category(),
                            "metrics: cannot listen on " + listen + ": " + e.code().message());
  }
  if (!where.loopback)
    impl->log->warn("metrics: listening on {}, which is not a loopback address: anyone who can reach it reads "
                    "the connector names and counts",
                    listen);
  impl->accept();
  Impl* raw = impl.get();
  // The thread blocks every signal: the service takes SIGTERM/SIGHUP with sigtimedwait on its
  // own thread, and a signal delivered here would get the default action instead.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  impl->thread = std::thread([raw] {
    for (;;) {
      try {
        raw->ioc.run();
        return;
      } catch (const std::exception& e) {  // the one catch site of the server thread
        raw->log->error("metrics: {}", e.what());
      }
    }
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string MetricsServer::local_address() const {
  const auto ep = impl_->acceptor.local_endpoint();
  const std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  return host + ":" + std::to_string(ep.port());
}

std::uint16_t MetricsServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace erpsync::daemon
