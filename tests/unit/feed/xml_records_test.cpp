// The record scan of XML feeds (connectors/feed/xml_records.hpp) and the mapper's
// record-by-record load: which paths qualify, the byte ranges and skeleton the scan finds in
// documents with comments, CDATA, quoted '>' and nested look-alikes, what it leaves to a whole
// parse, and that records mapped one by one equal those of the whole document.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/xml_records.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::feed {
namespace {

using core::ContactField;
using core::Field;
using core::IncomingAccount;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> texts(std::string_view doc, const XmlRecordScan& scan) {
  std::vector<std::string> out;
  for (const ByteRange& r : scan.records) out.emplace_back(doc.substr(r.begin, r.end - r.begin));
  return out;
}

TEST(XmlRecordPaths, OnlyAbsoluteChildStepsOfNamesAreScanned) {
  EXPECT_EQ(plain_records_path("/Export/Customer"), (std::vector<std::string>{"Export", "Customer"}));
  EXPECT_EQ(plain_records_path("/ns:E/ship-to.x"), (std::vector<std::string>{"ns:E", "ship-to.x"}));
  for (const char* other : {"//Customer", "/E/C[1]", "E/C", "/E/*", "/E/child::C", "/", "", "/E//C", "/E/@a",
                            "/E/C | /E/D", "/E/text()"})
    EXPECT_FALSE(plain_records_path(other)) << other;
}

TEST(XmlRecordPaths, FieldPathsThatCanLeaveTheRecordAreNotRecordLocal) {
  for (const char* local : {"Name", "@id", "Address/Street", "concat(Name, '/', @id)", ".//Email", "./Name",
                            "normalize-space(Name)", "Contacts/Contact", "*/City", "Phones/Phone[2]",
                            "concat(First, ' ..', Last)", "count(Contacts/Contact)"})
    EXPECT_TRUE(record_local_xpath(local)) << local;
  for (const char* outside : {"/Export/@date", "../Name", "ancestor::E/@x", "concat(/E/@x, Name)", "id('x')",
                              "$v", "preceding-sibling::C/@id", "parent::*/@id", "following::Name",
                              "Name | //Other", "lang('en')", "concat('unclosed, Name)"})
    EXPECT_FALSE(record_local_xpath(outside)) << outside;
}

TEST(XmlRecordScan, FindsEachRecordAndKeepsTheRestAsTheSkeleton) {
  const std::string doc =
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- <Customer id=\"comment\"/> -->\n"
      "<Export date=\"a>b\">\n"
      "  <Customer id=\"1\" note='x/>y'><Name><![CDATA[</Customer><Customer>]]></Name></Customer>\n"
      "  <Meta><Customer id=\"nested\"/></Meta>\n"
      "  <Customer id=\"2\"/>\n"
      "  <?pi <Customer?>\n"
      "  <Customer id=\"3\"><Customer id=\"inner\"/></Customer>\n"
      "</Export>\n";
  auto scan = scan_xml_records(doc, {"Export", "Customer"});
  ASSERT_TRUE(scan);
  EXPECT_THAT(texts(doc, *scan),
              ElementsAre("<Customer id=\"1\" note='x/>y'><Name><![CDATA[</Customer><Customer>]]></Name></Customer>",
                          "<Customer id=\"2\"/>", "<Customer id=\"3\"><Customer id=\"inner\"/></Customer>"));
  EXPECT_EQ(scan->skeleton,
            "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<!-- <Customer id=\"comment\"/> -->\n"
            "<Export date=\"a>b\">\n"
            "  \n"
            "  <Meta><Customer id=\"nested\"/></Meta>\n"
            "  \n"
            "  <?pi <Customer?>\n"
            "  \n"
            "</Export>\n");
}

TEST(XmlRecordScan, RecordsUnderSeveralParentsAndARootThatDoesNotMatch) {
  const std::string doc = "<E><G><C a='1'/></G><H><C a='x'/></H><G><C a='2'></C></G></E>";
  auto scan = scan_xml_records(doc, {"E", "G", "C"});
  ASSERT_TRUE(scan);
  EXPECT_THAT(texts(doc, *scan), ElementsAre("<C a='1'/>", "<C a='2'></C>"));
  auto none = scan_xml_records(doc, {"Other", "C"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->records.empty());
  EXPECT_EQ(none->skeleton, doc);
}

TEST(XmlRecordScan, LeavesToAWholeParseWhatItDoesNotHandle) {
  const std::vector<std::string> path{"E", "C"};
  for (const std::string doc : {
           std::string("<!DOCTYPE E [<!ENTITY x \"y\">]><E><C/></E>"),
           std::string("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><E><C/></E>"),
           std::string("\xFF\xFE<\0E\0/\0>\0", 10),
           std::string("<\0E\0/\0>\0", 8),
           std::string("<E><!-- unclosed <C/></E>"),
           std::string("<E><C></D></E>"),
           std::string("<E><C>"),
           std::string("<E><C a=\"unclosed></C></E>"),
       })
    EXPECT_FALSE(scan_xml_records(doc, path)) << doc;
}

// ---- the mapper, record by record against the whole document ----------------------------------

FeedConfig full_feed() {
  FeedConfig f;
  f.format = FeedFormat::xml;
  f.records = "/Export/Customer";
  auto set = [&](Field k, std::string p) { f.fields[static_cast<std::size_t>(k)] = FieldPath{std::move(p), {}}; };
  set(Field::remote_id, "@id");
  set(Field::external_code, "@code");
  set(Field::name, "normalize-space(Name)");
  set(Field::owner, "SalesRep");
  set(Field::member_of, "Parent");
  set(Field::city, "Address/City");
  set(Field::street, "concat(Address/Street, ' / ', Address/No)");
  f.fields[static_cast<std::size_t>(Field::relationship)] =
      FieldPath{"@type", std::map<std::string, std::string>{{"C", "customer"}}};
  FeedContactsConfig contacts;
  contacts.records = "Contacts/Contact";
  contacts.fields[static_cast<std::size_t>(ContactField::remote_id)] = FieldPath{"@id", {}};
  contacts.fields[static_cast<std::size_t>(ContactField::last_name)] = FieldPath{"Last", {}};
  f.contacts = contacts;
  return f;
}

const char* kDocument = R"(<?xml version="1.0" encoding="utf-8"?>
<Export generated="2026-11-23">
  <Customer id="1" code="C-1" type="C"><Name>  Acme
     &amp; Sons </Name><SalesRep>jsmith</SalesRep>
    <Address><Street>Via Roma</Street><No>1</No><City>Milano</City></Address>
    <Contacts><Contact id="p1"><Last>Rossi</Last></Contact><Contact><Last>Verdi</Last></Contact></Contacts>
  </Customer>
  <!-- a comment between records -->
  <Customer id="2" code="C-2" type="X"><Name><![CDATA[Beta <&> Ltd]]></Name><Parent>C-1</Parent></Customer>
  <Customer code=" C-3 "/>
</Export>
)";

void expect_same(const std::vector<IncomingAccount>& a, const std::vector<IncomingAccount>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].values, b[i].values) << "record " << i;
    EXPECT_EQ(a[i].mapped, b[i].mapped) << "record " << i;
    EXPECT_EQ(a[i].invalid, b[i].invalid) << "record " << i;
    EXPECT_EQ(a[i].has_contacts_block, b[i].has_contacts_block) << "record " << i;
    ASSERT_EQ(a[i].contacts.size(), b[i].contacts.size()) << "record " << i;
    for (std::size_t c = 0; c < a[i].contacts.size(); ++c) EXPECT_EQ(a[i].contacts[c].values, b[i].contacts[c].values);
  }
}

TEST(XmlRecordMapper, RecordByRecordGivesWhatTheWholeDocumentGives) {
  const FeedConfig feed = full_feed();
  auto whole = make_mapper(feed, {});
  const std::size_t n = whole->load(kDocument, "feed t /a.xml");
  ASSERT_EQ(n, 3u);
  auto by_record = make_mapper(feed, {});
  ASSERT_EQ(by_record->load_in_place(std::string(kDocument), "feed t /a.xml"), 3u);
  expect_same(by_record->map(0, n), whole->map(0, n));
  expect_same(by_record->map(1, 2), whole->map(1, 2));
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(by_record->remote_id(i), whole->map(i, i + 1)[0].get(Field::remote_id));
  EXPECT_EQ(by_record->remote_id(2), "C-3");  // defaulted from the trimmed code
  EXPECT_EQ(by_record->map(0, 1)[0].get(Field::name), "Acme & Sons");
  EXPECT_EQ(by_record->map(1, 2)[0].get(Field::name), "Beta <&> Ltd");
  EXPECT_TRUE(by_record->map(1, 2)[0].invalid);  // relationship "X" is not in the map
}

TEST(XmlRecordMapper, APathThatLooksOutsideTheRecordReadsTheWholeDocument) {
  FeedConfig feed = full_feed();
  feed.fields[static_cast<std::size_t>(Field::owner)] = FieldPath{"/Export/@generated", {}};
  auto m = make_mapper(feed, {});
  ASSERT_EQ(m->load_in_place(std::string(kDocument), "feed t /a.xml"), 3u);
  auto recs = m->map(0, 3);
  for (const auto& r : recs) EXPECT_EQ(r.get(Field::owner), "2026-11-23");
}

TEST(XmlRecordMapper, ABadRecordFailsTheLoadAsTheWholeParseWould) {
  // Unquoted attribute inside the second record: the scan passes it, the record's parse does
  // not, and the error is the whole document's, at the same byte.
  std::string doc = kDocument;
  doc.replace(doc.find("type=\"X\""), 8, "type=X");
  const FeedConfig feed = full_feed();
  std::string whole_error, in_place_error;
  try {
    make_mapper(feed, {})->load(doc, "feed t /a.xml");
  } catch (const core::SyncError& e) {
    whole_error = e.what();
  }
  try {
    make_mapper(feed, {})->load_in_place(std::string(doc), "feed t /a.xml");
  } catch (const core::SyncError& e) {
    in_place_error = e.what();
  }
  ASSERT_THAT(whole_error, HasSubstr("feed t /a.xml: invalid XML at byte "));
  EXPECT_EQ(in_place_error.substr(0, in_place_error.find(" (line")), whole_error.substr(0, whole_error.find(" (line")));
}

TEST(XmlRecordMapper, RecordsDeeperThanTheLimitAreRefused) {
  FeedConfig feed = full_feed();
  ParseLimits limits;
  limits.max_depth = 4;  // Export(1) Customer(2) Contacts(3) Contact(4) Last(5): too deep
  try {
    make_mapper(feed, limits)->load_in_place(std::string(kDocument), "feed t /a.xml");
    ADD_FAILURE() << "no SyncError";
  } catch (const core::SyncError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nesting deeper than 4 levels"));
  }
}

}  // namespace
}  // namespace erpsync::connectors::feed
