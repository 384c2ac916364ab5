// JSON-2's values as the Odoo connector sees them: JSON ↔ Value (the mapping the source relies
// on to be protocol-blind), Odoo's error object reduced to one line, and arguments JSON cannot
// carry refused before anything is sent.

#include "connectors/odoo/json2_transport.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace erpsync::connectors::odoo {
namespace {

using Kind = core::SyncError::Kind;

TEST(Json2Codec, OdooRecordsDecodeToTheValuesXmlRpcGives) {
  // A search_read row as Odoo 19 serialises it: false for empty, many2one pairs, UTC strings.
  const Value row = from_json(nlohmann::json::parse(R"({
      "id": 41, "ref": false, "parent_id": [41, "Nordwind Handels GmbH"], "active": true,
      "write_date": "2024-03-04 08:15:02", "credit_limit": 12.5, "child_ids": [], "x": null})"));
  ASSERT_EQ(row.type(), Value::Type::structure);
  EXPECT_EQ(*row.find("id"), Value(41));
  EXPECT_TRUE(row.find("ref")->is_false());
  EXPECT_EQ(*row.find("parent_id"), Value::array({41, "Nordwind Handels GmbH"}));
  EXPECT_EQ(*row.find("active"), Value(true));
  EXPECT_EQ(*row.find("write_date"), Value("2024-03-04 08:15:02"));
  EXPECT_EQ(*row.find("credit_limit"), Value(12.5));
  EXPECT_EQ(*row.find("child_ids"), Value(Value::Array{}));
  EXPECT_TRUE(row.find("x")->is_nil());
  // Integers stay integers up to int64; a larger one becomes a double rather than wrapping.
  EXPECT_EQ(from_json(nlohmann::json::parse("9223372036854775807")), Value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(from_json(nlohmann::json::parse("18446744073709551615")).type(), Value::Type::double_);
  EXPECT_EQ(from_json(nlohmann::json::parse("-3")), Value(-3));
}

TEST(Json2Codec, ArgumentsEncodeAsJson) {
  const Value kwargs = Value::structure({{"domain", Value::array({"|", Value::array({"ref", "=", "C-1"}),
                                                                  Value::array({"parent_id", "!=", false})})},
                                         {"limit", 500},
                                         {"context", Value::structure({{"active_test", false}})}});
  EXPECT_EQ(to_json(kwargs), nlohmann::json::parse(R"({"domain": ["|", ["ref", "=", "C-1"], ["parent_id", "!=", false]],
                                                       "limit": 500, "context": {"active_test": false}})"));
  EXPECT_EQ(to_json(Value()), nlohmann::json(nullptr));
  EXPECT_EQ(to_json(Value::datetime("20240304T08:15:02")), nlohmann::json("2024-03-04 08:15:02"));
  EXPECT_EQ(to_json(Value::base64("hi!")), nlohmann::json("aGkh"));
  // Round trip of what both protocols carry.
  EXPECT_EQ(from_json(to_json(kwargs)).find("domain")->as_array().size(), 3U);
  try {
    to_json(Value(std::nan("")));
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent);
  }
}

TEST(Json2Codec, OdoosErrorObjectBecomesOneLine) {
  // The 401 example of Odoo's external_api.rst, traceback and all.
  const std::string unauthorized = R"({"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey",
      "arguments": ["Invalid apikey", 401], "context": {},
      "debug": "Traceback (most recent call last):\n  File \"/opt/Odoo/community/odoo/http.py\", line 2212\nwerkzeug.exceptions.Unauthorized: 401 Unauthorized: Invalid apikey\n"})";
  EXPECT_EQ(summarize_json2_error(unauthorized), "Unauthorized: Invalid apikey");
  EXPECT_EQ(summarize_json2_error(R"({"name": "odoo.exceptions.UserError", "message": "The VAT is wrong.\nCheck it."})"),
            "UserError: The VAT is wrong. (...)");
  EXPECT_EQ(summarize_json2_error(R"({"message": "no class"})"), "no class");
  EXPECT_EQ(summarize_json2_error("<html><title>502 Bad Gateway</title></html>"), std::nullopt);
  EXPECT_EQ(summarize_json2_error(R"(["not", "an", "object"])"), std::nullopt);
  EXPECT_EQ(summarize_json2_error(R"({"error": "other shape"})"), std::nullopt);
  const std::string long_message(1000, 'x');
  EXPECT_LE(summarize_json2_error(R"({"name": "builtins.ValueError", "message": ")" + long_message + "\"}")->size(), 320U);
}

TEST(Json2Codec, AStringThatIsNotUtf8IsRefusedBeforeAnythingIsSent) {
  Json2Settings s;
  s.connector = "erp";
  s.url = "http://127.0.0.1:1";  // nothing listens: a request would fail as transient
  s.db = "acme_prod";
  s.api_key = "0123456789abcdef";
  Json2Transport t(s, std::make_shared<http::CurlHttpClient>());
  try {
    t.call("res.partner", "search_read", {{"domain", Value::array({Value::array({"name", "=", "\xff\xfe"})})}});
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("res.partner.search_read: arguments cannot be sent as JSON"), std::string::npos) << what;
    EXPECT_EQ(what.find("0123456789abcdef"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace erpsync::connectors::odoo
