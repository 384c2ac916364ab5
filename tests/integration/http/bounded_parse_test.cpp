// Parsers with limits (SPEC §10): deep, huge, malformed and invalid UTF-8 documents give a clean
// permanent SyncError naming the source and the byte offset; normal documents pass.

#include "connectors/http/bounded_parse.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.hpp"

namespace erpsync::connectors {
namespace {

using core::SyncError;

// Runs `f`, expects a permanent SyncError, returns its message.
template <typename F>
std::string permanent_error_of(F&& f) {
  try {
    f();
  } catch (const SyncError& e) {
    EXPECT_EQ(e.kind(), SyncError::Kind::permanent);
    return e.what();
  }
  ADD_FAILURE() << "no SyncError thrown";
  return {};
}

TEST(BoundedParseJson, NormalDocumentPasses) {
  const auto j = parse_json_bounded(R"({"items":[{"id":1,"name":"ACME \u00e9"}],"n":2.5})", {},
                                    "shop customers");
  EXPECT_EQ(j["items"][0]["id"], 1);
  EXPECT_EQ(j["n"], 2.5);
}

TEST(BoundedParseJson, DepthExactlyAtLimitPasses) {
  ParseLimits limits;
  limits.max_depth = 3;
  EXPECT_NO_THROW(parse_json_bounded("[[[1]]]", limits, "t"));
  const auto msg = permanent_error_of([&] { parse_json_bounded("[[[[1]]]]", limits, "t"); });
  EXPECT_NE(msg.find("at byte 3"), std::string::npos) << msg;
}

TEST(BoundedParseJson, MillionDeepArrayIsRejectedWithoutCrash) {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  const auto msg = permanent_error_of([&] { parse_json_bounded(deep, {}, "feed erp url=http://x/a"); });
  EXPECT_NE(msg.find("feed erp url=http://x/a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nesting deeper than 64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at byte 64"), std::string::npos) << msg;
}

TEST(BoundedParseJson, MillionDeepObjectIsRejected) {
  std::string deep;
  for (int i = 0; i < 1'000'000; ++i) deep += "{\"a\":";
  deep += "1";
  deep += std::string(1'000'000, '}');
  const auto msg = permanent_error_of([&] { parse_json_bounded(deep, {}, "t"); });
  EXPECT_NE(msg.find("nesting deeper"), std::string::npos) << msg;
}

TEST(BoundedParseJson, InvalidUtf8InsideAStringIsMarkedNotFatal) {
  // SPEC §10: the record holding it is rejected by the field checks, not the document.
  const std::string bad = "{\"name\":\"AC\xff" "ME\",\"ok\":\"D\xC3\xBC\"}";
  const auto j = parse_json_bounded(bad, {}, "shop customers");
  EXPECT_EQ(j.at("name").get<std::string>(), "AC\xEF\xB7\x90ME");
  EXPECT_EQ(j.at("ok").get<std::string>(), "D\xC3\xBC");
}

TEST(BoundedParseJson, InvalidUtf8OutsideAStringIsReportedWithItsOriginalOffset) {
  const std::string bad = "{\"a\":\"x\xff\xfe\",\"b\":\xff}";
  const auto msg = permanent_error_of([&] { parse_json_bounded(bad, {}, "shop customers"); });
  EXPECT_NE(msg.find("at byte " + std::to_string(bad.rfind('\xff'))), std::string::npos) << msg;
  EXPECT_NE(msg.find("shop customers"), std::string::npos) << msg;
}

TEST(BoundedParseJson, MalformedAndTruncatedNameTheOffset) {
  const auto msg = permanent_error_of([] { parse_json_bounded(R"({"a": [1, 2)", {}, "t"); });
  EXPECT_NE(msg.find("invalid JSON at byte"), std::string::npos) << msg;
  const auto msg2 = permanent_error_of([] { parse_json_bounded("", {}, "t"); });
  EXPECT_NE(msg2.find("invalid JSON"), std::string::npos) << msg2;
}

TEST(BoundedParseJson, TooLargeIsRejectedBeforeParsing) {
  ParseLimits limits;
  limits.max_bytes = 10;
  const auto msg = permanent_error_of([&] { parse_json_bounded("[1,2,3,4,5,6,7]", limits, "t"); });
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
}

TEST(BoundedParseJson, ATreeOverItsMemoryBudgetIsRefusedAndOneWithinItParses) {
  std::string many = "[1";
  for (int i = 0; i < 100'000; ++i) many += ",1";
  many += "]";
  ParseLimits limits;
  limits.max_dom_bytes = std::size_t{1} << 20;  // 100k values take more than 1 MiB
  const std::string message = permanent_error_of([&] { parse_json_bounded(many, limits, "feed erp"); });
  EXPECT_NE(message.find("feed erp"), std::string::npos) << message;
  EXPECT_NE(message.find("in memory"), std::string::npos) << message;
  limits.max_dom_bytes = std::size_t{64} << 20;
  EXPECT_EQ(parse_json_bounded(many, limits, "feed erp").size(), 100'001u);
}

TEST(BoundedParseXml, ATreeOverItsMemoryBudgetIsRefusedBeforeParsingAndTooDeepStaysTooDeep) {
  std::string many = "<E>";
  for (int i = 0; i < 100'000; ++i) many += "<a x='1'/>";
  many += "</E>";
  EXPECT_GT(xml_dom_estimate(many), 100'000u * 64);  // every element and attribute counted
  ParseLimits limits;
  limits.max_dom_bytes = std::size_t{1} << 20;
  pugi::xml_document doc;
  std::string message = permanent_error_of([&] { parse_xml_bounded(doc, many, limits, "feed erp"); });
  EXPECT_NE(message.find("in memory"), std::string::npos) << message;
  EXPECT_FALSE(doc.document_element());
  // Deep as well as big: the depth is what the parse would have reported.
  std::string deep = "<E>";
  for (int i = 0; i < 50'000; ++i) deep += "<a>";
  for (int i = 0; i < 50'000; ++i) deep += "</a>";
  deep += "</E>";
  limits.max_dom_bytes = 4096;
  message = permanent_error_of([&] { parse_xml_bounded(doc, deep, limits, "feed erp"); });
  EXPECT_NE(message.find("at byte 192: nesting deeper than 64 levels (line 1)"), std::string::npos) << message;
}

TEST(BoundedParseXml, NormalDocumentPasses) {
  pugi::xml_document doc;
  parse_xml_bounded(doc, "<?xml version=\"1.0\"?><r><c code=\"A\"><n>ACME</n></c></r>", {}, "t");
  EXPECT_STREQ(doc.child("r").child("c").attribute("code").value(), "A");
}

TEST(BoundedParseXml, DepthExactlyAtLimitPasses) {
  ParseLimits limits;
  limits.max_depth = 3;
  pugi::xml_document doc;
  EXPECT_NO_THROW(parse_xml_bounded(doc, "<a><b><c>x</c><c/></b><b/></a>", limits, "t"));
  const auto msg = permanent_error_of(
      [&] { parse_xml_bounded(doc, "<a><b><c>x</c></b><b><c><d/></c></b></a>", limits, "t"); });
  EXPECT_NE(msg.find("nesting deeper than 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at byte 24"), std::string::npos) << msg;
}

TEST(BoundedParseXml, MillionDeepXmlIsRejected) {
  std::string deep;
  deep.reserve(8'000'000);
  for (int i = 0; i < 1'000'000; ++i) deep += "<a>";
  for (int i = 0; i < 1'000'000; ++i) deep += "</a>";
  pugi::xml_document doc;
  const auto msg = permanent_error_of([&] { parse_xml_bounded(doc, deep, {}, "odoo erp"); });
  EXPECT_NE(msg.find("odoo erp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nesting deeper than 64"), std::string::npos) << msg;
  EXPECT_FALSE(doc.first_child()) << "a rejected document is not left behind";
}

TEST(BoundedParseXml, MalformedReportsOffsetAndLine) {
  pugi::xml_document doc;
  const auto msg =
      permanent_error_of([&] { parse_xml_bounded(doc, "<r>\n<c>\n<n>x</m>\n</c></r>", {}, "t"); });
  EXPECT_NE(msg.find("invalid XML at byte"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
}

TEST(BoundedParseXml, EntitiesAreNeverExpandedAndAnUndefinedOneIsRefused) {
  // An external entity is never read; since it is not expanded, its reference is refused as an
  // undefined entity rather than kept as the text "&xxe;" (xml_entities.hpp).
  pugi::xml_document doc;
  const auto msg = permanent_error_of([&] {
    parse_xml_bounded(doc, "<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/hostname\">]><r>&xxe;</r>", {}, "t");
  });
  EXPECT_NE(msg.find("undefined entity &xxe;"), std::string::npos) << msg;
  EXPECT_FALSE(doc.child("r"));
}

TEST(BoundedParseXml, TooLargeIsRejected) {
  ParseLimits limits;
  limits.max_bytes = 8;
  pugi::xml_document doc;
  const auto msg = permanent_error_of([&] { parse_xml_bounded(doc, "<r>123456</r>", limits, "t"); });
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
}

}  // namespace
}  // namespace erpsync::connectors
