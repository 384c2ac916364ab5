// database.table_prefix and a database another application shares (SPEC §5 "Whose database"),
// on SQLite, PostgreSQL and MariaDB: every table, index and constraint erpsync creates carries
// the prefix and the store works through it (writes, reads, runs, rejections, parked records,
// leases, admin queries); a table of erpsync's name with another shape is refused before any
// DDL; a migration that fails leaves the schema as it was where the engine's DDL is
// transactional.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "connectors/odbc/leases.hpp"
#include "connectors/odbc/migrations.hpp"
#include "connectors/odbc/odbc.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "connectors/odbc/odbc_store_internal.hpp"
#include "connectors/odbc/table_names.hpp"
#include "support/odbc_query.hpp"
#include "support/store_writes.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using namespace std::chrono_literals;
using erpsync::testing::Engine;
using erpsync::testing::new_account;
using erpsync::testing::odbc_query;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

constexpr const char* kConn = "erp";
constexpr const char* kPrefix = "erpsync_";

class TablePrefixTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(GetParam(), reason);
    if (!db_) GTEST_SKIP() << reason;
  }
  std::unique_ptr<OdbcStore> open(std::string prefix, MigrateMode mode = MigrateMode::auto_apply) {
    OdbcStoreOptions o;
    o.connection = db_->connection_string();
    o.table_prefix = std::move(prefix);
    o.migrate = mode;
    return std::make_unique<OdbcStore>(o);
  }
  std::string scalar(const std::string& sql) { return odbc_scalar(db_->connection_string(), sql); }
  void sql(const std::string& text) { odbc_query(db_->connection_string(), text); }
  // The tables (and views) of the test's database, by the engine's catalogue.
  std::vector<std::string> tables() {
    return erpsync::testing::odbc_tables(db_->connection_string(), GetParam());
  }
  // The indexes of the test's database (MariaDB: with their table, as its index names are per table).
  std::vector<std::string> indexes() {
    const char* q = GetParam() == Engine::sqlite
                        ? "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
                    : GetParam() == Engine::mariadb
                        ? "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() "
                          "AND index_name <> 'PRIMARY'"
                        : "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()";
    std::vector<std::string> out;
    for (const auto& row : odbc_query(db_->connection_string(), q)) out.push_back(row.at(0).value_or(""));
    return out;
  }
  // A CRM application's own `accounts` (SuiteCRM's shape, reference/suitecrm.md) with one row.
  void create_crm_accounts() {
    sql("CREATE TABLE accounts (id CHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(150) NULL, "
        "deleted SMALLINT NOT NULL DEFAULT 0, assigned_user_id CHAR(36) NULL, account_type VARCHAR(50) NULL)");
    sql("INSERT INTO accounts (id, name, deleted, assigned_user_id, account_type) VALUES "
        "('7f1d4c3e-0000-4000-8000-000000000001', 'Mueller GmbH', 0, 'u1', 'Customer')");
  }

  std::unique_ptr<TempDatabase> db_;
};

bool has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

TEST_P(TablePrefixTest, EveryTableAndIndexCarriesThePrefixAndTheStoreWorksThroughIt) {
  create_crm_accounts();  // the CRM's table beside erpsync's prefixed ones
  auto store = open(kPrefix);
  EXPECT_EQ(store->admin().schema_version(), kSchemaVersion);
  const auto t = tables();
  for (const auto& base : schema_tables()) {
    EXPECT_TRUE(has(t, kPrefix + base)) << kPrefix + base;
    if (base != "accounts") {
      EXPECT_FALSE(has(t, base)) << base << " was created without the prefix";
    }
  }
  for (const auto& ix : indexes()) {
    if (ix != "PRIMARY" && ix.rfind(kPrefix, 0) != 0 && ix != "accounts_pkey") ADD_FAILURE() << "index " << ix << " lacks the prefix";
  }
  EXPECT_TRUE(has(indexes(), "erpsync_accounts_name_key_ix"));
  EXPECT_TRUE(has(indexes(), "erpsync_accounts_pending_ix"));

  // Writes: accounts with a parent, bindings, a cursor, a rejection and a parked record.
  auto run = store->begin_run(kConn, "accounts", "test-host");
  core::WriteBatch b;
  b.connector = kConn;
  b.accounts.push_back(new_account(-1, "C-1", "One", "jsmith"));
  auto child = new_account(-2, "C-2", "Two", "jsmith");
  child.set_member_of = true;
  child.member_of = -1;
  child.member_of_code = "C-1";
  b.accounts.push_back(child);
  b.bindings.push_back(core::BindingWrite{"accounts", "1", "account", -1, "h1"});
  b.bindings.push_back(core::BindingWrite{"accounts", "2", "account", -2, "h2"});
  core::RejectionWrite r;
  r.stream = "accounts";
  r.remote_id = "3";
  r.reason = core::RejectReason::missing_external_code;
  r.message = "no code";
  r.payload = "{}";
  r.payload_hash = "h3";
  b.rejections.push_back(r);
  b.parks.push_back(core::ParkWrite{"accounts", "4", "C-9", "{}", "h4"});
  b.cursor = core::CursorWrite{"accounts", "c-1", 4, std::string("abc")};
  store->apply(b);
  core::Counters c;
  c.created = 2;
  store->finish_run(run, "ok", c, "");

  // Reads.
  core::BatchKeys k;
  k.connector = kConn;
  k.stream = "accounts";
  k.remote_ids = {"1", "2", "3"};
  k.codes = {"C-1", "C-2"};
  auto st = store->load_state(k);
  ASSERT_EQ(st.account_by_code.size(), 2u);
  EXPECT_EQ(st.accounts.at(st.account_by_code.at("C-2")).member_of_id,
            std::optional<core::EntityId>(st.account_by_code.at("C-1")));
  EXPECT_EQ(st.bindings.size(), 2u);
  EXPECT_EQ(st.open_rejections.count("3"), 1u);
  EXPECT_EQ(store->load_cursor(kConn, "accounts").cursor, "c-1");
  EXPECT_EQ(store->parked_records(kConn, "accounts", 3600s).size(), 1u);

  // What the admin commands ask (report, rejections, parked, resync).
  EXPECT_EQ(store->admin().recent_runs(5, std::nullopt).rows.size(), 1u);
  EXPECT_EQ(store->admin().open_rejections(std::nullopt).rows.size(), 1u);
  EXPECT_EQ(store->admin().parked_records(std::nullopt).rows.size(), 1u);
  EXPECT_EQ(store->admin().open_counts(kConn, "accounts").rejections, 1);
  EXPECT_EQ(store->admin().resync_cursors(kConn, std::nullopt), 1);

  // Leases, on a connection of their own as the daemon's lease keeper has.
  Connection leases(std::make_shared<Environment>());
  leases.connect(db_->connection_string());
  leases.set_table_names(TableNames(kPrefix));
  auto got = acquire_lease(leases, kConn, Claimant{"host-a", "p-1"}, 30s);
  ASSERT_TRUE(got.lease);
  store->set_fence(*got.lease);
  EXPECT_EQ(store->admin().connector_leases(std::nullopt).rows.size(), 1u);
  core::WriteBatch fenced;
  fenced.connector = kConn;
  fenced.cursor = core::CursorWrite{"accounts", "c-2", std::nullopt, std::nullopt};
  store->apply(fenced);

  // All of it in the prefixed tables; the CRM's own accounts untouched.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_accounts"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_bindings"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_rejections"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_parked"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_runs"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_leases"), "1");
  EXPECT_EQ(scalar("SELECT connector FROM erpsync_sync_cursors"), kConn);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "1");
  EXPECT_EQ(scalar("SELECT name FROM accounts"), "Mueller GmbH");

  // Reopened (a restart): the prefixed schema is current, nothing migrates again.
  store.reset();
  EXPECT_NO_THROW(open(kPrefix, MigrateMode::check));
}

TEST_P(TablePrefixTest, ACrmTableUnderErpsyncsNameIsRefusedBeforeAnyDdl) {
  create_crm_accounts();
  for (auto mode : {MigrateMode::auto_apply, MigrateMode::check}) {
    try {
      open("", mode);
      FAIL() << "a CRM's accounts table was taken for erpsync's";
    } catch (const SchemaError& e) {
      const std::string w = e.what();
      EXPECT_NE(w.find("\"accounts\""), std::string::npos) << w;
      EXPECT_NE(w.find("database.table_prefix"), std::string::npos) << w;
      EXPECT_NE(w.find("external_code"), std::string::npos) << w;  // what it lacks
    }
  }
  EXPECT_EQ(tables(), std::vector<std::string>{"accounts"});  // nothing created, schema_version neither
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE deleted = 0"), "Mueller GmbH");
  // Under a prefix that collides too: refused the same way, naming the prefixed table.
  sql("CREATE TABLE crm_sync_runs (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(10) NULL)");
  try {
    open("crm_");
    FAIL() << "a foreign crm_sync_runs was accepted";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("\"crm_sync_runs\""), std::string::npos) << e.what();
  }
  EXPECT_EQ(tables().size(), 2u);
}

TEST_P(TablePrefixTest, AFailedMigrationLeavesTheSchemaAsItWas) {
  if (GetParam() == Engine::mariadb) GTEST_SKIP() << "MariaDB commits DDL implicitly: it is checked before, not rolled back";
  // A conflicting object the shape check accepts (a view with sync_leases' columns): migration 1
  // skips the table it would create, migration 3 cannot alter a view and fails.
  sql("CREATE VIEW erpsync_sync_leases AS SELECT 'c' AS connector, 'h' AS holder, 1 AS fencing_token, "
      "'2026-01-01 00:00:00.000' AS expires_at");
  try {
    open(kPrefix);
    FAIL() << "a migration over a view succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("erpsync_sync_leases"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tables(), std::vector<std::string>{"erpsync_sync_leases"});  // no schema_version, no half schema
  EXPECT_TRUE(indexes().empty());
  // Once the object is gone, the same migration completes.
  sql("DROP VIEW erpsync_sync_leases");
  auto store = open(kPrefix);
  EXPECT_EQ(store->admin().schema_version(), kSchemaVersion);
}

TEST_P(TablePrefixTest, PrintedSqlWithAPrefixBuildsThePrefixedSchema) {
  Connection c(std::make_shared<Environment>());
  c.connect(db_->connection_string());
  const std::string script = migration_sql(c.dialect(), TableNames(kPrefix));
  EXPECT_NE(script.find("CREATE TABLE IF NOT EXISTS erpsync_accounts ("), std::string::npos);
  EXPECT_NE(script.find("CREATE INDEX IF NOT EXISTS erpsync_accounts_name_key_ix ON erpsync_accounts"), std::string::npos);
  EXPECT_NE(script.find("CONSTRAINT erpsync_accounts_external_code_key UNIQUE"), std::string::npos);
  EXPECT_NE(script.find("INSERT INTO erpsync_schema_version"), std::string::npos);
  // Bare names remain in comments and descriptions only.
  for (const char* bare : {"EXISTS accounts", "ON accounts ", "ON sync_runs ", "INTO schema_version", "TABLE sync_leases"})
    EXPECT_EQ(script.find(bare), std::string::npos) << bare;
}

INSTANTIATE_TEST_SUITE_P(Engines, TablePrefixTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const auto& info) { return std::string(erpsync::testing::engine_name(info.param)); });

TEST(TableNames, PrefixesErpsyncsObjectsOnlyOutsideQuotedText) {
  const TableNames n("erpsync_");
  EXPECT_EQ(n.render("SELECT a.id FROM accounts a JOIN bindings b ON b.entity_id = a.id WHERE b.stream = 'accounts'"),
            "SELECT a.id FROM erpsync_accounts a JOIN erpsync_bindings b ON b.entity_id = a.id WHERE b.stream = 'accounts'");
  EXPECT_EQ(n.render("CREATE INDEX IF NOT EXISTS sync_runs_status_ix ON sync_runs (status)"),
            "CREATE INDEX IF NOT EXISTS erpsync_sync_runs_status_ix ON erpsync_sync_runs (status)");
  EXPECT_EQ(n.render("SELECT \"cursor\", account_id, name_key FROM sync_cursors -- accounts\n"),
            "SELECT \"cursor\", account_id, name_key FROM erpsync_sync_cursors -- accounts\n");
  EXPECT_EQ(n.render("SELECT 'it''s accounts' FROM orders"), "SELECT 'it''s accounts' FROM erpsync_orders");
  EXPECT_EQ(TableNames().render("SELECT * FROM accounts"), "SELECT * FROM accounts");
  EXPECT_THROW(TableNames("crm; DROP"), std::invalid_argument);
  EXPECT_THROW(TableNames("1x_"), std::invalid_argument);
  OdbcStoreOptions bad;
  bad.connection = "DSN=never-reached";
  bad.table_prefix = "crm-";
  EXPECT_THROW(OdbcStore{bad}, SchemaError);  // refused before connecting
}

}  // namespace
}  // namespace erpsync::connectors::odbc
