// The quiet shortcut (Store::load_quiet_state) decides exactly as the full snapshot does: the
// same runs go through two databases of one engine, one store with the shortcut and one
// without, and every report, decision and row must come out the same — through quiet
// re-syncs, open rejections, pending and linked parents, and the CRM editing owners, codes,
// links and deleting accounts behind the daemon's back.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/odbc/odbc_store.hpp"
#include "core/sync_engine.hpp"
#include "support/odbc_query.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using core::Field;
using erpsync::testing::Engine;
using erpsync::testing::odbc_query;
using erpsync::testing::TempDatabase;

core::IncomingAccount rec(std::string rid, std::string code, std::string parent = "", std::string name = "",
                          std::string owner = "jsmith") {
  core::IncomingAccount r;
  r.set(Field::remote_id, std::move(rid));
  r.set(Field::external_code, std::move(code));
  r.set(Field::owner, std::move(owner));
  r.set(Field::member_of, std::move(parent));
  r.set(Field::name, name.empty() ? "Company" : std::move(name));
  return r;
}

// One page of records, no cursor, not a snapshot.
class ListSource final : public core::AccountSource {
 public:
  explicit ListSource(std::vector<core::IncomingAccount> records) : records_(std::move(records)) {}
  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return false; }
  core::SourceStart begin(const core::CursorState&) override {
    done_ = false;
    return {};
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
  bool done_ = false;
};

// Counts how the engine read its state.
class CountingStore final : public core::Store {
 public:
  explicit CountingStore(core::Store& s) : s_(s) {}
  int full_loads = 0, quiet_loads = 0, quiet_answers = 0;

  core::CursorState load_cursor(const std::string& c, const std::string& st) override { return s_.load_cursor(c, st); }
  core::StateSnapshot load_state(const core::BatchKeys& k) override {
    ++full_loads;
    return s_.load_state(k);
  }
  std::optional<core::StateSnapshot> load_quiet_state(const core::BatchKeys& k) override {
    ++quiet_loads;
    auto st = s_.load_quiet_state(k);
    if (st) ++quiet_answers;
    return st;
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
                            const std::unordered_set<std::string>& seen) override {
    return s_.mark_missing(c, st, seen);
  }

 private:
  core::Store& s_;
};

class Recorder final : public core::SyncEvents {
 public:
  std::vector<std::string> lines;
  void on_decision(const core::Decision& d) override {
    lines.push_back(d.remote_id + " " + std::string(core::to_string(d.outcome)) + " " +
                    (d.reason ? std::string(core::to_string(*d.reason)) : "-") + " " + d.message);
  }
  void on_rejection(const core::RejectionWrite& r) override {
    lines.push_back("rejection " + r.remote_id + " " + std::string(core::to_string(r.reason)));
  }
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
    int full_loads = 0, quiet_answers = 0;
  };

  static RunResult run(Side& side, const std::vector<core::IncomingAccount>& records) {
    core::MatchPolicy policy;
    policy.connector = "erp";
    policy.stream = "accounts";
    core::StreamRunOptions options;
    options.batch_size = 2;  // several batches: quiet ones beside ones that are not
    options.instance = "test";
    ListSource source(records);
    CountingStore counting(*side.store);
    Recorder events;
    core::SyncReport report = core::run_stream(policy, source, counting, options, events);
    EXPECT_EQ(report.status, "ok") << report.message;
    RunResult r;
    report.duration_ms = 0;
    report.run_id = 0;
    r.report = report.to_line();
    r.decisions = events.lines;
    r.full_loads = counting.full_loads;
    r.quiet_answers = counting.quiet_answers;
    return r;
  }

  // Both databases' rows that matter, ids replaced by codes.
  static std::string rows(Side& side) {
    std::string out;
    auto add = [&](const std::string& sql) {
      for (const auto& row : odbc_query(side.db->connection_string(), sql)) {
        for (const auto& v : row) out += (v ? *v : "NULL") + "|";
        out += "\n";
      }
    };
    add("SELECT a.external_code, a.owner, a.member_of_code, p.external_code, a.name FROM accounts a "
        "LEFT JOIN accounts p ON p.id = a.member_of_id ORDER BY a.name, a.external_code");
    add("SELECT b.remote_id, a.external_code, b.payload_hash, b.missing_since FROM bindings b "
        "LEFT JOIN accounts a ON a.id = b.entity_id ORDER BY b.remote_id");
    add("SELECT remote_id, reason, times_seen, resolved_at IS NULL FROM sync_rejections ORDER BY remote_id, reason");
    return out;
  }

  // Runs `records` through both sides and expects the same everything.
  RunResult both(const std::vector<core::IncomingAccount>& records) {
    RunResult q = run(quiet_, records);
    RunResult f = run(full_, records);
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

INSTANTIATE_TEST_SUITE_P(Engines, QuietShortcutTest,
                         ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
