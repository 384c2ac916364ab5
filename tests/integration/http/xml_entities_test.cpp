// Undefined entity references (connectors/http/xml_entities.hpp): refused where pugixml would
// keep them as text; everything XML defines, and '&' where it is not a reference, passes.

#include "connectors/http/xml_entities.hpp"

#include <gtest/gtest.h>

#include <string>

#include "connectors/http/bounded_parse.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors {
namespace {

TEST(XmlEntities, FindsTheFirstUndefinedReferenceInTextOrAttributes) {
  EXPECT_EQ(find_unknown_entity("<a>x &foo; y</a>"), 5u);
  EXPECT_EQ(find_unknown_entity("<a t='&amp;&bar;'/>"), 11u);
  EXPECT_EQ(find_unknown_entity("<a>&amp;nbsp;</a>"), std::nullopt);  // the text "&nbsp;", escaped
  EXPECT_EQ(find_unknown_entity("<a>&lt;&gt;&amp;&apos;&quot;&#160;&#xA0;</a>"), std::nullopt);
  EXPECT_EQ(find_unknown_entity("<a>AT & T, R&D</a>"), std::nullopt);  // not references
  EXPECT_EQ(find_unknown_entity("plain text without any markup"), std::nullopt);
}

TEST(XmlEntities, SkipsCommentsCdataProcessingInstructionsAndTheDoctype) {
  const std::string doc =
      "<?xml version='1.0'?><?pi &p1;?><!DOCTYPE a [ <!ENTITY e 'x &amp; y'> <!ENTITY f '&e;'> ]>"
      "<!-- &c1; --><a><![CDATA[ &d1; <b> ]]>ok</a>";
  EXPECT_EQ(find_unknown_entity(doc), std::nullopt);
  // A DOCTYPE's entities are not expanded (no parse_doctype), so using one is refused too.
  EXPECT_EQ(find_unknown_entity(doc + "<z>&e;</z>"), doc.size() + 3);
  EXPECT_EQ(find_unknown_entity("<!-- &a; --><x><![CDATA[&b;]]>&c;</x><!-- &d; -->"), 30u);
  EXPECT_EQ(find_unknown_entity("<x><!-- unclosed &a;"), std::nullopt);  // the parser reports it
}

TEST(XmlEntities, ParseXmlBoundedRefusesThemNamingLineAndEntity) {
  pugi::xml_document doc;
  try {
    parse_xml_bounded(doc, "<methodResponse>\n<s>Caf&eacute;</s></methodResponse>", {}, "odoo erp res.partner");
    FAIL() << "parsed";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    const std::string m = e.what();
    EXPECT_NE(m.find("odoo erp res.partner: invalid XML at byte 23: undefined entity &eacute; (line 2)"),
              std::string::npos)
        << m;
  }
  std::string text = "<a>&foo;</a>";
  EXPECT_THROW(parse_xml_bounded_inplace(doc, text, {}, "f"), core::SyncError);
  EXPECT_NO_THROW(parse_xml_bounded(doc, "<a>&amp;foo;</a>", {}, "f"));
  EXPECT_STREQ(doc.child("a").text().get(), "&foo;");
}

}  // namespace
}  // namespace erpsync::connectors
