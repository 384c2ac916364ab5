// CurlHttpClient against the fake-server kit: every fault a remote system can throw at a
// connector (SPEC §10), the size cap on a chunked body, gzip, redaction, classification.

#include "connectors/http/http_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/http/http_error.hpp"
#include "connectors/http/redirect.hpp"
#include "support/fake_http_server.hpp"

namespace erpsync::connectors::http {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;
using testing::FakeReply;
using testing::RecordedRequest;
using Fault = FakeReply::Fault;
using Kind = core::SyncError::Kind;

// Collects every log line the client writes.
struct CapturedLog {
  std::mutex mutex;
  std::vector<std::pair<LogLevel, std::string>> lines;
  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(level, std::string(line));
    };
  }
  std::string all() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& [level, line] : lines) out += line + "\n";
    return out;
  }
};

ClientOptions quick_options() {
  ClientOptions o;
  o.timeouts.connect = 2s;
  o.timeouts.total = 10s;
  o.timeouts.low_speed_time = 5s;
  o.proxy = "";  // the fake is local; never route it through an environment proxy
  return o;
}

Request get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

// Runs the request, expects an HttpError, returns it.
HttpError error_of(HttpClient& client, const Request& request, bool checked = true) {
  try {
    if (checked) {
      client.send_checked(request);
    } else {
      client.send(request);
    }
  } catch (const HttpError& e) {
    return e;
  }
  ADD_FAILURE() << "no HttpError for " << request.url;
  return HttpError(Kind::permanent, "none", -1);
}

TEST(HttpClient, ReturnsBodyHeadersAndStatus) {
  FakeHttpServer server;
  server.on("GET", "/rest/V1/customers/search",
            FakeReply::json(200, R"({"items":[],"total_count":0})").with_header("X-Magento-Tags", "FPC"));
  CurlHttpClient client(quick_options());
  const Response r = client.send(get(server.url("/rest/V1/customers/search?searchCriteria%5BpageSize%5D=100")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"items":[],"total_count":0})");
  EXPECT_EQ(r.headers.get("x-magento-tags"), "FPC");
  EXPECT_EQ(r.headers.get("CONTENT-TYPE"), "application/json; charset=utf-8");
  ASSERT_TRUE(server.wait_for_requests(1, 1s));
  const auto rec = server.requests().at(0);
  EXPECT_EQ(rec.path, "/rest/V1/customers/search");
  EXPECT_EQ(rec.query_param("searchCriteria[pageSize]"), "100");
  EXPECT_EQ(rec.header("user-agent"), "erpsync/0.1");
}

TEST(HttpClient, ARequestsSummaryNamesItInErrorsInsteadOfItsUrlRedactedAndARedirectIsNamedByItsUrl) {
  FakeHttpServer server;
  server.on("GET", "/rest/V1/orders", FakeReply::text(503, "busy"));
  server.on("GET", "/old", FakeReply::text(301, "").with_header("Location", "/rest/V1/orders?moved=1"));
  ClientOptions o = quick_options();
  o.secrets = {"S3cr3t-Value"};
  CurlHttpClient client(o);
  Request r = get(server.url("/rest/V1/orders?searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=x"));
  r.summary = "/rest/V1/orders updated_at>2026-11-01 10:00:00 page 1 S3cr3t-Value";
  const HttpError e = error_of(client, r);
  EXPECT_EQ(std::string(e.what()).rfind("GET /rest/V1/orders updated_at>2026-11-01 10:00:00 page 1 ***: HTTP 503", 0), 0u)
      << e.what();
  EXPECT_EQ(std::string(e.what()).find("%5B"), std::string::npos) << e.what();
  // The summary named the first URL: the redirected request is named by its own.
  Request moved = get(server.url("/old"));
  moved.summary = "/old page 1";
  const HttpError m = error_of(client, moved);
  EXPECT_NE(std::string(m.what()).find("moved=1"), std::string::npos) << m.what();
  EXPECT_EQ(std::string(m.what()).find("/old page 1"), std::string::npos) << m.what();
}

TEST(HttpClient, PostsBodyAndHandlerSeesStateAcrossRequests) {
  FakeHttpServer server;
  std::atomic<int> calls{0};
  server.on("POST", "/xmlrpc/2/object", [&](const RecordedRequest& req) {
    const int n = ++calls;
    return FakeReply::xml(200, "<methodResponse><n>" + std::to_string(n) + "</n><echo>" + req.body +
                                   "</echo></methodResponse>");
  });
  CurlHttpClient client(quick_options());
  Request r = get(server.url("/xmlrpc/2/object"));
  r.method = "POST";
  r.body = "<methodCall/>";
  r.headers.add("Content-Type", "text/xml");
  EXPECT_NE(client.send_checked(r).body.find("<n>1</n><echo><methodCall/></echo>"), std::string::npos);
  EXPECT_NE(client.send_checked(r).body.find("<n>2</n>"), std::string::npos);
  const auto recs = server.requests();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].method, "POST");
  EXPECT_EQ(recs[0].body, "<methodCall/>");
  EXPECT_EQ(recs[0].header("Content-Type"), "text/xml");
  EXPECT_FALSE(recs[0].header("Expect").has_value()) << "no 100-continue round trip";
}

TEST(HttpClient, ClassifiesStatuses) {
  FakeHttpServer server;
  const std::vector<std::pair<unsigned, Kind>> cases = {
      {400, Kind::permanent}, {404, Kind::permanent}, {422, Kind::permanent},
      {401, Kind::auth},      {403, Kind::auth},      {408, Kind::transient},
      {429, Kind::transient}, {500, Kind::transient}, {502, Kind::transient},
      {503, Kind::transient}, {504, Kind::transient}};
  for (const auto& [status, kind] : cases) {
    server.on("GET", "/s/" + std::to_string(status), FakeReply::json(status, R"({"message":"nope"})"));
  }
  CurlHttpClient client(quick_options());
  for (const auto& [status, kind] : cases) {
    SCOPED_TRACE(status);
    const Response plain = client.send(get(server.url("/s/" + std::to_string(status))));
    EXPECT_EQ(plain.status, static_cast<long>(status)) << "send() returns any status";
    const HttpError e = error_of(client, get(server.url("/s/" + std::to_string(status))));
    EXPECT_EQ(e.kind(), kind);
    EXPECT_EQ(e.status(), static_cast<long>(status));
    EXPECT_NE(std::string(e.what()).find("HTTP " + std::to_string(status)), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(R"({"message":"nope"})"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.connection_count(), 1u) << "error statuses keep the connection alive";
}

TEST(HttpClient, KeepsOneConnectionForSeveralRequests) {
  FakeHttpServer server;
  server.on("GET", "/page", FakeReply::json(200, "[]"));
  CurlHttpClient client(quick_options());
  for (int i = 0; i < 5; ++i) client.send_checked(get(server.url("/page?p=" + std::to_string(i))));
  const auto recs = server.requests();
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(server.connection_count(), 1u);
  for (const auto& r : recs) EXPECT_EQ(r.connection_id, recs[0].connection_id);
}

TEST(HttpClient, ReconnectsAfterServerClosedConnection) {
  FakeHttpServer server;
  server.on("GET", "/a", FakeReply::json(200, "{}").with_header("X", "1"));
  FakeReply closing = FakeReply::json(200, "{}");
  closing.close_after = true;
  server.on("GET", "/close", closing);
  CurlHttpClient client(quick_options());
  client.send_checked(get(server.url("/close")));
  client.send_checked(get(server.url("/a")));
  EXPECT_EQ(server.connection_count(), 2u);
}

TEST(HttpClient, TotalTimeoutIsTransient) {
  FakeHttpServer server;
  server.on("GET", "/slow", FakeReply::json(200, "{}").with_delay(10s));
  CurlHttpClient client(quick_options());
  Request r = get(server.url("/slow"));
  r.timeouts = Timeouts{};
  r.timeouts->connect = 1s;
  r.timeouts->total = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const HttpError e = error_of(client, r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(e.kind(), Kind::transient);
  EXPECT_EQ(e.status(), 0);
  EXPECT_NE(std::string(e.what()).find("imeout"), std::string::npos) << e.what();
}  // the delayed reply is interrupted by the server's destructor

TEST(HttpClient, LowSpeedLimitAbortsAStalledBody) {
  FakeHttpServer server;
  server.on("GET", "/stall", FakeReply::json(200, std::string(10'000, 'x')).with_fault(Fault::stall, 100));
  ClientOptions o = quick_options();
  o.timeouts.total = 60s;
  // libcurl averages the speed over a window of up to ~5 s, so the burst before the stall (head +
  // 100 bytes) keeps a very low limit satisfied for several seconds: measured 7 s with 10 B/s.
  o.timeouts.low_speed_bytes = 1000;
  o.timeouts.low_speed_time = 1s;
  CurlHttpClient client(o);
  const auto start = std::chrono::steady_clock::now();
  const HttpError e = error_of(client, get(server.url("/stall")));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(e.kind(), Kind::transient);
  EXPECT_NE(std::string(e.what()).find("too slow"), std::string::npos) << e.what();
  EXPECT_TRUE(server.wait_for_stalled(1, 1s)) << "the server is still hanging on to it";
}

TEST(HttpClient, StalledHeadersHitTheTotalTimeout) {
  FakeHttpServer server;
  // Nothing of the response is sent: the head itself never comes.
  server.on("GET", "/hang", FakeReply::json(200, "{}").with_delay(1h));
  CurlHttpClient client(quick_options());
  Request r = get(server.url("/hang"));
  r.timeouts = quick_options().timeouts;
  r.timeouts->total = 500ms;
  EXPECT_EQ(error_of(client, r).kind(), Kind::transient);
}

TEST(FakeHttpServer, StopsCleanlyWithStalledConnectionsAndReleasesOnRequest) {
  auto server = std::make_unique<FakeHttpServer>();
  server->on("GET", "/stall", FakeReply::generated(1'000'000).with_fault(Fault::stall, 1000));
  ClientOptions o = quick_options();
  o.timeouts.total = 30s;
  CurlHttpClient client(o);
  // Client in a thread: it blocks on the stalled body until the test releases the stall.
  std::thread t([&] {
    try {
      client.send(get(server->url("/stall")));
    } catch (const HttpError&) {
    }
  });
  ASSERT_TRUE(server->wait_for_stalled(1, 5s));
  server->release_stalls();  // connection closed mid-body: the client sees a truncated chunked body
  t.join();
  // A second stalled exchange left hanging; the destructor must still return.
  CurlHttpClient other(o);
  std::thread t2([&] {
    try {
      Request r = get(server->url("/stall"));
      r.timeouts = o.timeouts;
      r.timeouts->total = 20s;
      other.send(r);
    } catch (const HttpError&) {
    }
  });
  ASSERT_TRUE(server->wait_for_stalled(1, 5s));
  const auto start = std::chrono::steady_clock::now();
  server.reset();  // stop(): closes the stalled connection
  t2.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(HttpClient, TruncatedBodyIsTransient) {
  FakeHttpServer server;
  server.on("GET", "/trunc", FakeReply::json(200, std::string(1000, 'a')).with_fault(Fault::truncate, 100));
  CurlHttpClient client(quick_options());
  const HttpError e = error_of(client, get(server.url("/trunc")), false);
  EXPECT_EQ(e.kind(), Kind::transient);
  EXPECT_NE(std::string(e.what()).find("partial"), std::string::npos) << e.what();
}

TEST(HttpClient, ConnectionResetIsTransient) {
  FakeHttpServer server;
  server.on("GET", "/reset-before", FakeReply::json(200, "{}").with_fault(Fault::reset, 0));
  server.on("GET", "/reset-mid", FakeReply::json(200, std::string(100'000, 'a')).with_fault(Fault::reset, 5000));
  server.on("GET", "/closed", FakeReply::json(200, "{}").with_fault(Fault::close));
  CurlHttpClient client(quick_options());
  for (const char* path : {"/reset-before", "/reset-mid", "/closed"}) {
    SCOPED_TRACE(path);
    const HttpError e = error_of(client, get(server.url(path)), false);
    EXPECT_EQ(e.kind(), Kind::transient) << e.what();
  }
}

TEST(HttpClient, ConnectRefusedAndUnknownHostAreTransient) {
  std::string url;
  {
    FakeHttpServer gone;
    url = gone.url("/x");
  }  // nothing listens on that port any more
  CurlHttpClient client(quick_options());
  EXPECT_EQ(error_of(client, get(url)).kind(), Kind::transient);
  EXPECT_EQ(error_of(client, get("http://erpsync-test.invalid/x")).kind(), Kind::transient);
}

TEST(HttpClient, OnlyHttpAndHttpsAndFewRedirects) {
  FakeHttpServer server;
  server.on("GET", "/loop", FakeReply::text(302, "").with_header("Location", "/loop"));
  server.on("GET", "/to-file", FakeReply::text(302, "").with_header("Location", "file:///etc/passwd"));
  CurlHttpClient client(quick_options());
  EXPECT_EQ(error_of(client, get("file:///etc/passwd")).kind(), Kind::permanent);
  EXPECT_EQ(error_of(client, get(server.url("/loop"))).kind(), Kind::permanent);
  EXPECT_EQ(error_of(client, get(server.url("/to-file"))).kind(), Kind::permanent);
  EXPECT_LE(server.request_count(), 6u);  // 1 + 3 redirects, + 1 for /to-file
}

TEST(HttpClient, SizeCapStopsAMultiGigabyteChunkedBodyQuickly) {
  FakeHttpServer server;
  server.on("GET", "/huge", FakeReply::generated(std::uint64_t{4} << 30));  // 4 GiB, no Content-Length
  ClientOptions o = quick_options();
  o.max_response_bytes = 1 << 20;
  CurlHttpClient client(o);
  const auto start = std::chrono::steady_clock::now();
  const HttpError e = error_of(client, get(server.url("/huge")), false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(e.kind(), Kind::permanent);
  EXPECT_NE(std::string(e.what()).find("larger than 1048576 bytes"), std::string::npos) << e.what();
  ASSERT_TRUE(server.wait_for_closed_connections(1, 5s));
  EXPECT_LT(server.body_bytes_sent(), std::uint64_t{64} << 20) << "the server was stopped early";
}

TEST(HttpClient, SizeCapBoundsAGzipBomb) {
  FakeHttpServer server;
  server.on("GET", "/bomb", FakeReply::generated(std::uint64_t{1} << 30).with_gzip());  // 1 GiB decoded
  ClientOptions o = quick_options();
  o.max_response_bytes = 1 << 20;
  CurlHttpClient client(o);
  const HttpError e = error_of(client, get(server.url("/bomb")), false);
  EXPECT_EQ(e.kind(), Kind::permanent);
  EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos) << e.what();
}

TEST(HttpClient, SizeCapRefusesADeclaredLargeBody) {
  FakeHttpServer server;
  server.on("GET", "/big", FakeReply::text(200, std::string(2 << 20, 'b')));
  ClientOptions o = quick_options();
  o.max_response_bytes = 1 << 20;
  CurlHttpClient client(o);
  const HttpError e = error_of(client, get(server.url("/big")), false);
  EXPECT_EQ(e.kind(), Kind::permanent);
  EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos) << e.what();
}

TEST(HttpClient, DecodesGzipAndChunkedBodies) {
  FakeHttpServer server;
  const std::string body = R"({"items":[)" + std::string(50'000, ' ') + R"(]})";
  server.on("GET", "/gz", FakeReply::json(200, body).with_gzip());
  server.on("GET", "/gz-chunked", FakeReply::json(200, body).with_gzip().with_chunked());
  server.on("GET", "/gen", FakeReply::generated(300'000));
  CurlHttpClient client(quick_options());
  EXPECT_EQ(client.send_checked(get(server.url("/gz"))).body, body);
  EXPECT_EQ(client.send_checked(get(server.url("/gz-chunked"))).body, body);
  EXPECT_EQ(client.send_checked(get(server.url("/gen"))).body.size(), 300'000u);
  const auto accept = server.requests().at(0).header("Accept-Encoding");
  ASSERT_TRUE(accept.has_value());
  EXPECT_NE(accept->find("gzip"), std::string::npos);
}

TEST(HttpClient, SummarisesHtmlErrorPages) {
  FakeHttpServer server;
  server.on("GET", "/maint",
            FakeReply::html_error(503, "Service Temporarily Unavailable",
                                  "The store is down for maintenance &amp; will be back soon.")
                .with_header("Retry-After", "120"));
  CurlHttpClient client(quick_options());
  const HttpError e = error_of(client, get(server.url("/maint")));
  const std::string what = e.what();
  EXPECT_EQ(e.kind(), Kind::transient);
  EXPECT_EQ(e.retry_after_s(), 120.0);
  EXPECT_NE(what.find(R"(HTML "Service Temporarily Unavailable": The store is down for maintenance & will be back soon.)"),
            std::string::npos) << what;
  for (const char* noise : {"<style", "<script", "dataLayer", "<!--", "<div", "\n"}) {
    EXPECT_EQ(what.find(noise), std::string::npos) << noise << " in " << what;
  }
  EXPECT_LT(what.size(), 400u);
}

TEST(HttpClient, ExcerptOfBinaryOrLongBodiesIsShortAndPrintable) {
  FakeHttpServer server;
  server.on("GET", "/bin", FakeReply::text(500, std::string("\xff\xfe\x01oops\n\n  ", 10) + std::string(5000, 'z')));
  CurlHttpClient client(quick_options());
  const HttpError e = error_of(client, get(server.url("/bin")));
  EXPECT_EQ(e.excerpt().rfind("???oops z", 0), 0u) << e.excerpt();
  EXPECT_LE(e.excerpt().size(), 203u);
}

TEST(HttpClient, RetryAfterSecondsAndHttpDate) {
  FakeHttpServer server;
  server.on("GET", "/throttle", FakeReply::json(429, "{}").with_header("Retry-After", "7"));
  server.on("GET", "/date", FakeReply::json(503, "{}").with_header("Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT"));
  server.on("GET", "/none", FakeReply::json(503, "{}"));
  CurlHttpClient client(quick_options());
  EXPECT_EQ(error_of(client, get(server.url("/throttle"))).retry_after_s(), 7.0);
  const auto far = error_of(client, get(server.url("/date"))).retry_after_s();
  ASSERT_TRUE(far.has_value());
  EXPECT_GT(*far, 1e9);
  EXPECT_FALSE(error_of(client, get(server.url("/none"))).retry_after_s().has_value());
}

TEST(RetryAfter, ParsesEveryFormRfc9110Allows) {
  using std::chrono::system_clock;
  const auto now = system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("120", now), 120.0);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0.0);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), 60.0);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", now), 120.0);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:47 1994", now), 10.0);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0.0) << "past date";
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("1.5", now));
}

TEST(Backoff, FullJitterCappedAndHonoursRetryAfter) {
  BackoffPolicy p;
  p.base = 100ms;
  p.cap = 2s;
  p.max_retry_after = 60s;
  Backoff b(p, 42);
  for (int attempt = 0; attempt < 12; ++attempt) {
    const auto ceiling = std::min<std::chrono::milliseconds>(p.cap, p.base * (1 << attempt));
    const auto d = b.next();
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, ceiling) << attempt;
  }
  EXPECT_EQ(b.attempts(), 12);
  EXPECT_GE(b.next(30.0), 30s);
  EXPECT_EQ(b.next(1e12), 60s) << "an absurd Retry-After is clamped";
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_LE(b.next(), 100ms);
  // Jitter really spreads: 200 draws at the cap are not all equal.
  Backoff spread(p, 7);
  for (int i = 0; i < 10; ++i) spread.next();
  std::vector<long long> draws;
  for (int i = 0; i < 200; ++i) draws.push_back(spread.next().count());
  std::sort(draws.begin(), draws.end());
  EXPECT_LT(draws.front(), 500);
  EXPECT_GT(draws.back(), 1500);
}

TEST(Backoff, CallerWaitsAtLeastRetryAfterMeasuredByTheServer) {
  FakeHttpServer server;
  server.on("GET", "/orders", {FakeReply::json(429, "{}").with_header("Retry-After", "1"),
                               FakeReply::json(200, R"({"items":[]})")});
  CurlHttpClient client(quick_options());
  BackoffPolicy p;
  p.base = 10ms;
  Backoff backoff(p, 1);
  Response ok;
  for (int attempt = 0; attempt < 3; ++attempt) {  // what a scheduler does, in miniature
    try {
      ok = client.send_checked(get(server.url("/orders")));
      break;
    } catch (const core::SyncError& e) {
      ASSERT_EQ(e.kind(), Kind::transient);
      std::this_thread::sleep_for(backoff.next(e));  // the scheduler's wait under test
    }
  }
  EXPECT_EQ(ok.status, 200);
  const auto recs = server.requests();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_GE(recs[1].received_at - recs[0].received_at, 1s);
}

TEST(HttpClient, RedactsSecretsFromErrorsAndLogs) {
  const std::string token = "tok-CANARY-9f8e7d6c5b4a";
  const std::string password = "pw-CANARY-Secr3t!";
  const std::string api_key = "key-CANARY-0123456789";
  FakeHttpServer server;
  // A badly behaved server: echoes the whole request (head and URL) back in an error body.
  auto echo = [](unsigned status) {
    return [status](const RecordedRequest& r) {
      std::string body = "error for " + r.method + " " + r.target + "\n";
      for (const auto& [n, v] : r.headers) body += n + ": " + v + "\n";
      body += "body: " + r.body;
      return FakeReply::text(status, body);
    };
  };
  server.on("*", "/echo401", echo(401));
  server.on("*", "/echo500", echo(500));
  server.on("GET", "/slow", FakeReply::json(200, "{}").with_delay(10s));

  CapturedLog log;
  ClientOptions o = quick_options();
  o.secrets = {token, password, api_key};
  o.secret_headers = {"X-Shop-Key"};
  o.log = log.sink();
  o.trace = true;  // curl's verbose trace goes to the log too: it must be redacted as well
  CurlHttpClient client(o);

  std::vector<std::string> texts;
  auto run = [&](Request r) {
    try {
      client.send_checked(r);
      ADD_FAILURE() << "expected an error";
    } catch (const HttpError& e) {
      texts.emplace_back(e.what());
      texts.push_back(e.excerpt());
    }
  };
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  Request a = get(base + "/echo401?access_token=" + token + "&page=2");
  a.headers.add("Authorization", "Bearer " + token);
  run(a);
  Request b = get("http://integration:" + password + "@127.0.0.1:" + std::to_string(server.port()) +
                  "/echo500?apiKey=" + api_key);
  b.method = "POST";
  b.headers.add("X-Shop-Key", api_key);
  b.body = R"({"username":"admin","password":")" + password + R"("})";
  run(b);
  Request c = get(base + "/slow?token=" + token);
  c.headers.add("Authorization", "Bearer " + token);
  c.timeouts = o.timeouts;
  c.timeouts->total = 200ms;
  run(c);

  ASSERT_TRUE(server.wait_for_requests(3, 2s));
  // The secrets really went over the wire (the test would prove nothing otherwise) ...
  const auto recs = server.requests();
  EXPECT_EQ(recs[0].header("Authorization"), "Bearer " + token);
  EXPECT_EQ(recs[1].header("X-Shop-Key"), api_key);
  // ... and come back in no error text, excerpt or log line (trace included).
  std::string everything = log.all();
  for (const auto& t : texts) everything += t + "\n";
  ASSERT_FALSE(log.lines.empty());
  EXPECT_NE(everything.find("> GET /echo401"), std::string::npos) << "trace was captured";
  for (const std::string& secret : {token, password, api_key, std::string("CANARY")}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " leaked in:\n" << everything;
  }
  EXPECT_NE(everything.find("Bearer ***"), std::string::npos);
  EXPECT_NE(everything.find("access_token=***&page=2"), std::string::npos);
  EXPECT_NE(everything.find("http://***@127.0.0.1"), std::string::npos);
}

TEST(Redactor, MasksCommonCredentialShapesWithoutRegisteredSecrets) {
  Redactor r;
  EXPECT_EQ(r.url("https://u:p@erp.example.com/api?client_secret=abc&x=1&oauth_signature=zz"),
            "https://***@erp.example.com/api?client_secret=***&x=1&oauth_signature=***");
  EXPECT_EQ(r.header_value("authorization", "Basic dXNlcjpwYXNzd29yZA=="), "Basic ***");
  EXPECT_EQ(r.header_value("Cookie", "PHPSESSID=abcdef"), "***");
  EXPECT_EQ(r.header_value("Accept", "application/json"), "application/json");
  EXPECT_EQ(r.text("failed: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y\nnext"),
            "failed: Authorization: Bearer ***\nnext");
  EXPECT_EQ(r.text("basic authentication failed for page=3"), "basic authentication failed for page=3");
  EXPECT_EQ(r.text("sent bearer abcdefgh1234 to the store"), "sent bearer *** to the store");
}

TEST(HttpClient, InsecureTlsIsLoggedLoudly) {
  CapturedLog log;
  ClientOptions o = quick_options();
  o.insecure_skip_tls_verify = true;
  o.log = log.sink();
  CurlHttpClient client(o);
  ASSERT_FALSE(log.lines.empty());
  EXPECT_EQ(log.lines[0].first, LogLevel::error);
  EXPECT_NE(log.lines[0].second.find("DISABLED"), std::string::npos);
  CapturedLog quiet;
  ClientOptions safe = quick_options();
  safe.log = quiet.sink();
  CurlHttpClient secure(safe);
  EXPECT_TRUE(quiet.lines.empty());
}

TEST(FakeHttpServer, RecordsDecodedQueryAndRoutesByPredicate) {
  FakeHttpServer server;
  server.on("GET", "/rest/V1/orders", FakeReply::json(200, R"({"phase":1})"));
  server.on("GET", "/rest/V1/orders", FakeReply::json(200, R"({"phase":2})"), [](const RecordedRequest& r) {
    return r.query_param("searchCriteria[filter_groups][0][filters][0][condition_type]") == "gt";
  });
  CurlHttpClient client(quick_options());
  const std::string q = "/rest/V1/orders?searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=";
  EXPECT_EQ(client.send_checked(get(server.url(q + "eq"))).body, R"({"phase":1})");
  EXPECT_EQ(client.send_checked(get(server.url(q + "gt"))).body, R"({"phase":2})");
  EXPECT_EQ(client.send(get(server.url("/unknown"))).status, 404);
  EXPECT_TRUE(server.wait_for_requests(3, 1s));
  EXPECT_FALSE(server.wait_for_requests(4, 50ms));
  const auto recs = server.requests();
  EXPECT_EQ(recs[1].query.at(0).second, "gt");
  EXPECT_EQ(recs[1].sequence, 1u);
  EXPECT_LE(recs[0].received_at, recs[1].received_at);
}

}  // namespace
}  // namespace erpsync::connectors::http

namespace erpsync::connectors::http {
namespace {

TEST(HttpClient, ABadCaBundleFailsPermanently) {
  FakeHttpServer server;  // plain HTTP: the TLS handshake cannot even start
  ClientOptions o = quick_options();
  o.ca_bundle = "/nonexistent/erpsync-ca.pem";
  CurlHttpClient client(o);
  const HttpError e = error_of(client, get("https://127.0.0.1:" + std::to_string(server.port()) + "/"));
  EXPECT_EQ(e.kind(), Kind::permanent) << e.what();
  EXPECT_NE(std::string(e.what()).find("SSL CA cert"), std::string::npos) << e.what();
}

using ::testing::HasSubstr;
using ::testing::Not;

// ---- redirects: credentials stay with their origin (SPEC §10, redirect.hpp) -------------------
// Two loopback servers on two ports are two origins; each records what reaches it.

const std::string kApiKey = "api-key-CANARY-4711";
const std::string kToken = "bearer-CANARY-0815";
const std::string kClientSecret = "client-secret-CANARY-42";

ClientOptions redirect_options() {
  ClientOptions o = quick_options();
  o.secrets = {kApiKey, kToken, kClientSecret};
  o.secret_headers = {"X-Api-Key"};
  return o;
}

Request with_credentials(std::string url) {
  Request r;
  r.url = std::move(url);
  r.headers.add("Accept", "application/json");
  r.headers.add("Authorization", "Bearer " + kToken);
  r.headers.add("X-Api-Key", kApiKey);
  r.headers.add("X-Tenant", "north");
  return r;
}

Request token_request(std::string url) {
  Request r;
  r.method = "POST";
  r.url = std::move(url);
  r.headers.add("Content-Type", "application/x-www-form-urlencoded");
  r.body = "grant_type=client_credentials&client_id=app&client_secret=" + kClientSecret;
  return r;
}

TEST(Redirect, WithinTheOriginCarriesEveryCredential) {
  FakeHttpServer a;
  a.on("GET", "/old", FakeReply::text(302, "").with_header("Location", "/new?page=2"));
  a.on("GET", "/new", FakeReply::json(200, "{}"));
  CurlHttpClient client(redirect_options());
  Response r = client.send(with_credentials(a.url("/old")));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(a.request_count(), 2u);
  const auto second = a.requests()[1];
  EXPECT_EQ(second.target, "/new?page=2");
  EXPECT_EQ(second.header("Authorization"), "Bearer " + kToken);
  EXPECT_EQ(second.header("X-Api-Key"), kApiKey);
  EXPECT_EQ(second.header("X-Tenant"), "north");
}

TEST(Redirect, ToAnotherOriginCarriesNoCredentialAtAll) {
  FakeHttpServer a, b;  // same host, another port: another origin
  a.on("GET", "/export", FakeReply::text(302, "").with_header("Location", b.url("/elsewhere")));
  b.on("GET", "/elsewhere", FakeReply::text(307, "").with_header("Location", a.url("/back")));
  a.on("GET", "/back", FakeReply::json(200, R"({"v":1})"));
  CurlHttpClient client(redirect_options());
  Response r = client.send(with_credentials(a.url("/export")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"v":1})");
  ASSERT_EQ(b.request_count(), 1u);
  const auto at_b = b.requests()[0];
  EXPECT_FALSE(at_b.header("Authorization"));
  EXPECT_FALSE(at_b.header("X-Api-Key"));
  EXPECT_FALSE(at_b.header("X-Tenant"));  // any extra header may be a credential
  EXPECT_EQ(at_b.header("Accept"), "application/json");
  for (const auto& [name, value] : at_b.headers) {
    EXPECT_THAT(value, Not(HasSubstr("CANARY"))) << name;
  }
  // Back at the first origin, after a detour: the credentials stay dropped for the chain.
  ASSERT_EQ(a.request_count(), 2u);
  EXPECT_FALSE(a.requests()[1].header("X-Api-Key"));
  EXPECT_FALSE(a.requests()[1].header("Authorization"));
}

TEST(Redirect, A307Or308OfATokenRequestToAnotherOriginIsRefused) {
  for (unsigned status : {307u, 308u}) {
    FakeHttpServer a, b;
    a.on("POST", "/oauth2/token", FakeReply::text(status, "").with_header("Location", b.url("/steal")));
    b.on("*", "/steal", FakeReply::json(200, R"({"access_token":"x"})"));
    CurlHttpClient client(redirect_options());
    const HttpError e = error_of(client, token_request(a.url("/oauth2/token")), false);
    EXPECT_EQ(e.kind(), Kind::permanent);
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(status)));
    EXPECT_THAT(e.what(), HasSubstr(b.url("/steal")));
    EXPECT_THAT(e.what(), HasSubstr("another origin"));
    EXPECT_THAT(e.what(), Not(HasSubstr("CANARY")));
    EXPECT_EQ(b.request_count(), 0u) << status;
  }
}

TEST(Redirect, A307OfATokenRequestWithinItsOriginKeepsMethodAndBody) {
  FakeHttpServer a;
  a.on("POST", "/oauth2/token", FakeReply::text(307, "").with_header("Location", "/oauth2/v2/token"));
  a.on("POST", "/oauth2/v2/token", FakeReply::json(200, R"({"access_token":"x"})"));
  CurlHttpClient client(redirect_options());
  EXPECT_EQ(client.send(token_request(a.url("/oauth2/token"))).status, 200);
  ASSERT_EQ(a.request_count(), 2u);
  EXPECT_EQ(a.requests()[1].method, "POST");
  EXPECT_THAT(a.requests()[1].body, HasSubstr("client_secret=" + kClientSecret));
}

TEST(Redirect, A303OfAPostToAnotherOriginContinuesAsAGetWithoutTheBody) {
  FakeHttpServer a, b;
  a.on("POST", "/login", FakeReply::text(303, "").with_header("Location", b.url("/done")));
  b.on("GET", "/done", FakeReply::json(200, "{}"));
  CurlHttpClient client(redirect_options());
  EXPECT_EQ(client.send(token_request(a.url("/login"))).status, 200);
  ASSERT_EQ(b.request_count(), 1u);
  EXPECT_EQ(b.requests()[0].method, "GET");
  EXPECT_EQ(b.requests()[0].body, "");
  EXPECT_FALSE(b.requests()[0].header("Content-Type"));
}

TEST(Redirect, FromHttpsToHttpIsRefused) {
  // No TLS server in the test kit: the hop is planned on its own, as send() plans each hop.
  Redactor redactor;
  Request sent = with_credentials("https://erp.example.com/export?token=" + kToken);
  try {
    redirected_request(sent, 302, "http://erp.example.com/export", url_origin(sent.url), redactor);
    ADD_FAILURE() << "https -> http followed";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent);
    EXPECT_THAT(e.what(), HasSubstr("from https to http"));
    EXPECT_THAT(e.what(), HasSubstr("http://erp.example.com/export"));
    EXPECT_THAT(e.what(), Not(HasSubstr(kToken)));
  }
  // http -> https within one host is another origin (scheme and port differ): followed, bare.
  Request plain = with_credentials("http://erp.example.com/export");
  Request next = redirected_request(plain, 301, "https://erp.example.com/export", url_origin(plain.url), redactor);
  EXPECT_EQ(next.url, "https://erp.example.com/export");
  EXPECT_FALSE(next.headers.contains("Authorization"));
  EXPECT_FALSE(next.headers.contains("X-Api-Key"));
}

TEST(Redirect, OriginsCompareSchemeHostAndPort) {
  EXPECT_EQ(url_origin("https://API.example.com/x?y"), "https://api.example.com");
  EXPECT_EQ(url_origin("https://api.example.com:443/x"), "https://api.example.com");
  EXPECT_EQ(url_origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(url_origin("http://user:pw@h/x"), "http://h");
  EXPECT_NE(url_origin("http://h:8080/"), url_origin("http://h:8081/"));
  EXPECT_EQ(url_origin("file:///etc/passwd"), "");
  EXPECT_EQ(url_origin("/relative"), "");
  EXPECT_EQ(url_origin("https://erp.example.com/odata?$filter=a eq 1"), "https://erp.example.com");
}

}  // namespace
}  // namespace erpsync::connectors::http
