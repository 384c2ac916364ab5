// MemoryStore: the reference implementation of the Store contract (store.hpp).

#include "reference_store/memory_store.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "helpers.hpp"

namespace erpsync::core {
namespace {

using namespace erpsync::core::testing;

AccountWrite insert(Ref ref, std::string code) {
  AccountWrite w;
  w.ref = ref;
  w.external_code = std::move(code);
  return w;
}

TEST(MemoryStore, ThrowsConstraintViolationOnADuplicateCodeAndWritesNothing) {
  MemoryStore store;
  seed_account(store, "C-1", "jsmith");
  WriteBatch b;
  b.connector = "erp";
  b.accounts = {insert(-1, "NEW"), insert(-2, "C-1")};
  b.bindings = {{"accounts", "1", "account", -1, "h"}};
  b.cursor = CursorWrite{"accounts", "2026-01-01#1", std::nullopt, std::nullopt};
  EXPECT_THROW(store.apply(b), ConstraintViolation);
  EXPECT_EQ(store.accounts().size(), 1u);
  EXPECT_TRUE(store.bindings().empty());
  EXPECT_FALSE(store.load_cursor("erp", "accounts").exists) << "the cursor stays put";
}

TEST(MemoryStore, LetsTheLoserOfARaceBeReDecidedAsAnUpdate) {
  MemoryStore store;
  const MatchPolicy p = feed_policy();
  const std::vector<IncomingAccount> records{rec("1", "C-1", "jsmith", "", "mine")};
  const StateSnapshot stale = store.load_state(batch_keys(p, records));
  seed_account(store, "C-1", "jsmith", "theirs");  // another writer wins meanwhile
  EXPECT_THROW(store.apply(decide(p, records, stale)), ConstraintViolation);
  const auto retry = sync(store, p, records);
  EXPECT_EQ(outcomes(retry), (std::vector<std::string>{"updated"}));
  EXPECT_EQ(store.accounts().size(), 1u);
  EXPECT_EQ(store.account_by_code("C-1")->name, "mine");
}

TEST(MemoryStore, AppliesCodeChangesInTwoPhasesAroundInserts) {
  MemoryStore store;
  const EntityId a = seed_account(store, "A", "x");
  const EntityId b = seed_account(store, "B", "x");
  WriteBatch w;
  w.connector = "erp";
  w.code_changes = {{a, "A", "B"}, {b, "B", "C"}};
  w.accounts = {insert(-1, "A")};  // takes the code A released in phase 1
  store.apply(w);
  EXPECT_EQ(store.account(a)->external_code, "B");
  EXPECT_EQ(store.account(b)->external_code, "C");
  EXPECT_NE(store.account_by_code("A"), nullptr);
  EXPECT_NE(store.account_by_code("A")->id, a);
}

TEST(MemoryStore, RefusesACodeChangeIntoAHeldCode) {
  MemoryStore store;
  const EntityId a = seed_account(store, "A", "x");
  seed_account(store, "B", "x");
  WriteBatch w;
  w.connector = "erp";
  w.code_changes = {{a, "A", "B"}};
  EXPECT_THROW(store.apply(w), ConstraintViolation);
  EXPECT_EQ(store.account(a)->external_code, "A") << "phase 1 rolled back too";
}

TEST(MemoryStore, RefusesAnAdoptionCodeThatIsTaken) {
  MemoryStore store;
  seed_account(store, "C-1", "x");
  const EntityId hand = seed_account(store, "", "x");
  WriteBatch w;
  w.connector = "erp";
  AccountWrite adopt;
  adopt.ref = hand;
  adopt.set_code = true;
  adopt.external_code = "C-1";
  w.accounts = {adopt};
  EXPECT_THROW(store.apply(w), ConstraintViolation);
  EXPECT_EQ(store.account(hand)->external_code, "");
}

TEST(MemoryStore, ThrowsConstraintViolationWhenAnUpdatedAccountWasDeleted) {
  MemoryStore store;
  WriteBatch w;
  w.connector = "erp";
  AccountWrite upd;
  upd.ref = 77;
  upd.set = bit(Field::name);
  w.accounts = {upd};
  EXPECT_THROW(store.apply(w), ConstraintViolation);
}

TEST(MemoryStore, ResolvesRefsAcrossAccountsContactsCustomersAndBindings) {
  MemoryStore store;
  WriteBatch w;
  w.connector = "erp";
  AccountWrite parent = insert(-1, "P");
  AccountWrite child = insert(-2, "C");
  child.set_member_of = true;
  child.member_of = -1;
  child.member_of_code = "P";
  w.accounts = {child, parent};  // a link to a row inserted later in the same batch
  ContactWrite c;
  c.ref = -3;
  c.account = -2;
  c.first_name = "Ann";
  c.is_default = true;
  w.contacts = {c};
  w.customers = {{"erp", "r2", "b2b", -2, -3, "Child", ""}};
  w.bindings = {{"accounts", "r2", "account", -2, "h2"}, {"contacts", "k", "contact", -3, ""}};
  store.apply(w);
  const AccountRow* p = store.account_by_code("P");
  const AccountRow* ch = store.account_by_code("C");
  EXPECT_EQ(ch->member_of_id, p->id);
  const BindingRow* kb = store.binding("erp", "contacts", "k");
  EXPECT_EQ(store.contacts().at(kb->entity_id).account_id, ch->id);
  EXPECT_TRUE(store.contacts().at(kb->entity_id).is_default);
  EXPECT_EQ(store.customer("erp", "r2")->contact_id, kb->entity_id);
  EXPECT_EQ(store.binding("erp", "accounts", "r2")->entity_id, ch->id);
}

TEST(MemoryStore, LoadsEveryPartOfTheSnapshotContract) {
  MemoryStore store;
  const EntityId root = seed_account(store, "ROOT", "x");
  AccountRow mid;
  mid.external_code = "MID";
  mid.owner = "x";
  mid.member_of_id = root;
  const EntityId mid_id = store.insert_account(mid);
  AccountRow leaf;
  leaf.external_code = "LEAF";
  leaf.owner = "x";
  leaf.member_of_id = mid_id;
  const EntityId leaf_id = store.insert_account(leaf);
  AccountRow waiting;
  waiting.external_code = "W";
  waiting.member_of_code = "NEWPARENT";
  const EntityId waiting_id = store.insert_account(waiting);
  const EntityId uncoded = seed_account(store, "", "x", " Acme  Ltd", "DE1");
  const EntityId bound = seed_account(store, "B", "x");
  ContactRow dc;
  dc.account_id = bound;
  dc.is_default = true;
  store.insert_contact(dc);
  store.insert_binding({"erp", "accounts", "r1", "account", bound, "h1", std::nullopt});
  store.insert_binding({"erp", "accounts", "r-other", "account", bound, "h", std::nullopt});
  store.insert_binding({"erp", "contacts", "k1", "contact", 5, "", 3});
  store.insert_binding({"shop", "accounts", "r1", "account", root, "", std::nullopt});
  seed_account(store, "UNRELATED", "x");

  WriteBatch rej;
  rej.connector = "erp";
  rej.rejections = {{"accounts", "r1", "B", RejectReason::code_in_use, "m", "", "", "{}", "ph"}};
  store.apply(rej);

  BatchKeys k;
  k.connector = "erp";
  k.stream = "accounts";
  k.remote_ids = {"r1"};
  k.contact_remote_ids = {"k1"};
  k.codes = {"LEAF", "NEWPARENT"};
  k.adopt_names = {"acme ltd"};
  k.adopt_vats = {"DE1"};
  const StateSnapshot s = store.load_state(k);
  for (EntityId id : {root, mid_id, leaf_id, waiting_id, uncoded, bound})
    EXPECT_TRUE(s.accounts.contains(id)) << "account " << id;
  EXPECT_EQ(s.accounts.size(), 6u) << "nothing unrelated";
  EXPECT_EQ(s.account_by_code.at("ROOT"), root) << "ancestors come with their codes";
  EXPECT_EQ(s.accounts.at(mid_id).member_of_id, root);
  EXPECT_EQ(s.pending_children.at("NEWPARENT"), std::vector<EntityId>{waiting_id});
  EXPECT_EQ(s.uncoded_by_name.at("acme ltd"), std::vector<EntityId>{uncoded});
  EXPECT_EQ(s.uncoded_by_vat.at("DE1"), std::vector<EntityId>{uncoded});
  EXPECT_EQ(s.bindings.at("r1").entity_id, bound);
  EXPECT_EQ(s.bindings.at("r1").payload_hash, "h1");
  EXPECT_TRUE(s.contact_bindings.at("k1").missing);
  auto rids = s.remote_ids_by_account.at(bound);
  std::sort(rids.begin(), rids.end());
  EXPECT_EQ(rids, (std::vector<std::string>{"r-other", "r1"}));
  EXPECT_FALSE(s.remote_ids_by_account.contains(root)) << "another connector's bindings are not ours";
  EXPECT_TRUE(s.accounts.at(bound).has_default_contact);
  ASSERT_EQ(s.open_rejections.at("r1").size(), 1u);
  EXPECT_EQ(s.open_rejections.at("r1")[0].reason, RejectReason::code_in_use);
  EXPECT_EQ(s.open_rejections.at("r1")[0].payload_hash, "ph");
}

TEST(MemoryStore, UpsertsRejectionsAndResolvesAllButTheKeptReasons) {
  MemoryStore store;
  auto batch = [](std::vector<RejectionWrite> rs, std::vector<RejectionResolve> res = {}) {
    WriteBatch b;
    b.connector = "erp";
    b.rejections = std::move(rs);
    b.resolves = std::move(res);
    return b;
  };
  const RejectionWrite first{"accounts", "r", "C", RejectReason::code_owned_by_other_user, "m1", "carol", "dave", "{}", "h1"};
  const RejectionWrite cycle{"accounts", "r", "C", RejectReason::member_of_cycle, "c", "", "dave", "{}", "h1"};
  store.apply(batch({first, cycle}));
  const std::int64_t t1 = store.now();
  RejectionWrite changed = first;
  changed.payload_hash = "h2";
  changed.message = "m2";
  store.apply(batch({first}));
  store.apply(batch({changed}));
  const RejectionRow* r = store.rejection("erp", "accounts", "r", RejectReason::code_owned_by_other_user);
  EXPECT_EQ(r->times_seen, 3);
  EXPECT_EQ(r->first_seen, t1);
  EXPECT_EQ(r->last_seen, store.now());
  EXPECT_EQ(r->message, "m2");
  EXPECT_EQ(r->payload_hash, "h2");
  store.apply(batch({}, {{"accounts", "r", {RejectReason::member_of_cycle}}}));
  EXPECT_TRUE(store.rejection("erp", "accounts", "r", RejectReason::code_owned_by_other_user)->resolved_at);
  EXPECT_FALSE(store.rejection("erp", "accounts", "r", RejectReason::member_of_cycle)->resolved_at);
  store.apply(batch({first}));
  EXPECT_FALSE(store.rejection("erp", "accounts", "r", RejectReason::code_owned_by_other_user)->resolved_at)
      << "raised again: open again";
}

TEST(MemoryStore, ListsOnlyOpenReplayableRejectionsOldestFirst) {
  MemoryStore store;
  auto one = [&](std::string stream, std::string rid, RejectReason reason) {
    WriteBatch b;
    b.connector = "erp";
    b.rejections = {{stream, rid, "", reason, "", "", "", "{}", "h"}};
    store.apply(b);
  };
  one("accounts", "b", RejectReason::unknown_owner);
  one("accounts", "a", RejectReason::ambiguous_match);
  one("accounts", "c", RejectReason::code_in_use);            // only the source can fix it
  one("accounts", "d", RejectReason::missing_external_code);  // idem
  one("contacts", "e", RejectReason::account_not_found);      // another stream
  one("accounts", "f", RejectReason::account_owned_by_other_user);
  WriteBatch resolve;
  resolve.connector = "erp";
  resolve.resolves = {{"accounts", "f", {}}};
  store.apply(resolve);
  std::vector<std::string> ids;
  for (const auto& r : store.replayable_rejections("erp", "accounts")) ids.push_back(r.remote_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(store.replayable_rejections("other", "accounts").empty());
}

TEST(MemoryStore, MarksBoundRecordsAbsentFromASnapshotAsMissing) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "A"), rec("2", "B"), rec("3", "C")});
  EXPECT_EQ(store.mark_missing("erp", "accounts", {"1", "2", "3"}), 0);
  EXPECT_EQ(store.mark_missing("erp", "accounts", {"1"}), 2);
  const auto since = store.binding("erp", "accounts", "2")->missing_since;
  ASSERT_TRUE(since);
  EXPECT_EQ(store.mark_missing("erp", "accounts", {"1"}), 2);
  EXPECT_EQ(store.binding("erp", "accounts", "2")->missing_since, since) << "set once";
  EXPECT_FALSE(store.binding("erp", "accounts", "1")->missing_since);
  EXPECT_EQ(store.mark_missing("other", "accounts", {}), 0);
  EXPECT_EQ(store.accounts().size(), 3u) << "never deleted";
}

TEST(MemoryStore, KeepsCursorsAndRuns) {
  MemoryStore store;
  WriteBatch b;
  b.connector = "erp";
  b.cursor = CursorWrite{"accounts", "c1", 9, "abc"};
  store.apply(b);
  const CursorState c = store.load_cursor("erp", "accounts");
  EXPECT_TRUE(c.exists);
  EXPECT_EQ(c.cursor, "c1");
  EXPECT_EQ(c.snapshot_size, 9);
  EXPECT_EQ(c.content_hash, "abc");
  const auto run = store.begin_run("erp", "accounts", "host-a");
  EXPECT_EQ(store.runs().at(run).status, "running");
  Counters counters;
  counters.count(Outcome::created);
  store.finish_run(run, "ok", counters, "");
  EXPECT_EQ(store.runs().at(run).status, "ok");
  EXPECT_EQ(store.runs().at(run).counters.created, 1);
  EXPECT_GT(*store.runs().at(run).finished_at, store.runs().at(run).started_at);
}

TEST(MemoryStore, UndoesEverythingAtTheEndOfADryRun) {
  MemoryStore store(/*dry_run=*/true);
  seed_account(store, "X-9", "carol");
  EXPECT_EQ(store.begin_run("erp", "accounts", "h"), 0) << "no sync_runs row";
  sync(store, feed_policy(), {rec("1", "C-1")});
  sync(store, feed_policy(), {rec("2", "C-2")});
  EXPECT_EQ(store.accounts().size(), 3u) << "the dry run sees its own writes";
  store.end_dry_run();
  EXPECT_EQ(store.accounts().size(), 1u);
  EXPECT_TRUE(store.bindings().empty());
  EXPECT_TRUE(store.runs().empty());
}

}  // namespace
}  // namespace erpsync::core
