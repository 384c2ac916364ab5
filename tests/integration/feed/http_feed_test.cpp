// Feeds over HTTP (SPEC §4.3) against the fake HTTP server: basic, bearer and OAuth2 client
// credentials (token cached, renewed once on 401, auth error after that with no secret in it),
// page / offset / next-link paging, the "changed since" cursor filter and cursor_after, error
// classification, and the shipped Business Central connector file syncing the fixture pages.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "config/config.hpp"
#include "connectors/feed/feed_source.hpp"
#include "connectors/feed/http_reader.hpp"
#include "connectors/registry.hpp"
#include "core/errors.hpp"
#include "reference_store/memory_store.hpp"
#include "core/engine.hpp"
#include "support/fake_http_server.hpp"

namespace erpsync::connectors::feed {
namespace {

namespace fs = std::filesystem;
using core::SyncError;
using erpsync::testing::FakeHttpServer;
using erpsync::testing::FakeReply;
using erpsync::testing::RecordedRequest;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSource = ERPSYNC_SOURCE_DIR;
const std::string kBcPage1 = kSource + "/tests/fixtures/feed/bc-customers-page1.json";
const std::string kBcPage2 = kSource + "/tests/fixtures/feed/bc-customers-page2.json";
const std::string kBcHost = "https://api.businesscentral.dynamics.com";
const std::string kBcPath = "/v2.0/tenant-id/production/api/v2.0/companies(1b5f...)/customers";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
  return text;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "erpsync-feedhttp-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// A clock the test moves by hand (token expiry).
class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return now_; }
  void sleep_for(std::chrono::milliseconds d) override { now_ += d; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::from_time_t(1'795'000'000);
};

// One feed connector object through the real config loader.
config::ConnectorConfig load_connector(const nlohmann::ordered_json& connector) {
  TempDir dir;
  auto main = dir.write("erpsync.json",
                        nlohmann::ordered_json{{"database", {{"connection", "x"}}}, {"connectors", {connector}}}.dump());
  auto r = config::load_config(main, connectors::connector_types());
  std::string errors;
  for (const auto& e : r.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(r.ok()) << errors;
  if (!r.ok()) throw std::runtime_error(errors);
  return r.config->connectors.at(0);
}

// A JSON feed of records {"id", "code", "m"} at /v.
nlohmann::ordered_json json_feed(const std::string& url) {
  return {{"name", "erp"},
          {"type", "feed"},
          {"url", url},
          {"format", "json"},
          {"records", "/v"},
          {"default_owner", "sales"},
          {"fields", {{"remote_id", "/id"}, {"external_code", "/code"}}}};
}

std::string records_json(int first, int count, const std::string& extra = "") {
  std::string out = R"({"v":[)";
  for (int i = first; i < first + count; ++i) {
    if (i != first) out += ",";
    out += R"({"id":")" + std::to_string(i) + R"(","code":"C-)" + std::to_string(i) + R"(","m":"2026-11-2)" +
           std::to_string(i % 10) + R"(T10:00:00Z"})";
  }
  return out + "]" + extra + "}";
}

std::vector<core::SourcePage> read_all(FeedSource& source, const core::CursorState& cursor = {}) {
  source.begin(cursor);
  std::vector<core::SourcePage> pages;
  while (auto p = source.next_page()) pages.push_back(std::move(*p));
  return pages;
}

std::vector<std::string> codes(const std::vector<core::SourcePage>& pages) {
  std::vector<std::string> out;
  for (const auto& p : pages)
    for (const auto& r : p.records) out.push_back(r.get(core::Field::external_code));
  return out;
}

// Runs `f`, expects a SyncError of `kind`, returns it.
template <typename F>
SyncError error_of(F&& f, SyncError::Kind kind) {
  try {
    f();
  } catch (const SyncError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e;
  }
  ADD_FAILURE() << "no SyncError thrown";
  return SyncError(SyncError::Kind::permanent, "");
}

// ---- CSV -------------------------------------------------------------------------------------

TEST(HttpFeedCsv, AWindows1252ExportAndItsContactsFileAreFetchedWholeOnce) {
  FakeHttpServer server;
  server.on("GET", "/kunden.csv",
            FakeReply::text(200, "Kundennummer;Firma\r\n10001;M\xFCller GmbH\r\n10002;Gro\xDF KG\r\n10003;Kurz\r\n"));
  server.on("GET", "/kontakte.csv", FakeReply::text(200, "Kunde;Name\r\n10002;Kr\xE4mer\r\n"));
  nlohmann::ordered_json j = {{"name", "erp"},
                              {"type", "feed"},
                              {"url", server.url("/kunden.csv")},
                              {"format", "csv"},
                              {"encoding", "windows-1252"},
                              {"csv", {{"delimiter", ";"}}},
                              {"default_owner", "sales"},
                              {"fields", {{"external_code", "Kundennummer"}, {"name", "Firma"}}},
                              {"contacts",
                               {{"url", server.url("/kontakte.csv")},
                                {"company_key", "Kunde"},
                                {"fields", {{"last_name", "Name"}}}}}};
  auto source = FeedSource::create(load_connector(j));
  auto pages = read_all(*source);
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(pages[0].records.size(), 3u);
  EXPECT_EQ(pages[0].records[0].get(core::Field::name), "Müller GmbH");
  EXPECT_EQ(pages[0].records[1].get(core::Field::name), "Groß KG");
  ASSERT_EQ(pages[0].records[1].contacts.size(), 1u);
  EXPECT_EQ(pages[0].records[1].contacts[0].get(core::ContactField::last_name), "Krämer");
  EXPECT_FALSE(pages[0].records[1].invalid);
  EXPECT_FALSE(pages[0].records[2].invalid);  // "Kurz" has both columns
  ASSERT_EQ(server.request_count(), 2u);
  EXPECT_EQ(server.requests()[0].header("Accept"), "text/csv, text/plain;q=0.9");
}

// ---- auth ------------------------------------------------------------------------------------

TEST(HttpFeedAuth, BasicAuthAndExtraHeadersAreSent) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::json(200, records_json(1, 2)));
  auto j = json_feed(server.url("/export.json"));
  j["auth"] = {{"type", "basic"}, {"username", "erp-sync"}, {"password", "s3cret-pass"}};
  j["headers"] = {{"X-Tenant", "north"}};
  auto source = FeedSource::create(load_connector(j));
  auto pages = read_all(*source);
  EXPECT_EQ(codes(pages), (std::vector<std::string>{"C-1", "C-2"}));
  ASSERT_EQ(server.request_count(), 1u);
  const RecordedRequest r = server.requests()[0];
  EXPECT_EQ(r.header("Authorization"), "Basic ZXJwLXN5bmM6czNjcmV0LXBhc3M=");
  EXPECT_EQ(r.header("X-Tenant"), "north");
  EXPECT_EQ(r.header("Accept"), "application/json");
  EXPECT_TRUE(source->is_snapshot());
}

TEST(HttpFeedAuth, BearerTokenIsSent) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::json(200, records_json(1, 1)));
  auto j = json_feed(server.url("/export.json"));
  j["auth"] = {{"type", "bearer"}, {"token", "erp-api-token-123"}};
  auto source = FeedSource::create(load_connector(j));
  read_all(*source);
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer erp-api-token-123");
}

TEST(HttpFeedAuth, BearerRefusedIsAnAuthErrorWithoutTheToken) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::json(401, R"({"error":"invalid token erp-api-token-123"})"));
  auto j = json_feed(server.url("/export.json"));
  j["auth"] = {{"type", "bearer"}, {"token", "erp-api-token-123"}};
  auto source = FeedSource::create(load_connector(j));
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::auth);
  EXPECT_THAT(e.what(), HasSubstr("401"));
  EXPECT_THAT(e.what(), HasSubstr("check auth.token"));
  EXPECT_THAT(e.what(), Not(HasSubstr("erp-api-token-123")));
  EXPECT_EQ(server.request_count(), 1u);  // a static token is not retried
}

struct OAuthFixture {
  FakeHttpServer server;
  FakeClock clock;
  config::ConnectorConfig conn;

  explicit OAuthFixture(std::vector<FakeReply> tokens) {
    server.on("POST", "/tenant/oauth2/v2.0/token", std::move(tokens));
    auto j = json_feed(server.url("/api/customers"));
    j["auth"] = {{"type", "oauth2_client_credentials"},
                 {"token_url", server.url("/tenant/oauth2/v2.0/token")},
                 {"client_id", "client-id-42"},
                 {"client_secret", "very-secret-client-value"},
                 {"scope", "https://api.example.com/.default"}};
    conn = load_connector(j);
  }
  std::vector<RecordedRequest> token_requests() const {
    std::vector<RecordedRequest> out;
    for (auto& r : server.requests())
      if (r.method == "POST") out.push_back(r);
    return out;
  }
  std::vector<RecordedRequest> feed_requests() const {
    std::vector<RecordedRequest> out;
    for (auto& r : server.requests())
      if (r.method == "GET") out.push_back(r);
    return out;
  }
};

FakeReply token_reply(const std::string& token, int expires_in = 3599) {
  return FakeReply::json(200, R"({"token_type":"Bearer","expires_in":)" + std::to_string(expires_in) +
                                  R"(,"ext_expires_in":3599,"access_token":")" + token + R"("})");
}

TEST(HttpFeedOAuth2, TokenIsFetchedOnceAndReusedUntilShortlyBeforeItExpires) {
  OAuthFixture fx({token_reply("access-token-one"), token_reply("access-token-two")});
  fx.server.on("GET", "/api/customers", FakeReply::json(200, records_json(1, 1)));
  auto source = FeedSource::create(fx.conn, fx.clock);
  read_all(*source);
  read_all(*source);
  fx.clock.advance(std::chrono::seconds(3599 - 61));  // still more than 60 s left
  read_all(*source);
  ASSERT_EQ(fx.token_requests().size(), 1u);
  const RecordedRequest t = fx.token_requests()[0];
  EXPECT_THAT(t.header("Content-Type").value_or(""), HasSubstr("application/x-www-form-urlencoded"));
  EXPECT_THAT(t.body, HasSubstr("grant_type=client_credentials"));
  EXPECT_THAT(t.body, HasSubstr("client_id=client-id-42"));
  EXPECT_THAT(t.body, HasSubstr("client_secret=very-secret-client-value"));
  EXPECT_THAT(t.body, HasSubstr("scope=https%3A%2F%2Fapi.example.com%2F.default")) << t.body;
  for (const auto& r : fx.feed_requests()) EXPECT_EQ(r.header("Authorization"), "Bearer access-token-one");

  fx.clock.advance(std::chrono::seconds(2));  // within the last minute: renewed before use
  read_all(*source);
  EXPECT_EQ(fx.token_requests().size(), 2u);
  EXPECT_EQ(fx.feed_requests().back().header("Authorization"), "Bearer access-token-two");
}

TEST(HttpFeedOAuth2, A401RenewsTheTokenOnce) {
  OAuthFixture fx({token_reply("revoked-token-a"), token_reply("fresh-token-b")});
  fx.server.on("GET", "/api/customers", [](const RecordedRequest& r) {
    if (r.header("Authorization") == "Bearer fresh-token-b") return FakeReply::json(200, records_json(1, 2));
    return FakeReply::json(401, R"({"error":{"code":"Authentication_InvalidCredentials","message":"expired"}})");
  });
  auto source = FeedSource::create(fx.conn, fx.clock);
  auto pages = read_all(*source);
  EXPECT_EQ(codes(pages), (std::vector<std::string>{"C-1", "C-2"}));
  EXPECT_EQ(fx.token_requests().size(), 2u);
  EXPECT_EQ(fx.feed_requests().size(), 2u);
}

TEST(HttpFeedOAuth2, ASecond401IsAnAuthErrorWithNoSecretInIt) {
  OAuthFixture fx({token_reply("first-access-token"), token_reply("second-access-token")});
  // The server echoes the credential it got, as some do: the message must still not carry it.
  fx.server.on("GET", "/api/customers", [](const RecordedRequest& r) {
    return FakeReply::json(401, R"({"error":{"code":"Unauthorized","message":"token )" +
                                    r.header("Authorization").value_or("") + R"( is not valid"}})");
  });
  auto source = FeedSource::create(fx.conn, fx.clock);
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::auth);
  std::string msg = e.what();
  EXPECT_THAT(msg, HasSubstr("feed erp"));
  EXPECT_THAT(msg, HasSubstr("oauth2_client_credentials"));
  EXPECT_THAT(msg, HasSubstr("401"));
  for (const char* secret : {"first-access-token", "second-access-token", "very-secret-client-value"})
    EXPECT_THAT(msg, Not(HasSubstr(secret))) << msg;
  EXPECT_EQ(fx.token_requests().size(), 2u);
  EXPECT_EQ(fx.feed_requests().size(), 2u);
}

TEST(HttpFeedOAuth2, TokenEndpointRefusingTheClientIsAnAuthError) {
  OAuthFixture fx({FakeReply::json(401, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. very-secret-client-value"})")});
  fx.server.on("GET", "/api/customers", FakeReply::json(200, records_json(1, 1)));
  auto source = FeedSource::create(fx.conn, fx.clock);
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::auth);
  EXPECT_THAT(e.what(), HasSubstr("token request failed"));
  EXPECT_THAT(e.what(), HasSubstr("invalid_client"));
  EXPECT_THAT(e.what(), Not(HasSubstr("very-secret-client-value")));
  EXPECT_TRUE(fx.feed_requests().empty());
}

TEST(HttpFeedOAuth2, TokenEndpointOverloadedIsTransient) {
  OAuthFixture fx({FakeReply::text(503, "busy").with_header("Retry-After", "4")});
  auto source = FeedSource::create(fx.conn, fx.clock);
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::transient);
  EXPECT_EQ(e.retry_after_s(), 4.0);
}

// ---- paging ----------------------------------------------------------------------------------

TEST(HttpFeedPaging, PageNumbersUntilAShortPage) {
  FakeHttpServer server;
  server.on("GET", "/export.json", [](const RecordedRequest& r) {
    int page = std::stoi(r.query_param("page").value_or("0"));
    return FakeReply::json(200, records_json((page - 1) * 2 + 1, page < 3 ? 2 : 1));
  });
  auto j = json_feed(server.url("/export.json?format=full"));
  j["paging"] = {{"type", "page"}, {"param", "page"}, {"size_param", "limit"}, {"size", 2}, {"start", 1}};
  auto source = FeedSource::create(load_connector(j));
  auto pages = read_all(*source);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(codes(pages), (std::vector<std::string>{"C-1", "C-2", "C-3", "C-4", "C-5"}));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reqs[i].query_param("page"), std::to_string(i + 1));
    EXPECT_EQ(reqs[i].query_param("limit"), "2");
    EXPECT_EQ(reqs[i].query_param("format"), "full");
  }
}

TEST(HttpFeedPaging, SnapshotSizeCountsEveryPageBeforeAnyIsHandedOver) {
  FakeHttpServer server;
  server.on("GET", "/export.json", [](const RecordedRequest& r) {
    int page = std::stoi(r.query_param("page").value_or("0"));
    return FakeReply::json(200, records_json(page * 2 + 1, page < 2 ? 2 : 0));
  });
  auto j = json_feed(server.url("/export.json"));
  j["paging"] = {{"type", "page"}, {"param", "page"}, {"size", 2}, {"start", 0}};
  auto source = FeedSource::create(load_connector(j));
  auto start = source->begin({});
  EXPECT_EQ(start.snapshot_size, 4);
  EXPECT_EQ(server.request_count(), 3u);  // pages 0, 1 and the empty page 2
  EXPECT_FALSE(server.requests()[0].query_param("limit"));
}

TEST(HttpFeedPaging, OffsetsUntilAnEmptyPage) {
  FakeHttpServer server;
  server.on("GET", "/export.json", [](const RecordedRequest& r) {
    int offset = std::stoi(r.query_param("skip").value_or("0"));
    return FakeReply::json(200, records_json(offset + 1, offset < 4 ? 2 : 0));
  });
  auto j = json_feed(server.url("/export.json"));
  j["paging"] = {{"type", "offset"}, {"param", "skip"}, {"size_param", "top"}, {"size", 2}};
  auto source = FeedSource::create(load_connector(j));
  auto pages = read_all(*source);
  EXPECT_EQ(codes(pages), (std::vector<std::string>{"C-1", "C-2", "C-3", "C-4"}));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].query_param("skip"), "0");
  EXPECT_EQ(reqs[1].query_param("skip"), "2");
  EXPECT_EQ(reqs[2].query_param("skip"), "4");
  EXPECT_EQ(reqs[2].query_param("top"), "2");
}

TEST(HttpFeedPaging, AServerRepeatingItsLastPageEndsPaging) {
  FakeHttpServer server;
  server.on("GET", "/export.json", [](const RecordedRequest& r) {
    int page = std::stoi(r.query_param("p").value_or("1"));
    return FakeReply::json(200, records_json(page >= 2 ? 3 : 1, 2));  // page 3 = page 2 again
  });
  auto j = json_feed(server.url("/export.json"));
  j["paging"] = {{"type", "page"}, {"param", "p"}, {"size", 2}};
  auto source = FeedSource::create(load_connector(j));
  auto start = source->begin({});
  EXPECT_EQ(start.snapshot_size, 4);
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(HttpFeedPaging, NextLinksAreFollowedUntilAbsent) {
  FakeHttpServer server;
  server.on("GET", "/a.json", FakeReply::json(200, records_json(1, 2, R"(,"next":"/b.json?token=x1")")));
  server.on("GET", "/b.json", FakeReply::json(200, records_json(3, 1, R"(,"next":"c.json")")));
  server.on("GET", "/c.json", FakeReply::json(200, records_json(4, 1, R"(,"next":null)")));
  auto j = json_feed(server.url("/a.json"));
  j["paging"] = {{"type", "next_link"}, {"next_link", "/next"}};
  auto source = FeedSource::create(load_connector(j));
  auto pages = read_all(*source);
  EXPECT_EQ(codes(pages), (std::vector<std::string>{"C-1", "C-2", "C-3", "C-4"}));
  ASSERT_EQ(server.request_count(), 3u);
  EXPECT_EQ(server.requests()[1].target, "/b.json?token=x1");
  EXPECT_EQ(server.requests()[2].target, "/c.json");
}

TEST(HttpFeedPaging, NextLinkToAnotherSiteOrToItselfIsRefused) {
  FakeHttpServer server;
  server.on("GET", "/a.json", FakeReply::json(200, records_json(1, 1, R"(,"next":"https://evil.example.com/x")")));
  server.on("GET", "/b.json", FakeReply::json(200, records_json(1, 1, R"(,"next":"/b.json")")));
  auto j = json_feed(server.url("/a.json"));
  j["paging"] = {{"type", "next_link"}, {"next_link", "/next"}};
  j["auth"] = {{"type", "bearer"}, {"token", "erp-api-token-123"}};
  auto source = FeedSource::create(load_connector(j));
  SyncError e = error_of([&] { source->begin({}); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("another site (https://evil.example.com)"));
  j["url"] = server.url("/b.json");
  auto loop = FeedSource::create(load_connector(j));
  SyncError e2 = error_of([&] { loop->begin({}); }, SyncError::Kind::permanent);
  EXPECT_THAT(e2.what(), HasSubstr("refused as a loop"));
}

TEST(HttpFeedPaging, ALoopOverSeveralPagesIsRefusedNamingThePage) {
  // A -> B -> A: not a page linking to itself, and without the check an endless snapshot held
  // in memory page after page.
  FakeHttpServer server;
  server.on("GET", "/a.json", FakeReply::json(200, records_json(1, 1, R"(,"next":"/b.json?skiptoken=2")")));
  server.on("GET", "/b.json", FakeReply::json(200, records_json(2, 1, R"(,"next":"/a.json")")));
  auto j = json_feed(server.url("/a.json"));
  j["paging"] = {{"type", "next_link"}, {"next_link", "/next"}};
  auto source = FeedSource::create(load_connector(j));
  SyncError e = error_of([&] { source->begin({}); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("feed erp"));
  EXPECT_THAT(e.what(), HasSubstr("leads back to " + server.url("/a.json")));
  EXPECT_THAT(e.what(), HasSubstr("refused as a loop"));
  EXPECT_EQ(server.request_count(), 2u);
  // The same with a cursor (pages fetched one at a time while the run writes).
  j["cursor"] = {{"field", "/m"}, {"param", "since"}};
  auto changed = FeedSource::create(load_connector(j));
  error_of([&] { read_all(*changed); }, SyncError::Kind::permanent);
  EXPECT_EQ(server.request_count(), 4u);
}

// A feed whose server answers every page number with a full page of `size` new records: its
// paging never ends.
nlohmann::ordered_json endless_feed(FakeHttpServer& server, int size) {
  server.on("GET", "/export.json", [size](const RecordedRequest& r) {
    int page = std::stoi(r.query_param("page").value_or("1"));
    return FakeReply::json(200, records_json(page * size, size));
  });
  auto j = json_feed(server.url("/export.json"));
  j["paging"] = {{"type", "page"}, {"param", "page"}, {"size", size}};
  return j;
}

TEST(HttpFeedPaging, EndlessPagesStopAtMaxPages) {
  FakeHttpServer server;
  auto j = endless_feed(server, 2);
  j["max_pages"] = 5;
  auto source = FeedSource::create(load_connector(j));
  SyncError e = error_of([&] { source->begin({}); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("more than max_pages (5) pages"));
  EXPECT_THAT(e.what(), HasSubstr("page=5"));  // the last page read
  EXPECT_EQ(server.request_count(), 5u);
  // Exactly max_pages pages is a complete snapshot.
  FakeHttpServer five;
  five.on("GET", "/export.json", [](const RecordedRequest& r) {
    int page = std::stoi(r.query_param("page").value_or("1"));
    return FakeReply::json(200, records_json(page * 2, page < 5 ? 2 : 1));
  });
  j["url"] = five.url("/export.json");
  EXPECT_EQ(FeedSource::create(load_connector(j))->begin({}).snapshot_size, 9);
}

TEST(HttpFeedPaging, ASnapshotOverMaxSnapshotSizeIsRefused) {
  FakeHttpServer server;
  auto j = endless_feed(server, 100);  // ~5 KB a page
  j["max_snapshot_size"] = 20000;
  auto source = FeedSource::create(load_connector(j));
  SyncError e = error_of([&] { source->begin({}); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("more than max_snapshot_size (20000 bytes)"));
  const std::size_t page_bytes = records_json(100, 100).size();
  EXPECT_EQ(server.request_count(), 20000 / page_bytes + 1);
}

TEST(HttpFeedConfig, PagingBoundsHaveSpecDefaultsAndAreForHttpFeedsOnly) {
  FakeHttpServer server;
  const config::ConnectorConfig c = load_connector(json_feed(server.url("/x.json")));
  EXPECT_EQ(c.settings_as<FeedConfig>()->max_pages, 10'000);
  EXPECT_EQ(c.settings_as<FeedConfig>()->max_snapshot_size, std::int64_t{2} << 30);
  TempDir dir;
  auto j = json_feed("file://" + dir.write("x.json", "{}"));
  j["max_pages"] = 3;
  auto r = config::load_config(
      dir.write("erpsync.json", nlohmann::ordered_json{{"database", {{"connection", "x"}}}, {"connectors", {j}}}.dump()),
      connectors::connector_types());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors.at(0).to_string(), HasSubstr("max_pages"));
  EXPECT_THAT(r.errors.at(0).to_string(), HasSubstr("only for http:// and https:// feeds"));
}

// ---- redirects: credentials stay with their origin (SPEC §10) --------------------------------

TEST(HttpFeedRedirects, AnotherOriginReceivesNeitherAuthorizationNorCredentialHeaders) {
  FakeHttpServer erp, other;
  erp.on("GET", "/export.json", FakeReply::text(302, "").with_header("Location", other.url("/export.json")));
  other.on("GET", "/export.json", FakeReply::json(200, records_json(1, 2)));
  auto j = json_feed(erp.url("/export.json"));
  j["auth"] = {{"type", "bearer"}, {"token", "erp-api-token-123"}};
  j["headers"] = {{"X-Api-Key", "erp-api-key-456"}, {"Ocp-Apim-Subscription-Key", "sub-key-789"}};
  auto source = FeedSource::create(load_connector(j));
  EXPECT_EQ(codes(read_all(*source)), (std::vector<std::string>{"C-1", "C-2"}));
  ASSERT_EQ(erp.request_count(), 1u);
  EXPECT_EQ(erp.requests()[0].header("X-Api-Key"), "erp-api-key-456");  // configured for this origin
  ASSERT_EQ(other.request_count(), 1u);
  const RecordedRequest r = other.requests()[0];
  EXPECT_FALSE(r.header("Authorization"));
  EXPECT_FALSE(r.header("X-Api-Key"));
  EXPECT_FALSE(r.header("Ocp-Apim-Subscription-Key"));
  EXPECT_EQ(r.header("Accept"), "application/json");
}

TEST(HttpFeedRedirects, ATokenRequestRedirectedElsewhereIsRefusedAndItsSecretStays) {
  FakeHttpServer other;
  other.on("*", "/token", token_reply("stolen-token"));
  OAuthFixture fx({FakeReply::text(307, "").with_header("Location", other.url("/token"))});
  fx.server.on("GET", "/api/customers", FakeReply::json(200, records_json(1, 1)));
  auto source = FeedSource::create(fx.conn, fx.clock);
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("feed erp"));
  EXPECT_THAT(e.what(), HasSubstr("307"));
  EXPECT_THAT(e.what(), HasSubstr("another origin"));
  EXPECT_THAT(e.what(), Not(HasSubstr("very-secret-client-value")));
  EXPECT_EQ(other.request_count(), 0u);
  EXPECT_TRUE(fx.feed_requests().empty());
}

// ---- Business Central: next links and the cursor ---------------------------------------------

struct BcFixture {
  FakeHttpServer server;
  FakeClock clock;
  config::ConnectorConfig conn;

  BcFixture() {
    // The fixture pages as BC sends them, its host swapped for the fake's.
    std::string page1 = replace_all(slurp(kBcPage1), kBcHost, server.url(""));
    server.on("GET", kBcPath, FakeReply::json(200, page1),
              [](const RecordedRequest& r) { return !r.query_param("$skiptoken"); });
    server.on("GET", kBcPath, FakeReply::json(200, slurp(kBcPage2)),
              [](const RecordedRequest& r) { return r.query_param("$skiptoken") == "20000"; });
    server.on("POST", "/tenant-id/oauth2/v2.0/token", token_reply("bc-access-token"));
  }

  // The shipped example, loaded with its ${env:} and ${credential:} references, pointed at the fake.
  config::ConnectorConfig load_example(TempDir& dir) {
    setenv("BC_TENANT", "tenant-id", 1);
    setenv("BC_COMPANY", "1b5f...", 1);
    dir.write("creds/bc-client-id", "bc-client-id-value\n");
    dir.write("creds/bc-client-secret", "bc-client-secret-value\n");
    setenv("CREDENTIALS_DIRECTORY", dir.path("creds").c_str(), 1);
    fs::create_directories(dir.path("connectors.d"));
    fs::copy_file(kSource + "/examples/connectors.d/business-central.json",
                  dir.path("connectors.d/business-central.json"));
    auto r = config::load_config(
        dir.write("erpsync.json", R"({ "database": { "connection": "x" }, "include": "connectors.d/*.json" })"),
        connectors::connector_types());
    unsetenv("CREDENTIALS_DIRECTORY");
    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    EXPECT_TRUE(r.ok()) << errors;
    if (!r.ok()) throw std::runtime_error(errors);
    config::ConnectorConfig c = r.config->connectors.at(0);
    auto f = std::make_shared<FeedConfig>(*c.settings_as<FeedConfig>());
    EXPECT_EQ(f->url, kBcHost + kBcPath);
    f->url = replace_all(f->url, kBcHost, server.url(""));
    f->auth.token_url = replace_all(f->auth.token_url, "https://login.microsoftonline.com", server.url(""));
    c.settings = f;
    return c;
  }

  std::vector<RecordedRequest> feed_requests() const {
    std::vector<RecordedRequest> out;
    for (auto& r : server.requests())
      if (r.method == "GET") out.push_back(r);
    return out;
  }
};

TEST(HttpFeedBusinessCentral, TwoPagesLinkedByNextLinkWithTheCursorFilter) {
  BcFixture fx;
  TempDir dir;
  auto source = FeedSource::create(fx.load_example(dir), fx.clock);
  EXPECT_FALSE(source->is_snapshot());
  core::CursorState stored;
  stored.exists = true;
  stored.cursor = "2026-11-20 08:15:02.510#5ed1b5a8-6a4e-ef11-bfe2-000d3a2b4c01";
  auto start = source->begin(stored);
  EXPECT_FALSE(start.snapshot_size);
  auto p1 = source->next_page();
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->records.size(), 2u);
  EXPECT_EQ(p1->records[0].get(core::Field::external_code), "10000");
  EXPECT_EQ(p1->records[0].get(core::Field::remote_id), "5dd1b5a8-6a4e-ef11-bfe2-000d3a2b4c01");
  EXPECT_EQ(p1->cursor_after, "2026-11-20 08:15:02.510#5ed1b5a8-6a4e-ef11-bfe2-000d3a2b4c01");
  auto p2 = source->next_page();
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->records.size(), 1u);
  EXPECT_EQ(p2->records[0].get(core::Field::external_code), "30000");
  EXPECT_EQ(p2->cursor_after, "2026-11-21 10:02:44.003#5fd1b5a8-6a4e-ef11-bfe2-000d3a2b4c01");
  EXPECT_FALSE(source->next_page());

  auto reqs = fx.feed_requests();
  ASSERT_EQ(reqs.size(), 2u);
  // The stored cursor minus the 30 s overlap, whole seconds, UTC.
  EXPECT_EQ(reqs[0].query_param("$filter"), "lastModifiedDateTime gt 2026-11-20T08:14:32Z");
  EXPECT_EQ(reqs[0].query_param("$orderby"), "lastModifiedDateTime");
  EXPECT_THAT(reqs[0].target, HasSubstr("$filter=lastModifiedDateTime%20gt%202026-11-20T08:14:32Z"));
  EXPECT_EQ(reqs[0].header("Prefer"), "odata.maxpagesize=1000");
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer bc-access-token");
  // The next link is followed as BC wrote it.
  EXPECT_EQ(reqs[1].query_param("$skiptoken"), "20000");
  EXPECT_EQ(reqs[1].query_param("aid"), "FIN");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer bc-access-token");
}

TEST(HttpFeedBusinessCentral, FirstSyncUsesStartDateThenNoFilterWithoutOne) {
  BcFixture fx;
  TempDir dir;
  config::ConnectorConfig conn = fx.load_example(dir);
  conn.start_date = "2026-11-01";
  auto source = FeedSource::create(conn, fx.clock);
  read_all(*source);
  EXPECT_EQ(fx.feed_requests()[0].query_param("$filter"), "lastModifiedDateTime gt 2026-11-01T00:00:00Z");
  conn.start_date.reset();
  auto all = FeedSource::create(conn, fx.clock);
  read_all(*all);
  EXPECT_FALSE(fx.feed_requests()[2].query_param("$filter"));
  EXPECT_EQ(fx.feed_requests()[2].query_param("$orderby"), "lastModifiedDateTime");
}

TEST(HttpFeedBusinessCentral, ExampleConfigSyncsBothPagesIntoAccounts) {
  BcFixture fx;
  TempDir dir;
  config::ConnectorConfig conn = fx.load_example(dir);
  auto source = FeedSource::create(conn, fx.clock);
  core::MemoryStore store;
  core::SyncEvents events;
  core::RunOptions options;
  auto report = core::run_stream(conn.match_policy("accounts"), *source, store, options, events);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_EQ(report.counters.fetched, 3);
  EXPECT_EQ(report.counters.created, 3);
  EXPECT_EQ(report.counters.missing, 0);
  const auto* adatum = store.account_by_code("10000");
  ASSERT_TRUE(adatum);
  EXPECT_EQ(adatum->name, "Adatum Corporation");
  EXPECT_EQ(adatum->owner, "psmith");
  EXPECT_EQ(adatum->city, "Atlanta");
  ASSERT_TRUE(store.account_by_code("20000"));
  EXPECT_EQ(store.account_by_code("20000")->owner, "jolsen");
  ASSERT_TRUE(store.account_by_code("30000"));
  EXPECT_EQ(store.account_by_code("30000")->owner, "sales");  // empty salespersonCode
  EXPECT_EQ(store.cursors().at({"business-central", "accounts"}).cursor,
            "2026-11-21 10:02:44.003#5fd1b5a8-6a4e-ef11-bfe2-000d3a2b4c01");

  // The next run asks for changes since that cursor (minus the overlap); re-read rows are unchanged.
  auto again = core::run_stream(conn.match_policy("accounts"), *source, store, options, events);
  ASSERT_EQ(again.status, core::RunStatus::ok) << again.message;
  EXPECT_EQ(again.counters.unchanged, 3);
  EXPECT_EQ(fx.feed_requests().at(2).query_param("$filter"), "lastModifiedDateTime gt 2026-11-21T10:02:14Z");
}

// ---- failures ----------------------------------------------------------------------------------

TEST(HttpFeedErrors, TooManyRequestsAndServerErrorsAreTransient) {
  FakeHttpServer server;
  server.on("GET", "/export.json", {FakeReply::json(429, R"({"error":"slow down"})").with_header("Retry-After", "7"),
                                    FakeReply::html_error(503, "Service Unavailable", "maintenance"),
                                    FakeReply::json(200, records_json(1, 1))});
  auto source = FeedSource::create(load_connector(json_feed(server.url("/export.json"))));
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::transient);
  EXPECT_EQ(e.retry_after_s(), 7.0);
  EXPECT_THAT(e.what(), HasSubstr("feed erp"));
  EXPECT_THAT(e.what(), HasSubstr("429"));
  SyncError e2 = error_of([&] { read_all(*source); }, SyncError::Kind::transient);
  EXPECT_THAT(e2.what(), HasSubstr("503"));
  EXPECT_EQ(codes(read_all(*source)), (std::vector<std::string>{"C-1"}));
}

TEST(HttpFeedErrors, OtherClientErrorsArePermanent) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::json(400, R"({"error":{"code":"BadRequest","message":"bad $filter"}})"));
  auto source = FeedSource::create(load_connector(json_feed(server.url("/export.json"))));
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("bad $filter"));
}

TEST(HttpFeedErrors, MalformedPageIsPermanentNamingConnectorUrlAndOffset) {
  FakeHttpServer server;
  const std::string page2 = records_json(3, 2);
  server.on("GET", "/a.json", FakeReply::json(200, records_json(1, 2, R"(,"next":"/b.json?p=2")")));
  server.on("GET", "/b.json", FakeReply::json(200, page2.substr(0, 30)));  // a cut document, served whole
  auto j = json_feed(server.url("/a.json"));
  j["paging"] = {{"type", "next_link"}, {"next_link", "/next"}};
  j["cursor"] = {{"field", "/m"}, {"param", "since"}};
  auto source = FeedSource::create(load_connector(j));
  source->begin({});
  auto p1 = source->next_page();
  ASSERT_TRUE(p1);
  SyncError e = error_of([&] { source->next_page(); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("feed erp"));
  EXPECT_THAT(e.what(), HasSubstr(server.url("/b.json?p=2")));
  EXPECT_THAT(e.what(), HasSubstr("at byte 30"));
}

TEST(HttpFeedErrors, TruncatedTransferIsTransient) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::json(200, records_json(1, 3)).with_fault(FakeReply::Fault::truncate, 20));
  auto source = FeedSource::create(load_connector(json_feed(server.url("/export.json"))));
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::transient);
  EXPECT_THAT(e.what(), HasSubstr("feed erp"));
}

TEST(HttpFeedErrors, HtmlInsteadOfTheDocumentIsPermanent) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::html_error(200, "Sign in", "Please sign in"));
  auto source = FeedSource::create(load_connector(json_feed(server.url("/export.json"))));
  SyncError e = error_of([&] { read_all(*source); }, SyncError::Kind::permanent);
  EXPECT_THAT(e.what(), HasSubstr("expected JSON"));
  EXPECT_THAT(e.what(), HasSubstr("Sign in"));
}

// ---- cursor options ----------------------------------------------------------------------------

TEST(HttpFeedCursor, FixedOffsetAndDayGranularityShapeTheFilter) {
  FakeHttpServer server;
  server.on("GET", "/export.json", FakeReply::json(200, R"({"v":[
      {"id":"1","code":"C-1","m":"2026-11-22 09:30:00"},
      {"id":"2","code":"C-2","m":"2026-11-21T23:59:59-02:00"},
      {"id":"3","code":"C-3","m":"not a time"}]})"));
  auto j = json_feed(server.url("/export.json"));
  j["cursor"] = {{"field", "/m"}, {"param", "changed"}, {"template", "ge:{cursor}"}, {"timezone", "+01:00"}};
  auto source = FeedSource::create(load_connector(j));
  core::CursorState stored;
  stored.cursor = "2026-11-20 23:10:00.000#9";
  auto pages = read_all(*source, stored);
  // 23:09:30 UTC is 00:09:30 on the 21st at +01:00.
  EXPECT_EQ(server.requests()[0].query_param("changed"), "ge:2026-11-21T00:09:30+01:00");
  ASSERT_EQ(pages.size(), 1u);
  // 09:30 without an offset is read at +01:00 (08:30 UTC) and beats 23:59:59 at -02:00 (01:59:59
  // UTC); "not a time" does not move the cursor.
  ASSERT_EQ(pages[0].records.size(), 3u);
  EXPECT_EQ(pages[0].cursor_after, "2026-11-22 08:30:00.000#1");

  j["cursor"]["granularity"] = "day";
  auto daily = FeedSource::create(load_connector(j));
  read_all(*daily, stored);
  // At least a whole day back, to the start of that day in the feed's zone: the cursor's day is re-read.
  EXPECT_EQ(server.requests()[1].query_param("changed"), "ge:2026-11-20");
}

}  // namespace
}  // namespace erpsync::connectors::feed
