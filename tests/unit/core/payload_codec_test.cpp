// The attached kinds' payload codecs (core/rules/payload_codec.hpp): a payload round-trips its
// record exactly, and a record's hash stays what earlier versions stored — a hash that changed
// would rewrite every bound record once after an upgrade and break the quiet re-sync.

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"
#include "core/rules/contacts.hpp"

namespace erpsync::core::testing {
namespace {

IncomingContactRecord contact() {
  IncomingContactRecord c;
  c.remote_id = "64";
  c.company_remote_id = "41";
  c.first_name = "Erika";
  c.last_name = "Muster";
  c.email = "erika@example.com";
  c.phone = "+49 30 1234";
  c.active = false;
  c.updated_at = "2026-03-04 09:00:00";
  return c;
}

TEST(PayloadCodec, HashesStayWhatEarlierVersionsStored) {
  IncomingCustomer c = customer("1001", "C-1", "Anna", "Berger", "Acme GmbH");
  c.phone = "+43 1 555";
  EXPECT_EQ(customer_payload_hash(c), "6e8ecc79f9baf4404beae4b97721bd59fa51c18c2f62ff1414f2864d1ae26c08");
  IncomingOrder o = order("3101", std::string("1001"), "1249.5");
  EXPECT_EQ(order_payload_hash(o), "d8984c1d6efb582f58b7bcb3baa615a9b7c7d7ff89b3c368951f33a1473f7ed5");
  EXPECT_EQ(order_payload_hash(order("3102", std::nullopt, "165")), "e730311b22102bfefb457297e39840b36b5d7357079b85aad6321139b3864f87");
  EXPECT_EQ(contact_payload_hash(contact()), "f190f179349e0ddd20898bcb73ae1b9c05a09bf5732fd89c1fad87579c7ed6fd");
}

TEST(PayloadCodec, PayloadsRoundTripTheirRecordsExactly) {
  IncomingCustomer c = customer("1001", "C-1", "Anna", "Berger", "Acme GmbH");
  c.invalid = "email is not valid UTF-8";
  const auto c2 = customer_from_payload(to_customer_payload(c));
  ASSERT_TRUE(c2);
  EXPECT_EQ(to_customer_payload(*c2), to_customer_payload(c));
  EXPECT_EQ(c2->invalid, c.invalid);
  EXPECT_EQ(c2->updated_at, c.updated_at);

  for (const IncomingOrder& o : {order("3101", std::string("1001"), "1249.5"), order("3102", std::nullopt, "165")}) {
    const auto o2 = order_from_payload(to_order_payload(o));
    ASSERT_TRUE(o2);
    EXPECT_EQ(o2->customer_remote_id, o.customer_remote_id);
    EXPECT_EQ(to_order_payload(*o2), to_order_payload(o));
    EXPECT_EQ(order_payload_hash(*o2), order_payload_hash(o));
  }

  const auto k2 = contact_from_payload(to_contact_payload(contact()));
  ASSERT_TRUE(k2);
  EXPECT_FALSE(k2->active);
  EXPECT_EQ(k2->company_remote_id, "41");
  EXPECT_EQ(to_contact_payload(*k2), to_contact_payload(contact()));
  // A payload stored without "active" (or with a non-boolean) reads as an active contact.
  const auto k3 = contact_from_payload(R"({"remote_id":"65","company":"41"})");
  ASSERT_TRUE(k3);
  EXPECT_TRUE(k3->active);
  EXPECT_FALSE(contact_from_payload(R"({"company":"41"})")) << "a payload without a remote id is unreadable";
  EXPECT_FALSE(order_from_payload("not json"));
}

}  // namespace
}  // namespace erpsync::core::testing
