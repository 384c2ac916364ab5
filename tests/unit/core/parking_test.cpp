// SPEC §3 rule 10: records that wait for their Account are parked, retried at the start of
// every run, written as soon as the Account appears, rejected account_not_found after
// park_ttl; a retry that ends parked again writes and counts nothing.

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

RunOptions options(std::chrono::seconds ttl = std::chrono::hours(24 * 7)) {
  RunOptions o;
  o.batch_size = 2;
  o.park_ttl = ttl;
  return o;
}

template <class Record>
SyncReport run(MemoryStore& store, const std::string& stream, std::vector<Page<Record>> pages,
               const RunOptions& o = options()) {
  ScriptedSource<Record> source(stream);
  source.pages = std::move(pages);
  SyncEvents events;
  return run_stream(shop_policy(stream), source, store, o, events);
}

Page<IncomingCustomer> customers_page(std::vector<IncomingCustomer> c, std::string cursor) {
  Page<IncomingCustomer> p;
  p.records = std::move(c);
  p.cursor_after = std::move(cursor);
  return p;
}

Page<IncomingOrder> orders_page(std::vector<IncomingOrder> o, std::string cursor) {
  Page<IncomingOrder> p;
  p.records = std::move(o);
  p.cursor_after = std::move(cursor);
  return p;
}

TEST(Parking, ACustomerWhoseCodeNoAccountHasIsParkedWithItsPayload) {
  MemoryStore store;
  SyncReport r = run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  EXPECT_EQ(r.status, core::RunStatus::ok);
  EXPECT_EQ(r.counters.parked, 1);
  EXPECT_TRUE(r.counters.balanced());
  const ParkedRow* p = store.parked_row("shop", "customers", "1001");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->waits_for, "C-9");
  EXPECT_EQ(customer_from_payload(p->payload)->external_code, "C-9");
  EXPECT_EQ(store.customer("shop", "1001"), nullptr);
  EXPECT_EQ(store.cursors().at({"shop", "customers"}).cursor, "c1");
}

TEST(Parking, ARetryThatEndsParkedAgainWritesAndCountsNothing) {
  MemoryStore store;
  run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  const auto before = store.now();
  SyncReport r = run(store, "customers", std::vector<Page<IncomingCustomer>>{});
  EXPECT_EQ(r.counters.fetched, 0);
  EXPECT_EQ(r.counters.parked, 0);
  EXPECT_EQ(store.now(), before + 2);  // begin_run and finish_run only: no apply
  EXPECT_NE(store.parked_row("shop", "customers", "1001"), nullptr);
}

TEST(Parking, ParkedCustomerAndItsOrdersAreWrittenAsSoonAsTheAccountAppears) {
  MemoryStore store;
  run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  SyncReport o = run(store, "orders", std::vector{orders_page({order("3101", "1001"), order("3102", std::nullopt)}, "o1")});
  EXPECT_EQ(o.counters.parked, 1);
  EXPECT_EQ(o.counters.created, 1);  // the guest order
  EXPECT_EQ(store.parked_row("shop", "orders", "3101")->waits_for, "customer 1001");
  EXPECT_EQ(store.order("shop", "3101"), nullptr);

  const EntityId acct = seed_account(store, "C-9", "jsmith");  // the ERP brings the account
  SyncReport c = run(store, "customers", std::vector<Page<IncomingCustomer>>{});
  EXPECT_EQ(c.counters.fetched, 1);
  EXPECT_EQ(c.counters.created, 1);
  EXPECT_EQ(store.parked_row("shop", "customers", "1001"), nullptr);
  EXPECT_EQ(store.customer("shop", "1001")->account_id, acct);

  o = run(store, "orders", std::vector<Page<IncomingOrder>>{});
  EXPECT_EQ(o.counters.fetched, 1);
  EXPECT_EQ(o.counters.created, 1);
  EXPECT_TRUE(o.counters.balanced());
  EXPECT_EQ(store.order("shop", "3101")->account_id, acct);
  EXPECT_TRUE(store.parked().empty());
}

TEST(Parking, AfterParkTtlAParkedRecordBecomesAnAccountNotFoundRejection) {
  MemoryStore store;
  run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")}, options(std::chrono::seconds(100)));
  store.set_wall_clock(99);
  SyncReport r = run(store, "customers", std::vector<Page<IncomingCustomer>>{}, options(std::chrono::seconds(100)));
  EXPECT_EQ(r.counters.fetched, 0);
  store.set_wall_clock(100);
  r = run(store, "customers", std::vector<Page<IncomingCustomer>>{}, options(std::chrono::seconds(100)));
  EXPECT_EQ(r.counters.fetched, 1);
  EXPECT_EQ(r.counters.rejected, 1);
  EXPECT_EQ(store.parked_row("shop", "customers", "1001"), nullptr);
  const RejectionRow* rej = store.rejection("shop", "customers", "1001", RejectReason::account_not_found);
  ASSERT_NE(rej, nullptr);
  EXPECT_FALSE(rej->resolved_at);

  // Replayed at the next run: still no account → nothing written, nothing counted.
  r = run(store, "customers", std::vector<Page<IncomingCustomer>>{}, options(std::chrono::seconds(100)));
  EXPECT_EQ(r.counters.fetched, 0);
  // The source sending it again unchanged bumps the rejection rather than parking anew; it
  // ended as before, so the run counts it unchanged.
  r = run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c2")}, options(std::chrono::seconds(100)));
  EXPECT_EQ(r.counters.rejected, 0);
  EXPECT_EQ(r.counters.unchanged, 1);
  EXPECT_EQ(store.parked_row("shop", "customers", "1001"), nullptr);
  EXPECT_EQ(store.rejection("shop", "customers", "1001", RejectReason::account_not_found)->times_seen, 2);

  // The account appears: the replay syncs it and resolves the rejection.
  seed_account(store, "C-9", "jsmith");
  r = run(store, "customers", std::vector<Page<IncomingCustomer>>{}, options(std::chrono::seconds(100)));
  EXPECT_EQ(r.counters.created, 1);
  EXPECT_TRUE(store.rejection("shop", "customers", "1001", RejectReason::account_not_found)->resolved_at);
  EXPECT_NE(store.customer("shop", "1001"), nullptr);
}

TEST(Parking, ACustomerSeenAgainWhileParkedIsCountedParkedAndKeepsItsParkedAt) {
  MemoryStore store;
  run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  store.set_wall_clock(50);
  SyncReport r = run(store, "customers", std::vector{customers_page({customer("1001", "C-9", "Anne")}, "c2")});
  EXPECT_EQ(r.counters.parked, 1);
  EXPECT_EQ(r.counters.fetched, 1);
  const ParkedRow* p = store.parked_row("shop", "customers", "1001");
  EXPECT_EQ(p->parked_at, 0);
  EXPECT_EQ(customer_from_payload(p->payload)->first_name, "Anne");
}

TEST(Parking, AParkedCustomerThatLosesItsCodeGetsItsOwnAccountAndIsUnparked) {
  MemoryStore store;
  run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  SyncReport r = run(store, "customers", std::vector{customers_page({customer("1001", "")}, "c2")});
  EXPECT_EQ(r.counters.created, 1);
  EXPECT_TRUE(store.parked().empty());
  EXPECT_EQ(store.account(store.customer("shop", "1001")->account_id)->owner, "ecommerce");
}

TEST(CommerceEngine, CommitsTheCursorWithEachPageAndKeepsCountersBalanced) {
  MemoryStore store;
  seed_account(store, "C-1", "carol");
  SyncReport r = run(store, "customers", std::vector
                     {customers_page({customer("1", "C-1"), customer("2", ""), customer("3", "C-404")}, "p1"),
                      customers_page({customer("4", "C-1"), customer("4", "C-1", "Again")}, "p2")});
  EXPECT_EQ(r.status, core::RunStatus::ok);
  EXPECT_TRUE(r.counters.balanced());
  EXPECT_EQ(r.counters.fetched, 5);
  EXPECT_EQ(r.counters.created, 3);
  EXPECT_EQ(r.counters.parked, 1);
  EXPECT_EQ(r.counters.superseded, 1);
  EXPECT_EQ(r.cursor, "p2");
  EXPECT_EQ(store.cursors().at({"shop", "customers"}).cursor, "p2");
  EXPECT_EQ(store.runs().rbegin()->second.counters.fetched, 5);
}


// SPEC §4 "re-read rows are unchanged", §3 "Counters": a cursor-read source re-reading a record
// (the overlap) that ends exactly as before — parked again for the same, or rejected again for
// the same reason with the same payload — counts it `unchanged`, never as a new parking or
// rejection; a changed record is counted as what it becomes. Every record keeps one outcome.
TEST(Counting, ARecordReReadThatEndsAsBeforeIsUnchangedNotANewParkingOrRejection) {
  MemoryStore store;
  SyncReport first = run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  ASSERT_EQ(first.counters.parked, 1);
  SyncReport again = run(store, "customers", std::vector{customers_page({customer("1001", "C-9")}, "c1")});
  EXPECT_EQ(again.counters.fetched, 1);
  EXPECT_EQ(again.counters.parked, 0);
  EXPECT_EQ(again.counters.unchanged, 1);
  EXPECT_TRUE(again.counters.balanced());
  EXPECT_NE(store.parked_row("shop", "customers", "1001"), nullptr) << "still parked";
  // Changed while parked: a new parking of the new payload.
  SyncReport changed = run(store, "customers", std::vector{customers_page({customer("1001", "C-9", "Anne")}, "c2")});
  EXPECT_EQ(changed.counters.parked, 1);
  EXPECT_EQ(changed.counters.unchanged, 0);

  // A company record rejected (no code), read again unchanged through a cursor: unchanged, the
  // rejection's times_seen counting the sighting; as a snapshot: rejected again (Appendix A).
  auto companies = [&](bool snapshot, std::string name) {
    ScriptedSource<IncomingAccount> source("accounts");
    source.snapshot = snapshot;
    Page<IncomingAccount> page;
    page.records = {rec("5", "", "jsmith", "", std::move(name))};
    page.cursor_after = "k1";
    source.pages = {page};
    SyncEvents events;
    return run_stream(feed_policy(), source, store, options(), events);
  };
  SyncReport r1 = companies(false, "No Code Ltd");
  EXPECT_EQ(r1.counters.rejected, 1);
  SyncReport r2 = companies(false, "No Code Ltd");
  EXPECT_EQ(r2.counters.rejected, 0);
  EXPECT_EQ(r2.counters.unchanged, 1);
  EXPECT_TRUE(r2.counters.balanced());
  EXPECT_EQ(store.rejection("erp", "accounts", "5", RejectReason::missing_external_code)->times_seen, 2);
  SyncReport r3 = companies(false, "No Code Ltd.");  // changed: a new version of the rejection
  EXPECT_EQ(r3.counters.rejected, 1);
  SyncReport r4 = companies(true, "No Code Ltd.");
  EXPECT_EQ(r4.counters.rejected, 1) << "a snapshot counts its refused records";
  EXPECT_EQ(r4.counters.unchanged, 0);
}

}  // namespace
}  // namespace erpsync::core::testing
