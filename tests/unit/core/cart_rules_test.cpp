// SPEC §4.1 stream `carts`, against the reference store: a customer's cart linked to its
// Customer and Account, a guest cart with its e-mail, a cart of a parked or not yet synced
// customer parked with it and written when the customer is, a converted cart linked to its order
// by reserved_order_id = increment_id whichever comes first, an exact subtotal, a changed cart
// replacing its items, a quiet re-run writing nothing.

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"
#include "core/rules/carts.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

IncomingCart cart(std::string id, std::optional<std::string> customer_id,
                  std::vector<IncomingCartItem> items = {{"1", "WB-100", "Workbench", "1", "850"}}) {
  IncomingCart c;
  c.remote_id = std::move(id);
  c.customer_remote_id = std::move(customer_id);
  c.customer_email = "buyer@example.com";
  c.items_count = std::to_string(items.size());
  c.items_qty = "1";
  c.currency = "EUR";
  c.created_at = "2026-05-01 07:00:00";
  c.updated_at = "2026-05-01 08:00:00";
  c.items = std::move(items);
  return c;
}

WriteBatch sync_carts(MemoryStore& store, const std::vector<IncomingCart>& records) {
  const MatchPolicy policy = shop_policy("carts");
  std::vector<CartInput> in;
  for (const auto& r : records) in.push_back({r, Arrival::source, false});
  const CommerceState state = store.load_commerce_state(cart_keys(policy, in));
  WriteBatch b = decide_carts(policy, in, state);
  if (!b.writes_nothing()) store.apply(b);
  return b;
}

RunOptions options() {
  RunOptions o;
  o.batch_size = 2;
  return o;
}

template <class Record>
SyncReport run(MemoryStore& store, const std::string& stream, std::vector<Record> records, std::string cursor) {
  ScriptedSource<Record> source(stream);
  if (!records.empty()) {
    Page<Record> p;
    p.records = std::move(records);
    p.cursor_after = std::move(cursor);
    source.pages.push_back(std::move(p));
  }
  SyncEvents events;
  return run_stream(shop_policy(stream), source, store, options(), events);
}

TEST(CartSubtotal, IsTheExactSumOfQtyTimesPriceRoundedOnceToFourPlaces) {
  IncomingCart c = cart("1", std::nullopt, {{"1", "A", "a", "3", "0.1"}, {"2", "B", "b", "1", "0.2"}});
  EXPECT_EQ(cart_subtotal(c), "0.5");  // a double gives 0.5000000000000001
  c.items = {{"1", "A", "a", "2.5", "19.99"}, {"2", "B", "b", "1", "12345678901.2345"}};
  EXPECT_EQ(cart_subtotal(c), "12345678951.2095");
  c.items = {{"1", "A", "a", "0.3333", "0.0005"}};  // 0.00016665 → 0.0002 (half away from zero)
  EXPECT_EQ(cart_subtotal(c), "0.0002");
  c.items = {{"1", "A", "a", "1", "-0.00004"}};  // not exact decimal text of 4 places
  EXPECT_EQ(cart_subtotal(c), std::nullopt);
  c.items = {{"1", "A", "a", "99999999", "99999999.9999"}};  // 16 integer digits: fits
  EXPECT_EQ(cart_subtotal(c), "9999999899990000.0001");
  c.items = {{"1", "A", "a", "1000000000000", "1"}};  // a factor beyond DECIMAL(12,4)
  EXPECT_EQ(cart_subtotal(c), std::nullopt);
  c.items.clear();
  EXPECT_EQ(cart_subtotal(c), "0");
}

TEST(CartPayload, RoundTripsTheCartAndItsItemsAndHashesTheItems) {
  IncomingCart c = cart("9140", "1002", {{"8840", "WB-100", "Workbench Oak 2m", "1", "850"}, {"8841", "S", "Stool", "2", "19.99"}});
  c.reserved_order_id = "000000101";
  c.is_active = false;
  const auto back = cart_from_payload(to_cart_payload(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->customer_remote_id, "1002");
  EXPECT_FALSE(back->is_active);
  ASSERT_EQ(back->items.size(), 2U);
  EXPECT_EQ(back->items[1].price, "19.99");
  EXPECT_EQ(cart_payload_hash(*back), cart_payload_hash(c));
  IncomingCart changed = c;
  changed.items[1].qty = "3";
  EXPECT_NE(cart_payload_hash(changed), cart_payload_hash(c));
}

TEST(MagentoCarts, ACustomersCartIsLinkedToItsCustomerAndAccountWithItsItems) {
  MemoryStore store;
  const EntityId acct = seed_account(store, "C-1", "carol");
  sync_customers(store, {customer("1001", "C-1")});
  const CustomerRow* cu = store.customer("shop", "1001");
  ASSERT_NE(cu, nullptr);
  const EntityId customer_id = cu->id;  // the store's rows move when it applies a batch
  WriteBatch b = sync_carts(store, {cart("9140", "1001", {{"8840", "WB-100", "Workbench", "2", "850.5"},
                                                         {"8841", "ST-1", "Stool", "1", "0.1"}})});
  EXPECT_EQ(b.counters.created, 1);
  const CartRow* c = store.cart("shop", "9140");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->customer_id, customer_id);
  EXPECT_EQ(c->account_id, acct);
  EXPECT_EQ(c->subtotal, "1701.1");
  ASSERT_EQ(c->items.size(), 2U);
  EXPECT_EQ(c->items[0].sku, "WB-100");
  EXPECT_EQ(c->items[1].price, "0.1");
  const BindingRow* bound = store.binding("shop", "carts", "9140");
  ASSERT_NE(bound, nullptr);
  EXPECT_EQ(bound->entity, "cart");
  EXPECT_EQ(bound->entity_id, c->id);
}

TEST(MagentoCarts, AGuestCartKeepsItsEmailAndHasNoCustomer) {
  MemoryStore store;
  IncomingCart g = cart("9150", std::nullopt);
  g.customer_email = "guest@example.net";
  WriteBatch b = sync_carts(store, {g});
  EXPECT_EQ(b.counters.created, 1);
  const CartRow* c = store.cart("shop", "9150");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->customer_id);
  EXPECT_FALSE(c->account_id);
  EXPECT_EQ(c->customer_email, "guest@example.net");
}

TEST(MagentoCarts, TheSameCartAgainIsUnchangedAndWritesNothing) {
  MemoryStore store;
  sync_carts(store, {cart("9150", std::nullopt)});
  WriteBatch again = sync_carts(store, {cart("9150", std::nullopt)});
  EXPECT_EQ(again.counters.unchanged, 1);
  EXPECT_TRUE(again.writes_nothing());
}

TEST(MagentoCarts, AChangedCartReplacesAllOfItsItems) {
  MemoryStore store;
  sync_carts(store, {cart("9150", std::nullopt, {{"1", "A", "a", "1", "10"}, {"2", "B", "b", "1", "20"}})});
  IncomingCart changed = cart("9150", std::nullopt, {{"3", "C", "c", "4", "2.5"}});
  changed.updated_at = "2026-05-02 08:00:00";
  WriteBatch b = sync_carts(store, {changed});
  EXPECT_EQ(b.counters.updated, 1);
  const CartRow* c = store.cart("shop", "9150");
  ASSERT_EQ(c->items.size(), 1U);
  EXPECT_EQ(c->items[0].sku, "C");
  EXPECT_EQ(c->subtotal, "10");
  EXPECT_EQ(c->updated_at, "2026-05-02 08:00:00");
  EXPECT_EQ(store.carts().size(), 1U);
}

TEST(MagentoCarts, ACartOfAParkedCustomerIsParkedWithItAndWrittenWhenTheCustomerIs) {
  MemoryStore store;
  SyncReport cu = run(store, "customers", std::vector{customer("1001", "C-9")}, "c1");
  EXPECT_EQ(cu.counters.parked, 1);
  SyncReport ca = run(store, "carts", std::vector{cart("9140", "1001"), cart("9141", "1777")}, "k1");
  EXPECT_EQ(ca.counters.parked, 2);  // a parked customer, and one never synced
  EXPECT_EQ(store.parked_row("shop", "carts", "9140")->waits_for, "customer 1001");
  EXPECT_EQ(store.cart("shop", "9140"), nullptr);

  const EntityId acct = seed_account(store, "C-9", "jsmith");  // the ERP brings the Account
  EXPECT_EQ(run(store, "customers", std::vector<IncomingCustomer>{}, "").counters.created, 1);
  SyncReport retried = run(store, "carts", std::vector<IncomingCart>{}, "");
  EXPECT_EQ(retried.counters.created, 1);
  const CartRow* c = store.cart("shop", "9140");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->account_id, acct);
  EXPECT_EQ(store.parked_row("shop", "carts", "9140"), nullptr);
  EXPECT_NE(store.parked_row("shop", "carts", "9141"), nullptr);  // still waits for its customer
}

TEST(MagentoCarts, AConvertedCartIsLinkedToItsOrderWhicheverArrivesFirst) {
  MemoryStore store;
  // The order first, then its cart.
  IncomingOrder o = order("3101", std::nullopt);
  o.increment_id = "000000101";
  sync_orders(store, {o});
  IncomingCart converted = cart("9140", std::nullopt);
  converted.is_active = false;
  converted.reserved_order_id = "000000101";
  converted.converted_at = "2026-05-01 09:00:00";
  sync_carts(store, {converted});
  const OrderRow* row = store.order("shop", "3101");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(store.cart("shop", "9140")->order_id, row->id);

  // The cart first, its order in a later run.
  IncomingCart waiting = cart("9141", std::nullopt);
  waiting.reserved_order_id = "000000102";
  sync_carts(store, {waiting});
  EXPECT_FALSE(store.cart("shop", "9141")->order_id);
  IncomingOrder later = order("3102", std::nullopt);
  later.increment_id = "000000102";
  sync_orders(store, {later});
  EXPECT_EQ(store.cart("shop", "9141")->order_id, store.order("shop", "3102")->id);
}

TEST(MagentoCarts, ACustomerMovingToAnotherAccountTakesItsCartsAndOrdersAlong) {
  MemoryStore store;
  seed_account(store, "C-1", "carol");
  const EntityId beta = seed_account(store, "C-2", "dave");
  sync_customers(store, {customer("1001", "C-1")});
  sync_carts(store, {cart("9140", "1001")});
  sync_orders(store, {order("3101", "1001")});
  sync_customers(store, {customer("1001", "C-2")});  // the ERP code changed in Magento
  EXPECT_EQ(store.customer("shop", "1001")->account_id, beta);
  EXPECT_EQ(store.cart("shop", "9140")->account_id, beta);
  EXPECT_EQ(store.order("shop", "3101")->account_id, beta);
}

TEST(MagentoCarts, BadAmountsDatesAndIdsAreRejectedInvalidFieldAndTheOthersWritten) {
  MemoryStore store;
  IncomingCart bad_price = cart("1", std::nullopt, {{"1", "A", "a", "1", "1.23456"}});
  IncomingCart bad_date = cart("2", std::nullopt);
  bad_date.updated_at = "2026-13-01 00:00:00";
  IncomingCart mapper = cart("3", std::nullopt);
  mapper.invalid = "items_qty \"x\" is not a number";
  WriteBatch b = sync_carts(store, {bad_price, bad_date, mapper, cart("4", std::nullopt)});
  EXPECT_EQ(b.counters.rejected, 3);
  EXPECT_EQ(b.counters.created, 1);
  const RejectionRow* r = store.rejection("shop", "carts", "1", RejectReason::invalid_field);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->message.find("price"), std::string::npos) << r->message;
  EXPECT_NE(store.rejection("shop", "carts", "2", RejectReason::invalid_field)->message.find("updated_at"),
            std::string::npos);
  EXPECT_NE(store.cart("shop", "4"), nullptr);
}

}  // namespace
}  // namespace erpsync::core::testing
