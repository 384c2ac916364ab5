// The quiet shortcut (Store::load_quiet_state) decides exactly as the full snapshot does: the
// same runs go through two databases of one engine, one store with the shortcut and one
// without, and every report, decision and row must come out the same — through quiet
// re-syncs, open rejections, pending and linked parents, and the CRM editing owners, codes,
// links and deleting accounts behind the daemon's back.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/odbc/odbc_store.hpp"
#include "core/engine.hpp"
#include "support/odbc_query.hpp"
#include "support/side_by_side.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using core::Field;
using erpsync::testing::Engine;
using erpsync::testing::odbc_query;
using erpsync::testing::TempDatabase;

core::IncomingAccount rec(std::string rid, std::string code, std::string parent = "", std::string name = "",
                          std::string owner = "jsmith") {
  return erpsync::testing::company_record(std::move(rid), std::move(code), std::move(parent), std::move(name),
                                          std::move(owner));
}

// One page of records, no cursor; a full snapshot (of known size) or not. `opens_ahead`:
// begin_while() gives the caller the opening's time, as a source opening on another thread
// does, with `gave_nothing` as the opening's answer.
class ListSource final : public core::AccountSource {
 public:
  ListSource(std::vector<core::IncomingAccount> records, bool snapshot, bool opens_ahead = false,
             bool gave_nothing = false)
      : records_(std::move(records)), snapshot_(snapshot), opens_ahead_(opens_ahead), gave_nothing_(gave_nothing) {}
  core::SourceStart begin_while(const core::CursorState& cursor, const Meanwhile& meanwhile) override {
    if (opens_ahead_) meanwhile([this] { return gave_nothing_; });
    return begin(cursor);
  }
  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return snapshot_; }
  core::SourceStart begin(const core::CursorState&) override {
    done_ = false;
    core::SourceStart start;
    if (snapshot_) start.snapshot_size = static_cast<std::int64_t>(records_.size());
    return start;
  }
  std::optional<core::SourcePage> next_page() override {
    if (done_) return std::nullopt;
    done_ = true;
    core::SourcePage page;
    page.records = records_;
    return page;
  }

 private:
  std::string stream_ = "accounts";
  std::vector<core::IncomingAccount> records_;
  bool snapshot_, opens_ahead_, gave_nothing_;
  bool done_ = false;
};

// Counts how the engine read its state.
class CountingStore final : public core::Store, public core::QuietReads {
 public:
  explicit CountingStore(core::Store& s) : s_(s) {}
  int full_loads = 0, quiet_loads = 0, quiet_answers = 0, prefetches = 0;
  std::size_t full_records = 0;  // the remote ids of every load_state

  core::CursorState load_cursor(const std::string& c, const std::string& st) override { return s_.load_cursor(c, st); }
  core::StateSnapshot load_state(const core::BatchKeys& k) override {
    ++full_loads;
    full_records += k.remote_ids.size();
    return s_.load_state(k);
  }
  std::optional<core::StateSnapshot> load_quiet_state(const core::BatchKeys& k) override {
    ++quiet_loads;
    auto st = s_.quiet_reads()->load_quiet_state(k);
    if (st) ++quiet_answers;
    return st;
  }
  void prefetch_quiet_stream(const std::string& c, const std::string& st, std::size_t budget,
                             const std::function<bool()>& give_up) override {
    ++prefetches;
    s_.quiet_reads()->prefetch_quiet_stream(c, st, budget, give_up);
  }
  core::QuietReads* quiet_reads() override { return s_.quiet_reads() ? this : nullptr; }
  core::CommerceState load_commerce_state(const core::CommerceKeys& k) override { return s_.load_commerce_state(k); }
  std::vector<core::StoredParked> parked_records(const std::string& c, const std::string& st,
                                                 std::chrono::seconds ttl) override {
    return s_.parked_records(c, st, ttl);
  }
  void apply(const core::WriteBatch& b) override { s_.apply(b); }
  std::int64_t begin_run(const std::string& c, const std::string& st, const std::string& i) override {
    return s_.begin_run(c, st, i);
  }
  void finish_run(std::int64_t id, const std::string& status, const core::Counters& c, const std::string& m) override {
    s_.finish_run(id, status, c, m);
  }
  std::vector<core::StoredRejection> replayable_rejections(const std::string& c, const std::string& st) override {
    return s_.replayable_rejections(c, st);
  }
  std::int64_t mark_missing(const std::string& c, const std::string& st,
                            const core::KeySet& seen) override {
    return s_.mark_missing(c, st, seen);
  }

 private:
  core::Store& s_;
};

using Recorder = erpsync::testing::DecisionLog;

// How a run reads its records: a list in batches of two (the engine never prefetches it), or
// a full snapshot in batches of one (it prefetches once the first batch is quiet).
struct Way {
  bool snapshot = false;
  bool opens_ahead = false;      // the prefetch comes while the source opens (else after batch 1)
  bool opening_gave_nothing = false;
  // Run on the side's database after the second batch is committed: in a quiet snapshot, just
  // after the prefetch (which follows the first).
  std::string crm_after_second_batch;
  std::size_t batch_size = 0;  // 0: as above
};

// One database and its store.
struct Side {
  std::unique_ptr<TempDatabase> db;
  std::unique_ptr<OdbcStore> store;
  CountingStore* counting = nullptr;
};

class QuietShortcutTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    for (bool quiet : {true, false}) {
      std::string reason;
      Side side;
      side.db = TempDatabase::create(GetParam(), reason);
      if (!side.db) GTEST_SKIP() << reason;
      OdbcStoreOptions o;
      o.connection = side.db->connection_string();
      o.quiet_shortcut = quiet;
      side.store = std::make_unique<OdbcStore>(o);
      (quiet ? quiet_ : full_) = std::move(side);
    }
  }

  struct RunResult {
    std::string report;
    std::vector<std::string> decisions;
    int full_loads = 0, quiet_loads = 0, quiet_answers = 0, prefetches = 0;
    std::size_t full_records = 0;
  };

  static RunResult run(Side& side, const std::vector<core::IncomingAccount>& records, const Way& way = {}) {
    core::MatchPolicy policy;
    policy.connector = "erp";
    policy.stream = "accounts";
    core::RunOptions options;
    options.batch_size = way.batch_size ? way.batch_size : way.snapshot ? 1 : 2;  // several batches: quiet ones beside ones that are not
    options.instance = "test";
    ListSource source(records, way.snapshot, way.opens_ahead, way.opening_gave_nothing);
    CountingStore counting(*side.store);
    Recorder events;
    if (!way.crm_after_second_batch.empty())
      events.after_second_batch = [&] { odbc_query(side.db->connection_string(), way.crm_after_second_batch); };
    core::SyncReport report = core::run_stream(policy, source, counting, options, events);
    EXPECT_EQ(report.status, core::RunStatus::ok) << report.message;
    RunResult r;
    report.duration_ms = 0;
    report.run_id = 0;
    r.report = report.to_line();
    r.decisions = events.lines;
    r.full_loads = counting.full_loads;
    r.quiet_answers = counting.quiet_answers;
    r.quiet_loads = counting.quiet_loads;
    r.prefetches = counting.prefetches;
    r.full_records = counting.full_records;
    return r;
  }

  // Both databases' rows that matter, ids replaced by codes.
  std::string rows(Side& side) const { return erpsync::testing::company_rows(side.db->connection_string(), GetParam()); }

  // Runs `records` through both sides and expects the same everything.
  RunResult both(const std::vector<core::IncomingAccount>& records, const Way& way = {}) {
    RunResult q = run(quiet_, records, way);
    RunResult f = run(full_, records, way);
    EXPECT_EQ(q.report, f.report);
    EXPECT_EQ(q.decisions, f.decisions);
    EXPECT_EQ(rows(quiet_), rows(full_));
    EXPECT_EQ(f.quiet_answers, 0);  // the store without the shortcut never offers it
    return q;
  }

  // The same SQL on both databases (the CRM at work).
  void crm(const std::string& sql) {
    for (Side* s : {&quiet_, &full_}) odbc_query(s->db->connection_string(), sql);
  }

  void few_changed_in_each_batch(bool opens_ahead);

  Side quiet_, full_;
};

std::vector<core::IncomingAccount> companies() {
  return {rec("1", "ROOT"), rec("2", "CHILD", "ROOT"), rec("3", "ORPHAN", "NOT-YET"), rec("4", "LEAF", "CHILD"),
          rec("5", "PLAIN"), rec("6", "OTHER")};
}

TEST_P(QuietShortcutTest, AQuietReSyncDecidesAsTheFullSnapshotWithoutReadingIt) {
  RunResult first = both(companies());
  EXPECT_EQ(first.quiet_answers, 0);  // nothing bound yet: every batch read in full

  RunResult again = both(companies());
  EXPECT_NE(again.report.find("unchanged=6"), std::string::npos) << again.report;
  // Batches (1,2) and (5,6) are quiet. (3,4): ORPHAN waits for NOT-YET — it is a pending child,
  // but of a code no bound account of the batch holds, so that batch is quiet too.
  EXPECT_EQ(again.quiet_answers, 3);
  EXPECT_EQ(again.full_loads, 0);
}

// The engine predicts from the last run's counters whether the quiet shortcut will pay: never in
// the very first run (nothing is bound), after a first load yes, and after a run that changed
// half its records no (it takes three quarters unchanged): the first batch goes straight to
// the full snapshot, and the shortcut is only tried again every kRetryEvery-th batch.
TEST_P(QuietShortcutTest, TheLastRunsCountersSayWhetherTheFirstBatchTriesTheQuietShortcut) {
  RunResult first = both(companies());
  EXPECT_EQ(first.quiet_loads, 0);  // the first sync: not even tried
  RunResult again = both(companies());
  EXPECT_EQ(again.quiet_loads, 3);  // after a first load: every batch tried, and quiet

  auto renamed = [](int round) {
    std::vector<core::IncomingAccount> rs = companies();
    for (std::size_t i = 0; i < rs.size(); i += 2) rs[i].set(Field::name, "Renamed " + std::to_string(round));
    return rs;
  };
  RunResult busy = both(renamed(1));  // after a quiet run: tried, and not quiet anywhere
  EXPECT_NE(busy.report.find("updated=3"), std::string::npos) << busy.report;
  // Half of each batch unchanged: the renamed record is read alone (split_unchanged), except in
  // (1,2), whose unchanged CHILD reads the renamed ROOT: that batch is then read in full.
  EXPECT_EQ(busy.full_loads, 4);
  EXPECT_EQ(busy.full_records, 1u + 2u + 1u + 1u);
  RunResult busy_again = both(renamed(2));  // after that run: not tried (3 batches < kRetryEvery)
  EXPECT_NE(busy_again.report.find("updated=3"), std::string::npos) << busy_again.report;
  EXPECT_EQ(busy_again.quiet_loads, 0);
  EXPECT_EQ(busy_again.full_loads, 3);
}

TEST_P(QuietShortcutTest, OpenRejectionsPendingChildrenAndNewRecordsTakeTheFullSnapshot) {
  std::vector<core::IncomingAccount> records = companies();
  records.push_back(rec("7", ""));  // no code: rejected, stays open
  records.push_back(rec("8", "LATE", "PLAIN"));
  both(records);
  both(records);  // batch (7,8) has an open rejection: read in full

  // A pending child of a bound account's code: NOT-YET arrives, its batch links ORPHAN.
  records.push_back(rec("9", "NOT-YET"));
  RunResult arrival = both(records);
  EXPECT_NE(arrival.report.find("created=1"), std::string::npos) << arrival.report;
  both(records);
}

TEST_P(QuietShortcutTest, CrmEditsBehindTheDaemonAreSeenAsTheFullSnapshotSeesThem) {
  both(companies());
  // Another user takes ROOT: its record is rejected (code owned by another user).
  crm("UPDATE accounts SET owner = 'mallory' WHERE external_code = 'ROOT'");
  // PLAIN's account is deleted: its record creates it again.
  crm("DELETE FROM customers WHERE account_id IN (SELECT id FROM accounts WHERE external_code = 'PLAIN')");
  crm("DELETE FROM accounts WHERE external_code = 'PLAIN'");
  // OTHER's code is changed in the CRM: the record's code is now another account's question.
  crm("UPDATE accounts SET external_code = 'RENAMED' WHERE external_code = 'OTHER'");
  RunResult after = both(companies());
  EXPECT_EQ(after.report.find("unchanged=6"), std::string::npos) << after.report;
  both(companies());

  // ROOT given back: the record is unchanged and its open rejection is resolved.
  crm("UPDATE accounts SET owner = 'jsmith' WHERE external_code = 'ROOT'");
  both(companies());
  EXPECT_EQ(odbc_query(quiet_.db->connection_string(),
                       "SELECT COUNT(*) FROM sync_rejections WHERE remote_id = '1' AND resolved_at IS NULL")[0][0],
            "0");
  // CHILD's link cleared in the CRM: it waits for ROOT again, and ROOT's record links it back.
  crm("UPDATE accounts SET member_of_id = NULL WHERE external_code = 'CHILD'");
  both(companies());
  EXPECT_EQ(odbc_query(quiet_.db->connection_string(),
                       "SELECT COUNT(*) FROM accounts WHERE external_code = 'CHILD' AND member_of_id IS NULL")[0][0],
            "0");
}

TEST_P(QuietShortcutTest, ACycleMadeInTheCrmIsRefusedAlike) {
  both(companies());
  // ROOT made a child of LEAF (LEAF → CHILD → ROOT): CHILD's link to ROOT now closes a cycle.
  crm("UPDATE accounts SET member_of_id = (SELECT id FROM (SELECT id FROM accounts WHERE external_code = 'LEAF') l), "
      "member_of_code = 'LEAF' WHERE external_code = 'ROOT'");
  both(companies());
  both(companies());
}

// Twenty companies: a hierarchy, a pending child and plain ones.
std::vector<core::IncomingAccount> snapshot_companies() {
  std::vector<core::IncomingAccount> records = companies();
  for (int i = 7; i <= 20; ++i) records.push_back(rec(std::to_string(i), "P" + std::to_string(i), i % 3 ? "" : "ROOT"));
  return records;
}

TEST_P(QuietShortcutTest, AQuietSnapshotIsPrefetchedOnceAndDecidedAsTheFullSnapshot) {
  const Way snapshot{true, false, false, ""};
  RunResult first = both(snapshot_companies(), snapshot);
  EXPECT_EQ(first.prefetches, 0);  // nothing was quiet

  RunResult again = both(snapshot_companies(), snapshot);
  EXPECT_NE(again.report.find("unchanged=20"), std::string::npos) << again.report;
  EXPECT_EQ(again.prefetches, 1);  // after the first batch came out quiet
  EXPECT_EQ(again.quiet_answers, 20);
  EXPECT_EQ(again.full_loads, 0);

  // CRM edits between runs: an owner taken, an account deleted, a code renamed, a link cleared.
  crm("UPDATE accounts SET owner = 'mallory' WHERE external_code = 'P8'");
  crm("DELETE FROM customers WHERE account_id IN (SELECT id FROM accounts WHERE external_code = 'PLAIN')");
  crm("DELETE FROM accounts WHERE external_code = 'PLAIN'");
  crm("UPDATE accounts SET external_code = 'RENAMED' WHERE external_code = 'P11'");
  crm("UPDATE accounts SET member_of_id = NULL WHERE external_code = 'P12'");
  RunResult edited = both(snapshot_companies(), snapshot);
  EXPECT_EQ(edited.prefetches, 1);
  both(snapshot_companies(), snapshot);

  // An account made in the CRM waits for P20, the last record: P20's batch, long after the
  // prefetch, takes the full snapshot and links it.
  crm("INSERT INTO accounts (external_code, owner, member_of_code, name) VALUES ('KID', 'jsmith', 'P20', 'Kid')");
  RunResult waited = both(snapshot_companies(), snapshot);
  EXPECT_EQ(waited.prefetches, 1);
  EXPECT_EQ(odbc_query(quiet_.db->connection_string(),
                       "SELECT COUNT(*) FROM accounts WHERE external_code = 'KID' AND member_of_id IS NOT NULL")[0][0],
            "1");

  // A cycle made in the CRM (ROOT under P9, P9 under ROOT): refused alike.
  crm("UPDATE accounts SET member_of_id = (SELECT id FROM (SELECT id FROM accounts WHERE external_code = 'P9') l), "
      "member_of_code = 'P9' WHERE external_code = 'ROOT'");
  both(snapshot_companies(), snapshot);
  both(snapshot_companies(), snapshot);

  // A record leaves the snapshot (marked missing from the prefetched bindings) and comes back.
  std::vector<core::IncomingAccount> fewer = snapshot_companies();
  fewer.erase(fewer.begin() + 9);  // remote id 10
  RunResult shrunk = both(fewer, snapshot);
  EXPECT_NE(shrunk.report.find("missing=1"), std::string::npos) << shrunk.report;
  EXPECT_EQ(shrunk.prefetches, 1);
  both(fewer, snapshot);
  both(snapshot_companies(), snapshot);
  EXPECT_EQ(odbc_query(quiet_.db->connection_string(),
                       "SELECT COUNT(*) FROM bindings WHERE missing_since IS NOT NULL")[0][0],
            "0");
}

// A first sync of many batches never tries the shortcut (nothing of the stream can be bound
// and unchanged), not even every kRetryEvery-th batch; the next run, whose last run decided
// records, tries it from its first batch.
TEST_P(QuietShortcutTest, AFirstSyncOfManyBatchesNeverTriesTheQuietShortcut) {
  const Way snapshot{true, false, false, ""};  // batches of one: 20 batches
  RunResult first = both(snapshot_companies(), snapshot);
  EXPECT_EQ(first.quiet_loads, 0);
  RunResult again = both(snapshot_companies(), snapshot);
  EXPECT_GT(again.quiet_loads, 0);
}

// A run in which no batch is quiet (every record renamed) after a quiet one: its first batch
// tries the shortcut, then the 9th (8 later), and the next try would wait 16 more: past the run's
// 20 batches. Every 8th batch would have tried it twice more.
TEST_P(QuietShortcutTest, ABusyRunWaitsLongerAfterEachTryOfTheShortcutThatFails) {
  const Way snapshot{true, false, false, ""};  // batches of one: 20 batches
  both(snapshot_companies(), snapshot);
  both(snapshot_companies(), snapshot);
  std::vector<core::IncomingAccount> renamed = snapshot_companies();
  for (auto& r : renamed) r.set(Field::name, "Renamed");
  RunResult busy = both(renamed, snapshot);
  EXPECT_NE(busy.report.find("updated=20"), std::string::npos) << busy.report;
  EXPECT_EQ(busy.quiet_loads, 2);
  EXPECT_EQ(busy.full_loads, 20);  // every batch decided over the full snapshot
}

// A write does not end the prefetch: what it wrote is read afresh. ROOT's record brings a new
// code in batch 1; the prefetch (made while the snapshot opened) still holds ROOT's account with
// its old code. Its children P9, P12, P15 and P18, unchanged records of later batches whose
// member_of is the old code, must see the account as it now is (their link no longer holds): the
// full snapshot and the quiet side decide them alike. Every batch is still answered from the
// prefetch.
TEST_P(QuietShortcutTest, AfterAWriteTheRunReadsWhatItWroteAfresh) {
  const Way ahead{true, true, false, "", 5};  // four batches of five
  both(snapshot_companies(), ahead);
  both(snapshot_companies(), ahead);
  std::vector<core::IncomingAccount> recoded = snapshot_companies();
  recoded[0].set(Field::external_code, "ROOT2");
  RunResult r = both(recoded, ahead);
  EXPECT_EQ(r.prefetches, 1);
  EXPECT_EQ(r.quiet_answers, 4);
  EXPECT_EQ(r.report.find("unchanged=20"), std::string::npos) << r.report;
  both(recoded, ahead);
}

// A CRM edit made after the prefetch, of a record the run does not write, is the next run's
// news also when the run writes other records (one order in which its read-only decisions and
// the edit can happen, as in a quiet run).
TEST_P(QuietShortcutTest, AfterAWriteTheRestOfTheRunIsAsOfItsPrefetch) {
  const Way snapshot{true, false, false, ""};
  run(quiet_, snapshot_companies(), snapshot);
  run(quiet_, snapshot_companies(), snapshot);
  // Record 12 changed in the ERP; right after the prefetch (after batch 2) the CRM gives P20
  // to another user. Batch 12 writes; batch 20 is still decided over the prefetch.
  std::vector<core::IncomingAccount> changed = snapshot_companies();
  changed[11].set(Field::name, "Company renamed");
  RunResult during =
      run(quiet_, changed, Way{true, false, false, "UPDATE accounts SET owner = 'mallory' WHERE external_code = 'P20'"});
  EXPECT_EQ(during.prefetches, 1);
  EXPECT_NE(during.report.find("updated=1"), std::string::npos) << during.report;
  EXPECT_NE(during.report.find("rejected=0"), std::string::npos) << during.report;
  RunResult next = run(quiet_, changed, snapshot);
  EXPECT_NE(next.report.find("rejected=1"), std::string::npos) << next.report;
}

// An export that changes a few records in every batch (the steady 1% export): the changed
// records are read and decided on their own, the others over the quiet snapshot, with the
// same decisions, counters and rows as the full snapshot gives. Four batches of five, one
// renamed record in each, none a parent or child of another record of its batch.
void QuietShortcutTest::few_changed_in_each_batch(bool opens_ahead) {
  const Way way{true, opens_ahead, false, "", 5};
  both(snapshot_companies(), way);
  both(snapshot_companies(), way);
  std::vector<core::IncomingAccount> renamed = snapshot_companies();
  for (std::size_t i : {4, 7, 12, 16}) renamed[i].set(Field::name, "Renamed " + std::to_string(i));
  RunResult r = both(renamed, way);
  EXPECT_NE(r.report.find("updated=4"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("unchanged=16"), std::string::npos) << r.report;
  EXPECT_EQ(r.quiet_answers, 4);
  EXPECT_EQ(r.full_records, 4u);  // only the renamed records
  EXPECT_EQ(r.prefetches, opens_ahead ? 1 : 0);
  RunResult again = both(renamed, way);  // after a run that left most records unchanged: tried
  EXPECT_NE(again.report.find("unchanged=20"), std::string::npos) << again.report;
  EXPECT_EQ(again.full_records, 0u);
}

TEST_P(QuietShortcutTest, AFewChangedRecordsInEachBatchAreReadInFullAloneAndTheRestQuietly) {
  few_changed_in_each_batch(/*opens_ahead=*/false);
}

TEST_P(QuietShortcutTest, AFewChangedRecordsInEachBatchLeaveThePrefetchServingTheRest) {
  few_changed_in_each_batch(/*opens_ahead=*/true);
}

// A changed record whose decision reaches an unchanged one of its batch: PLAIN takes the code
// NOT-YET, which ORPHAN, unchanged in the same batch, waits for (the full snapshot links it). The
// two meet on that code, so the batch is read in full after PLAIN alone, and ends as the full
// snapshot ends it.
TEST_P(QuietShortcutTest, ACodeTakenInABatchLinksItsUnchangedPendingChildAsTheFullSnapshotDoes) {
  const Way way{true, false, false, "", 5};
  both(snapshot_companies(), way);
  both(snapshot_companies(), way);
  std::vector<core::IncomingAccount> recoded = snapshot_companies();
  recoded[4].set(Field::external_code, "NOT-YET");
  RunResult r = both(recoded, way);
  EXPECT_NE(r.report.find("updated=1"), std::string::npos) << r.report;
  EXPECT_EQ(r.full_records, 1u + 5u);
  EXPECT_EQ(odbc_query(quiet_.db->connection_string(),
                       "SELECT COUNT(*) FROM accounts WHERE external_code = 'ORPHAN' AND member_of_id IS NOT NULL")[0][0],
            "1");
  both(recoded, way);
}

// A daily export brings records new to the stream beside a few changed ones: the quiet
// snapshot leaves the new records out (no binding: never unchanged), so they are read in full
// with the changed ones, and the rest of each batch quietly.
TEST_P(QuietShortcutTest, RecordsNewToTheStreamAreReadInFullWithTheChangedOnes) {
  const Way way{true, true, false, "", 5};
  both(snapshot_companies(), way);
  both(snapshot_companies(), way);
  std::vector<core::IncomingAccount> grown = snapshot_companies();
  grown[7].set(Field::name, "Renamed");
  grown.insert(grown.begin() + 12, rec("21", "NEW21"));
  grown.push_back(rec("22", "NEW22"));
  RunResult r = both(grown, way);
  EXPECT_NE(r.report.find("created=2"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("updated=1"), std::string::npos) << r.report;
  EXPECT_EQ(r.full_records, 3u);  // the renamed record and the two new ones
  EXPECT_EQ(r.full_loads, 3);     // each with the rest of its batch decided quietly
  RunResult again = both(grown, way);
  EXPECT_NE(again.report.find("unchanged=22"), std::string::npos) << again.report;
}

// A changed record that meets an unchanged one of its batch (ROOT renamed; CHILD, of the same
// batch, is its child: CHILD's decision reads ROOT) cannot be decided apart: the whole batch is
// read in full, as before, and decided alike.
TEST_P(QuietShortcutTest, AChangedRecordThatMeetsAnUnchangedOneOfItsBatchTakesTheBatchInFull) {
  const Way way{true, false, false, "", 5};
  both(snapshot_companies(), way);
  both(snapshot_companies(), way);
  std::vector<core::IncomingAccount> renamed = snapshot_companies();
  renamed[0].set(Field::name, "Root renamed");
  RunResult r = both(renamed, way);
  EXPECT_NE(r.report.find("updated=1"), std::string::npos) << r.report;
  EXPECT_EQ(r.full_records, 1u + 5u);  // ROOT alone, then its batch in full
  EXPECT_EQ(r.quiet_answers, 4);
}

TEST_P(QuietShortcutTest, AQuietRunSeesTheCrmAsOfItsPrefetchAndTheNextRunSeesTheEdit) {
  const Way snapshot{true, false, false, ""};
  run(quiet_, snapshot_companies(), snapshot);
  run(quiet_, snapshot_companies(), snapshot);
  // Nothing is written after the prefetch, so the run's batches are decided as of its moment
  // (one order in which a read-only batch and the edit can happen); the edit is the next
  // run's news.
  RunResult during =
      run(quiet_, snapshot_companies(), Way{true, false, false, "UPDATE accounts SET owner = 'mallory' WHERE external_code = 'P16'"});
  EXPECT_NE(during.report.find("unchanged=20"), std::string::npos) << during.report;
  RunResult next = run(quiet_, snapshot_companies(), snapshot);
  EXPECT_NE(next.report.find("rejected=1"), std::string::npos) << next.report;
}

TEST_P(QuietShortcutTest, ASnapshotIsPrefetchedWhileItOpensAndDecidedAsTheFullSnapshot) {
  const Way ahead{true, true, false, ""};
  RunResult first = both(snapshot_companies(), ahead);
  EXPECT_EQ(first.prefetches, 0);  // never synced before: nothing to expect quiet

  RunResult again = both(snapshot_companies(), ahead);
  EXPECT_NE(again.report.find("unchanged=20"), std::string::npos) << again.report;
  EXPECT_EQ(again.prefetches, 1);
  EXPECT_EQ(again.quiet_answers, 20);
  EXPECT_EQ(again.full_loads, 0);

  crm("UPDATE accounts SET owner = 'mallory' WHERE external_code = 'P8'");
  crm("UPDATE accounts SET member_of_id = NULL WHERE external_code = 'P12'");
  crm("INSERT INTO accounts (external_code, owner, member_of_code, name) VALUES ('KID', 'jsmith', 'P20', 'Kid')");
  both(snapshot_companies(), ahead);
  both(snapshot_companies(), ahead);

  // A changed record leaves the prefetch made before batch 1 serving the other records.
  std::vector<core::IncomingAccount> changed = snapshot_companies();
  changed[11].set(Field::name, "Company renamed");
  RunResult r = both(changed, ahead);
  EXPECT_EQ(r.prefetches, 1);
  EXPECT_NE(r.report.find("updated=1"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("rejected=1"), std::string::npos) << r.report;  // P8
}

TEST_P(QuietShortcutTest, APrefetchGivenUpLeavesTheRunReadingAfresh) {
  const Way ahead{true, true, false, ""};
  run(quiet_, snapshot_companies(), ahead);
  run(quiet_, snapshot_companies(), ahead);
  // The opening gave nothing (as an unchanged file does) before the prefetch read a page: no
  // read is kept, every batch reads afresh, and the edit after batch 2 is seen in this run.
  RunResult r = run(quiet_, snapshot_companies(),
                    Way{true, true, true, "UPDATE accounts SET owner = 'mallory' WHERE external_code = 'P20'"});
  EXPECT_EQ(r.prefetches, 1);
  EXPECT_NE(r.report.find("rejected=1"), std::string::npos) << r.report;
}

INSTANTIATE_TEST_SUITE_P(Engines, QuietShortcutTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
