// OdbcStore against SQLite, PostgreSQL and MariaDB: one parameterised suite, a fresh database
// per test. PostgreSQL and MariaDB come from ODBC_PG / ODBC_MARIADB (scripts/test-dbs-start.sh);
// an engine that is not configured is skipped with the reason, never passed.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "connectors/odbc/migrations.hpp"
#include "connectors/odbc/odbc.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "connectors/odbc/odbc_store_internal.hpp"
#include "core/rules/commerce.hpp"
#include "core/rules/contacts.hpp"
#include "core/errors.hpp"
#include "support/odbc_query.hpp"
#include "support/store_writes.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using core::Field;
using erpsync::testing::Engine;
using erpsync::testing::new_account;
using erpsync::testing::odbc_query;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

constexpr const char* kConn = "erp";

core::BindingWrite binding(std::string rid, core::Ref ref, std::string hash = "h") {
  return core::BindingWrite{"accounts", std::move(rid), "account", ref, std::move(hash)};
}

core::BatchKeys keys(std::set<std::string> rids, std::set<std::string> codes) {
  core::BatchKeys k;
  k.connector = kConn;
  k.stream = "accounts";
  k.remote_ids = std::move(rids);
  k.codes = std::move(codes);
  return k;
}

// Strips trailing zeros of a decimal's fraction ("1234567.8900" → "1234567.89").
std::string trim_decimal(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

class OdbcStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(GetParam(), reason);
    if (!db_) GTEST_SKIP() << reason;
  }
  std::unique_ptr<OdbcStore> open(bool dry_run = false, MigrateMode mode = MigrateMode::auto_apply) {
    OdbcStoreOptions o;
    o.connection = db_->connection_string();
    o.dry_run = dry_run;
    o.migrate = mode;
    return std::make_unique<OdbcStore>(o);
  }
  std::string scalar(const std::string& sql) { return odbc_scalar(db_->connection_string(), sql); }
  long count(const std::string& table) { return std::stol(scalar("SELECT COUNT(*) FROM " + table)); }

  std::unique_ptr<TempDatabase> db_;
};

TEST_P(OdbcStoreTest, MigrationsCreateEveryTableAndAreIdempotent) {
  auto store = open();
  EXPECT_EQ(schema_version(raw_connection(*store)), kSchemaVersion);
  for (const auto& t : schema_tables()) EXPECT_NO_THROW(count(t)) << t;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM schema_version"), std::to_string(kSchemaVersion));
  auto again = migrate(raw_connection(*store), MigrateMode::auto_apply);
  EXPECT_EQ(again.from, kSchemaVersion);
  EXPECT_TRUE(again.applied.empty());
  store.reset();
  auto reopened = open();  // a second process start changes nothing
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM schema_version"), std::to_string(kSchemaVersion));
}

TEST_P(OdbcStoreTest, UpgradingARealVersionOneDatabaseKeepsItsData) {
  // A version-1 database as an older erpsyncd left it: only migration 1 applied, with data.
  {
    Connection conn(std::make_shared<Environment>());
    conn.connect(db_->connection_string());
    const char* ts = conn.dialect() == Dialect::postgresql ? "TIMESTAMP(3)"
                     : conn.dialect() == Dialect::mariadb  ? "DATETIME(3)"
                                                           : "TEXT";
    conn.exec(std::string("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, description VARCHAR(255) "
                          "NOT NULL, applied_at ") + ts + " NOT NULL)");
    for (const auto& stmt : migration_statements(conn.dialect(), 1)) conn.exec(stmt);
    conn.exec("INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'v1', '2026-01-01 00:00:00.000')");
    conn.exec("INSERT INTO accounts (external_code, name, owner, relationship, active) VALUES ('C-1', 'Kept', 'alice', 'customer', 1)");
    conn.exec("INSERT INTO bindings (connector, stream, remote_id, entity, entity_id, payload_hash) "
              "SELECT 'erp', 'accounts', '1', 'account', id, 'h' FROM accounts");
    ASSERT_EQ(schema_version(conn), 1);
  }
  auto store = open();  // migrate=auto
  EXPECT_EQ(schema_version(raw_connection(*store)), kSchemaVersion);
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'C-1'"), "Kept");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE payload_hash = 'h'"), "1");
  // The store works on the upgraded schema.
  EXPECT_EQ(store->load_cursor("erp", "accounts").exists, false);
}

TEST_P(OdbcStoreTest, CheckModeRefusesAPendingSchemaAndCreatesNothing) {
  try {
    open(false, MigrateMode::check);
    FAIL() << "check mode accepted an empty database";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("erpsyncd migrate"), std::string::npos) << e.what();
  }
  auto rows = odbc_query(db_->connection_string(),
                         GetParam() == Engine::sqlite
                             ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'accounts'"
                         : GetParam() == Engine::mariadb
                             ? "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                               "AND table_name = 'accounts'"
                             : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                               "AND table_name = 'accounts'");
  EXPECT_TRUE(rows.empty());
  open();  // auto applies
  EXPECT_NO_THROW(open(false, MigrateMode::check));
}

TEST_P(OdbcStoreTest, ASchemaNewerThanTheBinaryIsRefusedInEveryMode) {
  open();
  odbc_query(db_->connection_string(),
             "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', "
             "'2030-01-01 00:00:00.000')");
  for (auto mode : {MigrateMode::auto_apply, MigrateMode::check, MigrateMode::off}) {
    try {
      open(false, mode);
      FAIL() << "a schema at version 99 was accepted";
    } catch (const SchemaError& e) {
      std::string w = e.what();
      EXPECT_NE(w.find("99"), std::string::npos) << w;
      EXPECT_NE(w.find("newer"), std::string::npos) << w;
    }
  }
}

TEST_P(OdbcStoreTest, PrintedSqlBuildsASchemaThatCheckModeAccepts) {
  std::string script;
  {
    // Connect without migrating to learn the dialect the server speaks.
    auto env = std::make_shared<Environment>();
    Connection c(env);
    c.connect(db_->connection_string());
    script = migration_sql(c.dialect());
    std::size_t pos = 0;
    while (pos < script.size()) {
      std::size_t end = script.find(";\n", pos);
      std::string stmt = script.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? script.size() : end + 2;
      // drop comment lines
      std::string body;
      std::size_t i = 0;
      while (i < stmt.size()) {
        std::size_t nl = stmt.find('\n', i);
        std::string line = stmt.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
        i = nl == std::string::npos ? stmt.size() : nl + 1;
        if (line.rfind("--", 0) != 0) body += line + "\n";
      }
      if (body.find_first_not_of(" \n") == std::string::npos) continue;
      c.exec(body);
    }
  }
  EXPECT_NE(script.find("CREATE TABLE IF NOT EXISTS accounts"), std::string::npos);
  EXPECT_NO_THROW(open(false, MigrateMode::check));
}

TEST_P(OdbcStoreTest, InsertsWithRefsParentLinksCustomersBindingsAndCursorRoundTrip) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "C-1", "One", "jsmith"));
  auto child = new_account(-2, "C-2", "Two", "jsmith");
  child.set_member_of = true;
  child.member_of = -3;  // a parent inserted by the same batch, after the child
  child.member_of_code = "C-3";
  b.accounts.push_back(child);
  b.accounts.push_back(new_account(-3, "C-3", "Three", "jsmith"));
  for (int i = 1; i <= 3; ++i) {
    b.customers.push_back({kConn, std::to_string(i), "b2b", -i, std::nullopt, "Name " + std::to_string(i), ""});
    b.bindings.push_back(binding(std::to_string(i), -i, "hash" + std::to_string(i)));
  }
  b.cursor = core::CursorWrite{"accounts", "2026-11-22 10:00:00#5531", 3, std::string("abc")};
  store->apply(b);

  auto st = store->load_state(keys({"1", "2", "3"}, {"C-1", "C-2", "C-3"}));
  ASSERT_EQ(st.accounts.size(), 3u);
  ASSERT_EQ(st.account_by_code.size(), 3u);
  auto id1 = st.account_by_code.at("C-1"), id2 = st.account_by_code.at("C-2"), id3 = st.account_by_code.at("C-3");
  EXPECT_EQ(st.accounts.at(id1).owner, "jsmith");
  EXPECT_EQ(st.accounts.at(id1).name, "One");
  EXPECT_EQ(st.accounts.at(id2).member_of_id, std::optional<core::EntityId>(id3));
  EXPECT_EQ(st.accounts.at(id2).member_of_code, "C-3");
  EXPECT_FALSE(st.accounts.at(id1).member_of_id.has_value());
  ASSERT_EQ(st.bindings.size(), 3u);
  EXPECT_EQ(st.bindings.at("2").entity, "account");
  EXPECT_EQ(st.bindings.at("2").entity_id, id2);
  EXPECT_EQ(st.bindings.at("2").payload_hash, "hash2");
  EXPECT_FALSE(st.bindings.at("2").missing);
  EXPECT_EQ(st.remote_ids_by_account.at(id3), std::vector<std::string>{"3"});
  EXPECT_EQ(count("customers"), 3);
  EXPECT_EQ(scalar("SELECT account_id FROM customers WHERE remote_id = '2'"), std::to_string(id2));
  EXPECT_EQ(scalar("SELECT relationship FROM accounts WHERE external_code = 'C-1'"), "customer");
  EXPECT_EQ(scalar("SELECT active FROM accounts WHERE external_code = 'C-1'"), "1");

  auto cs = store->load_cursor(kConn, "accounts");
  EXPECT_TRUE(cs.exists);
  EXPECT_EQ(cs.cursor, "2026-11-22 10:00:00#5531");
  EXPECT_EQ(cs.snapshot_size, std::optional<std::int64_t>(3));
  EXPECT_EQ(cs.content_hash, "abc");
  EXPECT_FALSE(store->load_cursor(kConn, "other").exists);

  // The cursor moves with the next batch; the snapshot size stays when not given.
  core::WriteBatch b2;
  b2.connector = kConn;
  b2.cursor = core::CursorWrite{"accounts", "next", std::nullopt, std::nullopt};
  store->apply(b2);
  cs = store->load_cursor(kConn, "accounts");
  EXPECT_EQ(cs.cursor, "next");
  EXPECT_EQ(cs.snapshot_size, std::optional<std::int64_t>(3));
}

TEST_P(OdbcStoreTest, UpdatesOnlyTheMaskedColumnsAndLinksPendingChildren) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  auto a = new_account(-1, "A-1", "Alpha", "jsmith");
  a.set |= core::bit(Field::email) | core::bit(Field::vat);
  a.values.email = "a@example.com";
  a.values.vat = "VAT1";
  a.set_member_of = true;
  a.member_of_code = "P-1";  // pending: the parent is not known yet
  b.accounts.push_back(a);
  store->apply(b);
  auto st = store->load_state(keys({}, {"P-1"}));
  ASSERT_EQ(st.pending_children.count("P-1"), 1u);
  core::EntityId id = st.pending_children.at("P-1").at(0);

  core::WriteBatch u;
  u.connector = kConn;
  core::AccountWrite up;
  up.ref = id;
  up.set = core::bit(Field::name) | core::bit(Field::email) | core::bit(Field::active);
  up.values.name = "Alpha 2";
  up.values.email = "";  // a mapped empty field clears the value
  up.values.active = false;
  up.set_member_of = true;  // the parent arrives in this batch
  up.member_of = -1;
  up.member_of_code = "P-1";
  u.accounts.push_back(up);
  u.accounts.push_back(new_account(-1, "P-1", "Parent", "jsmith"));
  store->apply(u);

  auto rows = odbc_query(db_->connection_string(),
                         "SELECT name, email, vat, active, owner FROM accounts WHERE external_code = 'A-1'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::optional<std::string>("Alpha 2"));
  EXPECT_EQ(rows[0][1], std::nullopt);
  EXPECT_EQ(rows[0][2], std::optional<std::string>("VAT1"));  // not in the mask: untouched
  EXPECT_EQ(rows[0][3], std::optional<std::string>("0"));
  EXPECT_EQ(rows[0][4], std::optional<std::string>("jsmith"));
  st = store->load_state(keys({}, {"A-1", "P-1"}));
  auto parent = st.account_by_code.at("P-1");
  EXPECT_EQ(st.accounts.at(id).member_of_id, std::optional<core::EntityId>(parent));
  EXPECT_TRUE(st.pending_children.empty());
}

TEST_P(OdbcStoreTest, LoadsAncestorsLevelByLevel) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  // G-4 → G-3 → G-2 → G-1 (top)
  for (int i = 1; i <= 4; ++i) {
    auto a = new_account(-i, "G-" + std::to_string(i), "G", "o");
    if (i > 1) {
      a.set_member_of = true;
      a.member_of = -(i - 1);
      a.member_of_code = "G-" + std::to_string(i - 1);
    }
    b.accounts.push_back(a);
  }
  store->apply(b);
  auto st = store->load_state(keys({}, {"G-4"}));
  EXPECT_EQ(st.accounts.size(), 4u);
  EXPECT_EQ(st.account_by_code.count("G-1"), 1u);
}

TEST_P(OdbcStoreTest, TwoPhaseCodeChangesLetTwoAccountsSwapCodes) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "S-A", "A", "o"));
  b.accounts.push_back(new_account(-2, "S-B", "B", "o"));
  store->apply(b);
  auto st = store->load_state(keys({}, {"S-A", "S-B"}));
  auto a = st.account_by_code.at("S-A"), bb = st.account_by_code.at("S-B");

  core::WriteBatch swap;
  swap.connector = kConn;
  swap.code_changes.push_back({a, "S-A", "S-B"});
  swap.code_changes.push_back({bb, "S-B", "S-A"});
  store->apply(swap);
  st = store->load_state(keys({}, {"S-A", "S-B"}));
  EXPECT_EQ(st.account_by_code.at("S-A"), bb);
  EXPECT_EQ(st.account_by_code.at("S-B"), a);
}

// SPEC §4.2: member_of_code always names the parent's current code. A code change (rule 8, any
// connector) carries the linked children's member_of_code with it — also in a swap, and not
// the pending children of the old code, nor a child this batch links elsewhere.
TEST_P(OdbcStoreTest, ACodeChangeCarriesTheLinkedChildrensMemberOfCode) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "P-A", "Parent A", "o"));
  b.accounts.push_back(new_account(-2, "P-B", "Parent B", "o"));
  for (int i = 3; i <= 5; ++i) {
    auto child = new_account(-i, "K-" + std::to_string(i), "Child", "o");
    child.set_member_of = true;
    child.member_of = i == 5 ? -2 : -1;
    child.member_of_code = i == 5 ? "P-B" : "P-A";
    b.accounts.push_back(child);
  }
  auto pending = new_account(-6, "K-6", "Waits for a P-A of its own", "o");
  pending.set_member_of = true;
  pending.member_of_code = "P-X";
  b.accounts.push_back(pending);
  store->apply(b);
  auto st = store->load_state(keys({}, {"P-A", "P-B", "K-4"}));
  const auto a = st.account_by_code.at("P-A"), bb = st.account_by_code.at("P-B"), k4 = st.account_by_code.at("K-4");

  // P-A and P-B swap codes; K-4 is re-linked by this batch to P-B (by then "P-A").
  core::WriteBatch swap;
  swap.connector = kConn;
  swap.code_changes.push_back({a, "P-A", "P-B"});
  swap.code_changes.push_back({bb, "P-B", "P-A"});
  core::AccountWrite relink;
  relink.ref = k4;
  relink.set_member_of = true;
  relink.member_of = bb;
  relink.member_of_code = "P-A";
  swap.accounts.push_back(relink);
  store->apply(swap);
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE external_code = 'K-3'"), "P-B");
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE external_code = 'K-4'"), "P-A");
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE external_code = 'K-5'"), "P-A");
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE external_code = 'K-6'"), "P-X");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts c JOIN accounts p ON p.id = c.member_of_id "
                   "WHERE c.member_of_code <> p.external_code"),
            "0");
}

TEST_P(OdbcStoreTest, CustomersAreUpsertedByChannelAndRemoteId) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "K-1", "K", "o"));
  b.customers.push_back({"shop", "7", "magento", -1, std::nullopt, "Kay", "kay@example.com"});
  store->apply(b);
  auto id = scalar("SELECT id FROM customers WHERE channel = 'shop' AND remote_id = '7'");
  auto acc = scalar("SELECT id FROM accounts WHERE external_code = 'K-1'");

  core::WriteBatch u;
  u.connector = kConn;
  u.customers.push_back({"shop", "7", "magento", std::stoll(acc), std::nullopt, "Kay B", ""});
  store->apply(u);
  EXPECT_EQ(count("customers"), 1);
  auto rows = odbc_query(db_->connection_string(), "SELECT id, name, email FROM customers");
  EXPECT_EQ(rows[0][0], std::optional<std::string>(id));
  EXPECT_EQ(rows[0][1], std::optional<std::string>("Kay B"));
  EXPECT_EQ(rows[0][2], std::nullopt);
}

TEST_P(OdbcStoreTest, ContactsWithRefsDefaultFlagAndContactBindings) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "P-1", "P", "o"));
  core::ContactWrite c;
  c.ref = -2;
  c.account = -1;
  c.first_name = "Ada";
  c.last_name = "Lovelace";
  c.email = "ada@example.com";
  c.is_default = true;
  b.contacts.push_back(c);
  b.customers.push_back({kConn, "1", "b2b", -1, core::Ref{-2}, "P", ""});
  b.bindings.push_back(binding("1", -1));
  b.bindings.push_back(core::BindingWrite{"contacts", "c1", "contact", -2, "hc"});
  store->apply(b);

  auto k = keys({"1"}, {"P-1"});
  k.contact_remote_ids = {"c1"};
  auto st = store->load_state(k);
  auto acc = st.account_by_code.at("P-1");
  EXPECT_TRUE(st.accounts.at(acc).has_default_contact);
  ASSERT_EQ(st.contact_bindings.count("c1"), 1u);
  auto contact_id = st.contact_bindings.at("c1").entity_id;
  EXPECT_EQ(scalar("SELECT account_id FROM contacts WHERE id = " + std::to_string(contact_id)), std::to_string(acc));
  EXPECT_EQ(scalar("SELECT contact_id FROM customers WHERE remote_id = '1'"), std::to_string(contact_id));

  core::WriteBatch u;
  u.connector = kConn;
  c.ref = contact_id;
  c.account = acc;
  c.email = "";
  c.active = false;
  c.is_default.reset();
  u.contacts.push_back(c);
  store->apply(u);
  auto rows = odbc_query(db_->connection_string(), "SELECT email, active, is_default FROM contacts");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::nullopt);
  EXPECT_EQ(rows[0][1], std::optional<std::string>("0"));
  EXPECT_EQ(rows[0][2], std::optional<std::string>("1"));
}

TEST_P(OdbcStoreTest, RejectionsNewBumpedChangedAndResolved) {
  auto store = open();
  auto rejection = [](std::string rid, core::RejectReason r, std::string hash) {
    core::RejectionWrite w;
    w.stream = "accounts";
    w.remote_id = std::move(rid);
    w.external_code = "X-9";
    w.reason = r;
    w.message = "There is already an account with the same code assigned to other users";
    w.existing_owner = "carol";
    w.incoming_owner = "dave";
    w.payload = "{\"p\":\"" + hash + "\"}";
    w.payload_hash = std::move(hash);
    return w;
  };
  core::WriteBatch b;
  b.connector = kConn;
  b.rejections.push_back(rejection("4", core::RejectReason::code_owned_by_other_user, "h1"));
  b.rejections.push_back(rejection("9", core::RejectReason::code_in_use, "h9"));
  store->apply(b);
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '4'"), "1");

  core::WriteBatch again;  // the same payload: bumped, not replaced
  again.connector = kConn;
  again.rejections.push_back(rejection("4", core::RejectReason::code_owned_by_other_user, "h1"));
  again.rejections.push_back(rejection("9", core::RejectReason::code_in_use, "h9"));
  store->apply(again);
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '4'"), "2");
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '9'"), "2");
  EXPECT_EQ(count("sync_rejections"), 2);

  core::WriteBatch changed;
  changed.connector = kConn;
  auto w = rejection("4", core::RejectReason::code_owned_by_other_user, "h2");
  w.incoming_owner = "erin";
  changed.rejections.push_back(w);
  store->apply(changed);
  auto rows = odbc_query(db_->connection_string(),
                         "SELECT times_seen, payload_hash, incoming_owner, payload FROM sync_rejections WHERE "
                         "remote_id = '4'");
  EXPECT_EQ(rows[0][0], std::optional<std::string>("3"));
  EXPECT_EQ(rows[0][1], std::optional<std::string>("h2"));
  EXPECT_EQ(rows[0][2], std::optional<std::string>("erin"));
  EXPECT_EQ(rows[0][3], std::optional<std::string>("{\"p\":\"h2\"}"));

  auto st = store->load_state(keys({"4", "9"}, {}));
  ASSERT_EQ(st.open_rejections.at("4").size(), 1u);
  EXPECT_EQ(st.open_rejections.at("4")[0].reason, core::RejectReason::code_owned_by_other_user);
  EXPECT_EQ(st.open_rejections.at("4")[0].payload_hash, "h2");

  auto replay = store->replayable_rejections(kConn, "accounts");
  ASSERT_EQ(replay.size(), 1u);  // code_in_use is not replayable
  EXPECT_EQ(replay[0].remote_id, "4");
  EXPECT_EQ(replay[0].payload, "{\"p\":\"h2\"}");

  core::WriteBatch resolve;
  resolve.connector = kConn;
  resolve.resolves.push_back({"accounts", "4", {}});
  resolve.resolves.push_back({"accounts", "9", {core::RejectReason::code_in_use}});  // raised again: kept
  store->apply(resolve);
  st = store->load_state(keys({"4", "9"}, {}));
  EXPECT_EQ(st.open_rejections.count("4"), 0u);
  EXPECT_EQ(st.open_rejections.count("9"), 1u);
  EXPECT_TRUE(store->replayable_rejections(kConn, "accounts").empty());

  // Seen again after being resolved: reopened.
  store->apply(again);
  st = store->load_state(keys({"4"}, {}));
  EXPECT_EQ(st.open_rejections.count("4"), 1u);
}

TEST_P(OdbcStoreTest, AdminQueriesCountTheOpenRejectionsAndParkedRecordsOfOneStream) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  for (const char* rid : {"1", "2"}) {
    core::RejectionWrite w;
    w.stream = "accounts";
    w.remote_id = rid;
    w.reason = core::RejectReason::missing_external_code;
    w.message = "no code";
    w.payload = "{}";
    w.payload_hash = "h";
    b.rejections.push_back(w);
  }
  b.parks.push_back(core::ParkWrite{"accounts", "3", "C-9", "{}", "h"});
  b.parks.push_back(core::ParkWrite{"orders", "4", "C-9", "{}", "h"});
  store->apply(b);
  const OpenCounts accounts = store->admin().open_counts(kConn, "accounts");
  EXPECT_EQ(accounts.rejections, 2);
  EXPECT_EQ(accounts.parked, 1);
  const OpenCounts orders = store->admin().open_counts(kConn, "orders");
  EXPECT_EQ(orders.rejections, 0);
  EXPECT_EQ(orders.parked, 1);
  EXPECT_EQ(store->admin().open_counts("other", "accounts").parked, 0);

  core::WriteBatch resolved;
  resolved.connector = kConn;
  resolved.resolves.push_back(core::RejectionResolve{"accounts", "1", {}});
  store->apply(resolved);
  EXPECT_EQ(store->admin().open_counts(kConn, "accounts").rejections, 1);
}

TEST_P(OdbcStoreTest, AUniqueViolationWritesNothingAndThrowsConstraintViolation) {
  auto store = open();
  core::WriteBatch first;
  first.connector = kConn;
  first.accounts.push_back(new_account(-1, "D-1", "D", "o"));
  store->apply(first);

  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "N-1", "New", "o"));
  b.bindings.push_back(binding("n1", -1));
  b.accounts.push_back(new_account(-2, "D-1", "Dup", "o"));  // another writer got there first
  b.cursor = core::CursorWrite{"accounts", "c1", std::nullopt, std::nullopt};
  EXPECT_THROW(store->apply(b), core::ConstraintViolation);
  EXPECT_EQ(count("accounts"), 1);
  EXPECT_EQ(count("bindings"), 0);
  EXPECT_FALSE(store->load_cursor(kConn, "accounts").exists);

  // The store goes on working after the rollback.
  b.accounts.pop_back();
  store->apply(b);
  EXPECT_EQ(count("accounts"), 2);
  EXPECT_TRUE(store->load_cursor(kConn, "accounts").exists);
}

TEST_P(OdbcStoreTest, StatementsAreCountedAndABatchThatWritesNothingIssuesNone) {
  auto store = open();
  const StatementStats start = store->statement_stats();
  EXPECT_GT(start.executed, 0u);  // the migrations' statements

  core::WriteBatch quiet;  // what a batch of unchanged records decides
  quiet.connector = kConn;
  quiet.counters.unchanged = 3;
  store->apply(quiet);
  EXPECT_EQ(store->statement_stats().executed, start.executed);

  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "S-1", "S", "o"));
  b.bindings.push_back(binding("s1", -1));
  store->apply(b);
  const StatementStats after = store->statement_stats();
  EXPECT_GT(after.writes, start.writes);
  EXPECT_GE(after.executed - start.executed, after.writes - start.writes);

  // Prepared statements kept across batches: a batch of the same shape runs again, after a
  // failed one too.
  core::WriteBatch dup = b;
  EXPECT_THROW(store->apply(dup), core::ConstraintViolation);
  b.accounts[0].external_code = "S-2";
  b.bindings[0].remote_id = "s2";
  store->apply(b);
  b.accounts[0].external_code = "S-3";
  b.bindings[0].remote_id = "s3";
  store->apply(b);
  EXPECT_EQ(count("accounts"), 3);
  EXPECT_EQ(count("bindings"), 3);
  auto st = store->load_state(keys({"s1", "s2", "s3"}, {"S-1", "S-2", "S-3"}));
  EXPECT_EQ(st.bindings.size(), 3u);
  EXPECT_EQ(st.account_by_code.size(), 3u);
}

TEST_P(OdbcStoreTest, ACustomerRowWithoutItsBindingIsUpdatedNotDuplicated) {
  auto store = open();
  // A b2b Customer row whose binding is gone (deleted by hand): load_state sees no binding.
  odbc_query(db_->connection_string(),
             "INSERT INTO customers (account_id, channel, kind, remote_id, name) VALUES (999, 'erp', 'b2b', 'r-9', 'Old')");
  auto st = store->load_state(keys({"r-9"}, {"C-9"}));
  EXPECT_TRUE(st.bindings.empty());
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "C-9", "Nine", "o"));
  b.customers.push_back(core::CustomerWrite{kConn, "r-9", "b2b", -1, std::nullopt, "Nine", ""});
  b.bindings.push_back(binding("r-9", -1));
  store->apply(b);
  EXPECT_EQ(count("customers"), 1);
  EXPECT_EQ(scalar("SELECT name FROM customers WHERE remote_id = 'r-9'"), "Nine");
  EXPECT_EQ(count("accounts"), 1);
  EXPECT_EQ(count("bindings"), 1);
}

TEST_P(OdbcStoreTest, CodesCompareCaseSensitively) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "C-1", "Upper", "o"));
  b.accounts.push_back(new_account(-2, "c-1", "Lower", "o"));
  b.bindings.push_back(binding("R", -1));
  b.bindings.push_back(binding("r", -2));
  ASSERT_NO_THROW(store->apply(b));
  auto st = store->load_state(keys({"r"}, {"c-1"}));
  ASSERT_EQ(st.account_by_code.size(), 1u);
  EXPECT_EQ(st.accounts.at(st.account_by_code.at("c-1")).name, "Lower");
  ASSERT_EQ(st.bindings.size(), 1u);
  EXPECT_EQ(st.bindings.at("r").entity_id, st.account_by_code.at("c-1"));
}

TEST_P(OdbcStoreTest, DryRunLeavesTheDatabaseUnchanged) {
  open();  // the schema must exist before a dry run
  {
    auto dry = open(true);
    EXPECT_EQ(dry->begin_run(kConn, "accounts", "host"), 0);
    core::WriteBatch b;
    b.connector = kConn;
    b.accounts.push_back(new_account(-1, "DRY-1", "Dry", "o"));
    b.bindings.push_back(binding("1", -1));
    b.cursor = core::CursorWrite{"accounts", "c", std::nullopt, std::nullopt};
    dry->apply(b);
    // A failing batch inside the dry run undoes only itself.
    core::WriteBatch bad;
    bad.connector = kConn;
    bad.accounts.push_back(new_account(-1, "DRY-1", "Dup", "o"));
    EXPECT_THROW(dry->apply(bad), core::ConstraintViolation);
    auto st = dry->load_state(keys({"1"}, {"DRY-1"}));  // later batches see earlier ones
    EXPECT_EQ(st.account_by_code.count("DRY-1"), 1u);
    EXPECT_EQ(st.bindings.count("1"), 1u);
    EXPECT_TRUE(dry->load_cursor(kConn, "accounts").exists);
    dry->end_dry_run();
  }
  EXPECT_EQ(count("accounts"), 0);
  EXPECT_EQ(count("bindings"), 0);
  EXPECT_EQ(count("sync_cursors"), 0);
  EXPECT_EQ(count("sync_runs"), 0);
}

TEST_P(OdbcStoreTest, DryRunNeedsACurrentSchema) { EXPECT_THROW(open(true), SchemaError); }

TEST_P(OdbcStoreTest, DecimalRoundTripsExactly) {
  auto store = open();
  raw_connection(*store).exec(
      "INSERT INTO orders (channel, remote_id, grand_total, ordered_at) VALUES (?, ?, ?, ?)",
      {Param::str("shop"), Param::str("1"), Param::dec("1234567.89"), Param::ts("2026-11-22 10:00:00.123")});
  EXPECT_EQ(trim_decimal(scalar("SELECT grand_total FROM orders")), "1234567.89");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM orders WHERE grand_total = 1234567.89"), "1");
  auto ts = scalar("SELECT ordered_at FROM orders");
  EXPECT_EQ(ts.substr(0, 23), "2026-11-22 10:00:00.123");
}

TEST_P(OdbcStoreTest, TextWithQuotesAndSqlIsStoredLiterally) {
  auto store = open();
  // Also what PostgreSQL array literals treat specially (the store binds arrays there).
  const std::string nasty =
      "O'Brien \"quoted\" \\backslash\\ '); DROP TABLE accounts; -- % _ ? ; {a,b} NULL \xC3\xBC\xE6\x97\xA5";
  core::WriteBatch b;
  b.connector = kConn;
  auto a = new_account(-1, nasty.substr(0, 60), nasty, "o'wner");
  for (Field f : {Field::email, Field::phone, Field::street, Field::city, Field::postcode, Field::country,
                  Field::relationship}) {
    a.set |= core::bit(f);
  }
  a.values.email = nasty;
  a.values.phone = "'; --";
  a.values.street = nasty;
  a.values.city = nasty;
  a.values.postcode = "?";
  a.values.country = nasty;
  a.values.relationship = "x'y";
  b.accounts.push_back(a);
  b.bindings.push_back(binding(nasty.substr(0, 100), -1, "'"));
  core::RejectionWrite r;
  r.stream = "accounts";
  r.remote_id = nasty.substr(0, 100);
  r.reason = core::RejectReason::code_in_use;
  r.message = nasty;
  r.payload = "{\"name\":\"" + nasty + "\"}";
  r.payload_hash = "h";
  b.rejections.push_back(r);
  store->apply(b);

  auto st = store->load_state(keys({nasty.substr(0, 100)}, {nasty.substr(0, 60)}));
  ASSERT_EQ(st.account_by_code.size(), 1u);
  const auto& acc = st.accounts.at(st.account_by_code.at(nasty.substr(0, 60)));
  EXPECT_EQ(acc.name, nasty);
  EXPECT_EQ(acc.owner, "o'wner");
  EXPECT_EQ(st.bindings.at(nasty.substr(0, 100)).payload_hash, "'");
  auto rows = odbc_query(db_->connection_string(), "SELECT email, street, city, country, phone, postcode, "
                                                   "relationship FROM accounts");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::optional<std::string>(nasty));
  EXPECT_EQ(rows[0][3], std::optional<std::string>(nasty));
  EXPECT_EQ(rows[0][4], std::optional<std::string>("'; --"));
  EXPECT_EQ(rows[0][5], std::optional<std::string>("?"));
  EXPECT_EQ(rows[0][6], std::optional<std::string>("x'y"));
  EXPECT_EQ(scalar("SELECT message FROM sync_rejections"), nasty);
  EXPECT_EQ(scalar("SELECT payload FROM sync_rejections"), r.payload);
}

TEST_P(OdbcStoreTest, LongPayloadsRoundTrip) {
  auto store = open();
  std::string big(200000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = '\'';
  core::WriteBatch b;
  b.connector = kConn;
  core::RejectionWrite r;
  r.stream = "accounts";
  r.remote_id = "big";
  r.reason = core::RejectReason::unknown_owner;
  r.payload = big;
  r.payload_hash = "h";
  b.rejections.push_back(r);
  store->apply(b);
  auto replay = store->replayable_rejections(kConn, "accounts");
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0].payload, big);
}

TEST_P(OdbcStoreTest, AdoptionCandidatesAreFoundByNormalisedNameAndVat) {
  auto store = open();
  // Rows a CRM typed in by hand: no code, no erpsync involvement.
  odbc_query(db_->connection_string(), "INSERT INTO accounts (name, owner, vat) VALUES ('ACME  Corp ', 'jsmith', 'DE1')");
  odbc_query(db_->connection_string(), "INSERT INTO accounts (name, owner, vat) VALUES ('acme corp', 'carol', 'de1')");
  odbc_query(db_->connection_string(), "INSERT INTO accounts (name, owner) VALUES ('AcmeCorp', 'x')");
  odbc_query(db_->connection_string(),
             "INSERT INTO accounts (name, owner, external_code) VALUES ('Acme Corp', 'x', 'HAS-CODE')");
  core::BatchKeys k = keys({}, {});
  k.adopt_names = {"acme corp"};
  k.adopt_vats = {"DE1"};
  auto st = store->load_state(k);
  ASSERT_EQ(st.uncoded_by_name.count("acme corp"), 1u);
  EXPECT_EQ(st.uncoded_by_name.at("acme corp").size(), 2u);  // not "AcmeCorp", not the coded one
  ASSERT_EQ(st.uncoded_by_vat.count("DE1"), 1u);
  EXPECT_EQ(st.uncoded_by_vat.at("DE1").size(), 1u);  // vat compares exactly
  for (auto id : st.uncoded_by_name.at("acme corp")) EXPECT_EQ(st.accounts.count(id), 1u);
}

TEST_P(OdbcStoreTest, AdoptionSetsTheCodeOfTheExistingAccountAndNothingElse) {
  auto store = open();
  odbc_query(db_->connection_string(),
             "INSERT INTO accounts (name, owner, email) VALUES ('Typed In', 'jsmith', 'crm@example.com')");
  odbc_query(db_->connection_string(), "INSERT INTO accounts (name, owner, external_code) VALUES ('Other', 'x', 'TAKEN')");
  core::BatchKeys k = keys({}, {});
  k.adopt_names = {"typed in"};
  auto st = store->load_state(k);
  ASSERT_EQ(st.uncoded_by_name.count("typed in"), 1u);
  const core::EntityId id = st.uncoded_by_name.at("typed in").at(0);

  // What decide() writes for an adoption: the code, a binding without hash, the b2b customer.
  core::WriteBatch b;
  b.connector = kConn;
  core::AccountWrite adopt;
  adopt.ref = id;
  adopt.set_code = true;
  adopt.external_code = "AD-1";
  b.accounts.push_back(adopt);
  b.bindings.push_back(binding("r-ad", id, ""));
  b.customers.push_back(core::CustomerWrite{kConn, "r-ad", "b2b", id, std::nullopt, "Typed In", ""});
  store->apply(b);

  auto rows = odbc_query(db_->connection_string(),
                         "SELECT external_code, name, owner, email FROM accounts WHERE id = " + std::to_string(id));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::optional<std::string>("AD-1"));
  EXPECT_EQ(rows[0][1], std::optional<std::string>("Typed In"));
  EXPECT_EQ(rows[0][2], std::optional<std::string>("jsmith"));
  EXPECT_EQ(rows[0][3], std::optional<std::string>("crm@example.com"));
  st = store->load_state(keys({"r-ad"}, {"AD-1"}));
  EXPECT_EQ(st.account_by_code.at("AD-1"), id);
  EXPECT_TRUE(st.bindings.at("r-ad").payload_hash.empty());

  // A code taken meanwhile by another account is a unique violation: nothing written.
  odbc_query(db_->connection_string(), "INSERT INTO accounts (name, owner) VALUES ('Second', 'jsmith')");
  const std::string second = scalar("SELECT id FROM accounts WHERE name = 'Second'");
  core::WriteBatch clash;
  clash.connector = kConn;
  core::AccountWrite again;
  again.ref = std::stoll(second);
  again.set_code = true;
  again.external_code = "TAKEN";
  clash.accounts.push_back(again);
  clash.bindings.push_back(binding("r-2", again.ref, ""));
  EXPECT_THROW(store->apply(clash), core::ConstraintViolation);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code IS NULL"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE remote_id = 'r-2'"), "0");
}

TEST_P(OdbcStoreTest, RunsAreRecordedAndAbandonedRunsAborted) {
  auto store = open();
  auto run = store->begin_run(kConn, "accounts", "test-host");
  ASSERT_GT(run, 0);
  EXPECT_EQ(scalar("SELECT status FROM sync_runs WHERE id = " + std::to_string(run)), "running");
  core::Counters c;
  c.fetched = 9;
  c.created = 5;
  c.superseded = 1;
  c.rejected = 3;
  c.warnings = 1;
  store->finish_run(run, "ok", c, "fine");
  auto rows = odbc_query(db_->connection_string(),
                         "SELECT status, fetched, created, rejected, warnings, message, finished_at FROM sync_runs");
  EXPECT_EQ(rows[0][0], std::optional<std::string>("ok"));
  EXPECT_EQ(rows[0][1], std::optional<std::string>("9"));
  EXPECT_EQ(rows[0][2], std::optional<std::string>("5"));
  EXPECT_EQ(rows[0][3], std::optional<std::string>("3"));
  EXPECT_EQ(rows[0][4], std::optional<std::string>("1"));
  EXPECT_EQ(rows[0][5], std::optional<std::string>("fine"));
  EXPECT_TRUE(rows[0][6].has_value());

  auto dying = store->begin_run(kConn, "accounts", "test-host");
  auto other = store->begin_run("other-connector", "accounts", "test-host");
  store.reset();  // the process dies without finishing
  auto restarted = open();
  // Opening a store marks nothing: another live process may be running those.
  EXPECT_EQ(scalar("SELECT status FROM sync_runs WHERE id = " + std::to_string(dying)), "running");
  // The next holder of kConn's lease marks kConn's abandoned runs, and only those.
  EXPECT_EQ(restarted->abort_abandoned_runs(kConn), 1);
  EXPECT_EQ(scalar("SELECT status FROM sync_runs WHERE id = " + std::to_string(dying)), "aborted");
  EXPECT_NE(scalar("SELECT finished_at FROM sync_runs WHERE id = " + std::to_string(dying)), "");
  EXPECT_EQ(scalar("SELECT status FROM sync_runs WHERE id = " + std::to_string(other)), "running");
}

TEST_P(OdbcStoreTest, MarkMissingFlagsBindingsTheSnapshotLacks) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  for (int i = 1; i <= 3; ++i) {
    b.accounts.push_back(new_account(-i, "M-" + std::to_string(i), "M", "o"));
    b.bindings.push_back(binding(std::to_string(i), -i));
  }
  store->apply(b);
  EXPECT_EQ(store->mark_missing(kConn, "accounts", {"1"}), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE missing_since IS NOT NULL"), "2");
  auto first = scalar("SELECT missing_since FROM bindings WHERE remote_id = '3'");
  EXPECT_EQ(store->mark_missing(kConn, "accounts", {"1"}), 2);
  EXPECT_EQ(scalar("SELECT missing_since FROM bindings WHERE remote_id = '3'"), first);  // kept, not renewed
  auto st = store->load_state(keys({"2"}, {}));
  EXPECT_TRUE(st.bindings.at("2").missing);
  EXPECT_EQ(store->mark_missing(kConn, "accounts", {"1", "2"}), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE missing_since IS NOT NULL"), "1");
}

TEST_P(OdbcStoreTest, ALostConnectionIsTransientAndTheStoreReconnects) {
  if (GetParam() == Engine::sqlite) GTEST_SKIP() << "SQLite is a file: there is no connection to lose";
  auto store = open();
  std::string id = *raw_connection(*store).scalar(GetParam() == Engine::postgresql ? "SELECT pg_backend_pid()"
                                                                                 : "SELECT CONNECTION_ID()");
  // Kill the store's session from another connection, as a server restart would.
  odbc_query(db_->connection_string(), GetParam() == Engine::postgresql
                                           ? "SELECT pg_terminate_backend(" + id + ")"
                                           : "KILL " + id);
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "L-1", "L", "o"));
  try {
    store->apply(b);
    FAIL() << "apply on a dead connection succeeded";
  } catch (const core::ConstraintViolation&) {
    FAIL() << "a lost connection was reported as a constraint violation";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::transient) << e.what();
  }
  store->apply(b);  // reconnected
  EXPECT_EQ(count("accounts"), 1);
}

// Decides `records` of one commerce kind over the store's state and applies the batch, twice:
// the first time `good` records are created and `bad` ones rejected (invalid_field) as new
// rejections; the second time the good ones are unchanged and the bad ones, found again by
// their stored key, are repeats.
template <class Input, class Keys, class Decide>
void decide_and_apply_twice(OdbcStore& store, const core::MatchPolicy& p, const std::vector<Input>& records,
                            Keys keys, Decide decide, int good, int bad) {
  for (int pass = 1; pass <= 2; ++pass) {
    SCOPED_TRACE(p.stream + " pass " + std::to_string(pass));
    const core::WriteBatch b = decide(p, records, store.load_commerce_state(keys(p, records)));
    ASSERT_TRUE(b.counters.balanced());
    EXPECT_EQ(pass == 1 ? b.counters.created : b.counters.unchanged, good);
    EXPECT_EQ(b.counters.rejected, bad);
    ASSERT_EQ(b.rejections.size(), static_cast<std::size_t>(bad));
    for (const core::RejectionWrite& r : b.rejections) {
      EXPECT_EQ(r.reason, core::RejectReason::invalid_field);
      EXPECT_EQ(r.is_new_or_changed, pass == 1) << r.remote_id;
    }
    ASSERT_NO_THROW(store.apply(b));
  }
}

// SPEC §10 for the commerce kinds, on every engine: Magento customers and orders and Odoo
// contacts with a remote id longer than its column, a NUL byte or a control character in an id,
// code or e-mail, or a code longer than its column. The good records of each batch are written;
// each bad one is rejected alone with a row that fits sync_rejections; sent again, nothing but
// the rejections' sightings is written.
TEST_P(OdbcStoreTest, BadCommerceValuesAreRejectedAloneWithRowsThatFit) {
  using namespace std::string_literals;
  auto store = open();
  const std::string long_id(129, '9');
  core::MatchPolicy p;
  p.connector = "shop";
  p.default_owner = "ecommerce";

  p.stream = "customers";
  auto customer = [](std::string id, std::string code, std::string email) {
    return core::CustomerInput{{.remote_id = id, .external_code = code, .email = email, .first_name = "Anna"}};
  };
  const std::vector<core::CustomerInput> customers = {
      customer("1", "", "anna@example.com"),     customer(long_id, "", "b@example.com"),
      customer("3", "C-\0-3"s, "c@example.com"), customer("4", std::string(65, 'C'), "d@example.com"),
      customer("5", "", "e\r\nBcc: x@example.com"), customer("6", "", "f@example.com")};
  decide_and_apply_twice(*store, p, customers, core::customer_keys, core::decide_customers, 2, 4);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'shop'"), "2");
  EXPECT_EQ(scalar("SELECT external_code FROM sync_rejections WHERE remote_id = '3'"), "C-\\x00-3");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE stream = 'customers' AND remote_id LIKE '999%'"), "1");

  p.stream = "orders";
  auto guest_order = [](std::string id, std::string email) {
    return core::OrderInput{{.remote_id = id, .customer_email = email, .grand_total = "10.5", .currency = "EUR"}};
  };
  const std::vector<core::OrderInput> orders = {guest_order("10", "g@example.com"), guest_order(long_id, "h@x.test"),
                                                guest_order("12", "i\0@x.test"s), guest_order("13", "j@x.test")};
  decide_and_apply_twice(*store, p, orders, core::order_keys, core::decide_orders, 2, 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM orders WHERE channel = 'shop'"), "2");

  // Odoo contacts of a company the companies stream bound.
  p.connector = "erp";
  p.stream = "contacts";
  core::WriteBatch company;
  company.connector = "erp";
  company.accounts.push_back(new_account(-1, "C-100", "Company", "jsmith"));
  company.bindings.push_back({"companies", "100", "account", -1, "h"});
  store->apply(company);
  auto person = [](std::string id, std::string company_id, std::string email) {
    return core::ContactInput{{.remote_id = id, .company_remote_id = company_id, .last_name = "Lee", .email = email}};
  };
  const std::vector<core::ContactInput> contacts = {
      person("20", "100", "k@example.com"), person(long_id, "100", "l@example.com"),
      person("22", "1\x01" "00", "m@example.com"), person("23", "100", "n\t@example.com"),
      person("24", "100", "o@example.com")};
  decide_and_apply_twice(*store, p, contacts, core::contact_keys, core::decide_contacts, 2, 3);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts c JOIN accounts a ON a.id = c.account_id "
                   "WHERE a.external_code = 'C-100'"),
            "2");
  EXPECT_EQ(scalar("SELECT MIN(times_seen) FROM sync_rejections"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections"), "9");
}

// Rule 12: the Contacts of the batch's e-mails (trimmed, any case) of the accounts a batch loads,
// and of the Odoo contacts' companies.
TEST_P(OdbcStoreTest, ContactsByEmailOfTheLoadedAccountsAndOfTheCompaniesOfOdooContacts) {
  auto store = open();
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "P-1", "P", "o"));
  b.accounts.push_back(new_account(-5, "P-2", "Q", "o"));
  auto person = [](core::Ref ref, core::Ref account, std::string email) {
    core::ContactWrite c;
    c.ref = ref;
    c.account = account;
    c.first_name = "Ada";
    c.email = std::move(email);
    return c;
  };
  b.contacts = {person(-2, -1, " Ada@Example.COM "), person(-3, -1, "bob@x.example"), person(-4, -1, "BOB@x.example"),
                person(-6, -5, "ada@example.com"), person(-7, -1, "\xc3\x89LISE@X.example")};
  b.bindings.push_back(binding("1", -1));
  b.bindings.push_back(core::BindingWrite{"companies", "41", "account", -1, "h"});
  store->apply(b);
  const std::string p1 = scalar("SELECT id FROM accounts WHERE external_code = 'P-1'");
  const std::string ada = scalar("SELECT id FROM contacts WHERE email = ' Ada@Example.COM '");

  auto k = keys({"1"}, {"P-1"});
  k.contact_emails = {"ada@example.com", "bob@x.example", "nobody@x.example"};
  const core::StateSnapshot st = store->load_state(k);
  ASSERT_EQ(st.contacts_by_email.size(), 1u) << "only the loaded account's Contacts";
  const auto& emails = st.contacts_by_email.at(std::stoll(p1));
  ASSERT_EQ(emails.count("ada@example.com"), 1u);
  EXPECT_EQ(emails.at("ada@example.com"), std::vector<core::EntityId>{std::stoll(ada)});
  EXPECT_EQ(emails.at("bob@x.example").size(), 2u);
  EXPECT_EQ(emails.count("nobody@x.example"), 0u);
  // An e-mail beyond ASCII (normalize_email lower-cases ASCII only) is compared lower()ed on
  // both sides, as the list then is.
  auto beyond = keys({"1"}, {"P-1"});
  beyond.contact_emails = {"\xc3\x89lise@x.example", "ada@example.com"};
  const core::StateSnapshot st2 = store->load_state(beyond);
  ASSERT_EQ(st2.contacts_by_email.count(std::stoll(p1)), 1u);
  EXPECT_EQ(st2.contacts_by_email.at(std::stoll(p1)).count("\xc3\x89lise@x.example"), 1u);
  EXPECT_EQ(st2.contacts_by_email.at(std::stoll(p1)).count("ada@example.com"), 1u);

  core::CommerceKeys ck;
  ck.base.connector = kConn;
  ck.base.stream = "contacts";
  ck.company_remote_ids = {"41"};
  ck.base.contact_emails = {"ada@example.com"};
  const core::CommerceState cs = store->load_commerce_state(ck);
  ASSERT_EQ(cs.companies.count("41"), 1u);
  ASSERT_EQ(cs.base.contacts_by_email.count(std::stoll(p1)), 1u);
  EXPECT_EQ(cs.base.contacts_by_email.at(std::stoll(p1)).at("ada@example.com"),
            std::vector<core::EntityId>{std::stoll(ada)});
}

// Every dialect's bulk insert (PostgreSQL's arrays, SQLite's JSON rows, MariaDB's VALUES) stores
// what it was given: quotes, backslashes, control characters, text beyond ASCII, NULL beside
// the empty string, and the generated ids in row order.
TEST_P(OdbcStoreTest, BulkInsertedRowsReadBackExactlyWithTheirIdsInOrder) {
  auto store = open();
  const std::vector<std::string> names = {
      "Quote \" and backslash \\ and \\\"", "Tab\tCR\rLF\n end", std::string("Bell \x07 NUL-free \x1f"),
      "Müller & Söhne — 東京 \xF0\x9F\x9A\x80", "[\"not\", {\"json\": null}]", "null", "", "'; DROP TABLE accounts; --"};
  core::WriteBatch b;
  b.connector = "erp";
  for (std::size_t i = 0; i < names.size(); ++i) {
    core::AccountWrite a;
    a.ref = -static_cast<core::Ref>(i + 1);
    a.external_code = "BULK-" + std::to_string(i);
    a.set = core::bit(core::Field::name) | core::bit(core::Field::city);
    a.values.name = names[i];
    a.values.city = i % 2 ? "" : "Köln";  // empty: NULL, as every engine stores an unset text
    b.accounts.push_back(a);
    b.bindings.push_back(core::BindingWrite{"accounts", "r" + std::to_string(i), "account", a.ref, "h"});
  }
  store->apply(b);
  // Ids follow the rows' order: the binding of row i names the account holding code BULK-i.
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto rows = erpsync::testing::odbc_query(
        db_->connection_string(), "SELECT a.name, a.city FROM accounts a JOIN bindings b ON b.entity_id = a.id "
                                  "WHERE b.remote_id = 'r" + std::to_string(i) + "' AND a.external_code = 'BULK-" +
                                      std::to_string(i) + "'");
    ASSERT_EQ(rows.size(), 1u) << "row " << i;
    EXPECT_EQ(rows[0][0].value_or("<NULL>"), names[i].empty() ? "<NULL>" : names[i]) << "row " << i;
    EXPECT_EQ(rows[0][1].value_or("<NULL>"), i % 2 ? "<NULL>" : "Köln") << "row " << i;
  }
}

// In the first sync of a stream the store reads no bindings: there are none but the run's own,
// and a snapshot names each remote id once. A remote id that does come twice in such a run (a
// record changed while a cursor stream was paged) is decided as new again; the bindings' key
// refuses it, and from then on the store reads bindings again, so that the engine's second
// decision sees the first: one account, one binding. A stream bound before is read as always.
TEST_P(OdbcStoreTest, AFirstSyncReadsNoBindingsUntilTheKeyRefusesARemoteIdBoundInTheRun) {
  auto store = open();
  auto creating = [](const std::string& rid, const std::string& code) {
    core::WriteBatch b;
    b.connector = "erp";
    core::AccountWrite a;
    a.ref = -1;
    a.external_code = code;
    a.set = core::bit(core::Field::name);
    a.values.name = "Company " + code;
    b.accounts.push_back(a);
    b.bindings.push_back(core::BindingWrite{"accounts", rid, "account", -1, "h-" + code});
    return b;
  };
  core::BatchKeys keys;
  keys.connector = "erp";
  keys.stream = "accounts";
  keys.remote_ids = {"1"};

  store->begin_run("erp", "accounts", "test");
  EXPECT_TRUE(store->load_state(keys).bindings.empty());
  store->apply(creating("1", "A"));
  // Bound now, but not read: the first sync does not look.
  EXPECT_TRUE(store->load_state(keys).bindings.empty());
  EXPECT_THROW(store->apply(creating("1", "A-AGAIN")), core::ConstraintViolation);
  EXPECT_EQ(count("accounts"), 1);  // the refused batch left nothing behind
  // Decided again: the binding is read.
  auto st = store->load_state(keys);
  ASSERT_EQ(st.bindings.count("1"), 1u);
  EXPECT_EQ(st.bindings.at("1").payload_hash, "h-A");

  // The next run of the stream finds it bound and reads bindings from its first batch on.
  store->begin_run("erp", "accounts", "test");
  EXPECT_EQ(store->load_state(keys).bindings.count("1"), 1u);
}

// The benchmark's --profile: with profile_statements the store times each statement by its
// shape (marker lists collapsed, no data in it) and each commit; without, it keeps no profile.
TEST_P(OdbcStoreTest, AProfilingStoreTimesStatementsByShapeAndCommits) {
  core::WriteBatch b;
  b.connector = "erp";
  for (int i = 1; i <= 3; ++i) {
    core::AccountWrite a;
    a.ref = -i;
    a.external_code = "P-" + std::to_string(i);
    b.accounts.push_back(a);
  }
  OdbcStoreOptions o;
  o.connection = db_->connection_string();
  o.profile_statements = true;
  OdbcStore profiling(o);
  profiling.apply(b);
  const auto& shapes = profiling.statement_stats().by_shape;
  ASSERT_EQ(shapes.count("COMMIT"), 1u);
  EXPECT_GE(shapes.at("COMMIT").executed, 1u);
  bool insert_seen = false;
  for (const auto& [shape, t] : shapes) {
    EXPECT_EQ(shape.find("P-1"), std::string::npos) << shape;  // values are bound, never shown
    EXPECT_LE(shape.size(), 100u);
    if (shape.rfind("INSERT INTO accounts", 0) == 0) insert_seen = t.executed >= 1 && t.seconds >= 0;
  }
  EXPECT_TRUE(insert_seen);

  o.profile_statements = false;
  OdbcStore plain(o);
  b.accounts.clear();
  core::AccountWrite a;
  a.ref = -9;
  a.external_code = "P-9";
  b.accounts.push_back(a);
  plain.apply(b);
  EXPECT_TRUE(plain.statement_stats().by_shape.empty());
  EXPECT_GT(plain.statement_stats().executed, 0u);
}

TEST(StatementShape, ListsOfMarkersCollapseAndTheTextIsCut) {
  EXPECT_EQ(statement_shape("SELECT a FROM t WHERE k IN (?, ?, ?) AND c = ?"), "SELECT a FROM t WHERE k IN (?...) AND c = ?");
  EXPECT_EQ(statement_shape("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)"), "INSERT INTO t (a, b) VALUES (?...)");
  EXPECT_EQ(statement_shape("SELECT f(x) FROM t"), "SELECT f(x) FROM t");
  EXPECT_EQ(statement_shape(std::string(300, 'x')).size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Engines, OdbcStoreTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

// ------------------------------------------------------------------ no database needed

TEST(OdbcConnectionString, RedactsPasswordsInEveryForm) {
  EXPECT_EQ(redact_connection_string("Driver={PostgreSQL Unicode};Uid=erp;Pwd=secret;Port=1"),
            "Driver={PostgreSQL Unicode};Uid=erp;Pwd=***;Port=1");
  EXPECT_EQ(redact_connection_string("DSN=x;PASSWORD={a;b}}c};UID=u"), "DSN=x;PASSWORD=***;UID=u");
  EXPECT_EQ(redact_connection_string("DSN=x;pwd=last"), "DSN=x;pwd=***");
  EXPECT_EQ(redact_connection_string("DSN=x"), "DSN=x");
}

TEST(OdbcConnectionString, AddsTheSettingsEachDriverNeeds) {
  EXPECT_EQ(prepare_connection_string("Driver={PostgreSQL Unicode};Server=h", Dialect::postgresql),
            "Driver={PostgreSQL Unicode};Server=h;CommLog=0;Protocol=7.4-0;");
  EXPECT_EQ(prepare_connection_string("Driver=X;CommLog=1;Protocol=7.4-2", Dialect::postgresql),
            "Driver=X;CommLog=1;Protocol=7.4-2");
  EXPECT_EQ(prepare_connection_string("Driver=SQLite3;Database=/x.db", Dialect::sqlite),
            "Driver=SQLite3;Database=/x.db;Timeout=10000;");
  EXPECT_EQ(prepare_connection_string("Driver=SQLite3;timeout=5", Dialect::sqlite), "Driver=SQLite3;timeout=5");
  EXPECT_EQ(prepare_connection_string("DSN=m", Dialect::mariadb), "DSN=m;OPTION=2;");
  EXPECT_EQ(dialect_from_driver("Driver={MariaDB Unicode};"), Dialect::mariadb);
  EXPECT_EQ(dialect_from_driver("DSN=crm"), std::nullopt);
  EXPECT_EQ(connection_string_value("a=1;Database={x;y};", "database"), std::optional<std::string>("x;y"));
}

TEST(OdbcErrors, AreClassifiedPerDialect) {
  auto cls = [](std::optional<Dialect> d, std::string st, std::int64_t native, std::string msg = "") {
    return classify(d, {Diagnostic{std::move(st), native, std::move(msg)}});
  };
  EXPECT_EQ(cls(Dialect::postgresql, "23505", 1), ErrorClass::unique_violation);
  EXPECT_EQ(cls(Dialect::mariadb, "23000", 1062), ErrorClass::unique_violation);
  EXPECT_EQ(cls(Dialect::mariadb, "23000", 1048), ErrorClass::other);  // NOT NULL, not unique
  EXPECT_EQ(cls(Dialect::sqlite, "HY000", 19, "UNIQUE constraint failed: accounts.external_code"),
            ErrorClass::unique_violation);
  EXPECT_EQ(cls(Dialect::sqlite, "HY000", 19, "NOT NULL constraint failed: accounts.x"), ErrorClass::other);
  EXPECT_EQ(cls(Dialect::postgresql, "08S01", 1), ErrorClass::connection_lost);
  EXPECT_EQ(cls(Dialect::mariadb, "HY000", 2013), ErrorClass::connection_lost);
  EXPECT_EQ(cls(Dialect::postgresql, "57P01", 1), ErrorClass::connection_lost);
  EXPECT_EQ(cls(Dialect::mariadb, "HY000", 1205), ErrorClass::lock_timeout);
  EXPECT_EQ(cls(Dialect::sqlite, "HY000", 5, "database is locked"), ErrorClass::lock_timeout);
  EXPECT_EQ(cls(Dialect::postgresql, "40P01", 1), ErrorClass::lock_timeout);
  EXPECT_EQ(cls(Dialect::postgresql, "42P01", 1), ErrorClass::other);
  OdbcError e(ErrorClass::lock_timeout, "x", {Diagnostic{"40001", 1213, "deadlock"}});
  EXPECT_EQ(e.kind(), core::SyncError::Kind::transient);
  EXPECT_EQ(e.sqlstate(), "40001");
  EXPECT_EQ(e.native_code(), 1213);
}

TEST(OdbcMigrations, PrintSqlCoversEveryDialect) {
  for (auto d : {Dialect::sqlite, Dialect::postgresql, Dialect::mariadb}) {
    auto sql = migration_sql(d);
    for (const auto& t : schema_tables())
      EXPECT_NE(sql.find("CREATE TABLE IF NOT EXISTS " + t + " ("), std::string::npos) << to_string(d) << " " << t;
    EXPECT_NE(sql.find("INSERT INTO schema_version"), std::string::npos);
  }
  EXPECT_NE(migration_sql(Dialect::mariadb).find("utf8mb4_bin"), std::string::npos);
  EXPECT_NE(migration_sql(Dialect::postgresql).find("DECIMAL(20,4)"), std::string::npos);
}

}  // namespace
}  // namespace erpsync::connectors::odbc
