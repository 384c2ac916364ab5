// The XML mapper's shortcuts: field paths of plain child steps ("Name", "Address/City", "@id",
// "Contacts/Contact") are read by walking the record instead of through pugixml's XPath, the
// remote ids of a many-record document are hashed while it is loaded, and a record's depth walk
// is skipped when it has too few start tags to be too deep. Each must give exactly what XPath
// (the same step written "child::Name", which takes pugixml's path) and remote_id() give.

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "config/config.hpp"
#include "connectors/feed/mapper.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::feed {
namespace {

using core::ContactField;
using core::Field;
using core::IncomingAccount;

// `xpath`: every path written with child:: / attribute:: axes, so that pugixml evaluates it
// (but the relationship's, whose path its invalid message names).
FeedConfig feed(bool xpath) {
  auto p = [&](const std::string& path) {
    if (!xpath) return path;
    std::string out;
    std::size_t at = 0;
    while (true) {
      auto slash = path.find('/', at);
      std::string step = path.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
      out += step[0] == '@' ? "attribute::" + step.substr(1) : "child::" + step;
      if (slash == std::string::npos) return out;
      out += '/';
      at = slash + 1;
    }
  };
  FeedConfig f;
  f.format = FeedFormat::xml;
  f.records = "/Export/Customer";
  auto set = [&](Field k, const std::string& path) { f.fields[static_cast<std::size_t>(k)] = FieldPath{p(path), {}}; };
  set(Field::remote_id, "@id");
  set(Field::external_code, "@code");
  set(Field::name, "Name");
  set(Field::owner, "SalesRep");
  set(Field::member_of, "Parent");
  set(Field::city, "Address/City");
  set(Field::street, "Address/Street");
  set(Field::country, "A/B/C");
  set(Field::email, "@xmlns");
  set(Field::phone, "Phone/@kind");
  f.fields[static_cast<std::size_t>(Field::relationship)] =
      FieldPath{"@type", std::map<std::string, std::string>{{"C", "customer"}}};
  FeedContactsConfig contacts;
  contacts.records = p("Contacts/Contact");
  contacts.fields[static_cast<std::size_t>(ContactField::remote_id)] = FieldPath{p("@id"), {}};
  contacts.fields[static_cast<std::size_t>(ContactField::last_name)] = FieldPath{p("Last"), {}};
  contacts.fields[static_cast<std::size_t>(ContactField::email)] = FieldPath{p("Mail/Home"), {}};
  f.contacts = contacts;
  return f;
}

const char* kRecords[] = {
    R"(<Customer id=" 1 " code="c-1" type="C"><Name> Acme &amp; <![CDATA[<Sons>]]> </Name><SalesRep>jo</SalesRep></Customer>)",
    R"(<Customer id="" code=" c-2 " type="X" xmlns="urn:x"><Name>A<b>bold</b>B<!-- c --><?pi x?>C</Name><Name>second</Name></Customer>)",
    R"(<Customer code="" type=""><Address/><Address><Street>s2</Street></Address><Address><City>c3</City><Street>s3</Street></Address></Customer>)",
    R"(<Customer id="4" id="dup"><A><B/></A><A><B><C>first</C><C>second</C></B></A><A><B><C>third</C></B></A></Customer>)",
    R"(<Customer id="5"><Phone>1</Phone><Phone kind=" mobile ">2</Phone><Parent/><SalesRep>
      </SalesRep></Customer>)",
    R"(<Customer id="6"><Contacts><Contact id="a"><Last>L1</Last><Mail><Home/></Mail><Mail><Home> h </Home></Mail></Contact></Contacts><Contacts/><Contacts><Contact><Last>L2</Last></Contact><Contact id="c"/></Contacts></Customer>)",
    R"(<Customer id="7"><Name><![CDATA[  ]]></Name><Address><City><x><y>deep</y></x> text</City></Address></Customer>)",
};

std::string document(std::size_t copies) {
  std::string doc = "<?xml version=\"1.0\"?>\n<Export>\n";
  for (std::size_t c = 0; c < copies; ++c)
    for (const char* r : kRecords) doc += std::string("  ") + r + "\n";
  return doc + "</Export>\n";
}

void expect_same(const std::vector<IncomingAccount>& a, const std::vector<IncomingAccount>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].values, b[i].values) << "record " << i;
    EXPECT_EQ(a[i].mapped, b[i].mapped) << "record " << i;
    EXPECT_EQ(a[i].invalid, b[i].invalid) << "record " << i;
    EXPECT_EQ(a[i].has_contacts_block, b[i].has_contacts_block) << "record " << i;
    ASSERT_EQ(a[i].contacts.size(), b[i].contacts.size()) << "record " << i;
    for (std::size_t c = 0; c < a[i].contacts.size(); ++c)
      EXPECT_EQ(a[i].contacts[c].values, b[i].contacts[c].values) << "record " << i << " contact " << c;
  }
}

TEST(XmlChildPaths, GiveWhatPugixmlsXPathGives) {
  const std::string doc = document(1);
  const std::size_t n = std::size(kRecords);
  auto xpath = make_mapper(feed(true), {});
  ASSERT_EQ(xpath->load(doc, "feed t /a.xml"), n);
  const std::vector<IncomingAccount> expected = xpath->map(0, n);
  auto whole = make_mapper(feed(false), {});
  ASSERT_EQ(whole->load(doc, "feed t /a.xml"), n);
  expect_same(whole->map(0, n), expected);
  auto by_record = make_mapper(feed(false), {});
  ASSERT_EQ(by_record->load_in_place(std::string(doc), "feed t /a.xml"), n);
  expect_same(by_record->map(0, n), expected);
  // Spot checks of what XPath makes of them.
  EXPECT_EQ(expected[0].get(Field::name), "Acme & <Sons>");
  EXPECT_EQ(expected[1].get(Field::name), "AboldBC");
  EXPECT_EQ(expected[1].get(Field::email), "");  // a namespace declaration is no attribute to XPath
  EXPECT_EQ(expected[2].get(Field::street), "s2");
  EXPECT_EQ(expected[2].get(Field::city), "c3");
  EXPECT_EQ(expected[3].get(Field::remote_id), "4");
  EXPECT_EQ(expected[3].get(Field::country), "first");
  EXPECT_EQ(expected[4].get(Field::phone), "mobile");
  ASSERT_EQ(expected[5].contacts.size(), 3u);
  EXPECT_EQ(expected[5].contacts[0].get(ContactField::email), "");
  EXPECT_EQ(expected[6].get(Field::city), "deep text");
}

TEST(XmlChildPaths, RemoteIdsHashedWhileLoadingAreThoseOfRemoteId) {
  const std::string doc = document(3);
  const std::size_t n = 3 * std::size(kRecords);
  auto m = make_mapper(feed(false), {});
  m->hash_remote_ids_above(n - 1);
  ASSERT_EQ(m->load_in_place(std::string(doc), "feed t /a.xml"), n);
  const std::vector<std::uint64_t> hashes = m->remote_id_hashes();
  ASSERT_EQ(hashes.size(), n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(hashes[i], std::hash<std::string>{}(m->remote_id(i))) << i;
  EXPECT_TRUE(m->remote_id_hashes().empty());  // handed over once

  auto few = make_mapper(feed(false), {});
  few->hash_remote_ids_above(n);  // not more than n records: not hashed
  ASSERT_EQ(few->load_in_place(std::string(doc), "feed t /a.xml"), n);
  EXPECT_TRUE(few->remote_id_hashes().empty());
}

TEST(XmlChildPaths, ADeepRecordWithManyStartTagsIsStillRefused) {
  // 41 start tags in the record (more than the limits: the depth is walked), Export Customer A B
  // C D nested 6 deep: within a limit of 6, refused at 5.
  std::string record = "<Customer id=\"1\">";
  for (int i = 0; i < 36; ++i) record += "<F>x</F>";
  record += "<A><B><C><D>deep</D></C></B></A></Customer>";
  const std::string doc = "<Export>" + record + "</Export>";
  for (int limit : {5, 6, 7}) {
    ParseLimits limits;
    limits.max_depth = limit;
    std::string whole_error, in_place_error;
    try {
      make_mapper(feed(false), limits)->load(doc, "feed t /a.xml");
    } catch (const core::SyncError& e) {
      whole_error = e.what();
    }
    try {
      make_mapper(feed(false), limits)->load_in_place(std::string(doc), "feed t /a.xml");
    } catch (const core::SyncError& e) {
      in_place_error = e.what();
    }
    EXPECT_EQ(in_place_error, whole_error) << limit;
    EXPECT_EQ(whole_error.empty(), limit >= 6) << limit;
  }
}

}  // namespace
}  // namespace erpsync::connectors::feed
