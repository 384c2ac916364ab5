// SPEC §10 "a value longer than its column, a NUL byte, any control character in a code or id —
// on any engine": the record is rejected alone (`invalid_field`, naming the field, the value
// shown shortened and escaped), its rejection row fits the columns of sync_rejections, a bad
// value is never looked up in the database, and the batch goes on. For every record kind:
// companies (and their contacts), Magento customers and orders, Odoo contacts.

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "commerce_helpers.hpp"
#include "core/rules/contacts.hpp"
#include "core/rules/normalize.hpp"
#include "core/rules/value_check.hpp"
#include "core/text_escape.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

using namespace std::string_literals;

std::size_t chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Every identity column of a rejection row within its size, valid UTF-8 and free of control
// characters (what PostgreSQL and MariaDB refuse or SQLite cuts).
::testing::AssertionResult fits_its_columns(const RejectionWrite& r) {
  const std::pair<const char*, std::pair<const std::string*, std::size_t>> columns[] = {
      {"remote_id", {&r.remote_id, kMaxRemoteId}},
      {"external_code", {&r.external_code, kMaxExternalCode}},
      {"existing_owner", {&r.existing_owner, kMaxOwner}},
      {"incoming_owner", {&r.incoming_owner, kMaxOwner}},
  };
  for (const auto& [name, column] : columns) {
    const auto& [value, max] = column;
    if (chars(*value) > max) return ::testing::AssertionFailure() << name << " has " << chars(*value) << " characters";
    if (!is_valid_utf8(*value)) return ::testing::AssertionFailure() << name << " is not valid UTF-8";
    for (unsigned char c : *value)
      if (c < 0x20 || c == 0x7F) return ::testing::AssertionFailure() << name << " holds byte " << int(c);
  }
  if (r.message.find('\0') != std::string::npos) return ::testing::AssertionFailure() << "message holds NUL";
  return ::testing::AssertionSuccess();
}

// --- the checks themselves ------------------------------------------------------------------

TEST(ValueCheck, IdsRefuseEveryControlCharacterTextOnlyNul) {
  for (const std::string& bad : {"A\0B"s, "A\x01"s, "A\tB"s, "A\nB"s, "A\x7F"s, "A\xC2\x85"s /* U+0085 NEL */}) {
    EXPECT_TRUE(check_id("external_code", bad, kMaxExternalCode)) << shown(bad);
    EXPECT_FALSE(fits_id(bad, kMaxExternalCode)) << shown(bad);
  }
  EXPECT_TRUE(check_text("name", "A\0B"s, kMaxName));
  EXPECT_FALSE(check_text("street", "Line 1\nLine 2", kMaxText)) << "line breaks are text";
  EXPECT_FALSE(check_id("external_code", "C-\xC3\xBC-1", kMaxExternalCode)) << "non-ASCII letters are fine";
  // Logins and e-mails are trimmed by the rules: padding is not refused, a control inside is.
  EXPECT_FALSE(check_trimmed_id("owner", "\n  jsmith\n", kMaxOwner).has_value());
  EXPECT_TRUE(check_trimmed_id("email", "a\r\nBcc: b@x.test", kMaxEmail).has_value());
  EXPECT_TRUE(check_trimmed_id("email", " a@x.test\0"s, kMaxEmail).has_value());
  EXPECT_FALSE(check_id("remote_id", std::string(kMaxRemoteId, 'r'), kMaxRemoteId));
  EXPECT_TRUE(check_id("remote_id", std::string(kMaxRemoteId + 1, 'r'), kMaxRemoteId));
}

TEST(ValueCheck, MessagesNameTheFieldAndShowTheValueShortenedAndEscaped) {
  const auto nul = check_id("external_code", "AB\0CD"s, kMaxExternalCode);
  ASSERT_TRUE(nul);
  EXPECT_EQ(*nul, "external_code holds a NUL byte: \"AB\\x00CD\"");
  const auto control = check_id("remote_id", "R\x1B[31m", kMaxRemoteId);
  ASSERT_TRUE(control);
  EXPECT_EQ(*control, "remote_id holds a control character: \"R\\x1b[31m\"");
  const auto long_code = check_id("external_code", std::string(65, 'C'), kMaxExternalCode);
  ASSERT_TRUE(long_code);
  EXPECT_EQ(*long_code, "external_code is 65 characters long, longer than 64: \"" + std::string(kShownChars, 'C') +
                            "\xE2\x80\xA6\"");
  const auto bytes = check_text("name", "D\xFCsseldorf", kMaxName);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, "name is not valid UTF-8: \"D\\xfcsseldorf\"");
}

TEST(ValueCheck, FitColumnKeepsGoodValuesAndMakesBadOnesFitDistinctAndStable) {
  EXPECT_EQ(fit_column("C-1", kMaxExternalCode), "C-1");
  const std::string a = std::string(128, 'r') + "a", b = std::string(128, 'r') + "b";
  const std::string fa = fit_column(a, kMaxRemoteId), fb = fit_column(b, kMaxRemoteId);
  EXPECT_EQ(chars(fa), kMaxRemoteId);
  EXPECT_NE(fa, fb) << "two ids that differ past the cut stay two rejection rows";
  EXPECT_EQ(fa, fit_column(a, kMaxRemoteId)) << "the same value always gives the same key";
  EXPECT_EQ(fit_column("AB\0CD"s, kMaxExternalCode), "AB\\x00CD");
  // One spelling of a control character everywhere (text_escape.hpp): as logs and tables show it.
  EXPECT_EQ(fit_column("A\r\nB\tC\x1b", kMaxExternalCode), "A\\r\\nB\\tC\\x1b");
  EXPECT_EQ(fit_column("A\r\nB", kMaxExternalCode), escape_controls("A\r\nB"));
  // Escaping can make a value that fitted too long: it is cut then, still within the column.
  const std::string controls(64, '\x01');
  EXPECT_LE(chars(fit_column(controls, kMaxExternalCode)), kMaxExternalCode);
  EXPECT_NE(fit_column(controls, kMaxExternalCode), fit_column(std::string(63, '\x01'), kMaxExternalCode));
}

// --- companies ------------------------------------------------------------------------------

TEST(BadValues, EachBadCompanyValueIsRejectedAloneNamingItsFieldWithARowThatFits) {
  struct Case {
    const char* what;
    IncomingAccount record;
    std::string message_part;
  };
  auto with = [](Field f, std::string v) {
    IncomingAccount r = rec("1", "C-1");
    r.set(f, std::move(v));
    return r;
  };
  IncomingAccount contact_nul = rec("1", "C-1");
  contact_nul.has_contacts_block = true;
  contact_nul.contacts.push_back(contact("k\0" "1"s, "Ann", "Lee"));
  const std::vector<Case> cases = {
      {"65-character code", rec("1", std::string(65, 'C')), "external_code is 65 characters long"},
      {"129-character remote id", rec(std::string(129, 'r'), "C-1"), "remote_id is 129 characters long"},
      {"65-character owner", rec("1", "C-1", std::string(65, 'o')), "owner is 65 characters long"},
      {"NUL inside the code", rec("1", "C-\0-1"s), "external_code holds a NUL byte: \"C-\\x00-1\""},
      {"control character in the code", rec("1", "C-\x1B-1"), "external_code holds a control character"},
      {"NUL in the remote id", rec("R\0" "1"s, "C-1"), "remote_id holds a NUL byte"},
      {"line break in the remote id", rec("R\n1", "C-1"), "remote_id holds a control character"},
      {"NUL in the parent code", rec("1", "C-1", "jsmith", "P\0"s), "member_of holds a NUL byte"},
      {"control character in the owner", rec("1", "C-1", "j\x7Fsmith"), "owner holds a control character"},
      {"NUL in the e-mail", with(Field::email, "a\0@b.test"s), "email holds a NUL byte"},
      {"NUL in the name", with(Field::name, "ACME\0 Ltd"s), "name holds a NUL byte"},
      {"NUL in a contact's remote id", contact_nul, "contact 1 remote_id holds a NUL byte"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    MemoryStore store;
    // The bad record between two good ones: only it is rejected.
    const auto b = sync(store, feed_policy(), {rec("10", "G-1"), c.record, rec("11", "G-2")});
    EXPECT_TRUE(balanced(b));
    EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "rejected:invalid_field", "created"}));
    EXPECT_NE(b.decisions[1].message.find(c.message_part), std::string::npos) << b.decisions[1].message;
    ASSERT_EQ(b.rejections.size(), 1u);
    EXPECT_TRUE(fits_its_columns(b.rejections[0]));
    EXPECT_EQ(from_payload(b.rejections[0].payload)->values, c.record.values) << "the payload is kept intact";
    EXPECT_EQ(store.accounts().size(), 2u);
  }
}

TEST(BadValues, APaddedOwnerOrEMailIsNoBadValue) {
  MemoryStore store;
  IncomingAccount r = rec("1", "C-1", "jsmith\n");
  r.set(Field::email, " info@acme.test\r\n");
  const auto b = sync(store, feed_policy(), {r});
  ASSERT_EQ(b.decisions.size(), 1u);
  EXPECT_EQ(b.decisions[0].outcome, Outcome::created) << b.decisions[0].message;
  EXPECT_EQ(store.account_by_code("C-1")->owner, "jsmith");
}

TEST(BadValues, ARejectedBadRecordSentAgainIsARepeatNotANewRejection) {
  MemoryStore store;
  const std::vector<IncomingAccount> feed = {rec(std::string(129, 'r'), "C-1"), rec("2", "C-\0-2"s),
                                             rec("3", "C-3", std::string(65, 'o'))};
  const auto first = sync(store, feed_policy(), feed);
  ASSERT_EQ(first.counters.rejected, 3);
  for (const auto& r : first.rejections) EXPECT_TRUE(r.is_new_or_changed);
  const auto again = sync(store, feed_policy(), feed);
  EXPECT_EQ(again.counters.rejected, 3);
  EXPECT_EQ(again.counters.updated, 0);
  for (const auto& r : again.rejections) EXPECT_FALSE(r.is_new_or_changed) << r.remote_id << " logged again";
  EXPECT_EQ(store.rejections().size(), 3u) << "one row per record, found again by its stored key";
}

TEST(BadValues, BadValuesAreNeverLookedUp) {
  IncomingAccount r = rec("R\0" "1"s, "C-\0-1"s, "jsmith", std::string(65, 'P'));
  r.has_contacts_block = true;
  r.contacts.push_back(contact("K\x01", "Ann", "Lee"));
  MatchPolicy p = feed_policy();
  p.adopt_by = {Field::name, Field::vat};
  r.set(Field::name, "ACME\0"s);
  r.set(Field::vat, std::string(40, 'V'));
  const BatchKeys k = batch_keys(p, std::vector<IncomingAccount>{r});
  EXPECT_TRUE(k.codes.empty());
  EXPECT_TRUE(k.contact_remote_ids.empty());
  EXPECT_TRUE(k.adopt_names.empty());
  EXPECT_TRUE(k.adopt_vats.empty());
  EXPECT_EQ(k.remote_ids, (std::set<std::string>{"R\\x001"})) << "looked up as its rejection row keys it";
}

// --- Magento customers and orders, Odoo contacts ------------------------------------------

TEST(BadValues, MagentoCustomersWithBadIdsCodesOrEmailsAreRejectedAloneWithRowsThatFit) {
  const std::vector<std::pair<std::function<void(IncomingCustomer&)>, std::string>> cases = {
      {[](IncomingCustomer& c) { c.external_code = std::string(65, 'C'); }, "external_code is 65 characters long"},
      {[](IncomingCustomer& c) { c.external_code = "C-\0-1"s; }, "external_code holds a NUL byte"},
      {[](IncomingCustomer& c) { c.remote_id = std::string(129, '9'); }, "remote_id is 129 characters long"},
      {[](IncomingCustomer& c) { c.remote_id = "9\x01"; }, "remote_id holds a control character"},
      {[](IncomingCustomer& c) { c.email = "a\r\nBcc: x@y.test"; }, "email holds a control character"},
      {[](IncomingCustomer& c) { c.last_name = "Lee\0"s; }, "lastname holds a NUL byte"},
  };
  for (const auto& [spoil, part] : cases) {
    SCOPED_TRACE(part);
    MemoryStore store;
    seed_account(store, "C-1", "carol");
    IncomingCustomer bad = customer("9", "C-1");
    spoil(bad);
    const WriteBatch b = sync_customers(store, {customer("1", "C-1"), bad, customer("2", "")});
    EXPECT_TRUE(balanced(b));
    EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "rejected:invalid_field", "created"}));
    EXPECT_NE(b.decisions[1].message.find(part), std::string::npos) << b.decisions[1].message;
    ASSERT_EQ(b.rejections.size(), 1u);
    EXPECT_TRUE(fits_its_columns(b.rejections[0]));
    EXPECT_EQ(customer_from_payload(b.rejections[0].payload)->remote_id, bad.remote_id);
    EXPECT_TRUE(store.parked().empty()) << "a bad code is not parked as a code no account has yet";
  }
}

TEST(BadValues, MagentoOrdersWithBadIdsOrEmailsAreRejectedAloneWithRowsThatFit) {
  const std::vector<std::pair<std::function<void(IncomingOrder&)>, std::string>> cases = {
      {[](IncomingOrder& o) { o.remote_id = std::string(129, '5'); }, "entity_id is 129 characters long"},
      {[](IncomingOrder& o) { o.remote_id = "5\0"s; }, "entity_id holds a NUL byte"},
      {[](IncomingOrder& o) { o.customer_remote_id = "1\x02"; }, "customer_id holds a control character"},
      {[](IncomingOrder& o) { o.customer_email = "b\0@x.test"s; }, "customer_email holds a NUL byte"},
      {[](IncomingOrder& o) { o.increment_id = "0001\x1B"; }, "increment_id holds a control character"},
      {[](IncomingOrder& o) { o.status = "pending\0"s; }, "status holds a NUL byte"},
  };
  for (const auto& [spoil, part] : cases) {
    SCOPED_TRACE(part);
    MemoryStore store;
    IncomingOrder bad = order("5", std::nullopt);
    spoil(bad);
    const WriteBatch b = sync_orders(store, {order("4", std::nullopt), bad, order("6", std::nullopt)});
    EXPECT_TRUE(balanced(b));
    EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "rejected:invalid_field", "created"}));
    EXPECT_NE(b.decisions[1].message.find(part), std::string::npos) << b.decisions[1].message;
    ASSERT_EQ(b.rejections.size(), 1u);
    EXPECT_TRUE(fits_its_columns(b.rejections[0]));
  }
}

TEST(BadValues, OdooContactsWithBadIdsOrEmailsAreRejectedAloneWithRowsThatFit) {
  const std::vector<std::pair<std::function<void(IncomingContactRecord&)>, std::string>> cases = {
      {[](IncomingContactRecord& c) { c.remote_id = std::string(129, '7'); }, "remote_id is 129 characters long"},
      {[](IncomingContactRecord& c) { c.remote_id = "7\0"s; }, "remote_id holds a NUL byte"},
      {[](IncomingContactRecord& c) { c.company_remote_id = "C\x01"; }, "company holds a control character"},
      {[](IncomingContactRecord& c) { c.email = std::string(256, 'e'); }, "email is 256 characters long"},
      {[](IncomingContactRecord& c) { c.email = "e\t@x.test"; }, "email holds a control character"},
      {[](IncomingContactRecord& c) { c.first_name = "Ann\0"s; }, "first_name holds a NUL byte"},
  };
  MatchPolicy policy = shop_policy("contacts");
  policy.connector = "erp";
  for (const auto& [spoil, part] : cases) {
    SCOPED_TRACE(part);
    MemoryStore store;
    AccountRow a;
    a.external_code = "C-1";
    a.owner = "jsmith";
    const EntityId id = store.insert_account(a);
    store.insert_binding({"erp", "companies", "100", "account", id, "h", std::nullopt});
    auto person = [](std::string rid) {
      IncomingContactRecord c;
      c.remote_id = std::move(rid);
      c.company_remote_id = "100";
      c.first_name = "Erika";
      c.last_name = "Muster";
      c.email = "erika@example.com";
      return c;
    };
    IncomingContactRecord bad = person("7");
    spoil(bad);
    std::vector<ContactInput> in;
    for (const auto& r : {person("6"), bad, person("8")}) in.push_back({r, Arrival::source, false});
    const CommerceState state = store.load_commerce_state(contact_keys(policy, in));
    const WriteBatch b = decide_contacts(policy, in, state);
    store.apply(b);
    EXPECT_TRUE(balanced(b));
    EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "rejected:invalid_field", "created"}));
    EXPECT_NE(b.decisions[1].message.find(part), std::string::npos) << b.decisions[1].message;
    ASSERT_EQ(b.rejections.size(), 1u);
    EXPECT_TRUE(fits_its_columns(b.rejections[0]));
  }
}

}  // namespace
}  // namespace erpsync::core::testing
