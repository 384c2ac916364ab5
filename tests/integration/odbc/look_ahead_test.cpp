// The pipelined batch loop (core::LookAhead, OdbcStore::load_state_ahead): a batch decided while
// the batch before it is being applied decides and writes exactly what it would one batch after
// the other. The same runs go through two databases of one engine, one store reading ahead and
// one not, and every report, decision, row and cursor must come out the same — through parents
// and children in neighbouring batches, a code taken twice, codes owned by another user, pages
// with cursors, and an apply that loses a race while the next batch is being decided.

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

using erpsync::testing::company_record;

core::IncomingAccount company(std::string rid, std::string code, std::string parent = "", std::string name = "") {
  return company_record(std::move(rid), std::move(code), std::move(parent), std::move(name));
}

// The records in pages of `page_size`, each page with its cursor ("page-1", "page-2", ...): an
// incremental source.
class PagedSource final : public core::AccountSource {
 public:
  PagedSource(std::vector<core::IncomingAccount> records, std::size_t page_size)
      : records_(std::move(records)), page_size_(page_size) {}
  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return false; }
  core::SourceStart begin(const core::CursorState&) override {
    at_ = 0;
    return {};
  }
  std::optional<core::SourcePage> next_page() override {
    if (at_ >= records_.size()) return std::nullopt;
    core::SourcePage page;
    const std::size_t end = std::min(records_.size(), at_ + page_size_);
    page.records.assign(records_.begin() + static_cast<std::ptrdiff_t>(at_),
                        records_.begin() + static_cast<std::ptrdiff_t>(end));
    at_ = end;
    page.cursor_after = "page-" + std::to_string((at_ + page_size_ - 1) / page_size_);
    return page;
  }

 private:
  std::string stream_ = "accounts";
  std::vector<core::IncomingAccount> records_;
  std::size_t page_size_;
  std::size_t at_ = 0;
};

// Forwards to the store (its LookAhead included) and counts the reads ahead; `before_apply`
// runs before the Nth apply (on the thread that applies).
class ObservedStore final : public core::Store, public core::QuietReads, public core::LookAhead {
 public:
  explicit ObservedStore(OdbcStore& s) : s_(s) {}
  int reads_ahead = 0;
  int applies = 0;
  int race_before_apply = 0;  // 0: none
  std::function<void(const core::WriteBatch&)> race;

  core::CursorState load_cursor(const std::string& c, const std::string& st) override { return s_.load_cursor(c, st); }
  core::StateSnapshot load_state(const core::BatchKeys& k) override { return s_.load_state(k); }
  std::optional<core::StateSnapshot> load_quiet_state(const core::BatchKeys& k) override {
    return s_.load_quiet_state(k);
  }
  void prefetch_quiet_stream(const std::string& c, const std::string& st, std::size_t budget,
                             const std::function<bool()>& give_up) override {
    s_.prefetch_quiet_stream(c, st, budget, give_up);
  }
  core::QuietReads* quiet_reads() override { return this; }
  core::LookAhead* look_ahead() override { return s_.look_ahead() ? this : nullptr; }
  core::StateSnapshot load_state_ahead(const core::BatchKeys& k) override {
    ++reads_ahead;
    return s_.load_state_ahead(k);
  }
  core::CommerceState load_commerce_state(const core::CommerceKeys& k) override { return s_.load_commerce_state(k); }
  std::vector<core::StoredParked> parked_records(const std::string& c, const std::string& st,
                                                 std::chrono::seconds ttl) override {
    return s_.parked_records(c, st, ttl);
  }
  void apply(const core::WriteBatch& b) override {
    if (++applies == race_before_apply && race) race(b);
    s_.apply(b);
  }
  std::int64_t begin_run(const std::string& c, const std::string& st, const std::string& i) override {
    return s_.begin_run(c, st, i);
  }
  void finish_run(std::int64_t id, const std::string& status, const core::Counters& c, const std::string& m) override {
    s_.finish_run(id, status, c, m);
  }
  std::vector<core::StoredRejection> replayable_rejections(const std::string& c, const std::string& st) override {
    return s_.replayable_rejections(c, st);
  }
  std::int64_t mark_missing(const std::string& c, const std::string& st, const core::KeySet& seen) override {
    return s_.mark_missing(c, st, seen);
  }

 private:
  OdbcStore& s_;
};

using Recorder = erpsync::testing::DecisionLog;

struct Side {
  std::unique_ptr<TempDatabase> db;
  std::unique_ptr<OdbcStore> store;
};

struct RunResult {
  std::string report;
  std::vector<std::string> decisions;
  int reads_ahead = 0;
  int redecides = 0;
};

class LookAheadTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    for (bool ahead : {true, false}) {
      std::string reason;
      Side side;
      side.db = TempDatabase::create(GetParam(), reason);
      if (!side.db) GTEST_SKIP() << reason;
      OdbcStoreOptions o;
      o.connection = side.db->connection_string();
      o.look_ahead = ahead;
      side.store = std::make_unique<OdbcStore>(o);
      (ahead ? ahead_ : serial_) = std::move(side);
    }
  }

  static RunResult run(Side& side, const std::vector<core::IncomingAccount>& records,
                       const std::function<void(ObservedStore&, Side&)>& arrange = {}) {
    core::MatchPolicy policy;
    policy.connector = "erp";
    policy.stream = "accounts";
    core::RunOptions options;
    options.batch_size = 3;  // many batches, in pages of 7 records: batches end mid-page and at its end
    options.instance = "test";
    PagedSource source(records, 7);
    ObservedStore observed(*side.store);
    if (arrange) arrange(observed, side);
    Recorder events;
    core::SyncReport report = core::run_stream(policy, source, observed, options, events);
    EXPECT_EQ(report.status, core::RunStatus::ok) << report.message;
    RunResult r;
    report.duration_ms = 0;
    report.run_id = 0;
    r.report = report.to_line();
    r.decisions = events.lines;
    r.reads_ahead = observed.reads_ahead;
    r.redecides = events.redecides;
    return r;
  }

  // The rows that matter, ids replaced by codes.
  std::string rows(Side& side) const { return erpsync::testing::company_rows(side.db->connection_string(), GetParam()); }

  RunResult both(const std::vector<core::IncomingAccount>& records,
                 const std::function<void(ObservedStore&, Side&)>& arrange = {}) {
    RunResult a = run(ahead_, records, arrange);
    RunResult s = run(serial_, records, arrange);
    EXPECT_EQ(a.report, s.report);
    EXPECT_EQ(a.decisions, s.decisions);
    EXPECT_EQ(rows(ahead_), rows(serial_));
    EXPECT_EQ(s.reads_ahead, 0);  // the store without look-ahead never offers it
    return a;
  }

  void crm(const std::string& sql) {
    for (Side* s : {&ahead_, &serial_}) odbc_query(s->db->connection_string(), sql);
  }

  Side ahead_, serial_;
};

// Batches of three: (1-3) (4-6) (7) | (8-10) (11-13) (14) | ... A child whose parent comes in the
// next batch, a parent whose child came in the batch before, a code taken by two remote ids in
// neighbouring batches and in batches further apart, a code another user owns, and plain
// companies that meet nothing around them.
std::vector<core::IncomingAccount> companies() {
  return {company("1", "A1"),          company("2", "CHILD", "PARENT"), company("3", "A3"),
          company("4", "PARENT"),      company("5", "A5"),              company("6", "TWICE"),
          company("7", "TWICE"),       company("8", "A8"),              company("9", "A9"),
          company("10", "FAR"),        company("11", "A11"),            company("12", "OWNED"),
          company("13", "A13"),        company("14", "GRAND", "A13"),   company("15", "A15"),
          company("16", "FAR"),        company("17", "A17"),            company("18", "A18"),
          company("19", "A19", "A1"), company("20", "A20")};
}

TEST_P(LookAheadTest, BatchesDecidedWhileTheOneBeforeIsAppliedDecideAndWriteAsOneAfterTheOther) {
  crm("INSERT INTO accounts (external_code, name, owner) VALUES ('OWNED', 'Someone else''s', 'other')");
  RunResult first = both(companies());
  EXPECT_GT(first.reads_ahead, 0) << "no batch was read ahead";
  // Batches that meet the batch in flight are read once it is committed: not every batch was.
  EXPECT_LT(first.reads_ahead, 6);

  // The next run changes names, moves a child and repeats the rest.
  std::vector<core::IncomingAccount> again = companies();
  again[0] = company("1", "A1", "", "Renamed");
  again[8] = company("9", "A9", "A20");
  again[17] = company("18", "A18", "", "Renamed too");
  RunResult second = both(again);
  EXPECT_GT(second.reads_ahead, 0);
}

// The batch in flight loses a race (another writer takes a code it creates just before its
// apply): it is decided again over what is stored, and the batch decided meanwhile is decided
// again too — the same outcome as one batch after the other losing the same race.
TEST_P(LookAheadTest, AnApplyThatLosesARaceWhileTheNextBatchIsDecidedIsDecidedAgain) {
  // Batch 4 (records 8-10) is applied while batch 5 (11-13), which it does not meet, is read
  // ahead and decided; just before batch 4's apply another writer creates its first new code.
  std::string raced;
  auto race = [&raced](ObservedStore& store, Side& side) {
    store.race_before_apply = 4;
    store.race = [&raced, conn = side.db->connection_string()](const core::WriteBatch& b) {
      for (const core::AccountWrite& a : b.accounts)
        if (a.ref < 0 && !a.external_code.empty()) {
          raced = a.external_code;
          odbc_query(conn, "INSERT INTO accounts (external_code, name, owner) VALUES ('" + a.external_code +
                               "', 'Won the race', 'jsmith')");
          return;
        }
    };
  };
  RunResult r = both(companies(), race);
  EXPECT_EQ(r.redecides, 1);
  EXPECT_GT(r.reads_ahead, 0);
  // The code the race took is held once, by the row that won it, and its record is bound to it.
  ASSERT_FALSE(raced.empty());
  const auto held = odbc_query(ahead_.db->connection_string(),
                               "SELECT COUNT(*), MIN(b.remote_id) FROM accounts a JOIN bindings b ON b.entity_id = a.id "
                               "WHERE a.external_code = '" + raced + "'");
  EXPECT_EQ(held.at(0).at(0).value_or(""), "1");
  const auto rows_with_code =
      odbc_query(ahead_.db->connection_string(), "SELECT COUNT(*) FROM accounts WHERE external_code = '" + raced + "'");
  EXPECT_EQ(rows_with_code.at(0).at(0).value_or(""), "1");
}

INSTANTIATE_TEST_SUITE_P(Engines, LookAheadTest, ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
