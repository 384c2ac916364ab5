// Parameter arrays (Statement::execute_array), which the MariaDB dialect uses for the inserts
// that need no ids back: on the real MariaDB server, the values an array writes read back
// equal, a row the database refuses fails the whole call with the driver's diagnostic (a
// duplicate key as a unique violation), the statement is usable singly afterwards, and the
// array counts as one statement. Through the store, on every engine: rows inserted without ids
// (customers, bindings) read back equal, and a duplicate key in the middle of an insert
// surfaces as core::ConstraintViolation and leaves nothing of the batch.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/odbc/odbc.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "connectors/odbc/odbc_store_internal.hpp"
#include "connectors/odbc/sql_text.hpp"
#include "core/errors.hpp"
#include "support/odbc_query.hpp"
#include "support/store_writes.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using erpsync::testing::Engine;
using erpsync::testing::odbc_query;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

// Texts that have broken bulk paths elsewhere: empty, quotes and backslashes, multi-byte UTF-8,
// control characters, an embedded NUL, and one long enough to need its own buffer width.
std::vector<std::string> awkward_texts() {
  return {"",
          "Quote \" and backslash \\ and \\\" and '",
          "Müller & Söhne — 東京 \xF0\x9F\x9A\x80",
          "Tab\tCR\rLF\n end",
          std::string("NUL \0 inside", 12),
          "'; DROP TABLE array_rows; --",
          std::string(20000, 'x') + "end"};
}

// A fresh MariaDB database and a connection to it (the test is skipped, with the reason, when
// ODBC_MARIADB is not configured).
class MariadbArrayExecution : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(Engine::mariadb, reason);
    if (!db_) GTEST_SKIP() << reason;
    conn_ = std::make_unique<Connection>(std::make_shared<Environment>());
    conn_->connect(db_->connection_string());
    conn_->exec_direct(
        "CREATE TABLE array_rows (k BIGINT NOT NULL PRIMARY KEY, n BIGINT NULL, s MEDIUMTEXT NULL, "
        "ts DATETIME(3) NULL, d DECIMAL(20,4) NULL) DEFAULT CHARSET=utf8mb4");
  }
  static constexpr const char* kInsert = "INSERT INTO array_rows (k, n, s, ts, d) VALUES (?, ?, ?, ?, ?)";

  std::unique_ptr<TempDatabase> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(MariadbArrayExecution, ValuesReadBackEqualAndTheArrayCountsAsOneStatement) {
  const std::vector<std::optional<std::int64_t>> integers = {
      std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), 0, -1, std::nullopt};
  const std::vector<std::string> texts = awkward_texts();
  std::vector<std::vector<Param>> rows;
  for (int k = 0; k < 300; ++k) {
    const auto& n = integers[static_cast<std::size_t>(k) % integers.size()];
    const bool null_text = k % 11 == 10;
    const std::string& s = texts[static_cast<std::size_t>(k) % texts.size()];
    rows.push_back({Param::i64(k), Param::opt_i64(n), null_text ? Param::null_str() : Param::str(s),
                    k % 3 ? Param::ts("2024-02-29 23:59:59." + std::to_string(100 + k % 900)) : Param::null_ts(),
                    k % 4 ? Param::dec("-1234567890123456." + std::to_string(1000 + k)) : Param::dec("")});
  }
  conn_->set_profiling(true);
  // The server's count of prepared executions in this session (the query counts itself).
  auto server_executions = [&] {
    return std::stoll(conn_->query("SHOW SESSION STATUS LIKE 'Com_stmt_execute'").at(0).at(1).value());
  };
  const long long executions_before = server_executions();
  const StatementStats before = conn_->stats();
  Statement st(*conn_);
  ASSERT_TRUE(st.execute_array(kInsert, rows));
  EXPECT_EQ(conn_->stats().executed, before.executed + 1);
  EXPECT_EQ(conn_->stats().writes, before.writes + 1);
  const std::string shape = statement_shape(kInsert) + " [array]";
  ASSERT_EQ(conn_->stats().by_shape.count(shape), 1u);
  EXPECT_EQ(conn_->stats().by_shape.at(shape).executed, 1u);
  EXPECT_EQ(server_executions(), executions_before + 2) << "the array went to the server row by row";

  const auto got = conn_->query("SELECT k, n, s, ts, d FROM array_rows ORDER BY k");
  ASSERT_EQ(got.size(), rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& want = rows[k];
    auto text_of = [](const Param& p) -> std::optional<std::string> {
      if (p.is_null) return std::nullopt;
      return p.kind == Param::Kind::integer ? std::to_string(p.integer) : p.text;
    };
    EXPECT_EQ(got[k][0], text_of(want[0])) << "row " << k;
    EXPECT_EQ(got[k][1], text_of(want[1])) << "row " << k;
    EXPECT_EQ(got[k][2], text_of(want[2])) << "row " << k;
    EXPECT_EQ(got[k][3], text_of(want[3])) << "row " << k;
    EXPECT_EQ(got[k][4], text_of(want[4])) << "row " << k;
  }
}

TEST_F(MariadbArrayExecution, ADuplicateKeyFailsTheWholeCallAsAUniqueViolation) {
  std::vector<std::vector<Param>> rows;
  for (int k = 1; k <= 10; ++k)
    rows.push_back({Param::i64(k == 6 ? 3 : k), Param::opt_i64(std::nullopt), Param::str("r"), Param::null_ts(),
                    Param::dec("")});
  Statement st(*conn_);
  conn_->set_autocommit(false);
  try {
    st.execute_array(kInsert, rows);
    ADD_FAILURE() << "a duplicate key in the array was accepted";
  } catch (const OdbcError& e) {
    EXPECT_EQ(e.error_class(), ErrorClass::unique_violation) << e.what();
    EXPECT_NE(std::string(e.what()).find("array_rows"), std::string::npos) << e.what();
  }
  conn_->rollback();
  conn_->set_autocommit(true);
  EXPECT_EQ(conn_->scalar("SELECT COUNT(*) FROM array_rows"), std::optional<std::string>("0"));

  // The same statement runs singly afterwards (one parameter set, its own bindings), then as an
  // array again.
  st.execute(kInsert, {Param::i64(100), Param::i64(7), Param::str("single"), Param::null_ts(), Param::dec("")});
  rows[5][0] = Param::i64(6);
  EXPECT_TRUE(st.execute_array(kInsert, rows));
  EXPECT_EQ(conn_->scalar("SELECT COUNT(*) FROM array_rows"), std::optional<std::string>("11"));
  EXPECT_EQ(conn_->scalar("SELECT s FROM array_rows WHERE k = 100"), std::optional<std::string>("single"));
}

TEST_F(MariadbArrayExecution, ARowTheDatabaseRefusesFailsTheCallNamingTheTable) {
  std::vector<std::vector<Param>> rows;
  for (int k = 1; k <= 5; ++k)
    rows.push_back({k == 4 ? Param::opt_i64(std::nullopt) : Param::i64(k), Param::opt_i64(std::nullopt),
                    Param::str("r"), Param::null_ts(), Param::dec("")});
  Statement st(*conn_);
  conn_->set_autocommit(false);
  try {
    st.execute_array(kInsert, rows);
    ADD_FAILURE() << "a NULL key in the array was accepted";
  } catch (const OdbcError& e) {
    EXPECT_NE(e.error_class(), ErrorClass::unique_violation) << e.what();
    EXPECT_NE(std::string(e.what()).find("array_rows"), std::string::npos) << e.what();
  }
  conn_->rollback();
  conn_->set_autocommit(true);
  EXPECT_EQ(conn_->scalar("SELECT COUNT(*) FROM array_rows"), std::optional<std::string>("0"));
}

// MariaDB 10.2.7 and later run an array as one bulk command: the dialect keeps arrays on.
TEST_F(MariadbArrayExecution, TheServerIsRecognisedAsRunningBulkCommands) {
  OdbcStoreOptions o;
  o.connection = db_->connection_string();
  OdbcStore store(o);
  EXPECT_TRUE(raw_connection(store).parameter_arrays())
      << raw_connection(store).dbms_name() << " " << raw_connection(store).dbms_version();
}

// The fallback (a driver that refuses arrays, a server without bulk commands): multi-row VALUES
// statements, the rows equal.
TEST_F(MariadbArrayExecution, AConnectionWithoutArraysInsertsWithMultiRowValues) {
  OdbcStoreOptions o;
  o.connection = db_->connection_string();
  o.profile_statements = true;
  OdbcStore store(o);
  raw_connection(store).set_parameter_arrays(false);
  core::WriteBatch b;
  b.connector = "erp";
  b.accounts.push_back(erpsync::testing::new_account(-1, "V-1", "Values", "o"));
  const std::vector<std::string> names = awkward_texts();
  for (std::size_t i = 0; i < 5; ++i)
    b.customers.push_back({"shop", "v" + std::to_string(i), "magento", -1, std::nullopt, names[i], ""});
  store.apply(b);
  for (const auto& [shape, t] : store.statement_stats().by_shape)
    EXPECT_EQ(shape.find("[array]"), std::string::npos) << shape;
  const auto rows = odbc_query(db_->connection_string(), "SELECT remote_id, name FROM customers ORDER BY remote_id");
  ASSERT_EQ(rows.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(rows[i][1].value_or("<NULL>"), names[i].empty() ? "<NULL>" : names[i]) << i;
}

TEST(ArrayChunks, EndAtTheRowLimitOrWhenTheWidestValuesWouldPassTheByteLimit) {
  std::vector<std::vector<Param>> rows(10, {Param::str("abc"), Param::i64(1)});  // 4 + 1 bytes a row
  EXPECT_EQ(sql::array_chunk_end(rows, 0, 4, 1000), 4u);
  EXPECT_EQ(sql::array_chunk_end(rows, 8, 4, 1000), 10u);
  EXPECT_EQ(sql::array_chunk_end(rows, 0, 100, 25), 5u);
  rows[2][0] = Param::str(std::string(99, 'x'));  // the column's rows are then 100 bytes wide
  EXPECT_EQ(sql::array_chunk_end(rows, 0, 100, 250), 2u);
  EXPECT_EQ(sql::array_chunk_end(rows, 2, 100, 50), 3u);  // one row at least, however wide
  EXPECT_EQ(sql::single_row_insert("t", {"a", "b"}), "INSERT INTO t (a, b) VALUES (?, ?)");
}

// ------------------------------------------------------------------ through the store

class ArrayInsertStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(GetParam(), reason);
    if (!db_) GTEST_SKIP() << reason;
    OdbcStoreOptions o;
    o.connection = db_->connection_string();
    store_ = std::make_unique<OdbcStore>(o);
  }
  long count(const std::string& table) {
    return std::stol(odbc_scalar(db_->connection_string(), "SELECT COUNT(*) FROM " + table));
  }

  std::unique_ptr<TempDatabase> db_;
  std::unique_ptr<OdbcStore> store_;
};

// 2,500 customers: more than one array (sql::kInChunk rows each) on MariaDB.
TEST_P(ArrayInsertStoreTest, ManyCustomersInsertedWithoutIdsReadBackEqual) {
  std::vector<std::string> names = awkward_texts();
  names.back() = std::string(200, 'y') + " Ünïcödé";  // customers.name is VARCHAR(255)
  names[4] = "no NUL here";                          // and a VARCHAR holds none on PostgreSQL
  core::WriteBatch b;
  b.connector = "erp";
  b.accounts.push_back(erpsync::testing::new_account(-1, "ARR-1", "Array", "o"));
  const int n = 2500;
  for (int i = 0; i < n; ++i) {
    char rid[16];
    std::snprintf(rid, sizeof rid, "c%05d", i);
    const std::string& name = names[static_cast<std::size_t>(i) % names.size()];
    char email[32];
    std::snprintf(email, sizeof email, "u%d@x.org", i);
    b.customers.push_back({"shop", rid, "magento", -1, std::nullopt, name, i % 3 ? email : ""});
  }
  OdbcStoreOptions o;
  o.connection = db_->connection_string();
  o.profile_statements = true;
  store_ = std::make_unique<OdbcStore>(o);
  store_->apply(b);
  // MariaDB writes them as arrays of at most sql::kInChunk rows, each counted once.
  const auto& shapes = store_->statement_stats().by_shape;
  const std::string array_shape =
      statement_shape(sql::single_row_insert("customers", {"account_id", "contact_id", "channel", "kind", "remote_id",
                                                           "email", "name", "created_at", "updated_at"})) +
      " [array]";
  if (GetParam() == Engine::mariadb) {
    ASSERT_EQ(shapes.count(array_shape), 1u);
    EXPECT_EQ(shapes.at(array_shape).executed, 3u);
  } else {
    EXPECT_EQ(shapes.count(array_shape), 0u);
  }
  const auto rows = odbc_query(db_->connection_string(),
                               "SELECT remote_id, name, email, account_id FROM customers ORDER BY remote_id");
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(n));
  const std::string account = odbc_scalar(db_->connection_string(), "SELECT id FROM accounts WHERE external_code = 'ARR-1'");
  for (int i = 0; i < n; ++i) {
    const auto& w = b.customers[static_cast<std::size_t>(i)];
    const auto& r = rows[static_cast<std::size_t>(i)];
    EXPECT_EQ(r[0].value_or("<NULL>"), w.remote_id);
    EXPECT_EQ(r[1].value_or("<NULL>"), w.name.empty() ? "<NULL>" : w.name) << w.remote_id;
    EXPECT_EQ(r[2].value_or("<NULL>"), w.email.empty() ? "<NULL>" : w.email) << w.remote_id;
    EXPECT_EQ(r[3].value_or("<NULL>"), account) << w.remote_id;
  }
}

// In a stream's first sync the store inserts bindings without looking (see odbc_store_test's
// AFirstSyncReadsNoBindings...): a remote id bound earlier in the run, in the middle of 1,500
// new ones, is refused by the key as a constraint violation, and nothing of the batch stays.
TEST_P(ArrayInsertStoreTest, ADuplicateKeyInTheMiddleOfAnInsertIsAConstraintViolationAndWritesNothing) {
  auto batch = [](const std::string& code, const std::vector<std::string>& rids) {
    core::WriteBatch b;
    b.connector = "erp";
    b.accounts.push_back(erpsync::testing::new_account(-1, code, "Company " + code, "o"));
    for (const auto& rid : rids) b.bindings.push_back(core::BindingWrite{"accounts", rid, "account", -1, "h"});
    return b;
  };
  // What the engine does before each batch: the store reads the batch's keys.
  auto load_keys = [&](const std::vector<std::string>& rids) {
    core::BatchKeys keys;
    keys.connector = "erp";
    keys.stream = "accounts";
    keys.remote_ids.insert(rids.begin(), rids.end());
    return store_->load_state(keys).bindings.size();
  };
  store_->begin_run("erp", "accounts", "test");
  load_keys({"r00750"});
  store_->apply(batch("A", {"r00750"}));
  std::vector<std::string> rids;
  for (int i = 0; i < 1500; ++i) {
    char rid[16];
    std::snprintf(rid, sizeof rid, "r%05d", i);
    rids.push_back(rid);
  }
  EXPECT_EQ(load_keys(rids), 0u);  // the first sync does not look
  EXPECT_THROW(store_->apply(batch("B", rids)), core::ConstraintViolation);
  EXPECT_EQ(count("accounts"), 1);
  EXPECT_EQ(count("bindings"), 1);

  // The store goes on working: without the duplicate the batch is written whole.
  rids.erase(rids.begin() + 750);
  load_keys(rids);
  store_->apply(batch("B", rids));
  EXPECT_EQ(count("accounts"), 2);
  EXPECT_EQ(count("bindings"), 1500);
}

INSTANTIATE_TEST_SUITE_P(Engines, ArrayInsertStoreTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
