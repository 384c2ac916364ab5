// CSV feeds and encodings (SPEC §4.3 "CSV", "Encodings"): the row reader (quoting, CRLF, BOM,
// line numbers as an editor shows them, damaged and non-CSV files), the CSV mapper (header by
// name or position, skip_lines, wrong column counts, value maps, contacts from a second file),
// the transcoder (windows-1252, iso-8859-15, an undefined byte) and the config keys.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "config/config.hpp"
#include "connectors/feed/csv_reader.hpp"
#include "connectors/feed/feed_source.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/transcode.hpp"
#include "connectors/registry.hpp"
#include "core/errors.hpp"
#include "core/rules/payload.hpp"

namespace erpsync::connectors::feed {
namespace {

namespace fs = std::filesystem;
using core::ContactField;
using core::Field;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<CsvRow> rows(std::string_view text, CsvDialect d = {}, int skip = 0) {
  CsvReader r(text, d, skip, "f.csv");
  std::vector<CsvRow> out;
  CsvRow row;
  while (r.next(row)) out.push_back(row);
  return out;
}

// ---- the reader -----------------------------------------------------------------------------

TEST(CsvReader, SplitsOnTheDelimiterAndKeepsQuotedDelimitersAndDoubledQuotes) {
  auto rs = rows("a;\"b;c\";\"say \"\"hi\"\"\";\n", {';', '"'});
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_THAT(rs[0].fields, ElementsAre("a", "b;c", "say \"hi\"", ""));
  EXPECT_FALSE(rs[0].error);
}

TEST(CsvReader, CrlfLfAndLoneCrEndRowsAndBlankLinesAreNoRows) {
  auto rs = rows("a,b\r\nc,d\n\ne,f\rg,h");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_THAT(rs[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT(rs[1].fields, ElementsAre("c", "d"));
  EXPECT_THAT(rs[2].fields, ElementsAre("e", "f"));
  EXPECT_THAT(rs[3].fields, ElementsAre("g", "h"));
  EXPECT_EQ(rs[2].line, 4u);  // the blank line 3 counts
  EXPECT_EQ(rs[3].line, 5u);
}

TEST(CsvReader, SkipsAUtf8ByteOrderMark) {
  auto rs = rows("\xEF\xBB\xBFKundennummer,Firma\n1,A\n");
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].fields[0], "Kundennummer");
  EXPECT_EQ(rs[0].line, 1u);
}

TEST(CsvReader, QuotedLineBreaksStayInTheValueAndCountAsEditorLines) {
  auto rs = rows("id,street\r\n1,\"Hauptstr. 1\r\nHinterhaus\"\r\n2,\"a\nb\nc\"\n3,x\n");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[1].fields[1], "Hauptstr. 1\r\nHinterhaus");
  EXPECT_EQ(rs[1].line, 2u);
  EXPECT_EQ(rs[2].line, 4u);
  EXPECT_EQ(rs[3].line, 7u);
}

TEST(CsvReader, SkipLinesSkipsPhysicalLinesBeforeTheHeader) {
  auto rs = rows("Export vom 01.12.2026\n\"unbalanced title\nid;name\n1;A\n", {';', '"'}, 2);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_THAT(rs[0].fields, ElementsAre("id", "name"));
  EXPECT_EQ(rs[0].line, 3u);
  EXPECT_EQ(rs[1].line, 4u);
}

TEST(CsvReader, TextAfterAClosingQuoteDamagesTheRowOnly) {
  auto rs = rows("\"a\"x,b\n1,2\n");
  ASSERT_EQ(rs.size(), 2u);
  ASSERT_TRUE(rs[0].error);
  EXPECT_THAT(*rs[0].error, HasSubstr("column 1"));
  EXPECT_FALSE(rs[1].error);
  // A stray quote inside an unquoted value is text.
  EXPECT_EQ(rows("12\" Rohr,b\n")[0].fields[0], "12\" Rohr");
}

TEST(CsvReader, AQuoteOpenAtTheEndOrANulByteIsNotCsv) {
  try {
    rows("a,b\n1,\"open\n2,3\n");
    FAIL() << "expected a malformed document";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    EXPECT_THAT(e.what(), HasSubstr("f.csv: not a CSV file"));
    EXPECT_THAT(e.what(), HasSubstr("line 2"));
  }
  EXPECT_THROW(rows(std::string("PK\x03\x04\0\0zip", 9)), core::SyncError);
}

// ---- the mapper -------------------------------------------------------------------------------

connectors::feed::FeedConfig csv_feed(std::map<Field, connectors::feed::FieldPath> fields, char delim = ';') {
  connectors::feed::FeedConfig f;
  f.format = connectors::feed::FeedFormat::csv;
  f.csv.delimiter = delim;
  for (auto& [k, v] : fields) f.fields[static_cast<std::size_t>(k)] = v;
  return f;
}

TEST(CsvMapper, MapsColumnsByHeaderNameWithValueMapsAndTrims) {
  auto feed = csv_feed({{Field::external_code, {"Kundennummer", {}}},
                        {Field::name, {"Firma", {}}},
                        {Field::relationship, {"Art", std::map<std::string, std::string>{{"K", "customer"}, {"I", "prospect"}}}},
                        {Field::active, {"Aktiv", {}}}});
  auto recs = map_document(feed, "Firma;Kundennummer;Art;Aktiv\n\"Müller; Söhne\" ; K-1 ;K;j\nBeta;K-2;I;n\n", "f");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].get(Field::external_code), "K-1");
  EXPECT_EQ(recs[0].get(Field::name), "Müller; Söhne");
  EXPECT_EQ(recs[0].get(Field::relationship), "customer");
  EXPECT_EQ(recs[0].get(Field::remote_id), "K-1");  // defaulted from the code (rule 8)
  EXPECT_EQ(recs[1].get(Field::relationship), "prospect");
  EXPECT_FALSE(recs[0].invalid);
}

TEST(CsvMapper, ColumnsByPositionWithoutAHeader) {
  auto feed = csv_feed({{Field::external_code, {"2", {}}}, {Field::name, {"1", {}}}}, ',');
  feed.csv.header = false;
  auto recs = map_document(feed, "Acme,C-1\nBeta,C-2\n", "f");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].get(Field::external_code), "C-2");
  EXPECT_EQ(recs[1].get(Field::name), "Beta");
}

TEST(CsvMapper, WrongColumnCountRejectsThatRowNamingFileAndEditorLine) {
  auto feed = csv_feed({{Field::external_code, {"code", {}}}, {Field::name, {"name", {}}}});
  auto recs = map_document(feed, "code;name;city\nC-1;\"two\nlines\";X\nC-2;Beta\nC-3;Gamma;Y\n", "feed erp /srv/k.csv");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_FALSE(recs[0].invalid);
  ASSERT_TRUE(recs[1].invalid);
  EXPECT_THAT(*recs[1].invalid, HasSubstr("feed erp /srv/k.csv line 4: 2 columns where the header has 3"));
  EXPECT_EQ(recs[1].get(Field::remote_id), "C-2");  // still named by its id
  EXPECT_FALSE(recs[2].invalid);
}

TEST(CsvMapper, SkipLinesBeforeTheHeader) {
  auto feed = csv_feed({{Field::external_code, {"code", {}}}});
  feed.csv.skip_lines = 1;
  auto recs = map_document(feed, "Kundenliste Dezember\ncode\nC-1\n", "f");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].get(Field::external_code), "C-1");
}

TEST(CsvMapper, AnEmptyExportIsAnEmptySnapshotNotAnError) {
  auto feed = csv_feed({{Field::external_code, {"code", {}}}});
  EXPECT_TRUE(map_document(feed, "", "f").empty());
  EXPECT_TRUE(map_document(feed, "\xEF\xBB\xBF\r\n", "f").empty());
  EXPECT_TRUE(map_document(feed, "code\r\n", "f").empty());
}

TEST(CsvMapper, AColumnTheHeaderLacksFailsTheDocument) {
  auto feed = csv_feed({{Field::external_code, {"Kundennummer", {}}}});
  try {
    map_document(feed, "Kundennummer,Firma\n1,A\n", "feed erp k.csv");  // comma file, ';' configured
    FAIL() << "expected a permanent error";
  } catch (const core::SyncError& e) {
    EXPECT_THAT(e.what(), HasSubstr("fields.external_code names column \"Kundennummer\""));
    EXPECT_THAT(e.what(), HasSubstr("csv.delimiter"));
  }
}

TEST(CsvMapper, ContactsFromASecondFileKeyedByTheCompanysRemoteId) {
  auto feed = csv_feed({{Field::remote_id, {"Nr", {}}}, {Field::external_code, {"Code", {}}}});
  connectors::feed::FeedContactsConfig contacts;
  contacts.fields[static_cast<std::size_t>(ContactField::remote_id)] = connectors::feed::FieldPath{"Id", {}};
  contacts.fields[static_cast<std::size_t>(ContactField::last_name)] = connectors::feed::FieldPath{"Name", {}};
  feed.contacts = contacts;
  feed.csv.company_key = "Kunde";
  auto mapper = make_mapper(feed, {});
  mapper->load_contacts("Id;Kunde;Name\n1;10;Alpha\n2;11;Beta\n3;10;Gamma\n4;99;Orphan\n5;10\n", "c.csv");
  ASSERT_EQ(mapper->load("Nr;Code\n10;C-1\n11;C-2\n12;C-3\n", "k.csv"), 3u);
  auto recs = mapper->map(0, 3);
  ASSERT_EQ(recs[0].contacts.size(), 3u);
  EXPECT_EQ(recs[0].contacts[0].get(ContactField::last_name), "Alpha");
  EXPECT_EQ(recs[0].contacts[1].get(ContactField::last_name), "Gamma");
  ASSERT_TRUE(recs[0].invalid);  // contact row 5 has 2 columns
  EXPECT_THAT(*recs[0].invalid, HasSubstr("c.csv line 6: 2 columns"));
  ASSERT_EQ(recs[1].contacts.size(), 1u);
  EXPECT_FALSE(recs[1].invalid);
  EXPECT_TRUE(recs[2].has_contacts_block);
  EXPECT_TRUE(recs[2].contacts.empty());
}

// The rows no company record took go to the feed's "contacts" stream as contact records: their
// company key, value maps, `active` read, a byte the encoding lacks or a short row invalid
// (naming file and line), in file order.
TEST(CsvMapper, ContactRowsNoCompanyTakesAreHandedOverAsContactRecords) {
  auto feed = csv_feed({{Field::remote_id, {"Nr", {}}}});
  connectors::feed::FeedContactsConfig contacts;
  contacts.fields[static_cast<std::size_t>(ContactField::remote_id)] = connectors::feed::FieldPath{"Id", {}};
  contacts.fields[static_cast<std::size_t>(ContactField::last_name)] = connectors::feed::FieldPath{"Name", {}};
  contacts.fields[static_cast<std::size_t>(ContactField::active)] =
      connectors::feed::FieldPath{"Aktiv", std::map<std::string, std::string>{{"J", "yes"}, {"N", "no"}}};
  feed.contacts = contacts;
  feed.csv.company_key = "Kunde";
  feed.encoding = "windows-1252";
  auto mapper = make_mapper(feed, {});
  mapper->load_contacts("Id;Kunde;Name;Aktiv\n1;10;Alpha;J\n4;99;K\xF6hler;N\n5;98;Bad\x81;J\n6;97;Odd;vielleicht\n7\n",
                        "c.csv");
  ASSERT_EQ(mapper->load("Nr\n10\n", "k.csv"), 1u);
  ASSERT_EQ(mapper->map(0, 1)[0].contacts.size(), 1u);
  const std::vector<core::IncomingContactRecord> orphans = mapper->unclaimed_contacts();
  ASSERT_EQ(orphans.size(), 4u);
  EXPECT_EQ(orphans[0].remote_id, "4");
  EXPECT_EQ(orphans[0].company_remote_id, "99");
  EXPECT_EQ(orphans[0].last_name, "Köhler");
  EXPECT_FALSE(orphans[0].active);
  EXPECT_FALSE(orphans[0].invalid);
  ASSERT_TRUE(orphans[1].invalid);
  EXPECT_THAT(*orphans[1].invalid, HasSubstr("last_name holds a byte that windows-1252 does not define"));
  ASSERT_TRUE(orphans[2].invalid);
  EXPECT_THAT(*orphans[2].invalid, HasSubstr("c.csv line 5: active \"vielleicht\""));
  EXPECT_EQ(orphans[3].remote_id, "7");
  EXPECT_EQ(orphans[3].company_remote_id, "");
  ASSERT_TRUE(orphans[3].invalid);
  EXPECT_THAT(*orphans[3].invalid, HasSubstr("c.csv line 6: 1 columns where the header has 4"));
}

// ---- encodings --------------------------------------------------------------------------------

TEST(Transcoder, Windows1252AndIso885915ToUtf8) {
  Transcoder cp1252("windows-1252");
  EXPECT_EQ(cp1252.to_utf8("M\xFCller \x80 \x84Z\x93"), "Müller € „Z“");
  Transcoder latin9("iso-8859-15");
  EXPECT_EQ(latin9.to_utf8("\xA4 \xBD"), "€ œ");  // where latin-1 has ¤ and ½
  Transcoder utf8("UTF-8");
  EXPECT_FALSE(utf8.converts());
  EXPECT_EQ(utf8.to_utf8("M\xC3\xBCller"), "Müller");
}

TEST(Transcoder, AnUndefinedByteBecomesTheReplacementMark) {
  Transcoder cp1252("windows-1252");
  EXPECT_EQ(cp1252.to_utf8("a\x81" "b\x9D"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_THROW(Transcoder("no-such-encoding"), core::SyncError);
}

TEST(Transcoder, XmlDeclarationWinsAndIsRewritten) {
  EXPECT_EQ(xml_declared_encoding("<?xml version=\"1.0\" encoding='windows-1252'?><a/>"), "windows-1252");
  EXPECT_EQ(xml_declared_encoding("<a/>"), "");
  std::string out = xml_to_utf8("<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><a>\xA4</a>", "utf-8", "f");
  EXPECT_EQ(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>€</a>");
}

TEST(EncodingMapper, AnUndefinedByteRejectsItsRecordOnly) {
  auto feed = csv_feed({{Field::external_code, {"Kundennummer", {}}}, {Field::name, {"Firma", {}}}});
  feed.encoding = "windows-1252";
  auto recs = map_document(feed, "Kundennummer;Firma\nK-1;M\xFCller\nK-2;Bad\x81Name\n", "f");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].get(Field::name), "Müller");
  EXPECT_FALSE(recs[0].invalid);
  ASSERT_TRUE(recs[1].invalid);
  EXPECT_THAT(*recs[1].invalid, HasSubstr("name holds a byte that windows-1252 does not define"));
}

TEST(EncodingMapper, JsonAndXmlInALegacyEncoding) {
  connectors::feed::FeedConfig json;
  json.format = connectors::feed::FeedFormat::json;
  json.records = "/items";
  json.encoding = "iso-8859-15";
  json.fields[static_cast<std::size_t>(Field::external_code)] = connectors::feed::FieldPath{"/code", {}};
  json.fields[static_cast<std::size_t>(Field::name)] = connectors::feed::FieldPath{"/name", {}};
  auto j = map_document(json, "{\"items\":[{\"code\":\"C-1\",\"name\":\"\xA4uro\"}]}", "f");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].get(Field::name), "€uro");

  connectors::feed::FeedConfig xml;
  xml.format = connectors::feed::FeedFormat::xml;
  xml.records = "/E/C";
  xml.encoding = "windows-1252";  // for documents without a declaration
  xml.fields[static_cast<std::size_t>(Field::external_code)] = connectors::feed::FieldPath{"@code", {}};
  xml.fields[static_cast<std::size_t>(Field::name)] = connectors::feed::FieldPath{"Name", {}};
  auto x = map_document(xml, "<E><C code=\"1\"><Name>Gr\xFC\xDF" "e</Name></C><C code=\"2\"><Name>\x8F</Name></C></E>", "f");
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0].get(Field::name), "Grüße");
  ASSERT_TRUE(x[1].invalid);
  // The declaration names the encoding: the feed's setting does not apply.
  auto d = map_document(xml, "<?xml version=\"1.0\" encoding=\"iso-8859-15\"?><E><C code=\"1\"><Name>\xA4</Name></C></E>", "f");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].get(Field::name), "€");
}

// ---- config -----------------------------------------------------------------------------------

struct Loaded {
  std::optional<config::Config> config;
  std::string errors;
};

Loaded load(const std::string& connector_json) {
  std::string tmpl = (fs::temp_directory_path() / "erpsync-csv-XXXXXX").string();
  fs::path dir = ::mkdtemp(tmpl.data());
  std::ofstream(dir / "erpsync.json") << "{\"database\": {\"connection\": \"x\"}, \"connectors\": [" << connector_json
                                      << "]}";
  auto r = config::load_config((dir / "erpsync.json").string(), connectors::connector_types());
  fs::remove_all(dir);
  Loaded out;
  for (const auto& e : r.errors) out.errors += e.to_string() + "\n";
  if (r.ok()) out.config = std::move(*r.config);
  return out;
}

TEST(CsvConfig, ReadsTheCsvBlockContactsFileAndEncoding) {
  auto l = load(R"({"name": "erp", "type": "feed", "url": "file:///srv/k.csv", "format": "csv",
    "default_owner": "sales", "encoding": "windows-1252",
    "csv": {"delimiter": ";", "skip_lines": 2},
    "fields": {"external_code": "Kundennummer", "name": "Firma"},
    "contacts": {"url": "file:///srv/a.csv", "company_key": "Kundennummer", "fields": {"last_name": "Name"}}})");
  ASSERT_TRUE(l.config) << l.errors;
  const connectors::feed::FeedConfig& f = *l.config->connectors.at(0).settings_as<connectors::feed::FeedConfig>();
  EXPECT_EQ(f.format, connectors::feed::FeedFormat::csv);
  EXPECT_EQ(f.csv.delimiter, ';');
  EXPECT_EQ(f.csv.quote, '"');
  EXPECT_TRUE(f.csv.header);
  EXPECT_EQ(f.csv.skip_lines, 2);
  EXPECT_EQ(f.csv.contacts_url, "file:///srv/a.csv");
  EXPECT_EQ(f.csv.company_key, "Kundennummer");
  EXPECT_EQ(f.encoding, "windows-1252");
  ASSERT_TRUE(f.contacts);
}

TEST(CsvConfig, RefusesWhatCannotWork) {
  auto l = load(R"({"name": "erp", "type": "feed", "url": "file:///srv/k.csv", "format": "csv",
    "default_owner": "sales", "encoding": "klingon-1", "csv": {"delimiter": ";;"},
    "fields": {"external_code": "K"}, "contacts": {"fields": {"last_name": "Name"}}})");
  EXPECT_FALSE(l.config);
  EXPECT_THAT(l.errors, HasSubstr("unknown encoding \"klingon-1\""));
  EXPECT_THAT(l.errors, HasSubstr("expected one character"));
  EXPECT_THAT(l.errors, HasSubstr("missing required key \"url\""));
  auto paged = load(R"({"name": "erp", "type": "feed", "url": "https://erp.example.com/k.csv", "format": "csv",
    "default_owner": "sales", "fields": {"external_code": "K"}, "paging": {"type": "page", "param": "p"}})");
  EXPECT_FALSE(paged.config);
  EXPECT_THAT(paged.errors, HasSubstr("format csv has no paging"));
  auto numbered = load(R"({"name": "erp", "type": "feed", "url": "file:///srv/k.csv", "format": "csv",
    "default_owner": "sales", "csv": {"header": false}, "fields": {"external_code": "1", "name": "Firma"}})");
  EXPECT_FALSE(numbered.config);
  EXPECT_THAT(numbered.errors, HasSubstr("expected a column number such as \"3\" (csv.header is false), got \"Firma\""));
  auto x = load(R"({"name": "erp", "type": "feed", "url": "file:///srv/k.xml", "format": "xml",
    "default_owner": "sales", "fields": {"external_code": "@c"}})");
  EXPECT_FALSE(x.config);
  EXPECT_THAT(x.errors, HasSubstr("missing required key \"records\""));
}

// ---- the shipped example ------------------------------------------------------------------------

// A day ahead: the example files are older than stable_for however fresh the checkout.
class DayAheadClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now() + std::chrono::hours(24); }
  void sleep_for(std::chrono::milliseconds) override {}
};

TEST(CsvExample, TheShippedConnectorReadsTheShippedExport) {
  const std::string src = std::string(ERPSYNC_SOURCE_DIR) + "/examples/";
  std::ifstream in(src + "etc/connectors.d/csv-export.json.example", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const std::string name : {"kunden.csv", "ansprechpartner.csv"}) {
    const std::string from = "file:///srv/erpsync/drop/" + name;
    text.replace(text.find(from), from.size(), "file://" + src + "csv/" + name);
  }
  auto l = load(text);
  ASSERT_TRUE(l.config) << l.errors;
  DayAheadClock clock;
  auto source = FeedSource::create(l.config->connectors.at(0), clock);
  auto start = source->begin(core::CursorState{});
  EXPECT_EQ(start.snapshot_size, 5);
  auto page = source->next_page();
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 5u);
  for (const auto& r : page->records) EXPECT_FALSE(r.invalid) << *r.invalid;
  const auto& mueller = page->records[0];
  EXPECT_EQ(mueller.get(Field::name), "Müller & Söhne GmbH");
  EXPECT_EQ(mueller.get(Field::street), "Hauptstraße 12");
  EXPECT_EQ(mueller.get(Field::relationship), "customer");
  EXPECT_EQ(mueller.get(Field::active), "yes");
  ASSERT_EQ(mueller.contacts.size(), 2u);
  EXPECT_EQ(mueller.contacts[0].get(ContactField::first_name), "Jürgen");
  EXPECT_EQ(page->records[1].get(Field::street), "Am Hafen 3\r\nGebäude B");
  EXPECT_EQ(page->records[1].get(Field::member_of), "10001");
  EXPECT_EQ(page->records[2].get(Field::name), "Bäckerei \"Zum Goldenen Korn\"");
  EXPECT_EQ(page->records[4].get(Field::active), "no");
  EXPECT_EQ(page->records[4].contacts.at(0).get(ContactField::first_name), "Françoise");
}

// The accounts run hands the contacts stream the rows no company took and the files' content
// hash, which the contacts stream commits as its cursor; the files are unchanged only when both
// streams' hashes are theirs, so that rows of a contacts run that failed are read again.
TEST(CsvExample, TheContactsStreamTakesTheUnclaimedRowsAndTheFilesHashAsItsCursor) {
  const std::string src = std::string(ERPSYNC_SOURCE_DIR) + "/examples/";
  std::ifstream in(src + "etc/connectors.d/csv-export.json.example", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const std::string name : {"kunden.csv", "ansprechpartner.csv"}) {
    const std::string from = "file:///srv/erpsync/drop/" + name;
    text.replace(text.find(from), from.size(), "file://" + src + "csv/" + name);
  }
  auto l = load(text);
  ASSERT_TRUE(l.config) << l.errors;
  DayAheadClock clock;
  auto handoff = std::make_shared<ContactHandoff>();
  auto first = FeedSource::create(l.config->connectors.at(0), clock);
  first->hand_contacts_to(handoff, "");
  const core::SourceStart start = first->begin(core::CursorState{});
  while (first->next_page()) {
  }
  ASSERT_EQ(handoff->state, ContactHandoff::State::read);
  EXPECT_EQ(handoff->content_hash, start.content_hash);
  FeedContactsSource contacts(handoff);
  EXPECT_FALSE(contacts.begin(core::CursorState{}).unchanged);
  auto page = contacts.next_page();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->cursor_after, start.content_hash);
  EXPECT_FALSE(contacts.next_page());

  core::CursorState accounts_cursor;
  accounts_cursor.content_hash = start.content_hash;
  auto again = FeedSource::create(l.config->connectors.at(0), clock);
  again->hand_contacts_to(handoff, "the hash of an older export");
  EXPECT_FALSE(again->begin(accounts_cursor).unchanged) << "the contacts run did not commit these files";
  again->hand_contacts_to(handoff, start.content_hash);
  EXPECT_TRUE(again->begin(accounts_cursor).unchanged);
  EXPECT_EQ(handoff->state, ContactHandoff::State::unchanged);
  EXPECT_TRUE(contacts.begin(core::CursorState{}).unchanged);
  EXPECT_FALSE(contacts.next_page());
}

}  // namespace
}  // namespace erpsync::connectors::feed
