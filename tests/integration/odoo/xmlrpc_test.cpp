// The XML-RPC codec: every value type both ways, the recorded Odoo payloads, faults, limits.

#include "connectors/odoo/xmlrpc.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace erpsync::connectors::odoo {
namespace {

using Type = Value::Type;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/odoo/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Value decode(const std::string& body) { return decode_response(body, {}, "test"); }

std::string wrap(const std::string& value_xml) {
  return "<?xml version=\"1.0\"?><methodResponse><params><param>" + value_xml +
         "</param></params></methodResponse>";
}

Value decode_value(const std::string& value_xml) { return decode(wrap(value_xml)); }

TEST(XmlRpcCodec, DecodesEveryScalarType) {
  EXPECT_EQ(decode_value("<value><int>7</int></value>"), Value(7));
  EXPECT_EQ(decode_value("<value><i4>-2147483648</i4></value>"), Value(std::int64_t{-2147483648}));
  EXPECT_EQ(decode_value("<value><i8>9007199254740993</i8></value>"), Value(std::int64_t{9007199254740993}));
  EXPECT_EQ(decode_value("<value><int> +42 </int></value>"), Value(42));
  EXPECT_EQ(decode_value("<value><boolean>1</boolean></value>"), Value(true));
  EXPECT_EQ(decode_value("<value><boolean>0</boolean></value>"), Value(false));
  EXPECT_TRUE(decode_value("<value><boolean>0</boolean></value>").is_false());
  EXPECT_EQ(decode_value("<value><string>a &amp; b &lt;c&gt;</string></value>"), Value("a & b <c>"));
  EXPECT_EQ(decode_value("<value>bare text</value>"), Value("bare text"));
  EXPECT_EQ(decode_value("<value></value>"), Value(""));
  EXPECT_EQ(decode_value("<value><string/></value>"), Value(""));
  EXPECT_EQ(decode_value("<value><string>  </string></value>"), Value("  "));
  EXPECT_EQ(decode_value("<value>   </value>"), Value("   "));
  EXPECT_EQ(decode_value("<value><string>Zürich – 東京</string></value>"), Value("Zürich – 東京"));
  EXPECT_EQ(decode_value("<value><double>12.5</double></value>"), Value(12.5));
  EXPECT_EQ(decode_value("<value><double>-1e-3</double></value>"), Value(-0.001));
  const Value dt = decode_value("<value><dateTime.iso8601>20240304T08:15:02</dateTime.iso8601></value>");
  EXPECT_EQ(dt.type(), Type::datetime);
  EXPECT_EQ(dt.as_string(), "20240304T08:15:02");
  EXPECT_EQ(iso_to_odoo(dt.as_string()), "2024-03-04 08:15:02");
  const Value b64 = decode_value("<value><base64>\naGVsbG8g\nd29ybGQ=\n</base64></value>");
  EXPECT_EQ(b64.type(), Type::base64);
  EXPECT_EQ(b64.as_string(), "hello world");
  EXPECT_TRUE(decode_value("<value><nil/></value>").is_nil());
  EXPECT_TRUE(decode_value("<value><ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/></value>").is_nil());
}

TEST(XmlRpcCodec, DecodesArraysAndStructs) {
  const Value v = decode_value(
      "<value><struct><member><name>a</name><value><array><data>"
      "<value><int>1</int></value><value>x</value><value><array><data>\n</data></array></value>"
      "</data></array></value></member>"
      "<member><name>b</name><value><struct></struct></value></member></struct></value>");
  ASSERT_EQ(v.type(), Type::structure);
  EXPECT_EQ(*v.find("a"), Value::array({1, "x", Value(Value::Array{})}));
  EXPECT_EQ(*v.find("b"), Value(Value::Struct{}));
  EXPECT_EQ(v.find("c"), nullptr);
}

TEST(XmlRpcCodec, EveryTypeRoundTripsThroughEncodeAndDecode) {
  const Value all = Value::structure({
      {"int", 7},
      {"negative", -12},
      {"big", std::int64_t{5'000'000'000}},
      {"true", true},
      {"false", false},
      {"string", "a & b < c > d \"q\" 'a'\ttab\nline"},
      {"carriage return", "x\r\ny"},
      {"spaces", "   "},
      {"empty", ""},
      {"double", 12.5},
      {"whole double", 3.0},
      {"datetime", Value::datetime("20240304T08:15:02")},
      {"base64", Value::base64(std::string("\x00\x01\xff binary", 10))},
      {"nil", Value::nil()},
      {"array", Value::array({1, "two", Value::array({}), Value::structure({})})},
      {"struct", Value::structure({{"nested", Value::structure({{"deep", "yes"}})}})},
  });
  const std::string xml = encode_response(all);
  EXPECT_NE(xml.find("<value><i8>5000000000</i8></value>"), std::string::npos);
  EXPECT_NE(xml.find("<double>3.0</double>"), std::string::npos);
  EXPECT_EQ(decode(xml), all);

  const std::string call = encode_call("probe", {all, 1, "x"});
  const MethodCall mc = decode_call(call, {}, "test");
  EXPECT_EQ(mc.method, "probe");
  ASSERT_EQ(mc.params.size(), 3U);
  EXPECT_EQ(mc.params[0], all);
  EXPECT_EQ(mc.params[1], Value(1));
}

TEST(XmlRpcCodec, EncodesRequestsByteForByteLikePythonsMarshaller) {
  EXPECT_EQ(encode_call("version", {}), fixture("01_version_request.xml"));
  EXPECT_EQ(encode_call("authenticate", {"acme_prod", "sync-bot@example.com",
                                         "0123456789abcdef0123456789abcdef01234567", Value(Value::Struct{})}),
            fixture("03_authenticate_request.xml"));
  const Value domain = Value::array({Value::array({Value::array({"is_company", "=", true}),
                                                   Value::array({"write_date", ">", "2024-03-01 00:00:00"})})});
  const Value kwargs = Value::structure({
      {"fields", Value::array({"id", "name", "ref", "is_company", "parent_id", "child_ids", "user_id", "email",
                               "phone", "vat", "street", "city", "zip", "country_id", "active", "write_date"})},
      {"order", "write_date asc, id asc"},
      {"offset", 0},
      {"limit", 200},
      {"context", Value::structure({{"active_test", false}})},
  });
  EXPECT_EQ(encode_call("execute_kw", {"acme_prod", 7, "0123456789abcdef0123456789abcdef01234567", "res.partner",
                                       "search_read", domain, kwargs}),
            fixture("06_search_read_request.xml"));
}

TEST(XmlRpcCodec, EncodesResponsesInOdoosLayout) {
  EXPECT_EQ(encode_response(7), fixture("04_authenticate_response.xml"));
  EXPECT_EQ(encode_response(false), fixture("05_authenticate_failed_response.xml"));
  EXPECT_EQ(encode_response(Value(Value::Array{})), "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n"
                                                    "<value><array><data>\n</data></array></value>\n"
                                                    "</param>\n</params>\n\n</methodResponse>\n");
  EXPECT_EQ(encode_fault(3, "Access Denied"), fixture("09_fault_access_denied_response.xml"));
  EXPECT_EQ(decode(fixture("07_search_read_res_partner_response.xml")),
            decode(encode_response(decode(fixture("07_search_read_res_partner_response.xml")))));
}

TEST(XmlRpcCodec, DecodesTheRecordedOdooPayloads) {
  const Value version = decode(fixture("02_version_response.xml"));
  EXPECT_EQ(*version.find("server_version"), Value("17.0"));
  EXPECT_EQ(*version.find("server_version_info"), Value::array({17, 0, 0, "final", 0, ""}));
  EXPECT_EQ(decode(fixture("04_authenticate_response.xml")), Value(7));
  EXPECT_TRUE(decode(fixture("05_authenticate_failed_response.xml")).is_false());
  EXPECT_EQ(decode(fixture("08_search_read_empty_response.xml")), Value(Value::Array{}));

  const MethodCall call = decode_call(fixture("06_search_read_request.xml"), {}, "test");
  EXPECT_EQ(call.method, "execute_kw");
  ASSERT_EQ(call.params.size(), 7U);
  EXPECT_EQ(call.params[5].as_array()[0].as_array()[1],
            Value::array({"write_date", ">", "2024-03-01 00:00:00"}));  // &gt; unescaped
  EXPECT_EQ(*call.params[6].find("context"), Value::structure({{"active_test", false}}));

  const Value rows = decode(fixture("07_search_read_res_partner_response.xml"));
  ASSERT_EQ(rows.as_array().size(), 3U);
  const Value& nordwind = rows.as_array()[0];
  EXPECT_EQ(*nordwind.find("id"), Value(41));
  EXPECT_EQ(*nordwind.find("ref"), Value("C-10042"));
  EXPECT_EQ(*nordwind.find("user_id"), Value::array({7, "Erika Beispiel"}));
  EXPECT_EQ(*nordwind.find("child_ids"), Value::array({63, 64}));
  EXPECT_EQ(*nordwind.find("write_date"), Value("2024-03-04 08:15:02"));
  const Value& blue_heron = rows.as_array()[1];
  EXPECT_TRUE(blue_heron.find("ref")->is_false());
  EXPECT_TRUE(blue_heron.find("email")->is_false());
  EXPECT_EQ(*blue_heron.find("child_ids"), Value(Value::Array{}));
  const Value& logistik = rows.as_array()[2];
  EXPECT_EQ(*logistik.find("parent_id"), Value::array({41, "Nordwind Handels GmbH"}));
  EXPECT_TRUE(logistik.find("user_id")->is_false());
}

TEST(XmlRpcCodec, FaultsBecomeClassifiedErrorsWithASummary) {
  try {
    decode(fixture("09_fault_access_denied_response.xml"));
    FAIL() << "no fault";
  } catch (const XmlRpcFault& f) {
    EXPECT_EQ(f.code(), 3);
    EXPECT_EQ(f.kind(), core::SyncError::Kind::auth);
    EXPECT_EQ(f.summary(), "Access Denied");
  }
  try {
    decode(fixture("10_fault_application_error_response.xml"));
    FAIL() << "no fault";
  } catch (const XmlRpcFault& f) {
    EXPECT_EQ(f.code(), 1);
    EXPECT_EQ(f.kind(), core::SyncError::Kind::permanent);
    EXPECT_EQ(f.summary(), "ValueError: Invalid field 'customer_code' on model 'res.partner'");
    const std::string what = f.what();
    EXPECT_NE(what.find("Odoo fault 1: ValueError: Invalid field 'customer_code'"), std::string::npos) << what;
    EXPECT_EQ(what.find("Traceback"), std::string::npos) << what;  // summarised, not dumped
    EXPECT_EQ(what.find("rpc.py"), std::string::npos) << what;
    EXPECT_NE(f.fault_string().find("Traceback"), std::string::npos);  // still there for debugging
  }
  try {
    decode(fixture("11_fault_user_error_response.xml"));
    FAIL() << "no fault";
  } catch (const XmlRpcFault& f) {
    EXPECT_EQ(f.code(), 2);
    EXPECT_EQ(f.kind(), core::SyncError::Kind::permanent);
    EXPECT_EQ(f.summary(), "You cannot create recursive Partner hierarchies.");
  }
}

TEST(XmlRpcCodec, SummariesAreOneBoundedLine) {
  EXPECT_EQ(summarize_fault("Traceback (most recent call last):\n  File \"x\"\nKeyError: 'a'\n\n"), "KeyError: 'a'");
  EXPECT_EQ(summarize_fault("first line\nsecond line"), "first line (...)");
  EXPECT_EQ(summarize_fault(""), "(empty faultString)");
  EXPECT_LE(summarize_fault(std::string(5000, 'x')).size(), 303U);
}

TEST(XmlRpcCodec, MalformedResponsesArePermanentErrorsThatSayWhy) {
  auto reason = [](const std::string& body) -> std::string {
    try {
      decode_response(body, {}, "odoo test call");
    } catch (const XmlRpcFault&) {
      return "fault";
    } catch (const core::SyncError& e) {
      EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
      EXPECT_NE(std::string(e.what()).find("odoo test call"), std::string::npos) << e.what();
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(reason("<html><body>Login</body></html>").find("expected <methodResponse>"), std::string::npos);
  EXPECT_NE(reason("<methodResponse><params><param><value><int>7</int>").find("XML"), std::string::npos);
  EXPECT_NE(reason(wrap("<value><int>abc</int></value>")).find("bad integer"), std::string::npos);
  EXPECT_NE(reason(wrap("<value><int>2147483648</int></value>")).find("out of range"), std::string::npos);
  EXPECT_NE(reason(wrap("<value><boolean>2</boolean></value>")).find("bad boolean"), std::string::npos);
  EXPECT_NE(reason(wrap("<value><double>1,5</double></value>")).find("bad double"), std::string::npos);
  EXPECT_NE(reason(wrap("<value><base64>@@@</base64></value>")).find("bad base64"), std::string::npos);
  EXPECT_NE(reason(wrap("<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>")).find("bad dateTime"),
            std::string::npos);
  EXPECT_NE(reason(wrap("<value><float>1</float></value>")).find("unknown value type <float>"), std::string::npos);
  EXPECT_NE(reason("<methodResponse><params></params></methodResponse>").find("exactly one <param>"),
            std::string::npos);

  std::string deep = "<value>";
  for (int i = 0; i < 5000; ++i) deep += "<array><data><value>";
  for (int i = 0; i < 5000; ++i) deep += "</value></data></array>";
  deep += "</value>";
  EXPECT_NE(reason(wrap(deep)).find("nesting deeper than"), std::string::npos);

  ParseLimits small;
  small.max_bytes = 64;
  try {
    decode_response(fixture("07_search_read_res_partner_response.xml"), small, "odoo");
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_NE(std::string(e.what()).find("too large"), std::string::npos) << e.what();
  }
}

TEST(XmlRpcCodec, RefusesWhatXmlCannotCarry) {
  EXPECT_THROW(encode_call("x", {"bell\x07"}), core::SyncError);
  EXPECT_THROW(encode_call("x", {std::numeric_limits<double>::infinity()}), core::SyncError);
  EXPECT_NO_THROW(encode_call("x", {"tab\tand\nnewline"}));
}

TEST(XmlRpcCodec, TypedAccessOnTheWrongTypeSaysWhatItIs) {
  try {
    (void)Value("x").as_int();
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(std::string(e.what()), "XML-RPC value is string, expected int");
  }
}

TEST(XmlRpcCodec, Base64BothWays) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9v\nYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm=9"), std::nullopt);
}

}  // namespace
}  // namespace erpsync::connectors::odoo
