// Magento carts in OdbcStore on SQLite, PostgreSQL and MariaDB (SPEC §4.1): the cart rules'
// decisions carried out by the real store — carts and cart_items with exact decimals, their
// bindings, the link to the Customer and Account, the link to the order by reserved_order_id =
// increment_id whichever is written first, a changed cart replacing its items, an unchanged one
// writing nothing — and the abandoned carts the report lists and the metric counts.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <span>
#include <string>

#include "connectors/odbc/admin_queries.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "core/rules/carts.hpp"
#include "core/rules/commerce.hpp"
#include "support/odbc_query.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using erpsync::testing::Engine;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

// Strips trailing zeros of a decimal's fraction ("1701.1000" → "1701.1").
std::string trim_decimal(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

core::MatchPolicy policy(std::string stream) {
  core::MatchPolicy p;
  p.connector = "shop";
  p.stream = std::move(stream);
  p.default_owner = "ecommerce";
  return p;
}

// Decides `records` over the store's state and applies the batch, as the engine does.
template <class In>
core::WriteBatch sync(OdbcStore& store, const std::string& stream, std::vector<In> in,
                      core::CommerceKeys (*keys)(const core::MatchPolicy&, std::span<const In>),
                      core::WriteBatch (*decide)(const core::MatchPolicy&, std::span<const In>,
                                                 const core::CommerceState&)) {
  const core::MatchPolicy p = policy(stream);
  const core::CommerceState state = store.load_commerce_state(keys(p, in));
  core::WriteBatch b = decide(p, in, state);
  if (!b.writes_nothing()) store.apply(b);
  return b;
}

core::IncomingCart cart(std::string id, std::optional<std::string> customer_id,
                        std::vector<core::IncomingCartItem> items, std::string updated_at = "2026-05-01 08:00:00") {
  core::IncomingCart c;
  c.remote_id = std::move(id);
  c.customer_remote_id = std::move(customer_id);
  c.customer_email = "buyer@example.com";
  c.items_count = std::to_string(items.size());
  c.items_qty = "1";
  c.currency = "EUR";
  c.created_at = "2026-05-01 07:00:00";
  c.updated_at = std::move(updated_at);
  c.items = std::move(items);
  return c;
}

class CartStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(GetParam(), reason);
    if (!db_) GTEST_SKIP() << reason;
    OdbcStoreOptions o;
    o.connection = db_->connection_string();
    store_ = std::make_unique<OdbcStore>(o);
  }
  std::string scalar(const std::string& sql) { return odbc_scalar(db_->connection_string(), sql); }

  core::WriteBatch carts(std::vector<core::IncomingCart> records) {
    std::vector<core::CartInput> in;
    for (auto& r : records) in.push_back({std::move(r), core::Arrival::source, false});
    return sync<core::CartInput>(*store_, "carts", std::move(in), core::cart_keys, core::decide_carts);
  }
  core::WriteBatch orders(std::vector<core::IncomingOrder> records) {
    std::vector<core::OrderInput> in;
    for (auto& r : records) in.push_back({std::move(r), core::Arrival::source, false});
    return sync<core::OrderInput>(*store_, "orders", std::move(in), core::order_keys, core::decide_orders);
  }
  void customer(std::string id, std::string last_name) {
    core::IncomingCustomer c;
    c.remote_id = std::move(id);
    c.first_name = "Anna";
    c.last_name = std::move(last_name);
    c.email = c.last_name + "@example.com";
    sync<core::CustomerInput>(*store_, "customers", {{c, core::Arrival::source, false}}, core::customer_keys,
                              core::decide_customers);
  }

  std::unique_ptr<TempDatabase> db_;
  std::unique_ptr<OdbcStore> store_;
};

TEST_P(CartStoreTest, CartsAreWrittenWithTheirItemsCustomerAccountAndExactSubtotal) {
  customer("1001", "Berger");
  core::IncomingCart mine = cart("9140", "1001", {{"8840", "WB-100", "Workbench", "2", "850.5"},
                                                  {"8841", "ST-1", "Stool", "3", "0.1"}});
  core::IncomingCart guest = cart("9150", std::nullopt, {{"8850", "X", "Thing", "1", "12345678901.2345"}});
  guest.customer_email = "guest@example.net";
  core::WriteBatch b = carts({mine, guest});
  EXPECT_EQ(b.counters.created, 2);

  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts c JOIN customers cu ON cu.id = c.customer_id AND cu.account_id = "
                   "c.account_id WHERE c.channel = 'shop' AND c.remote_id = '9140' AND cu.remote_id = '1001'"),
            "1");
  EXPECT_EQ(trim_decimal(scalar("SELECT subtotal FROM carts WHERE remote_id = '9140'")), "1701.3");
  EXPECT_EQ(trim_decimal(scalar("SELECT subtotal FROM carts WHERE remote_id = '9150'")), "12345678901.2345");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts WHERE remote_id = '9150' AND customer_id IS NULL AND account_id IS NULL "
                   "AND customer_email = 'guest@example.net'"),
            "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE c.remote_id = '9140'"), "2");
  EXPECT_EQ(trim_decimal(scalar("SELECT i.price FROM cart_items i JOIN carts c ON c.id = i.cart_id "
                                "WHERE c.remote_id = '9140' AND i.sku = 'WB-100'")),
            "850.5");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings b JOIN carts c ON c.id = b.entity_id AND c.remote_id = b.remote_id "
                   "WHERE b.connector = 'shop' AND b.stream = 'carts' AND b.entity = 'cart'"),
            "2");
  EXPECT_EQ(scalar("SELECT is_active FROM carts WHERE remote_id = '9140'"), "1");
}

// On MariaDB the new carts, their items and bindings go in parameter arrays (one bulk command
// each, Connection::parameter_arrays); elsewhere in multi-row INSERTs. The rows are the same
// (the test above).
TEST_P(CartStoreTest, OnMariadbNewCartsItemsAndBindingsGoInParameterArrays) {
  OdbcStoreOptions o;
  o.connection = db_->connection_string();
  o.profile_statements = true;
  store_ = std::make_unique<OdbcStore>(o);
  carts({cart("9140", std::nullopt, {{"8840", "WB-100", "Workbench", "2", "850.5"}, {"8841", "ST-1", "Stool", "3", "0.1"}}),
         cart("9150", std::nullopt, {{"8850", "X", "Thing", "1", "12345678901.2345"}})});
  std::set<std::string> arrays;
  for (const auto& [shape, t] : store_->statement_stats().by_shape)
    if (shape.size() > 8 && shape.substr(shape.size() - 8) == " [array]") arrays.insert(shape.substr(0, 22));
  if (GetParam() == Engine::mariadb)
    EXPECT_EQ(arrays, (std::set<std::string>{"INSERT INTO bindings (", "INSERT INTO cart_items", "INSERT INTO carts (cha"}));
  else
    EXPECT_TRUE(arrays.empty());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cart_items"), "3");
}

TEST_P(CartStoreTest, AChangedCartReplacesItsItemsAndTheSameCartWritesNothing) {
  carts({cart("9150", std::nullopt, {{"1", "A", "a", "1", "10"}, {"2", "B", "b", "1", "20"}})});
  EXPECT_TRUE(carts({cart("9150", std::nullopt, {{"1", "A", "a", "1", "10"}, {"2", "B", "b", "1", "20"}})})
                  .writes_nothing());
  core::WriteBatch b = carts({cart("9150", std::nullopt, {{"3", "C", "c", "4", "2.5"}}, "2026-05-02 09:00:00")});
  EXPECT_EQ(b.counters.updated, 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cart_items"), "1");
  EXPECT_EQ(scalar("SELECT sku FROM cart_items"), "C");
  EXPECT_EQ(trim_decimal(scalar("SELECT subtotal FROM carts")), "10");
  EXPECT_EQ(scalar("SELECT updated_at FROM carts").substr(0, 19), "2026-05-02 09:00:00");
}

TEST_P(CartStoreTest, AConvertedCartIsLinkedToItsOrderWhicheverIsWrittenFirst) {
  core::IncomingOrder o;
  o.remote_id = "3101";
  o.customer_email = "buyer@example.com";
  o.increment_id = "000000101";
  o.grand_total = "10.5";
  o.currency = "EUR";
  orders({o});
  core::IncomingCart converted = cart("9140", std::nullopt, {{"1", "A", "a", "1", "10.5"}});
  converted.is_active = false;
  converted.reserved_order_id = "000000101";
  converted.converted_at = "2026-05-01 09:00:00";
  core::IncomingCart waiting = cart("9141", std::nullopt, {{"2", "B", "b", "1", "3"}});
  waiting.reserved_order_id = "000000102";
  carts({converted, waiting});
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts c JOIN orders o ON o.id = c.order_id WHERE c.remote_id = '9140' AND "
                   "o.remote_id = '3101'"),
            "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts WHERE remote_id = '9141' AND order_id IS NULL"), "1");
  // The order of the second cart arrives in a later run.
  o.remote_id = "3102";
  o.increment_id = "000000102";
  orders({o});
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts c JOIN orders o ON o.id = c.order_id WHERE c.remote_id = '9141' AND "
                   "o.remote_id = '3102'"),
            "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts c JOIN orders o ON o.id = c.order_id WHERE c.remote_id = '9140' AND "
                   "o.remote_id = '3101'"),
            "1");
}

TEST_P(CartStoreTest, AbandonedCartsAreActiveWithItemsAndOldListedPerAccount) {
  customer("1001", "Berger");
  customer("1002", "Adams");
  core::IncomingCart inactive = cart("3", "1001", {{"3", "C", "c", "1", "1"}}, "2026-04-01 00:00:00");
  inactive.is_active = false;
  carts({cart("1", "1001", {{"1", "A", "a", "2", "10"}, {"2", "B", "b", "1", "0.5"}}, "2026-04-01 00:00:00"),
         cart("2", "1002", {{"4", "D", "d", "1", "7"}}, "2026-04-02 00:00:00"),
         inactive,
         cart("4", std::nullopt, {}, "2026-04-01 00:00:00"),                       // no items
         cart("5", std::nullopt, {{"5", "E", "e", "1", "1"}}, "2026-05-01 12:00:00"),  // updated after the cut
         cart("6", std::nullopt, {{"6", "F", "f", "1", "2"}}, "2026-04-03 00:00:00")});
  AdminQueries admin = store_->admin();
  const std::string cut = "2026-05-01 00:00:00.000";
  EXPECT_EQ(admin.abandoned_cart_count("shop", cut), 3);
  EXPECT_EQ(admin.abandoned_cart_count("other", cut), 0);
  const Table t = admin.abandoned_carts("shop", cut);
  ASSERT_EQ(t.rows.size(), 3U);
  // Per Account by name (Adams before Berger), guests last.
  EXPECT_EQ(t.rows[0][8].value_or(""), "2");
  EXPECT_EQ(t.rows[0][1].value_or(""), "Anna Adams");
  EXPECT_EQ(t.rows[1][8].value_or(""), "1");
  EXPECT_EQ(t.rows[1][2].value_or(""), "1001");
  EXPECT_EQ(t.rows[1][4].value_or(""), "A x2, B x1");
  EXPECT_EQ(t.rows[1][5].value_or(""), "20.5");
  EXPECT_EQ(t.rows[1][7].value_or("").substr(0, 19), "2026-04-01 00:00:00");
  EXPECT_EQ(t.rows[2][8].value_or(""), "6");
  EXPECT_FALSE(t.rows[2][0]);  // a guest cart has no Account
  EXPECT_EQ(t.rows[2][3].value_or(""), "buyer@example.com");
}

TEST_P(CartStoreTest, ACustomerMovingToAnotherAccountTakesItsCartsAndOrdersAlong) {
  customer("1001", "Berger");  // no code: an Account of its own
  carts({cart("9140", "1001", {{"1", "A", "a", "1", "1"}})});
  core::IncomingOrder o;
  o.remote_id = "3101";
  o.customer_remote_id = "1001";
  o.increment_id = "000000101";
  o.grand_total = "1";
  orders({o});
  core::WriteBatch erp;  // the ERP brings C-7
  erp.connector = "erp";
  core::AccountWrite a;
  a.ref = -1;
  a.set = core::bit(core::Field::name) | core::bit(core::Field::owner);
  a.values.name = "Gamma";
  a.values.owner = "erin";
  a.external_code = "C-7";
  erp.accounts.push_back(a);
  store_->apply(erp);
  core::IncomingCustomer c;
  c.remote_id = "1001";
  c.external_code = "C-7";
  c.first_name = "Anna";
  c.last_name = "Berger";
  sync<core::CustomerInput>(*store_, "customers", {{c, core::Arrival::source, false}}, core::customer_keys,
                            core::decide_customers);
  EXPECT_EQ(scalar("SELECT a.external_code FROM carts c JOIN accounts a ON a.id = c.account_id WHERE c.remote_id = '9140'"),
            "C-7");
  EXPECT_EQ(scalar("SELECT a.external_code FROM orders o JOIN accounts a ON a.id = o.account_id WHERE o.remote_id = '3101'"),
            "C-7");
}

TEST_P(CartStoreTest, UnderATablePrefixCartsItemsAndTheOrderLinkUseThePrefixedTables) {
  OdbcStoreOptions o;
  o.connection = db_->connection_string();
  o.table_prefix = "crm_";
  store_ = std::make_unique<OdbcStore>(o);
  core::IncomingCart c = cart("9140", std::nullopt, {{"1", "A", "a", "2", "1.5"}});
  c.reserved_order_id = "000000101";
  carts({c});
  core::IncomingOrder order;
  order.remote_id = "3101";
  order.increment_id = "000000101";
  order.grand_total = "3";
  orders({order});
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM crm_carts c JOIN crm_orders o ON o.id = c.order_id WHERE c.remote_id = '9140'"),
            "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM crm_cart_items"), "1");
  EXPECT_EQ(store_->admin().abandoned_cart_count("shop", "2099-01-01 00:00:00.000"), 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, CartStoreTest, ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
