// Connector leases on SQLite, PostgreSQL and MariaDB (SPEC §10): the conditional statements of
// connectors/odbc/leases.cpp and the fencing check in OdbcStore's commits. Time passing is
// simulated by moving expires_at in the database (expiry is judged by the server's clock, so
// this is exactly what the passage of time looks like to the code under test).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "connectors/odbc/leases.hpp"
#include "connectors/odbc/odbc.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "core/errors.hpp"
#include "support/odbc_query.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using namespace std::chrono_literals;
using erpsync::testing::Engine;
using erpsync::testing::odbc_scalar;
using erpsync::testing::TempDatabase;

class LeaseTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string reason;
    db_ = TempDatabase::create(GetParam(), reason);
    if (!db_) GTEST_SKIP() << reason;
    store_ = open_store();  // migrates: sync_leases exists from here on
  }
  std::unique_ptr<OdbcStore> open_store() {
    OdbcStoreOptions o;
    o.connection = db_->connection_string();
    return std::make_unique<OdbcStore>(o);
  }
  // A process of its own: a separate connection.
  std::unique_ptr<Connection> connect() {
    auto c = std::make_unique<Connection>(env_);
    c->connect(db_->connection_string());
    return c;
  }
  std::string scalar(const std::string& sql) { return odbc_scalar(db_->connection_string(), sql); }
  // What the TTL running out looks like: expires_at one second behind the server's clock.
  void expire(const std::string& connector) {
    auto c = connect();
    const char* past = GetParam() == Engine::sqlite      ? "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 seconds')"
                       : GetParam() == Engine::postgresql ? "(now() AT TIME ZONE 'UTC') - INTERVAL '1 second'"
                                                          : "UTC_TIMESTAMP(3) - INTERVAL 1 SECOND";
    c->exec(std::string("UPDATE sync_leases SET expires_at = ") + past + " WHERE connector = ?",
            {Param::str(connector)});
  }
  core::WriteBatch cursor_batch(const std::string& cursor) {
    core::WriteBatch b;
    b.connector = "erp";
    b.cursor = core::CursorWrite{"accounts", cursor, std::nullopt, std::nullopt};
    return b;
  }

  std::shared_ptr<Environment> env_ = std::make_shared<Environment>();
  std::unique_ptr<TempDatabase> db_;
  std::unique_ptr<OdbcStore> store_;
};

TEST_P(LeaseTest, TheFirstAcquisitionGetsTokenOneAndAnotherHolderIsToldWhoHasIt) {
  auto a = connect(), b = connect();
  AcquireResult got = acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 30s);
  ASSERT_TRUE(got.lease);
  EXPECT_EQ(got.lease->fencing_token, 1);
  EXPECT_EQ(got.lease->holder, "host-a");

  AcquireResult refused = acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s);
  EXPECT_FALSE(refused.lease);
  ASSERT_TRUE(refused.held_by);
  EXPECT_EQ(refused.held_by->holder, "host-a");
  EXPECT_EQ(refused.held_by->fencing_token, 1);
  EXPECT_FALSE(refused.held_by->expired);
  // Another connector is free for host-b.
  EXPECT_TRUE(acquire_lease(*b, "shop", Claimant{"host-b", "process-1"}, 30s).lease);
  EXPECT_EQ(scalar("SELECT holder FROM sync_leases WHERE connector = 'erp'"), "host-a");
}

TEST_P(LeaseTest, AnInstanceTakesItsOwnLeaseBackAtOnceOnlyFromAProcessThatIsGone) {
  auto before = connect(), after = connect(), other = connect();
  ASSERT_EQ(acquire_lease(*before, "erp", Claimant{"host-a", "process-1"}, 60s).lease->fencing_token, 1);
  std::vector<std::string> asked;  // which holders' processes the check was asked about
  auto alive = [&](const LeaseRow& row) {
    asked.push_back(row.holder + "/" + row.process);
    return false;
  };
  auto gone = [&](const LeaseRow& row) {
    asked.push_back(row.holder + "/" + row.process);
    return true;
  };
  // A live sibling of the same instance (an admin's --once beside the service): refused.
  AcquireResult sibling = acquire_lease(*after, "erp", Claimant{"host-a", "process-2"}, 60s, alive);
  EXPECT_FALSE(sibling.lease);
  ASSERT_TRUE(sibling.held_by);
  EXPECT_EQ(sibling.held_by->process, "process-1");
  // Another instance is never taken over early, whatever its process: the check is not asked.
  EXPECT_FALSE(acquire_lease(*other, "erp", Claimant{"host-b", "process-9"}, 60s, gone).lease);
  EXPECT_EQ(asked, std::vector<std::string>{"host-a/process-1"});
  // The process restarted (the old one is gone), long before the TTL ends: taken back at once.
  AcquireResult again = acquire_lease(*after, "erp", Claimant{"host-a", "process-2"}, 60s, gone);
  ASSERT_TRUE(again.lease);
  EXPECT_EQ(again.lease->fencing_token, 2);  // the old incarnation is fenced off
  EXPECT_EQ(again.lease->process, "process-2");
  EXPECT_FALSE(renew_lease(*before, Lease{"erp", "host-a", 1, "process-1"}, 60s));
  EXPECT_TRUE(renew_lease(*after, *again.lease, 60s));
  EXPECT_EQ(scalar("SELECT process FROM sync_leases WHERE connector = 'erp'"), "process-2");
}

TEST_P(LeaseTest, AnExpiredLeaseIsTakenOverAndTheOldHolderCanNoLongerRenew) {
  auto a = connect(), b = connect();
  const Lease la = *acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 30s).lease;
  EXPECT_TRUE(renew_lease(*a, la, 30s));
  EXPECT_FALSE(acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s).lease);

  expire("erp");
  AcquireResult taken = acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s);
  ASSERT_TRUE(taken.lease);
  EXPECT_EQ(taken.lease->fencing_token, la.fencing_token + 1);
  EXPECT_FALSE(renew_lease(*a, la, 30s));
  EXPECT_TRUE(renew_lease(*b, *taken.lease, 30s));
  AcquireResult back = acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 30s);
  EXPECT_FALSE(back.lease);
  EXPECT_EQ(back.held_by->holder, "host-b");
}

TEST_P(LeaseTest, RenewalExtendsTheLeaseOnTheServersClock) {
  auto a = connect(), b = connect();
  const Lease la = *acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 30s).lease;
  expire("erp");
  // Renewed before anyone took it: it holds again, and host-b is refused.
  ASSERT_TRUE(renew_lease(*a, la, 30s));
  EXPECT_FALSE(acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s).lease);
  auto rows = list_leases(*b);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].expired);
  EXPECT_FALSE(rows[0].released);
}

TEST_P(LeaseTest, AReleasedLeaseIsFreeAtOnceAndItsTokenIsNeverHandedOutAgain) {
  auto a = connect(), b = connect();
  const Lease la = *acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 60s).lease;
  release_lease(*a, la);
  auto rows = list_leases(*b);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].released);
  EXPECT_TRUE(rows[0].expired);
  AcquireResult taken = acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 60s);
  ASSERT_TRUE(taken.lease);
  EXPECT_EQ(taken.lease->fencing_token, 2);
  // Releasing a lease someone else holds by now changes nothing.
  release_lease(*a, la);
  EXPECT_EQ(scalar("SELECT holder FROM sync_leases WHERE connector = 'erp'"), "host-b");
  EXPECT_FALSE(list_leases(*b)[0].expired);
}

TEST_P(LeaseTest, ConcurrentAcquirersOfAFreeConnectorGetExactlyOneWinner) {
  constexpr int kProcesses = 6;
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < kProcesses; ++i) conns.push_back(connect());
  for (int round = 0; round < 2; ++round) {  // round 0: no row yet (inserts race); 1: expired row
    std::atomic<int> winners{0}, errors{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kProcesses; ++i)
      threads.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        try {
          if (acquire_lease(*conns[i], "erp", Claimant{"host-" + std::to_string(i), "process-1"}, 30s).lease) ++winners;
        } catch (const std::exception&) {
          ++errors;  // a lock timeout is an honest answer too; never two winners
        }
      });
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round << ", errors " << errors.load();
    EXPECT_EQ(scalar("SELECT fencing_token FROM sync_leases WHERE connector = 'erp'"), std::to_string(round + 1));
    expire("erp");
  }
}

TEST_P(LeaseTest, AFencedStoreCommitsWhileItHoldsTheLeaseAndRollsBackOnceItIsTakenOver) {
  auto a = connect(), b = connect();
  const Lease la = *acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 30s).lease;
  store_->set_fence(la);
  core::WriteBatch first = cursor_batch("first");
  core::AccountWrite a1;
  a1.ref = -1;
  a1.external_code = "A-1";
  first.accounts.push_back(a1);
  first.bindings.push_back(core::BindingWrite{"accounts", "1", "account", -1, "h"});
  store_->apply(first);
  EXPECT_EQ(store_->load_cursor("erp", "accounts").cursor, "first");

  // host-a pauses past its TTL; host-b takes the connector over.
  expire("erp");
  ASSERT_TRUE(acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s).lease);
  core::WriteBatch late = cursor_batch("late");
  core::AccountWrite acc;
  acc.ref = -1;
  acc.external_code = "LATE-1";
  late.accounts.push_back(acc);
  try {
    store_->apply(late);
    FAIL() << "a commit after the lease was taken over went through";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::lease_lost);
    EXPECT_NE(std::string(e.what()).find("erp"), std::string::npos) << e.what();
  }
  // Nothing of the late batch stayed; the cursor is where host-a left it.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "1");
  EXPECT_EQ(store_->load_cursor("erp", "accounts").cursor, "first");
  // mark_missing is fenced too: the binding of "1" stays unmarked.
  EXPECT_THROW(store_->mark_missing("erp", "accounts", {}), core::SyncError);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE missing_since IS NOT NULL"), "0");
}

TEST_P(LeaseTest, AnOkRunThatEndsAfterATakeoverIsRecordedAsAnError) {
  auto a = connect(), b = connect();
  store_->set_fence(*acquire_lease(*a, "erp", Claimant{"host-a", "process-1"}, 30s).lease);
  const std::int64_t run = store_->begin_run("erp", "accounts", "host-a");
  expire("erp");
  ASSERT_TRUE(acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s).lease);
  try {
    store_->finish_run(run, "ok", core::Counters{}, "");
    FAIL() << "an ok end after the lease was lost was accepted";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::lease_lost);
  }
  const std::string id = std::to_string(run);
  EXPECT_EQ(scalar("SELECT status FROM sync_runs WHERE id = " + id), "error");
  EXPECT_NE(scalar("SELECT message FROM sync_runs WHERE id = " + id).find("lease"), std::string::npos);
  EXPECT_NE(scalar("SELECT finished_at FROM sync_runs WHERE id = " + id), "");
  // A failed run's end needs no lease: it is recorded as it is.
  const std::int64_t failed = store_->begin_run("erp", "accounts", "host-a");
  store_->finish_run(failed, "error", core::Counters{}, "source unreachable");
  EXPECT_EQ(scalar("SELECT status FROM sync_runs WHERE id = " + std::to_string(failed)), "error");
}

TEST_P(LeaseTest, WithoutAFenceTheStoreWritesAsBefore) {
  auto b = connect();
  ASSERT_TRUE(acquire_lease(*b, "erp", Claimant{"host-b", "process-1"}, 30s).lease);
  store_->apply(cursor_batch("unfenced"));  // admin paths and dry runs carry no fence
  EXPECT_EQ(store_->load_cursor("erp", "accounts").cursor, "unfenced");
}

INSTANTIATE_TEST_SUITE_P(Engines, LeaseTest, ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return std::string(erpsync::testing::engine_name(info.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
