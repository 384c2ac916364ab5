#include "core/rules/payload.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/rules/normalize.hpp"
#include "core/rules/policy.hpp"
#include "helpers.hpp"

namespace erpsync::core {
namespace {

// Hashes `bytes` with EVP directly, independently of sha256_hex.
std::string evp_sha256(const std::string& bytes) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  char hex[65];
  for (unsigned i = 0; i < len; ++i) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return std::string(hex, 64);
}

TEST(PayloadHash, Sha256HexMatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PayloadHash, FollowsTheDefinitionByteForByte) {
  IncomingAccount r;
  r.set(Field::remote_id, "42");
  r.set(Field::external_code, "C-1");
  r.set(Field::name, "ACME");
  r.set(Field::owner, "John");  // raw value: the resolved owner replaces it
  r.set(Field::email, "");      // mapped and empty: present with an empty value
  r.at(Field::phone) = "555";   // not mapped: left out
  const std::string expected_bytes =
      std::string("v1") + "\x1Fremote_id\x1F" "42\x1E" + "\x1F" "external_code\x1F" "C-1\x1E" +
      "\x1Fname\x1F" "ACME\x1E" + "\x1Fowner\x1Fjsmith\x1E" + "\x1F" "email\x1F\x1E";
  EXPECT_EQ(payload_hash(r, "jsmith"), evp_sha256(expected_bytes));
  // A fixed record gives a fixed digest, release after release (computed with Python hashlib).
  EXPECT_EQ(payload_hash(r, "jsmith"), "769ab35f350ac59de703a0ee103fff8c2d7a9307895a965f65311d32fd6a376f")
      << "digest of the bytes above: " << evp_sha256(expected_bytes);
}

TEST(PayloadHash, AlwaysIncludesTheResolvedOwnerEvenWhenUnmapped) {
  IncomingAccount r;
  r.set(Field::external_code, "C-1");
  EXPECT_EQ(payload_hash(r, "sales"), evp_sha256("v1\x1F" "external_code\x1F" "C-1\x1E\x1Fowner\x1Fsales\x1E"));
  EXPECT_NE(payload_hash(r, "sales"), payload_hash(r, "dave"));
}

TEST(PayloadHash, AppendsContactsWhenTheConnectorMapsThem) {
  IncomingAccount r;
  r.set(Field::external_code, "C-1");
  r.has_contacts_block = true;
  r.contacts.push_back(testing::contact("c1", "Ann", "Lee", "ann@x"));
  const std::string bytes = std::string("v1\x1F" "external_code\x1F" "C-1\x1E\x1Fowner\x1Fo\x1E") + "contact" +
                            "\x1Fremote_id\x1F" "c1\x1E" + "\x1F" "first_name\x1F" "Ann\x1E" +
                            "\x1Flast_name\x1FLee\x1E" + "\x1F" "email\x1F" "ann@x\x1E" + "\x1Fphone\x1F\x1E" +
                            "\x1F" "active\x1F\x1E";
  EXPECT_EQ(payload_hash(r, "o"), evp_sha256(bytes));
  const std::string before = payload_hash(r, "o");
  r.contacts[0].at(ContactField::phone) = "1";
  EXPECT_NE(payload_hash(r, "o"), before);
}

TEST(PayloadHash, DiffersBetweenAbsentAndEmptyOnlyThroughTheMask) {
  IncomingAccount a = testing::rec("1", "C-1");
  IncomingAccount b = a;
  b.at(Field::email) = "";  // still unmapped: same hash
  EXPECT_EQ(payload_hash(a, "x"), payload_hash(b, "x"));
  b.set(Field::email, "");  // now mapped: a different record shape
  EXPECT_NE(payload_hash(a, "x"), payload_hash(b, "x"));
}

TEST(Payload, RoundTripsEveryPartOfARecord) {
  IncomingAccount r = testing::rec("7", " D-1 ", "", "P-1", "Düsseldorf GmbH");
  r.at(Field::vat) = "DE123";  // a value of an unmapped field survives too
  r.set(Field::active, "no");
  r.has_contacts_block = true;
  r.contacts.push_back(testing::contact("c1", "Ann", "Lee"));
  r.contacts.push_back(testing::contact("", "", "Solo"));
  r.invalid = "bad date";
  const auto back = from_payload(to_payload(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->values, r.values);
  EXPECT_EQ(back->mapped, r.mapped);
  EXPECT_EQ(back->has_contacts_block, true);
  ASSERT_EQ(back->contacts.size(), 2u);
  EXPECT_EQ(back->contacts[0].values, r.contacts[0].values);
  EXPECT_EQ(back->contacts[1].values, r.contacts[1].values);
  EXPECT_EQ(back->invalid, r.invalid);
  EXPECT_EQ(payload_hash(*back, "o"), payload_hash(r, "o"));
}

TEST(Payload, RefusesWhatToPayloadDidNotWrite) {
  EXPECT_FALSE(from_payload("").has_value());
  EXPECT_FALSE(from_payload("[1,2]").has_value());
  EXPECT_FALSE(from_payload(R"({"v":2,"fields":{},"mapped":[],"has_contacts_block":false,"contacts":[]})"));
  EXPECT_FALSE(from_payload(R"({"v":1,"fields":{"nope":"x"},"mapped":[],"has_contacts_block":false,"contacts":[]})"));
  EXPECT_FALSE(from_payload(R"({"v":1,"fields":{"name":1},"mapped":[],"has_contacts_block":false,"contacts":[]})"));
  EXPECT_TRUE(from_payload(R"({"v":1,"fields":{"name":"x"},"mapped":["name"],"has_contacts_block":false,"contacts":[]})"));
}

TEST(Payload, StoresRecordsWithInvalidUtf8WithoutThrowing) {
  IncomingAccount r = testing::rec("1", "C-1", "x", "", std::string("bad\xC3"));
  EXPECT_NO_THROW({ EXPECT_TRUE(from_payload(to_payload(r)).has_value()); });
}

TEST(DefaultRemoteId, KeepsAGivenIdThenFallsBackToCodeThenToAHash) {
  IncomingAccount given = testing::rec("R-9", "C-1");
  default_remote_id(given);
  EXPECT_EQ(given.get(Field::remote_id), "R-9");

  IncomingAccount by_code;
  by_code.set(Field::external_code, "  C-1 ");
  default_remote_id(by_code);
  EXPECT_EQ(by_code.get(Field::remote_id), "C-1");
  EXPECT_FALSE(by_code.maps(Field::remote_id)) << "a defaulted id is not a mapped field";

  IncomingAccount none;
  none.set(Field::name, "ACME");
  IncomingAccount same = none;
  default_remote_id(none);
  default_remote_id(same);
  EXPECT_EQ(none.get(Field::remote_id).rfind("sha256:", 0), 0u);
  EXPECT_EQ(none.get(Field::remote_id), same.get(Field::remote_id)) << "stable across runs";
  EXPECT_LE(none.get(Field::remote_id).size(), kMaxRemoteId);
}

TEST(DefaultRemoteId, GivesContactsWithoutAnIdAStableOne) {
  IncomingAccount r = testing::rec("1", "C-1");
  r.has_contacts_block = true;
  r.contacts.push_back(testing::contact("", "Ann", "Lee"));
  r.contacts.push_back(testing::contact("k", "Bob", "Lee"));
  default_remote_id(r);
  EXPECT_EQ(r.contacts[0].get(ContactField::remote_id).rfind("sha256:", 0), 0u);
  EXPECT_EQ(r.contacts[1].get(ContactField::remote_id), "k");
}

TEST(Normalize, TrimsCodesAndKeepsCase) {
  EXPECT_EQ(normalize_code(" \tC-1 \r\n"), "C-1");
  EXPECT_EQ(normalize_code("   "), "");
  EXPECT_NE(normalize_code("c-1"), normalize_code("C-1"));
}

TEST(Normalize, FoldsNamesCaseAndSpaceInsensitively) {
  EXPECT_EQ(normalize_name("  ACME   Trading\tLtd "), "acme trading ltd");
  EXPECT_EQ(normalize_name("acme trading ltd"), normalize_name("ACME  TRADING LTD"));
}

TEST(Normalize, ValidatesUtf8Strictly) {
  struct Case { std::string s; bool ok; };
  const std::vector<Case> cases = {
      {"plain", true}, {"D\xC3\xBCsseldorf", true}, {"\xE2\x82\xAC", true}, {"\xF0\x9F\x98\x80", true},
      {"\xC3", false}, {"\x80", false}, {"\xC0\xAF", false} /* overlong */, {"\xE0\x80\xAF", false},
      {"\xED\xA0\x80", false} /* surrogate */, {"\xF4\x90\x80\x80", false} /* > U+10FFFF */, {"\xFF", false},
      {"ok \xEF\xB7\x8F", true} /* U+FDCF */, {"bad \xEF\xB7\x90 bytes", false} /* kInvalidUtf8Marker */};
  for (const auto& c : cases) EXPECT_EQ(is_valid_utf8(c.s), c.ok) << ::testing::PrintToString(c.s);
}

TEST(Normalize, ParsesActiveValues) {
  for (const char* t : {"", "true", "TRUE", "1", "yes", "Y", " y "}) EXPECT_EQ(parse_active(t), true) << t;
  for (const char* f : {"false", "0", "No", "n", "FALSE"}) EXPECT_EQ(parse_active(f), false) << f;
  for (const char* bad : {"2", "oui", "t"}) EXPECT_EQ(parse_active(bad), std::nullopt) << bad;
}

TEST(Policy, ResolvesOwnersInTheSpecOrder) {
  MatchPolicy p = testing::feed_policy();
  EXPECT_EQ(resolve_owner(p, ""), "sales") << "empty → default_owner";
  EXPECT_EQ(resolve_owner(p, "  "), "sales");
  EXPECT_EQ(resolve_owner(p, "jsmith"), "jsmith") << "no owners table: the value is the login";
  p.owners = std::map<std::string, std::string>{{"john.smith@example.com", "jsmith"}};
  EXPECT_EQ(resolve_owner(p, "john.smith@example.com"), "jsmith");
  EXPECT_EQ(resolve_owner(p, "jsmith"), std::nullopt) << "not listed → unknown_owner";
  EXPECT_EQ(resolve_owner(p, ""), "sales");
  p.default_owner.clear();
  EXPECT_EQ(resolve_owner(p, ""), std::nullopt) << "no owner at all → unknown_owner";
}

}  // namespace
}  // namespace erpsync::core
