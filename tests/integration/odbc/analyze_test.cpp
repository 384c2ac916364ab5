// PostgreSQL: the store gives the tables a first sync fills statistics of their own (ANALYZE
// after 1,000 created records, then at each doubling, sampled small), so that lookups seek instead of
// filtering whole streams while autovacuum has not analyzed them yet. Checked on a real server
// with autovacuum switched off for the tables: the statistics can only come from the store.
// The ANALYZE an apply makes due runs at the store's next read of state — over the read-ahead
// connection when that read is one ahead (beside the next apply), else over its own.

#include <gtest/gtest.h>

#include <string>

#include "connectors/odbc/odbc_store.hpp"
#include "connectors/odbc/odbc_store_internal.hpp"
#include "core/write_batch.hpp"
#include "support/odbc_query.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using core::Field;
using erpsync::testing::Engine;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

// A batch creating records [first, first + n): accounts with their b2b customers and bindings.
core::WriteBatch creating(int first, int n) {
  core::WriteBatch b;
  b.connector = "erp";
  for (int i = first; i < first + n; ++i) {
    core::AccountWrite a;
    a.ref = -i;
    a.external_code = "C-" + std::to_string(i);
    a.set = core::bit(Field::name) | core::bit(Field::owner);
    a.values.name = "Company " + std::to_string(i);
    a.values.owner = "jsmith";
    b.accounts.push_back(a);
    b.customers.push_back({"erp", std::to_string(i), "b2b", -i, std::nullopt, a.values.name, ""});
    b.bindings.push_back(core::BindingWrite{"accounts", std::to_string(i), "account", -i, "h"});
  }
  b.counters.created = n;
  return b;
}

TEST(PostgresStatistics, TheStoreAnalyzesTheTablesAFirstSyncFills) {
  std::string reason;
  auto db = TempDatabase::create(Engine::postgresql, reason);
  if (!db) GTEST_SKIP() << reason;
  OdbcStoreOptions o;
  o.connection = db->connection_string();
  OdbcStore store(o);
  for (const char* t : {"accounts", "customers", "contacts", "bindings", "orders"})
    raw_connection(store).exec_direct(std::string("ALTER TABLE ") + t + " SET (autovacuum_enabled = false)");
  auto statistics = [&] {
    return odbc_scalar(db->connection_string(), "SELECT COUNT(*) FROM pg_stats WHERE tablename = 'bindings'");
  };

  core::BatchKeys keys;
  keys.connector = "erp";
  keys.stream = "accounts";
  keys.codes = {"C-1"};
  auto apply_and_read = [&](const core::WriteBatch& b) {
    store.apply(b);
    store.load_state(keys);
  };
  auto apply_and_read_ahead = [&](const core::WriteBatch& b) {
    store.apply(b);
    ASSERT_NE(store.look_ahead(), nullptr);
    store.look_ahead()->load_state_ahead(keys);
  };

  apply_and_read(creating(1, 600));
  EXPECT_EQ(statistics(), "0");  // 600 created: not yet
  store.apply(creating(601, 600));
  EXPECT_EQ(statistics(), "0");  // 1,200 created: due, at the next read
  store.load_state(keys);
  EXPECT_NE(statistics(), "0");  // analyzed
  EXPECT_EQ(odbc_scalar(db->connection_string(), "SELECT reltuples::bigint FROM pg_class WHERE relname = 'bindings'"),
            "1200");
  // The next ANALYZE waits until as many records again were created (2,400 in all).
  apply_and_read(creating(1201, 1000));
  EXPECT_EQ(odbc_scalar(db->connection_string(), "SELECT reltuples::bigint FROM pg_class WHERE relname = 'bindings'"),
            "1200");
  apply_and_read_ahead(creating(2201, 300));
  EXPECT_EQ(odbc_scalar(db->connection_string(), "SELECT reltuples::bigint FROM pg_class WHERE relname = 'bindings'"),
            "2500");
  // Sampled small (statistics target 10: at most 11 histogram bounds, not the default's 101),
  // and the store's session is back to the server's default target afterwards.
  EXPECT_EQ(odbc_scalar(db->connection_string(),
                        "SELECT COUNT(*) FROM pg_stats WHERE tablename = 'accounts' AND array_length(histogram_bounds, 1) > 11"),
            "0");
  EXPECT_NE(odbc_scalar(db->connection_string(),
                        "SELECT COUNT(*) FROM pg_stats WHERE tablename = 'accounts' AND histogram_bounds IS NOT NULL"),
            "0");
  EXPECT_EQ(raw_connection(store).scalar("SHOW default_statistics_target").value_or(""), "100");
}

}  // namespace
}  // namespace erpsync::connectors::odbc
