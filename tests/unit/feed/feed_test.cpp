// Feed connector (SPEC §4.3): the XML and JSON mappers over the fixture exports, value maps,
// contacts, remote id defaulting, bad documents, and FeedSource over file:// with an
// injectable clock.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "config/config.hpp"
#include "config/jsonc.hpp"
#include "connectors/feed/feed_source.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/reader.hpp"
#include "connectors/registry.hpp"
#include "core/errors.hpp"
#include "core/rules/normalize.hpp"
#include "core/rules/payload.hpp"

namespace erpsync::connectors::feed {
namespace {

namespace fs = std::filesystem;
using core::ContactField;
using core::Field;
using core::IncomingAccount;
using ::testing::HasSubstr;

const std::string kFixtures = std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/feed/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "erpsync-feed-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Loads a fixture connector file through the real config loader, pointed at `url`, without
// the HTTP-only options this build refuses.
config::ConnectorConfig load_connector(const std::string& fixture, const std::string& url) {
  auto parsed = config::parse_jsonc(slurp(kFixtures + fixture));
  EXPECT_TRUE(parsed.doc) << parsed.error.message;
  auto conn = parsed.doc->root;
  conn["url"] = url;
  conn.erase("auth");
  TempDir dir;
  auto main = dir.write("erpsync.json", nlohmann::ordered_json{{"database", {{"connection", "x"}}},
                                                               {"connectors", {conn}}}
                                            .dump());
  auto r = config::load_config(main, connectors::connector_types());
  std::string errors;
  for (const auto& e : r.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(r.ok()) << errors;
  return r.config->connectors.at(0);
}

const FeedConfig& feed_of(const config::ConnectorConfig& c) { return *c.settings_as<FeedConfig>(); }

// `c`'s feed settings, made its own copy for the test to change.
FeedConfig& edit_feed(config::ConnectorConfig& c) {
  auto copy = std::make_shared<FeedConfig>(feed_of(c));
  FeedConfig& feed = *copy;
  c.settings = std::move(copy);
  return feed;
}

std::vector<IncomingAccount> map_fixture(const std::string& connector_file, const std::string& export_file) {
  auto conn = load_connector(connector_file, "file://" + kFixtures + export_file);
  return map_document(feed_of(conn), slurp(kFixtures + export_file), "feed " + conn.name);
}

FeedConfig xml_feed(const std::string& records, std::map<Field, FieldPath> fields) {
  FeedConfig f;
  f.format = FeedFormat::xml;
  f.records = records;
  for (auto& [k, v] : fields) f.fields[static_cast<std::size_t>(k)] = v;
  return f;
}

FeedConfig json_feed(const std::string& records, std::map<Field, FieldPath> fields) {
  auto f = xml_feed(records, std::move(fields));
  f.format = FeedFormat::json;
  return f;
}

// ---- the fixture exports ------------------------------------------------------------------

constexpr core::FieldMask kAllFields = (core::FieldMask{1} << core::kFieldCount) - 1;

TEST(FeedFixtures, XmlExportGivesTheFourExpectedRecords) {
  auto recs = map_fixture("feed-xml.json", "accounts-export.xml");
  ASSERT_EQ(recs.size(), 4u);
  const auto& acme = recs[0];
  EXPECT_FALSE(acme.invalid);
  EXPECT_EQ(acme.mapped, kAllFields);
  EXPECT_EQ(acme.get(Field::remote_id), "10001");
  EXPECT_EQ(acme.get(Field::external_code), "C-100");
  EXPECT_EQ(acme.get(Field::name), "Acme Holding S.p.A.");
  EXPECT_EQ(acme.get(Field::owner), "jsmith");
  EXPECT_EQ(acme.get(Field::member_of), "");
  EXPECT_EQ(acme.get(Field::relationship), "customer");
  EXPECT_EQ(acme.get(Field::email), "info@acme.example");
  EXPECT_EQ(acme.get(Field::phone), "+39 02 1234567");
  EXPECT_EQ(acme.get(Field::vat), "IT01234567890");
  EXPECT_EQ(acme.get(Field::street), "Via Roma 1");
  EXPECT_EQ(acme.get(Field::city), "Milano");
  EXPECT_EQ(acme.get(Field::postcode), "20100");
  EXPECT_EQ(acme.get(Field::country), "IT");
  EXPECT_EQ(core::parse_active(acme.get(Field::active)), true);
  ASSERT_TRUE(acme.has_contacts_block);
  ASSERT_EQ(acme.contacts.size(), 2u);
  EXPECT_EQ(acme.contacts[0].get(ContactField::remote_id), "p-501");
  EXPECT_EQ(acme.contacts[0].get(ContactField::first_name), "Mario");
  EXPECT_EQ(acme.contacts[0].get(ContactField::last_name), "Bianchi");
  EXPECT_EQ(acme.contacts[0].get(ContactField::phone), "");
  EXPECT_EQ(acme.contacts[1].get(ContactField::phone), "+39 02 7654321");

  EXPECT_EQ(recs[1].get(Field::external_code), "C-101");
  EXPECT_EQ(recs[1].get(Field::member_of), "C-100");
  EXPECT_EQ(recs[1].get(Field::relationship), "customer");
  EXPECT_EQ(recs[1].get(Field::city), "Torino");
  EXPECT_TRUE(recs[1].has_contacts_block);
  EXPECT_TRUE(recs[1].contacts.empty());
  EXPECT_EQ(recs[2].get(Field::relationship), "reseller");
  EXPECT_EQ(recs[2].get(Field::owner), "mrossi");
  EXPECT_EQ(recs[3].get(Field::external_code), "P-300");
  EXPECT_EQ(recs[3].get(Field::relationship), "prospect");
  EXPECT_EQ(recs[3].get(Field::owner), "");  // empty: the connector's default_owner applies
  EXPECT_EQ(core::parse_active(recs[3].get(Field::active)), false);
}

TEST(FeedFixtures, JsonExportGivesTheSameRecordsAsXml) {
  auto xml = map_fixture("feed-xml.json", "accounts-export.xml");
  auto json = map_fixture("feed-json.json", "accounts-export.json");
  ASSERT_EQ(json.size(), xml.size());
  for (std::size_t i = 0; i < xml.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_FALSE(json[i].invalid);
    EXPECT_EQ(json[i].mapped, xml[i].mapped);
    for (std::size_t f = 0; f < core::kFieldCount; ++f) {
      if (static_cast<Field>(f) == Field::active) continue;  // "Y" in XML, true in JSON
      EXPECT_EQ(json[i].values[f], xml[i].values[f]) << core::field_name(static_cast<Field>(f));
    }
    EXPECT_EQ(core::parse_active(json[i].get(Field::active)), core::parse_active(xml[i].get(Field::active)));
    ASSERT_EQ(json[i].contacts.size(), xml[i].contacts.size());
    for (std::size_t c = 0; c < xml[i].contacts.size(); ++c)
      EXPECT_EQ(json[i].contacts[c].values, xml[i].contacts[c].values);
  }
  EXPECT_EQ(json[0].get(Field::remote_id), "10001");  // a JSON number becomes its text
  EXPECT_EQ(json[3].get(Field::active), "false");
}

// ---- value maps -----------------------------------------------------------------------------

TEST(FeedValueMaps, TranslateKnownValuesAndJudgeUnknownRelationships) {
  FieldPath rel{"@t", std::map<std::string, std::string>{{"C", "customer"}, {"D", "distributor"}}};
  FieldPath country{"@c", std::map<std::string, std::string>{{"Italia", "IT"}}};
  auto feed = xml_feed("/E/R", {{Field::external_code, {"@code", {}}}, {Field::relationship, rel},
                                {Field::country, country}});
  auto recs = map_document(feed, R"(<E>
    <R code="1" t="C" c="Italia"/>
    <R code="2" t="D" c="DE"/>
    <R code="3" t="partner"/>
    <R code="4" t="X"/>
    <R code="5" t=""/>
  </E>)", "feed t");
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0].get(Field::relationship), "customer");
  EXPECT_EQ(recs[0].get(Field::country), "IT");
  EXPECT_EQ(recs[1].get(Field::relationship), "distributor");
  EXPECT_EQ(recs[1].get(Field::country), "DE");  // not in the map: kept as is
  EXPECT_EQ(recs[2].get(Field::relationship), "partner");  // already a relationship
  EXPECT_FALSE(recs[2].invalid);
  ASSERT_TRUE(recs[3].invalid);
  EXPECT_THAT(*recs[3].invalid, HasSubstr("relationship \"X\" at @t is not in the connector's value map"));
  EXPECT_EQ(recs[4].get(Field::relationship), "");  // empty stays empty
  EXPECT_FALSE(recs[4].invalid);
}

TEST(FeedValueMaps, UnknownRelationshipWithoutMapIsInvalidToo) {
  auto feed = json_feed("/r", {{Field::external_code, {"/code", {}}}, {Field::relationship, {"/rel", {}}}});
  auto recs = map_document(feed, R"({"r": [{"code": "A", "rel": "client"}, {"code": "B", "rel": "supplier"}]})", "f");
  ASSERT_TRUE(recs[0].invalid);
  EXPECT_THAT(*recs[0].invalid, HasSubstr("relationship \"client\" at /rel"));
  EXPECT_FALSE(recs[1].invalid);
}

// ---- active -----------------------------------------------------------------------------------

TEST(FeedActive, ReadsEveryDocumentedSpellingAndAbsentMeansTrue) {
  auto feed = xml_feed("//R", {{Field::external_code, {"@code", {}}}, {Field::active, {"@a", {}}}});
  auto recs = map_document(feed, R"(<E><R code="1" a="true"/><R code="2" a="FALSE"/><R code="3" a="1"/>
    <R code="4" a="0"/><R code="5" a="Yes"/><R code="6" a="no"/><R code="7" a="y"/><R code="8" a="N"/>
    <R code="9"/><R code="10" a="maybe"/></E>)", "f");
  ASSERT_EQ(recs.size(), 10u);
  std::vector<std::optional<bool>> got;
  for (const auto& r : recs) {
    EXPECT_TRUE(r.maps(Field::active));
    got.push_back(core::parse_active(r.get(Field::active)));
  }
  EXPECT_EQ(got, (std::vector<std::optional<bool>>{true, false, true, false, true, false, true, false, true,
                                                   std::nullopt}));
  // JSON booleans and numbers.
  auto jfeed = json_feed("", {{Field::external_code, {"/c", {}}}, {Field::active, {"/a", {}}}});
  auto j = map_document(jfeed, R"([{"c": "1", "a": false}, {"c": "2", "a": 1}, {"c": "3", "a": null}, {"c": "4"}])", "f");
  EXPECT_EQ(core::parse_active(j[0].get(Field::active)), false);
  EXPECT_EQ(core::parse_active(j[1].get(Field::active)), true);
  EXPECT_EQ(core::parse_active(j[2].get(Field::active)), true);
  EXPECT_EQ(core::parse_active(j[3].get(Field::active)), true);
}

// ---- remote ids ----------------------------------------------------------------------------

TEST(FeedRemoteId, DefaultsToTheCodeThenToAHashOfTheMappedFields) {
  auto feed = xml_feed("//R", {{Field::external_code, {"@code", {}}}, {Field::name, {"Name", {}}}});
  std::string doc = R"(<E><R code=" C-1 "><Name>One</Name></R><R><Name>No code</Name></R>
                          <R><Name>No code</Name></R><R><Name>Other</Name></R></E>)";
  auto recs = map_document(feed, doc, "f");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].get(Field::remote_id), "C-1");  // the normalised code
  EXPECT_FALSE(recs[0].maps(Field::remote_id));      // a defaulted id is not a mapped field
  EXPECT_THAT(recs[1].get(Field::remote_id), ::testing::StartsWith("sha256:"));
  EXPECT_EQ(recs[1].get(Field::remote_id), recs[2].get(Field::remote_id));  // same fields, same id
  EXPECT_NE(recs[1].get(Field::remote_id), recs[3].get(Field::remote_id));
  EXPECT_EQ(map_document(feed, doc, "f")[1].get(Field::remote_id), recs[1].get(Field::remote_id));  // stable
}

TEST(FeedRemoteId, MappedRemoteIdWinsAndContactsWithoutIdGetOne) {
  auto feed = json_feed("/r", {{Field::remote_id, {"/id", {}}}, {Field::external_code, {"/code", {}}}});
  FeedContactsConfig contacts;
  contacts.records = "/people";
  contacts.fields[static_cast<std::size_t>(ContactField::email)] = FieldPath{"/mail", {}};
  feed.contacts = contacts;
  auto recs = map_document(feed, R"({"r": [{"id": 0, "code": "A", "people": [{"mail": "a@x"}, {"mail": "b@x"}]},
                                          {"id": "", "code": "B"}]})", "f");
  EXPECT_EQ(recs[0].get(Field::remote_id), "0");  // "0" is an id
  EXPECT_TRUE(recs[0].maps(Field::remote_id));
  EXPECT_EQ(recs[1].get(Field::remote_id), "B");  // empty id: the code
  ASSERT_EQ(recs[0].contacts.size(), 2u);
  EXPECT_THAT(recs[0].contacts[0].get(ContactField::remote_id), ::testing::StartsWith("sha256:"));
  EXPECT_NE(recs[0].contacts[0].get(ContactField::remote_id), recs[0].contacts[1].get(ContactField::remote_id));
  EXPECT_TRUE(recs[1].has_contacts_block);
  EXPECT_TRUE(recs[1].contacts.empty());  // no "people" key: no contacts
}

// ---- JSON value shapes ----------------------------------------------------------------------

TEST(FeedJsonValues, NumbersBooleansNullAndNestedValues) {
  auto feed = json_feed("/data/items", {{Field::external_code, {"/code", {}}},
                                        {Field::name, {"/name", {}}},
                                        {Field::phone, {"/phone", {}}},
                                        {Field::vat, {"/vat", {}}},
                                        {Field::city, {"/addr/0/city", {}}}});
  auto recs = map_document(feed, R"({"data": {"items": [
      {"code": 42, "name": "N", "phone": 1.5, "vat": true, "addr": [{"city": "Rome"}]},
      {"code": "X", "name": null},
      {"code": "Y", "name": {"first": "a"}},
      "not an object"
  ]}})", "f");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].get(Field::external_code), "42");
  EXPECT_EQ(recs[0].get(Field::phone), "1.5");
  EXPECT_EQ(recs[0].get(Field::vat), "true");
  EXPECT_EQ(recs[0].get(Field::city), "Rome");
  EXPECT_FALSE(recs[0].invalid);
  EXPECT_EQ(recs[1].get(Field::name), "");
  EXPECT_TRUE(recs[1].maps(Field::name));
  EXPECT_FALSE(recs[1].invalid);
  ASSERT_TRUE(recs[2].invalid);
  EXPECT_EQ(*recs[2].invalid, "name at /name is an object, expected a value");
  ASSERT_TRUE(recs[3].invalid);
  EXPECT_EQ(*recs[3].invalid, "record 4 is not an object");
}

TEST(FeedXmlValues, ValuesAreTrimmedAndXPathFunctionsWork) {
  auto feed = xml_feed("/E/R", {{Field::external_code, {"Code", {}}}, {Field::name, {"concat(First, ' ', Last)", {}}}});
  auto recs = map_document(feed, "<E><R>\n  <Code>\n    A-1\n  </Code><First>Ada</First><Last>L</Last></R></E>", "f");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].get(Field::external_code), "A-1");
  EXPECT_EQ(recs[0].get(Field::name), "Ada L");
}

// ---- bad documents --------------------------------------------------------------------------

void expect_permanent(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no SyncError";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
  }
}

TEST(FeedBadDocuments, MalformedXmlNamesConnectorFileAndPosition) {
  auto feed = xml_feed("/E/R", {{Field::external_code, {"@code", {}}}});
  expect_permanent([&] { map_document(feed, "<E><R code=\"1\"></E>", "feed erp /srv/a.xml"); },
                   {"feed erp /srv/a.xml", "byte"});
}

TEST(FeedBadDocuments, TruncatedJsonNamesConnectorFileAndPosition) {
  std::string doc = slurp(kFixtures + "accounts-export.json");
  doc.resize(doc.size() / 2);
  auto conn = load_connector("feed-json.json", "file:///srv/a.json");
  expect_permanent([&] { map_document(feed_of(conn), doc, "feed erp-json /srv/a.json"); },
                   {"feed erp-json /srv/a.json", "byte"});
}

TEST(FeedBadDocuments, DeepDocumentsAreRefusedNotACrash) {
  auto feed = json_feed("/r", {{Field::external_code, {"/c", {}}}});
  std::string deep = "{\"r\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_permanent([&] { map_document(feed, deep, "feed deep /d.json"); }, {"feed deep /d.json", "deep"});
  auto xfeed = xml_feed("/r", {{Field::external_code, {"@c", {}}}});
  std::string xdeep;
  for (int i = 0; i < 5000; ++i) xdeep += "<a>";
  for (int i = 0; i < 5000; ++i) xdeep += "</a>";
  expect_permanent([&] { map_document(xfeed, xdeep, "feed deep /d.xml"); }, {"feed deep /d.xml", "deep"});
}

TEST(FeedBadDocuments, RecordsPathThatIsNotAnArray) {
  auto feed = json_feed("/customers", {{Field::external_code, {"/c", {}}}});
  expect_permanent([&] { map_document(feed, R"({"customers": {"a": 1}})", "feed j /x.json"); },
                   {"feed j /x.json", "records path \"/customers\" leads to an object, expected an array"});
  expect_permanent([&] { map_document(feed, R"({"clients": []})", "feed j /x.json"); },
                   {"records path \"/customers\" is not in the document"});
}

TEST(FeedBadDocuments, AnUndefinedEntityIsAnErrorNotLiteralText) {
  // pugixml would keep "&nbsp;" as those six characters: "AT&nbsp;T" synced as a name.
  auto feed = xml_feed("/E/R", {{Field::name, {"N", {}}}, {Field::external_code, {"@code", {}}}});
  expect_permanent([&] { map_document(feed, "<E>\n<R code=\"1\"><N>AT&nbsp;T</N></R></E>", "feed erp /srv/a.xml"); },
                   {"feed erp /srv/a.xml", "byte 21", "undefined entity &nbsp; (line 2)", "&amp;"});
  expect_permanent([&] { map_document(feed, "<E><R code=\"&c1;\"><N>x</N></R></E>", "f"); }, {"&c1;"});
  // The predefined ones, character references, and '&' in comments and CDATA stay fine.
  auto records = map_document(
      feed, "<!-- &foo; --><E><R code=\"&#x31;\"><N>A&amp;B &lt;&#160;<![CDATA[&bar;]]></N></R></E>", "f");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].get(Field::external_code), "1");
  EXPECT_EQ(records[0].get(Field::name), "A&B <\u00a0&bar;");
}

TEST(FeedBadDocuments, XmlWithNoMatchingRecordsIsEmptyNotAnError) {
  auto feed = xml_feed("/Export/Customer", {{Field::external_code, {"@code", {}}}});
  EXPECT_TRUE(map_document(feed, "<Other/>", "f").empty());
}

// ---- FeedSource over file:// --------------------------------------------------------------

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point now) : now_(now) {}
  std::chrono::system_clock::time_point now() override { return now_; }
  void sleep_for(std::chrono::milliseconds d) override {
    slept.push_back(d);
    if (advance) now_ += d;
  }
  std::vector<std::chrono::milliseconds> slept;
  bool advance = true;

 private:
  std::chrono::system_clock::time_point now_;
};

void set_mtime(const std::string& path, std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(ns / 1000000000);
  times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(ns % 1000000000);
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));

struct SourceFixture {
  TempDir dir;
  std::string path;
  FakeClock clock{kNow};
  config::ConnectorConfig conn;

  explicit SourceFixture(int page_size = 3) {
    path = dir.write("accounts.xml", slurp(kFixtures + "accounts-export.xml"));
    set_mtime(path, kNow - std::chrono::minutes(1));
    conn = load_connector("feed-xml.json", "file://" + path);
    edit_feed(conn).page_size = page_size;
  }
};

TEST(FeedSourceTest, SnapshotInPagesWithSizeAndHash) {
  SourceFixture fx(3);
  auto src = FeedSource::create(fx.conn, fx.clock);
  EXPECT_EQ(src->stream(), "accounts");
  EXPECT_TRUE(src->is_snapshot());
  auto start = src->begin(core::CursorState{});
  EXPECT_FALSE(start.unchanged);
  EXPECT_EQ(start.snapshot_size, 4);
  EXPECT_EQ(start.content_hash, core::sha256_hex(slurp(fx.path)));
  auto p1 = src->next_page();
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->records.size(), 3u);
  EXPECT_EQ(p1->records[0].get(Field::external_code), "C-100");
  EXPECT_TRUE(p1->cursor_after.empty());
  auto p2 = src->next_page();
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->records.size(), 1u);
  EXPECT_EQ(p2->records[0].get(Field::external_code), "P-300");
  EXPECT_FALSE(src->next_page());
  EXPECT_TRUE(fx.clock.slept.empty());  // a minute old: no wait
}

TEST(FeedSourceTest, ByDefaultTheWholeDocumentIsOnePage) {
  // SPEC §3 rule 7 supersedes duplicate remote ids within a document: the engine must see
  // them in one page.
  SourceFixture fx(0);
  auto src = FeedSource::create(fx.conn, fx.clock);
  src->begin(core::CursorState{});
  auto page = src->next_page();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->records.size(), 4u);
  EXPECT_FALSE(src->next_page());
}

TEST(FeedSourceTest, UnchangedContentIsDetectedAndYieldsNoRecords) {
  SourceFixture fx;
  auto src = FeedSource::create(fx.conn, fx.clock);
  auto first = src->begin(core::CursorState{});
  core::CursorState cursor;
  cursor.exists = true;
  cursor.snapshot_size = 4;
  cursor.content_hash = first.content_hash;
  auto again = src->begin(cursor);
  EXPECT_TRUE(again.unchanged);
  EXPECT_EQ(again.content_hash, first.content_hash);
  EXPECT_FALSE(again.snapshot_size);
  EXPECT_FALSE(src->next_page());

  // New bytes (same records, one more blank line): parsed again.
  fx.dir.write("accounts.xml", slurp(fx.path) + "\n");
  set_mtime(fx.path, kNow - std::chrono::minutes(1));
  auto changed = src->begin(cursor);
  EXPECT_FALSE(changed.unchanged);
  EXPECT_NE(changed.content_hash, first.content_hash);
  EXPECT_EQ(changed.snapshot_size, 4);
  EXPECT_TRUE(src->next_page());
}

TEST(FeedSourceTest, WaitsUntilTheFileIsStableFor) {
  SourceFixture fx;
  set_mtime(fx.path, kNow - std::chrono::seconds(2));  // stable_for defaults to 5 s
  auto src = FeedSource::create(fx.conn, fx.clock);
  auto start = src->begin(core::CursorState{});
  EXPECT_EQ(start.snapshot_size, 4);
  ASSERT_EQ(fx.clock.slept.size(), 1u);
  EXPECT_EQ(fx.clock.slept[0], std::chrono::seconds(3));
}

TEST(FeedSourceTest, FileThatKeepsChangingIsATransientError) {
  SourceFixture fx;
  set_mtime(fx.path, kNow);
  fx.clock.advance = false;  // as if the exporter kept touching the file
  auto src = FeedSource::create(fx.conn, fx.clock);
  try {
    src->begin(core::CursorState{});
    FAIL() << "no error";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::transient);
    EXPECT_THAT(e.what(), HasSubstr("feed erp-xml: " + fx.path + " is still being written"));
  }
  EXPECT_EQ(fx.clock.slept.size(), 10u);
}

TEST(FeedSourceTest, MissingFileIsTransientAndOversizedFileIsPermanent) {
  SourceFixture fx;
  auto conn = fx.conn;
  edit_feed(conn).url = "file://" + fx.dir.path("absent.xml");
  auto missing = FeedSource::create(conn, fx.clock);
  try {
    missing->begin(core::CursorState{});
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::transient);
    EXPECT_THAT(e.what(), HasSubstr("cannot read " + fx.dir.path("absent.xml")));
  }
  edit_feed(fx.conn).max_size = 100;
  auto big = FeedSource::create(fx.conn, fx.clock);
  try {
    big->begin(core::CursorState{});
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    EXPECT_THAT(e.what(), HasSubstr("larger than max_size 100"));
  }
}

TEST(FeedSourceTest, MalformedFileNamesConnectorAndFile) {
  SourceFixture fx;
  std::string doc = slurp(fx.path);
  fx.dir.write("accounts.xml", doc.substr(0, doc.size() - 20));
  set_mtime(fx.path, kNow - std::chrono::minutes(1));
  auto src = FeedSource::create(fx.conn, fx.clock);
  expect_permanent([&] { src->begin(core::CursorState{}); }, {"feed erp-xml " + fx.path, "byte"});
}

TEST(FeedSourceTest, AMalformedFileParsedInPlaceStillNamesTheExactLine) {
  // The in-place parse rewrites the bytes (here: the line break inside an attribute value becomes
  // a space); the source reports what a copying parse of the same bytes reports.
  SourceFixture fx;
  const std::string text = "<Export>\n<Customer id=\"1\" note=\"a\nb\">\n<Name>A</Name>\n<Bad>\n</Export>\n";
  fx.dir.write("accounts.xml", text);
  set_mtime(fx.path, kNow - std::chrono::minutes(1));
  std::string expected;
  try {
    map_document(feed_of(fx.conn), text, "feed erp-xml " + fx.path);
  } catch (const core::SyncError& e) {
    expected = e.what();
  }
  ASSERT_THAT(expected, HasSubstr("(line "));
  auto src = FeedSource::create(fx.conn, fx.clock);
  try {
    src->begin(core::CursorState{});
    ADD_FAILURE() << "no SyncError";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    EXPECT_EQ(std::string(e.what()), expected);
  }
}

// A document of `n` customers with ids 1..n, except that the ids listed in `again` (position,
// id) reuse an earlier id; the name says the position.
std::string numbered_export(std::size_t n, const std::map<std::size_t, std::size_t>& again) {
  std::string out = "<?xml version=\"1.0\"?>\n<Export>\n";
  for (std::size_t i = 1; i <= n; ++i) {
    const std::size_t id = again.count(i) ? again.at(i) : i;
    out += "<Customer id=\"" + std::to_string(id) + "\" code=\"C-" + std::to_string(id) + "\"><Name>at " +
           std::to_string(i) + "</Name></Customer>\n";
  }
  return out + "</Export>\n";
}

config::ConnectorConfig numbered_connector(const std::string& path) {
  auto conn = load_connector("feed-xml.json", "file://" + path);
  auto& feed = edit_feed(conn);
  feed.records = "/Export/Customer";
  feed.fields = {};
  feed.fields[static_cast<std::size_t>(Field::remote_id)] = FieldPath{"@id", {}};
  feed.fields[static_cast<std::size_t>(Field::external_code)] = FieldPath{"@code", {}};
  feed.fields[static_cast<std::size_t>(Field::name)] = FieldPath{"Name", {}};
  feed.contacts.reset();
  return conn;
}

TEST(FeedSourceTest, ByDefaultADocumentIsHandedOverInSlices) {
  const std::size_t n = 2 * FeedSource::kFileSliceRecords + 7;
  TempDir dir;
  const std::string path = dir.write("big.xml", numbered_export(n, {}));
  FakeClock clock{kNow};
  set_mtime(path, kNow - std::chrono::minutes(1));
  auto src = FeedSource::create(numbered_connector(path), clock);
  auto start = src->begin(core::CursorState{});
  EXPECT_EQ(start.snapshot_size, static_cast<std::int64_t>(n));
  std::vector<std::size_t> sizes;
  std::size_t expected_id = 1;
  while (auto page = src->next_page()) {
    sizes.push_back(page->records.size());
    EXPECT_TRUE(page->superseded.empty());
    for (const auto& r : page->records) EXPECT_EQ(r.get(Field::remote_id), std::to_string(expected_id++));
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{FeedSource::kFileSliceRecords, FeedSource::kFileSliceRecords, 7}));
}

TEST(FeedSourceTest, EachSliceListsItsRecordsThatALaterSliceSupersedes) {
  // Slices of 3: positions [1 2 3] [4 5 6] [7 8 9] [10]. Positions 6 and 9 repeat id 2,
  // position 10 repeats id 4, position 8 repeats id 7 (in the same slice as 7).
  TempDir dir;
  const std::string path = dir.write("dup.xml", numbered_export(10, {{6, 2}, {9, 2}, {10, 4}, {8, 7}}));
  FakeClock clock{kNow};
  set_mtime(path, kNow - std::chrono::minutes(1));
  auto conn = numbered_connector(path);
  edit_feed(conn).page_size = 3;
  auto src = FeedSource::create(conn, clock);
  EXPECT_EQ(src->begin(core::CursorState{}).snapshot_size, 10);  // every record, repeats too
  std::vector<std::vector<std::size_t>> superseded;
  while (auto page = src->next_page()) superseded.push_back(page->superseded);
  ASSERT_EQ(superseded.size(), 4u);
  EXPECT_EQ(superseded[0], (std::vector<std::size_t>{1}));     // position 2 (id 2): again at 6 and 9
  EXPECT_EQ(superseded[1], (std::vector<std::size_t>{0, 2}));  // position 4 (id 4), position 6 (id 2)
  EXPECT_EQ(superseded[2], (std::vector<std::size_t>{0}));     // position 7 (id 7); 9 is the last id 2
  EXPECT_EQ(superseded[3], (std::vector<std::size_t>{}));
}

TEST(FeedSourceTest, RemoteIdsDefaultedFromTheCodeOrTheRecordAreComparedAsMapped) {
  // Without a remote id field the id is the normalised code (rule 8): " C-1 " and "C-1" are the
  // same record; records without a code get a hash of their fields, equal for equal records.
  TempDir dir;
  const std::string path = dir.write(
      "nocode.xml",
      "<Export><Customer code=\" C-1 \"><Name>A</Name></Customer><Customer><Name>Same</Name></Customer>"
      "<Customer code=\"C-1\"><Name>B</Name></Customer><Customer><Name>Same</Name></Customer></Export>");
  FakeClock clock{kNow};
  set_mtime(path, kNow - std::chrono::minutes(1));
  auto conn = numbered_connector(path);
  auto& feed = edit_feed(conn);
  feed.fields[static_cast<std::size_t>(Field::remote_id)].reset();
  feed.page_size = 1;
  auto src = FeedSource::create(conn, clock);
  src->begin(core::CursorState{});
  std::vector<std::size_t> superseded_pages;
  for (std::size_t i = 0; auto page = src->next_page(); ++i)
    if (!page->superseded.empty()) superseded_pages.push_back(i);
  EXPECT_EQ(superseded_pages, (std::vector<std::size_t>{0, 1}));
}

TEST(FeedSourceTest, AnUndefinedEntityInAFileRecordNamesItsLine) {
  // The record-by-record parse of a file (xml_records.hpp) refuses it too.
  SourceFixture fx;
  std::string doc = slurp(fx.path);
  const auto at = doc.find("Acme Torino Plant");
  doc.replace(at, 4, "Acme&foo;");
  fx.dir.write("accounts.xml", doc);
  set_mtime(fx.path, kNow - std::chrono::minutes(1));
  const auto line = 1 + std::count(doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  auto src = FeedSource::create(fx.conn, fx.clock);
  expect_permanent([&] { src->begin(core::CursorState{}); },
                   {"feed erp-xml " + fx.path, "undefined entity &foo; (line " + std::to_string(line) + ")"});
}

TEST(FeedSourceTest, OnlyFileAndHttpUrlsAreSupported) {
  SourceFixture fx;
  edit_feed(fx.conn).url = "https://erp.example.com/x.xml";
  EXPECT_NE(FeedSource::create(fx.conn, fx.clock), nullptr);
  edit_feed(fx.conn).url = "ftp://erp.example.com/x.xml";
  expect_permanent([&] { FeedSource::create(fx.conn, fx.clock); }, {"expected a file://, http:// or https:// URL"});
}

TEST(FeedReader, FileUrlPaths) {
  EXPECT_EQ(file_url_path("file:///srv/erp/a.xml"), "/srv/erp/a.xml");
  EXPECT_EQ(file_url_path("file://localhost/srv/a.xml"), "/srv/a.xml");
  EXPECT_EQ(file_url_path("file:///srv/my%20exports/a.xml"), "/srv/my exports/a.xml");
  EXPECT_EQ(file_url_path("file://relative.xml"), "");
  EXPECT_EQ(file_url_path("https://x/a.xml"), "");
}

// ---- file:// opened with O_NOFOLLOW, judged on the descriptor ------------------------------

// A clock whose sleep runs `during_sleep` (the file changes while the reader waits).
class HookClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return now_; }
  void sleep_for(std::chrono::milliseconds d) override {
    now_ += d;
    if (during_sleep) during_sleep();
  }
  std::function<void()> during_sleep;

 private:
  std::chrono::system_clock::time_point now_ = kNow;
};

template <typename F>
std::string permanent_error_of(F&& f) {
  try {
    f();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no SyncError";
  return {};
}

TEST(FeedReader, ASymbolicLinkAsTheFileIsRefusedNotFollowed) {
  TempDir dir;
  HookClock clock;
  fs::create_directories(dir.path("private"));
  const std::string elsewhere = dir.write("private/other.xml", "<secret/>");
  set_mtime(elsewhere, kNow - std::chrono::minutes(1));
  fs::create_directories(dir.path("drop"));
  fs::create_symlink(elsewhere, dir.path("drop/accounts.xml"));
  FileReader reader(dir.path("drop/accounts.xml"), 1 << 20, std::chrono::seconds(5), clock, "feed erp");
  const std::string message = permanent_error_of([&] { reader.read(); });
  EXPECT_THAT(message, HasSubstr("feed erp: " + dir.path("drop/accounts.xml") + " is a symbolic link"));
  EXPECT_THAT(message, HasSubstr("O_NOFOLLOW"));
  EXPECT_THAT(message, HasSubstr("point url at the file itself"));
  // A link among the directories above the file is the admin's and is followed.
  fs::create_directory_symlink(dir.path("private"), dir.path("current"));
  FileReader through_dir(dir.path("current/other.xml"), 1 << 20, std::chrono::seconds(5), clock, "feed erp");
  EXPECT_EQ(through_dir.read().bytes, "<secret/>");
}

TEST(FeedReader, AFileSwappedForALinkWhileItSettlesIsRefused) {
  // The reader waits for a young file; meanwhile the path becomes a link to another (old, so
  // "stable") file. What is judged is what is opened: the link is refused, never read.
  TempDir dir;
  HookClock clock;
  const std::string path = dir.write("accounts.xml", "<Export/>");
  set_mtime(path, kNow);
  const std::string other = dir.write("other.xml", "<secret/>");
  set_mtime(other, kNow - std::chrono::hours(1));
  clock.during_sleep = [&] {
    fs::remove(path);
    fs::create_symlink(other, path);
  };
  FileReader reader(path, 1 << 20, std::chrono::seconds(5), clock, "feed erp");
  EXPECT_THAT(permanent_error_of([&] { reader.read(); }), HasSubstr("is a symbolic link"));
}

TEST(FeedReader, AFifoIsRefusedWithoutWaitingForAWriter) {
  TempDir dir;
  HookClock clock;
  const std::string path = dir.path("accounts.xml");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  FileReader reader(path, 1 << 20, std::chrono::seconds(5), clock, "feed erp");
  EXPECT_THAT(permanent_error_of([&] { reader.read(); }), HasSubstr("is not a regular file"));
}

}  // namespace
}  // namespace erpsync::connectors::feed
