// SPEC §3 rule 11 (Magento customers attach to Accounts) and §4.1 orders, decided over a
// MemoryStore.

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

TEST(MagentoCustomers, AttachToTheAccountWithTheirCodeWhateverItsOwnerAndChangeNoField) {
  MemoryStore store;
  const EntityId acme = seed_account(store, "C-1", "carol", "ACME GmbH", "DE1");
  const auto before = *store.account(acme);
  WriteBatch b = sync_customers(store, {customer("1001", "  C-1 ")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(b.counters.created, 1);
  const CustomerRow* c = store.customer("shop", "1001");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "magento");
  EXPECT_EQ(c->account_id, acme);
  ASSERT_TRUE(c->contact_id);
  const ContactRow& contact = store.contacts().at(*c->contact_id);
  EXPECT_EQ(contact.account_id, acme);
  EXPECT_EQ(contact.first_name, "Anna");
  EXPECT_FALSE(contact.is_default);
  const AccountRow& after = *store.account(acme);
  EXPECT_EQ(after.owner, "carol");
  EXPECT_EQ(after.name, "ACME GmbH");
  EXPECT_EQ(after.updated_at, before.updated_at);
  EXPECT_EQ(store.accounts().size(), 1u);
  const BindingRow* bind = store.binding("shop", "customers", "1001");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(bind->entity_id, acme);
  EXPECT_TRUE(store.rejections().empty());
}

TEST(MagentoCustomers, SameCustomerAgainIsUnchangedAndWritesNothing) {
  MemoryStore store;
  seed_account(store, "C-1", "carol");
  sync_customers(store, {customer("1001", "C-1")});
  WriteBatch b = sync_customers(store, {customer("1001", "C-1")});
  EXPECT_EQ(b.counters.unchanged, 1);
  EXPECT_TRUE(b.writes_nothing());
}

TEST(MagentoCustomers, ACodeChangeRelinksCustomerAndContact) {
  MemoryStore store;
  const EntityId a = seed_account(store, "C-1", "carol");
  const EntityId b2 = seed_account(store, "C-2", "dave");
  sync_customers(store, {customer("1001", "C-1")});
  WriteBatch b = sync_customers(store, {customer("1001", "C-2")});
  EXPECT_EQ(b.counters.updated, 1);
  const CustomerRow* c = store.customer("shop", "1001");
  EXPECT_EQ(c->account_id, b2);
  EXPECT_EQ(store.contacts().at(*c->contact_id).account_id, b2);
  EXPECT_EQ(store.contacts().size(), 1u);
  EXPECT_EQ(store.account(a)->external_code, "C-1");  // codes are never rewritten by Magento
  EXPECT_EQ(store.account(b2)->external_code, "C-2");
}

TEST(MagentoCustomers, WithoutCodeGetAnAccountOfTheirOwnOnceNamedAfterTheBillingCompany) {
  MemoryStore store;
  WriteBatch b = sync_customers(store, {customer("1005", "", "Tom", "Okafor", "Okafor Trading")});
  EXPECT_EQ(b.counters.created, 1);
  ASSERT_EQ(store.accounts().size(), 1u);
  const AccountRow& own = store.accounts().begin()->second;
  EXPECT_EQ(own.name, "Okafor Trading");
  EXPECT_EQ(own.owner, "ecommerce");
  EXPECT_EQ(own.external_code, "");
  const CustomerRow* c = store.customer("shop", "1005");
  EXPECT_EQ(c->account_id, own.id);
  EXPECT_TRUE(store.contacts().at(*c->contact_id).is_default);
  // Found again through the binding: a changed customer updates it, never creates another.
  IncomingCustomer changed = customer("1005", "", "Tom", "Okafor", "");
  b = sync_customers(store, {changed});
  EXPECT_EQ(b.counters.updated, 1);
  ASSERT_EQ(store.accounts().size(), 1u);
  EXPECT_EQ(store.accounts().begin()->second.name, "Tom Okafor");
  EXPECT_EQ(store.accounts().begin()->second.owner, "ecommerce");
}

TEST(MagentoCustomers, ThatLoseTheirCodeMoveToAnAccountOfTheirOwn) {
  MemoryStore store;
  const EntityId acme = seed_account(store, "C-1", "carol");
  sync_customers(store, {customer("1001", "C-1")});
  sync_customers(store, {customer("1001", "")});
  const CustomerRow* c = store.customer("shop", "1001");
  ASSERT_NE(c->account_id, acme);
  const EntityId own = c->account_id;
  ASSERT_TRUE(c->contact_id.has_value());
  // Rows are values: `c` is not valid past the next apply, so keep the id.
  const EntityId contact = *c->contact_id;
  EXPECT_EQ(store.account(own)->owner, "ecommerce");
  EXPECT_EQ(store.contacts().at(contact).account_id, own);
  // Back and forth: the same own account is found again.
  sync_customers(store, {customer("1001", "C-1")});
  EXPECT_EQ(store.customer("shop", "1001")->account_id, acme);
  EXPECT_FALSE(store.contacts().at(contact).is_default);
  sync_customers(store, {customer("1001", "")});
  EXPECT_EQ(store.customer("shop", "1001")->account_id, own);
  EXPECT_EQ(store.accounts().size(), 2u);
}

TEST(MagentoCustomers, WithoutCodeAndWithoutDefaultOwnerAreRejectedUnknownOwner) {
  MemoryStore store;
  MatchPolicy p = shop_policy();
  p.default_owner.clear();
  WriteBatch b = sync_customers(store, {customer("7", "")}, p);
  EXPECT_EQ(b.counters.rejected, 1);
  EXPECT_NE(store.rejection("shop", "customers", "7", RejectReason::unknown_owner), nullptr);
  EXPECT_TRUE(store.accounts().empty());
}

TEST(MagentoCustomers, TooLongFieldsAreRejectedInvalidField) {
  MemoryStore store;
  IncomingCustomer c = customer("8", "");
  c.email = std::string(300, 'x');
  WriteBatch b = sync_customers(store, {c});
  EXPECT_EQ(b.counters.rejected, 1);
  EXPECT_NE(store.rejection("shop", "customers", "8", RejectReason::invalid_field), nullptr);
}

TEST(MagentoCustomers, DuplicatesInOneBatchAreSuperseded) {
  MemoryStore store;
  seed_account(store, "C-1", "carol");
  WriteBatch b = sync_customers(store, {customer("1", "C-1", "Old"), customer("1", "C-1", "New")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(b.counters.superseded, 1);
  EXPECT_EQ(b.counters.created, 1);
  EXPECT_EQ(store.customer("shop", "1")->name, "New Berger");
}

TEST(MagentoOrders, AreLinkedToTheirCustomerAndItsAccountWithExactTotals) {
  MemoryStore store;
  const EntityId acme = seed_account(store, "C-1", "carol");
  sync_customers(store, {customer("1001", "C-1")});
  WriteBatch b = sync_orders(store, {order("3101", "1001", "1249.5"), order("3102", std::nullopt, "86.4")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(b.counters.created, 2);
  const OrderRow* o = store.order("shop", "3101");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->customer_id, store.customer("shop", "1001")->id);
  EXPECT_EQ(o->account_id, acme);
  EXPECT_EQ(o->grand_total, "1249.5");
  EXPECT_EQ(o->ordered_at, "2024-05-01 09:00:00");
  const OrderRow* guest = store.order("shop", "3102");
  ASSERT_NE(guest, nullptr);
  EXPECT_FALSE(guest->customer_id);
  EXPECT_FALSE(guest->account_id);
  EXPECT_EQ(guest->customer_email, "buyer@example.com");
  // Re-read: unchanged by hash.
  b = sync_orders(store, {order("3101", "1001", "1249.5")});
  EXPECT_EQ(b.counters.unchanged, 1);
  EXPECT_TRUE(b.writes_nothing());
  b = sync_orders(store, {order("3101", "1001", "1250")});
  EXPECT_EQ(b.counters.updated, 1);
  EXPECT_EQ(store.order("shop", "3101")->grand_total, "1250");
}

TEST(MagentoOrders, WithBadAmountsOrDatesAreRejectedInvalidField) {
  MemoryStore store;
  IncomingOrder bad_total = order("1", std::nullopt, "1.23456");
  IncomingOrder bad_date = order("2", std::nullopt);
  bad_date.created_at = "2024-05-01T09:00:00Z";
  WriteBatch b = sync_orders(store, {bad_total, bad_date});
  EXPECT_EQ(b.counters.rejected, 2);
  EXPECT_TRUE(store.orders().empty());
}

TEST(ExactDecimal, KeepsTheNumbersTextExactly) {
  EXPECT_EQ(exact_decimal("165"), "165");
  EXPECT_EQ(exact_decimal("1249.5"), "1249.5");
  EXPECT_EQ(exact_decimal("1249.50"), "1249.5");
  EXPECT_EQ(exact_decimal("0.0001"), "0.0001");
  EXPECT_EQ(exact_decimal("-0.10"), "-0.1");
  EXPECT_EQ(exact_decimal("-0"), "0");
  EXPECT_EQ(exact_decimal("1.5e3"), "1500");
  EXPECT_EQ(exact_decimal("15E-4"), "0.0015");
  EXPECT_EQ(exact_decimal("9999999999999999.9999"), "9999999999999999.9999");
  EXPECT_EQ(exact_decimal("12345678901234.5678"), "12345678901234.5678");
  EXPECT_FALSE(exact_decimal("10000000000000000"));  // 17 integer digits
  EXPECT_FALSE(exact_decimal("0.00001"));
  EXPECT_FALSE(exact_decimal("01"));
  EXPECT_FALSE(exact_decimal("1."));
  EXPECT_FALSE(exact_decimal("abc"));
  EXPECT_FALSE(exact_decimal(""));
}

}  // namespace
}  // namespace erpsync::core::testing
