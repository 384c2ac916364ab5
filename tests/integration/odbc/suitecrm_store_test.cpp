// OdbcStore with SuiteCRM 7 as the CRM (database.crm "suitecrm", SPEC §5 "CRM targets"), on
// MariaDB with the project's SuiteCRM fixture: what the rules are told of SuiteCRM (users,
// utf8mb3, column lengths), a reassignment made in SuiteCRM during a run seen by the next batch,
// apply's writes carried into SuiteCRM's rows in the same transaction, and a rolled-back batch
// leaving SuiteCRM untouched.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "connectors/odbc/odbc_store.hpp"
#include "support/odbc_query.hpp"
#include "support/store_writes.hpp"
#include "support/suitecrm_fixture.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using erpsync::testing::Engine;
using erpsync::testing::new_account;
using erpsync::testing::odbc_query;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

class SuiteCrmStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(Engine::mariadb, reason);
    if (!db_) GTEST_SKIP() << reason;
    erpsync::testing::create_suitecrm_tables(db_->connection_string());
  }
  std::unique_ptr<OdbcStore> open() {
    OdbcStoreOptions o;
    o.connection = db_->connection_string();
    o.table_prefix = "erpsync_";
    o.suitecrm = SuiteCrmOptions{};
    o.suitecrm->sync_user = "erpsync";
    return std::make_unique<OdbcStore>(o);
  }
  std::string scalar(const std::string& sql) { return odbc_scalar(db_->connection_string(), sql); }
  void sql(const std::string& text) { odbc_query(db_->connection_string(), text); }
  core::BatchKeys keys(std::set<std::string> codes) {
    core::BatchKeys k;
    k.connector = "erp";
    k.stream = "accounts";
    k.codes = std::move(codes);
    return k;
  }
  std::unique_ptr<TempDatabase> db_;
};

TEST_F(SuiteCrmStoreTest, TheRulesAreToldSuiteCrmsUsersCharsetAndColumnLengths) {
  auto store = open();
  store->refresh_from_crm();
  auto st = store->load_state(keys({}));
  ASSERT_TRUE(st.crm);
  EXPECT_EQ(st.crm->users, (std::unordered_set<std::string>{"admin", "erpsync", "alice", "bob"}));  // not carol, dave
  EXPECT_TRUE(st.crm->bmp_only);
  EXPECT_EQ(st.crm->account_max[static_cast<std::size_t>(core::Field::name)], 150u);
  EXPECT_EQ(st.crm->account_max[static_cast<std::size_t>(core::Field::postcode)], 20u);
  EXPECT_EQ(st.crm->account_max[static_cast<std::size_t>(core::Field::external_code)], 64u);
  EXPECT_EQ(st.crm->contact_max[static_cast<std::size_t>(core::ContactField::first_name)], 100u);
}

TEST_F(SuiteCrmStoreTest, AReassignmentMadeInSuiteCrmDuringARunIsWhatTheNextBatchReads) {
  auto store = open();
  core::WriteBatch b;
  b.connector = "erp";
  b.accounts.push_back(new_account(-1, "K-1", "Acme", "alice"));
  store->apply(b);
  EXPECT_EQ(scalar("SELECT a.assigned_user_id FROM accounts a JOIN accounts_cstm c ON c.id_c = a.id WHERE "
                   "c.external_code_c = 'K-1'"),
            erpsync::testing::kSuiteAliceId);
  store->refresh_from_crm();  // a run begins
  sql("UPDATE accounts SET assigned_user_id = '" + std::string(erpsync::testing::kSuiteBobId) + "'");
  auto st = store->load_state(keys({"K-1"}));
  ASSERT_EQ(st.account_by_code.count("K-1"), 1u);
  EXPECT_EQ(st.accounts.at(st.account_by_code.at("K-1")).owner, "bob");
}

TEST_F(SuiteCrmStoreTest, ABatchThatFailsLeavesSuiteCrmAsItWas) {
  auto store = open();
  core::WriteBatch first;
  first.connector = "erp";
  first.accounts.push_back(new_account(-1, "K-1", "Acme", "alice"));
  store->apply(first);
  // A SuiteCRM user typed K-2 meanwhile; a batch creating K-2 and K-3 is refused by the unique
  // index as a whole (the caller re-decides), and nothing of it reaches SuiteCRM.
  sql("INSERT INTO accounts (id, name, deleted, assigned_user_id) VALUES ('typed-2', 'Typed', 0, '1')");
  sql("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('typed-2', 'K-2')");
  core::WriteBatch second;
  second.connector = "erp";
  second.accounts.push_back(new_account(-1, "K-3", "Gamma", "alice"));
  second.accounts.push_back(new_account(-2, "K-2", "Beta", "alice"));
  EXPECT_THROW(store->apply(second), core::ConstraintViolation);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_accounts"), "1");
  // The next run's refresh brings the typed Account into erpsync's index, where the rules find it.
  store->refresh_from_crm();
  auto st = store->load_state(keys({"K-2"}));
  ASSERT_EQ(st.account_by_code.count("K-2"), 1u);
  EXPECT_EQ(st.accounts.at(st.account_by_code.at("K-2")).owner, "admin");
}

}  // namespace
}  // namespace erpsync::connectors::odbc
