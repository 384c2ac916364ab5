// SPEC §10 remote faults through the fake-server kit: an HTTP feed connector (built by
// FeedSource::create from a config file read by config::load_config) synced by the engine
// into a MemoryStore, against a server that stalls, resets, truncates, sends malformed or
// wrongly typed bodies, 10k- and 1M-deep nesting, an endless chunked body, invalid UTF-8 and
// oversize fields. Each must end as a clear error (run status "error", nothing written, the
// cursor not advanced) or as per-record invalid_field rejections with the rest of the batch
// written — never a crash, a hang or an unbounded read. Invalid UTF-8 inside a JSON or XML
// field value is such a per-record rejection.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "config/config.hpp"
#include "connectors/feed/feed_source.hpp"
#include "connectors/registry.hpp"
#include "reference_store/memory_store.hpp"
#include "core/engine.hpp"
#include "reliability_support.hpp"
#include "support/fake_http_server.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::AnyOf;
using ::testing::HasSubstr;

struct Outcome {
  core::SyncReport report;
  std::chrono::milliseconds elapsed{0};
};

class RemoteFaults : public ::testing::Test {
 protected:
  // A JSON (or XML) feed at server.url(path) with records {id, code, name} under /items
  // (XML: /Export/C with @id, @code, Name).
  config::ConnectorConfig connector(const std::string& path, bool xml = false, std::size_t max_size = 1 << 20) {
    const std::string fields = xml ? R"("remote_id": "@id", "external_code": "@code", "name": "Name")"
                                   : R"("remote_id": "/id", "external_code": "/code", "name": "/name")";
    const std::string text = R"({ "database": { "connection": "Driver=SQLite3;Database=/nonexistent" },
      "connectors": [ { "name": "erp", "type": "feed", "url": ")" +
                             server_.url(path) + R"(", "format": ")" + (xml ? "xml" : "json") +
                             R"(", "records": ")" + (xml ? "/Export/C" : "/items") +
                             R"(", "default_owner": "sales", "timeout": "2s", "max_size": )" + std::to_string(max_size) +
                             R"(, "fields": { )" + fields + R"( } } ] })";
    const std::string file = dir_.write("erpsync.json", text, false);
    config::LoadResult r = config::load_config(file, connectors::connector_types());
    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    if (!r.ok()) ADD_FAILURE() << errors;
    return r.config->connectors.at(0);
  }

  Outcome sync(const config::ConnectorConfig& c) {
    auto source = connectors::feed::FeedSource::create(c);
    core::RunOptions options;
    options.batch_size = 50;
    core::SyncEvents events;
    const auto t0 = std::chrono::steady_clock::now();
    Outcome o;
    o.report = core::run_stream(c.match_policy("accounts"), *source, store_, options, events);
    o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    return o;
  }

  // A document-level failure: an error naming the connector's URL, nothing written.
  void expect_clean_error(const Outcome& o, const std::string& path) {
    EXPECT_EQ(o.report.status, core::RunStatus::error);
    EXPECT_THAT(o.report.message, HasSubstr(path)) << "the error names the URL";
    EXPECT_TRUE(store_.accounts().empty());
    EXPECT_TRUE(store_.cursors().empty()) << "the cursor advanced";
    EXPECT_LT(o.elapsed, 30s) << "took " << o.elapsed.count() << " ms";
  }

  static std::string items(int n, const std::string& extra_item = "") {
    std::string out = R"({"items":[)";
    for (int i = 1; i <= n; ++i)
      out += (i > 1 ? "," : "") + std::string(R"({"id":")") + std::to_string(i) + R"(","code":"C-)" +
             std::to_string(i) + R"(","name":"Company )" + std::to_string(i) + R"("})";
    if (!extra_item.empty()) out += "," + extra_item;
    return out + "]}";
  }

  ScratchDir dir_{"erpsync-remote"};
  FakeHttpServer server_;
  core::MemoryStore store_;
};

TEST_F(RemoteFaults, StallMidBodyIsATimeoutError) {
  const std::string body = items(20);
  server_.on("GET", "/feed", FakeReply::json(200, body).with_fault(FakeReply::Fault::stall, body.size() / 2));
  const Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_GE(o.elapsed, 1500ms) << "the stall did not last until the timeout";
  EXPECT_EQ(o.report.error_kind, core::SyncError::Kind::transient);
  server_.release_stalls();
}

TEST_F(RemoteFaults, ConnectionResetIsATransientError) {
  server_.on("GET", "/feed", FakeReply::json(200, items(20)).with_fault(FakeReply::Fault::reset, 40));
  const Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_EQ(o.report.error_kind, core::SyncError::Kind::transient);
}

TEST_F(RemoteFaults, TruncatedBodyIsAnError) {
  const std::string body = items(20);
  server_.on("GET", "/feed", FakeReply::json(200, body).with_fault(FakeReply::Fault::truncate, body.size() - 30));
  expect_clean_error(sync(connector("/feed")), "/feed");
}

TEST_F(RemoteFaults, MalformedJsonAndXmlAreErrorsWithThePosition) {
  server_.on("GET", "/feed", FakeReply::json(200, R"({"items":[{"id":"1","code":"C-1",}]})"));
  Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_THAT(o.report.message, HasSubstr("at byte"));
  EXPECT_EQ(o.report.error_kind, core::SyncError::Kind::permanent);

  server_.on("GET", "/feed.xml", FakeReply::xml(200, R"(<Export><C id="1" code="C-1"><Name>A</Name></C><C id="2")"));
  o = sync(connector("/feed.xml", true));
  expect_clean_error(o, "/feed.xml");
  EXPECT_THAT(o.report.message, HasSubstr("at byte"));
}

TEST_F(RemoteFaults, HtmlInsteadOfJsonIsAnErrorNamingTheContentType) {
  server_.on("GET", "/feed", FakeReply::html_error(200, "Maintenance", "We'll be back soon"));
  const Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_THAT(o.report.message, HasSubstr("html"));
}

TEST_F(RemoteFaults, PlainTextBodyIsAnError) {
  server_.on("GET", "/feed", FakeReply::text(200, "OK"));
  expect_clean_error(sync(connector("/feed")), "/feed");
}

TEST_F(RemoteFaults, TenThousandAndOneMillionDeepJsonAreTooDeep) {
  for (const std::size_t depth : {std::size_t{10'000}, std::size_t{1'000'000}}) {
    SCOPED_TRACE(depth);
    const std::string body = R"({"items":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
    server_.on("GET", "/deep", FakeReply::json(200, body));
    // The cap is raised so that depth, not size, is what stops the 1M-deep body.
    const Outcome o = sync(connector("/deep", false, 8 << 20));
    expect_clean_error(o, "/deep");
    EXPECT_THAT(o.report.message, HasSubstr("deeper than"));
  }
}

TEST_F(RemoteFaults, OneMillionDeepXmlIsTooDeep) {
  std::string body = "<Export>";
  for (int i = 0; i < 1'000'000; ++i) body += "<a>";
  for (int i = 0; i < 1'000'000; ++i) body += "</a>";
  body += "</Export>";
  server_.on("GET", "/deep.xml", FakeReply::xml(200, body));
  const Outcome o = sync(connector("/deep.xml", true, 16 << 20));
  expect_clean_error(o, "/deep.xml");
  EXPECT_THAT(o.report.message, HasSubstr("deeper than"));
}

TEST_F(RemoteFaults, OneGigabyteChunkedBodyIsCappedNotReadWhole) {
  server_.on("GET", "/huge", FakeReply::generated(std::uint64_t{1} << 30).with_header("Content-Type", "application/json"));
  const Outcome o = sync(connector("/huge"));  // max_size 1 MiB
  expect_clean_error(o, "/huge");
  EXPECT_THAT(o.report.message, AnyOf(HasSubstr("limit"), HasSubstr("large"), HasSubstr("size")));
  server_.stop();  // every written byte is counted once the connection is closed
  EXPECT_LT(server_.body_bytes_sent(), std::uint64_t{64} << 20) << "the body was read far past the cap";
}

TEST_F(RemoteFaults, InvalidUtf8InAnXmlFieldRejectsThatRecordOnly) {
  std::string body = "<Export>";
  for (int i = 1; i <= 10; ++i)
    body += "<C id=\"" + std::to_string(i) + "\" code=\"C-" + std::to_string(i) + "\"><Name>" +
            (i == 4 ? std::string("Bad \xC3\x28 name \xFF") : "Company " + std::to_string(i)) + "</Name></C>";
  body += "</Export>";
  server_.on("GET", "/feed.xml", FakeReply::xml(200, body));
  const Outcome o = sync(connector("/feed.xml", true));
  EXPECT_EQ(o.report.status, core::RunStatus::ok) << o.report.message;
  EXPECT_EQ(o.report.counters.created, 9);
  EXPECT_EQ(o.report.counters.rejected, 1);
  const core::RejectionRow* r = store_.rejection("erp", "accounts", "4", core::RejectReason::invalid_field);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(r->message, HasSubstr("UTF-8"));
}

TEST_F(RemoteFaults, InvalidUtf8InAJsonFieldRejectsThatRecordOnly) {
  // nlohmann refuses a whole document over one ill-formed byte; SPEC §10 wants only the record
  // rejected. A truncated sequence and a stray byte in a name, an encoded surrogate in a code,
  // an overlong in a key's value of a contact-less record: four records, each rejected alone.
  const std::string bad =
      "{\"id\":\"11\",\"code\":\"C-11\",\"name\":\"Bad \xC3\x28 name \xFF\"},"
      "{\"id\":\"12\",\"code\":\"C-\xED\xA0\x80\",\"name\":\"Surrogate code\"},"
      "{\"id\":\"13\",\"code\":\"C-13\",\"name\":\"Overlong \xC0\xAF\"},"
      "{\"id\":\"14\",\"code\":\"C-14\",\"name\":\"Cut at the end \xE2\x82\"},"
      "{\"id\":\"15\",\"code\":\"C-15\",\"name\":\"D\xC3\xBCsseldorf \xE2\x82\xAC \xF0\x9F\x98\x80\"}";
  server_.on("GET", "/feed", FakeReply::json(200, items(10, bad)));
  const Outcome o = sync(connector("/feed"));
  EXPECT_EQ(o.report.status, core::RunStatus::ok) << o.report.message;
  EXPECT_EQ(o.report.counters.created, 11);  // 1..10 and 15 (valid multi-byte UTF-8 is kept)
  EXPECT_EQ(o.report.counters.rejected, 4);
  for (const char* id : {"11", "12", "13", "14"}) {
    SCOPED_TRACE(id);
    const core::RejectionRow* r = store_.rejection("erp", "accounts", id, core::RejectReason::invalid_field);
    ASSERT_NE(r, nullptr);
    EXPECT_THAT(r->message, HasSubstr("not valid UTF-8"));
  }
  EXPECT_THAT(store_.rejection("erp", "accounts", "12", core::RejectReason::invalid_field)->message,
              HasSubstr("external_code"));
  ASSERT_NE(store_.account_by_code("C-15"), nullptr);
  EXPECT_EQ(store_.account_by_code("C-15")->name, "D\xC3\xBCsseldorf \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(store_.account_by_code("C-11"), nullptr);
  EXPECT_EQ(store_.accounts().size(), 11u);
}

TEST_F(RemoteFaults, InvalidUtf8OutsideAJsonStringIsADocumentErrorAtItsByte) {
  // Outside a string an ill-formed byte is not a field value: the document is malformed. The
  // position is the byte's offset in the body as received, even after a marked string before it.
  const std::string head = "{\"items\":[{\"id\":\"1\",\"code\":\"C-1\",\"name\":\"a \xFF\xFE\"}";
  const std::string body = head + ",\xFF]}";
  server_.on("GET", "/feed", FakeReply::json(200, body));
  const Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_THAT(o.report.message, HasSubstr("at byte " + std::to_string(head.size() + 1))) << o.report.message;
}

TEST_F(RemoteFaults, OversizeFieldsAreInvalidFieldRejectionsAndTheBatchGoesOn) {
  const std::string long_name = R"({"id":"90","code":"C-90","name":")" + std::string(256, 'n') + R"("})";
  const std::string long_code = R"({"id":"91","code":")" + std::string(65, 'c') + R"(","name":"x"})";
  const std::string long_id = R"({"id":")" + std::string(129, 'i') + R"(","code":"C-92","name":"y"})";
  server_.on("GET", "/feed", FakeReply::json(200, items(20, long_name + "," + long_code + "," + long_id)));
  const Outcome o = sync(connector("/feed"));
  EXPECT_EQ(o.report.status, core::RunStatus::ok) << o.report.message;
  EXPECT_EQ(o.report.counters.created, 20);
  EXPECT_EQ(o.report.counters.rejected, 3);
  EXPECT_NE(store_.rejection("erp", "accounts", "90", core::RejectReason::invalid_field), nullptr);
  EXPECT_NE(store_.rejection("erp", "accounts", "91", core::RejectReason::invalid_field), nullptr);
  EXPECT_EQ(store_.accounts().size(), 20u);
  // An exactly-at-the-limit name is fine.
  EXPECT_EQ(store_.account_by_code("C-90"), nullptr);
}

TEST_F(RemoteFaults, ServerErrorsAreTransientAndHonourRetryAfter) {
  server_.on("GET", "/feed", FakeReply::json(503, R"({"error":"busy"})").with_header("Retry-After", "7"));
  const Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_EQ(o.report.error_kind, core::SyncError::Kind::transient);
  ASSERT_TRUE(o.report.retry_after_s.has_value());
  EXPECT_EQ(*o.report.retry_after_s, 7.0);
}

TEST_F(RemoteFaults, AServerThatNeverAnswersTimesOut) {
  server_.on("GET", "/feed", FakeReply::json(200, items(1)).with_delay(60s));
  const Outcome o = sync(connector("/feed"));
  expect_clean_error(o, "/feed");
  EXPECT_EQ(o.report.error_kind, core::SyncError::Kind::transient);
}

}  // namespace
}  // namespace erpsync::testing
