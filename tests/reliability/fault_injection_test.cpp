// Statement-level fault injection (leveldb's fault_injection_test.cc idea): a FaultyStore
// wraps the real store (OdbcStore on SQLite, PostgreSQL and MariaDB; MemoryStore) and fails, in
// turn, every call the engine makes during a sync — each load_cursor, load_state, apply,
// begin_run, finish_run, replay and mark_missing — or lets an apply / mark_missing commit and
// then loses its acknowledgement, or (PostgreSQL, MariaDB) kills the database session from
// outside just before an apply. After each fault:
//   - nothing is half-written: the database equals, row for row, the reference run's database
//     after exactly the writes that had committed before the fault (for a lost
//     acknowledgement: including the lost one), cursor included;
//   - a retry run over the same store object (which must reconnect on its own) reaches the
//     same end state as a run that had no fault.
// Two source shapes: a paged source with a cursor after every page, and a full snapshot
// (one document, cursor with its content hash at the end, missing records marked).
// Knob: ERPSYNC_FAULTS=all takes every call of every operation on the database engines too
// (CI samples five per operation there).
// Two generations: the first creates everything, the second updates, reassigns (rejections),
// drops records (missing) and moves children between parents.
// Besides: a row the database refuses for its data (a constraint other than a unique one) fails
// alone while the rest of its batch commits; a database refusing every row fails the batch.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <set>

#include "connectors/odbc/odbc_store.hpp"
#include "reference_store/memory_store.hpp"
#include "core/engine.hpp"
#include "db_dump.hpp"
#include "support/faulty_store.hpp"
#include "support/odbc_query.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {
namespace {

using core::Field;
using core::IncomingAccount;

constexpr int kRecords = 48;
constexpr std::size_t kBatch = 8;
constexpr std::size_t kPage = 16;

IncomingAccount company(int i, int generation) {
  IncomingAccount r;
  r.set(Field::remote_id, "R" + std::to_string(i));
  r.set(Field::external_code, i % 17 == 5 ? "" : "C-" + std::to_string(1000 + i));
  std::string name = "Company " + std::to_string(i);
  if (generation >= 2 && i % 3 == 0) name += " rev2";
  if (i % 23 == 7) name = std::string(300, 'x');  // invalid_field
  r.set(Field::name, name);
  r.set(Field::owner, generation >= 2 && i % 11 == 2 ? "someone-else" : "user" + std::to_string(i % 3));
  std::string parent = i % 8 == 0 ? "" : "C-" + std::to_string(1000 + i / 8 * 8);
  if (i % 8 == 3) parent = "C-" + std::to_string(1000 + (i + 16) % kRecords / 8 * 8);  // parent comes later
  if (generation >= 2 && i % 8 == 1) parent = "";
  r.set(Field::member_of, parent);
  r.set(Field::email, "c" + std::to_string(i) + "@example.com");
  r.set(Field::city, generation >= 2 && i % 5 == 0 ? "Milano" : "Torino");
  r.has_contacts_block = true;
  if (i % 4 == 0) {
    core::IncomingContact c;
    c.at(core::ContactField::remote_id) = "P" + std::to_string(i);
    c.at(core::ContactField::first_name) = "Ada";
    c.at(core::ContactField::last_name) = "Person " + std::to_string(i) + (generation >= 2 ? " jr" : "");
    c.at(core::ContactField::email) = "p" + std::to_string(i) + "@example.com";
    r.contacts.push_back(c);
  }
  return r;
}

std::vector<IncomingAccount> generation_records(int generation) {
  std::vector<IncomingAccount> out;
  for (int i = 0; i < kRecords; ++i)
    if (!(generation >= 2 && i % 13 == 4)) out.push_back(company(i, generation));  // some leave (missing)
  return out;
}

// A scripted source: `paged` gives pages of kPage records with a cursor after each (resuming
// after the stored cursor of the same generation); otherwise one snapshot document.
class ScriptedSource final : public core::AccountSource {
 public:
  ScriptedSource(bool paged, int generation) : paged_(paged), generation_(generation) {}
  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return !paged_; }
  core::SourceStart begin(const core::CursorState& cursor) override {
    records_ = generation_records(generation_);
    core::SourceStart start;
    next_ = 0;
    if (paged_) {
      const std::string prefix = "g" + std::to_string(generation_) + "-page-";
      if (cursor.cursor.rfind(prefix, 0) == 0) next_ = std::stoul(cursor.cursor.substr(prefix.size())) + 1;
    } else {
      start.snapshot_size = static_cast<std::int64_t>(records_.size());
      start.content_hash = "generation-" + std::to_string(generation_);
      start.unchanged = cursor.content_hash == start.content_hash;
    }
    return start;
  }
  std::optional<core::SourcePage> next_page() override {
    const std::size_t pages = paged_ ? (records_.size() + kPage - 1) / kPage : 1;
    if (next_ >= pages) return std::nullopt;
    core::SourcePage page;
    const std::size_t first = paged_ ? next_ * kPage : 0;
    const std::size_t last = paged_ ? std::min(records_.size(), first + kPage) : records_.size();
    page.records.assign(records_.begin() + first, records_.begin() + last);
    if (paged_) page.cursor_after = "g" + std::to_string(generation_) + "-page-" + std::to_string(next_);
    ++next_;
    return page;
  }

 private:
  bool paged_;
  int generation_;
  std::string stream_ = "accounts";
  std::vector<IncomingAccount> records_;
  std::size_t next_ = 0;
};

core::MatchPolicy policy() {
  core::MatchPolicy p;
  p.connector = "erp";
  p.stream = "accounts";
  p.default_owner = "sales";
  return p;
}

core::SyncReport run_generation(core::Store& store, bool paged, int generation) {
  ScriptedSource source(paged, generation);
  core::RunOptions options;
  options.batch_size = kBatch;
  options.instance = "fault-test";
  core::SyncEvents events;
  return core::run_stream(policy(), source, store, options, events);
}

enum class Backend { memory, sqlite, postgresql, mariadb };

std::string backend_name(Backend b) {
  switch (b) {
    case Backend::memory: return "memory";
    case Backend::sqlite: return "sqlite";
    case Backend::postgresql: return "postgresql";
    case Backend::mariadb: return "mariadb";
  }
  return "?";
}

// One store under test, reset to empty between scenarios.
class Target {
 public:
  explicit Target(Backend b) : backend_(b) {}

  // False with the skip reason when the engine is not available.
  bool open(std::string& skip) {
    if (backend_ != Backend::memory) {
      const Engine e = backend_ == Backend::sqlite       ? Engine::sqlite
                       : backend_ == Backend::postgresql ? Engine::postgresql
                                                         : Engine::mariadb;
      db_ = TempDatabase::create(e, skip);
      if (!db_) return false;
      session_ = std::make_unique<SqlSession>(db_->connection_string());
    }
    reset();
    return true;
  }

  // A fresh, empty store (a new connection on the same database, emptied).
  void reset() {
    odbc_.reset();
    memory_.reset();
    if (!db_) {
      memory_ = std::make_unique<core::MemoryStore>();
      return;
    }
    connectors::odbc::OdbcStoreOptions o;
    o.connection = db_->connection_string();
    odbc_ = std::make_unique<connectors::odbc::OdbcStore>(o);
    for (const char* t : {"accounts", "contacts", "customers", "orders", "bindings", "sync_cursors", "sync_runs",
                          "sync_rejections", "sync_parked", "sync_leases"})
      session_->query(std::string("DELETE FROM ") + t);
  }

  core::Store& store() { return db_ ? static_cast<core::Store&>(*odbc_) : *memory_; }
  // Runs `statement` on the test's own session (database engines only).
  void sql(const std::string& statement) { session_->query(statement); }
  Dump dump() { return db_ ? dump_database(*session_) : dump_memory_store(*memory_); }

  // Kills every other session on this test's database (the store's own connection).
  std::function<void()> drop_connection_action() {
    if (!db_ || backend_ == Backend::sqlite) return {};
    SqlSession* s = session_.get();
    const std::string name = db_->name();
    if (backend_ == Backend::postgresql)
      return [s, name] {
        // With a timeout, pg_terminate_backend waits until the session is really gone (PG 14+).
        s->query("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '" + name +
                 "' AND pid <> pg_backend_pid()");
      };
    return [s, name] {
      for (const Row& r : s->query("SELECT id FROM information_schema.processlist WHERE db = '" + name +
                                   "' AND id <> CONNECTION_ID()"))
        if (r.at(0)) s->query("KILL CONNECTION " + *r.at(0));
    };
  }

 private:
  Backend backend_;
  std::unique_ptr<TempDatabase> db_;
  std::unique_ptr<SqlSession> session_;  // dumps, resets and session kills (never the store's)
  std::unique_ptr<core::MemoryStore> memory_;
  std::unique_ptr<connectors::odbc::OdbcStore> odbc_;
};

struct Param {
  Backend backend;
  bool paged;
};

// Which calls (1-based) of an operation made `calls` times get a fault.
std::vector<int> points(int calls, bool every) {
  std::set<int> picked;
  for (int n = 1; n <= calls; ++n)
    if (every || n <= 2 || n >= calls - 1 || n == (calls + 1) / 2) picked.insert(n);
  return {picked.begin(), picked.end()};
}

class StoreFaults : public ::testing::TestWithParam<Param> {};

// Dumps after each committed write of a clean run of `generation` (index 0: before the run).
struct Reference {
  std::vector<Dump> after_writes;
  std::map<StoreOp, int> calls;
};

TEST_P(StoreFaults, EveryFaultLeavesCommittedPrefixAndRetryReachesTheCleanEndState) {
  const Param p = GetParam();
  Target target(p.backend);
  std::string skip;
  if (!target.open(skip)) GTEST_SKIP() << skip;

  // The database engines sample the calls of each operation (first, second, middle, last two)
  // unless ERPSYNC_FAULTS=all; the memory store always takes every one.
  const char* all = std::getenv("ERPSYNC_FAULTS");
  const bool every_point = p.backend == Backend::memory || (all && std::string(all) == "all");
  const std::vector<StoreOp> ops = {StoreOp::begin_run,  StoreOp::replayable_rejections, StoreOp::load_cursor,
                                    StoreOp::load_state, StoreOp::apply,                 StoreOp::mark_missing,
                                    StoreOp::finish_run};
  int scenarios = 0;
  for (int generation = 1; generation <= 2; ++generation) {
    // The reference: a clean run of this generation (after clean runs of the earlier ones),
    // dumped after every write that commits.
    Reference ref;
    {
      target.reset();
      for (int g = 1; g < generation; ++g) ASSERT_EQ(run_generation(target.store(), p.paged, g).status, core::RunStatus::ok);
      FaultyStore recorder(target.store());
      ref.after_writes.push_back(target.dump());
      recorder.on_success = [&](StoreOp op) {
        if (op == StoreOp::apply || op == StoreOp::mark_missing) ref.after_writes.push_back(target.dump());
      };
      const core::SyncReport r = run_generation(recorder, p.paged, generation);
      ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
      for (StoreOp op : ops) ref.calls[op] = recorder.calls(op);
      ASSERT_GT(ref.calls[StoreOp::apply], 2);
    }
    const Dump& clean_end = ref.after_writes.back();
    EXPECT_GT(rows_of(clean_end, "sync_rejections"), 0u);

    std::vector<StoreFault> faults;
    for (StoreOp op : ops)
      for (int n : points(ref.calls[op], every_point)) {
        faults.push_back({op, n, StoreFault::Mode::before, {}});
        if (op == StoreOp::apply || op == StoreOp::mark_missing || op == StoreOp::finish_run)
          faults.push_back({op, n, StoreFault::Mode::lost_ack, {}});
        if (op == StoreOp::apply && target.drop_connection_action())
          faults.push_back({op, n, StoreFault::Mode::action_first, target.drop_connection_action()});
      }

    for (const StoreFault& fault : faults) {
      SCOPED_TRACE("generation " + std::to_string(generation) + ": " + fault.describe());
      target.reset();
      for (int g = 1; g < generation; ++g) ASSERT_EQ(run_generation(target.store(), p.paged, g).status, core::RunStatus::ok);
      FaultyStore faulty(target.store());
      int committed = 0;
      faulty.on_success = [&](StoreOp op) {
        if (op == StoreOp::apply || op == StoreOp::mark_missing) ++committed;
      };
      faulty.arm(fault);
      const core::SyncReport failed = run_generation(faulty, p.paged, generation);
      ASSERT_TRUE(faulty.fired());
      ASSERT_TRUE(faulty.took_effect()) << "the fault did not make the call fail";
      ++scenarios;
      if (fault.op == StoreOp::finish_run) {
        EXPECT_EQ(failed.status, core::RunStatus::ok);  // the data is all in; only the run's own row is not
      } else {
        EXPECT_EQ(failed.status, core::RunStatus::error);
        EXPECT_NE(failed.message, "");
      }

      // Nothing half-written: exactly the committed writes, cursor included.
      ASSERT_LT(static_cast<std::size_t>(committed), ref.after_writes.size());
      const Dump after_fault = target.dump();
      EXPECT_EQ(after_fault.at("sync_cursors"), ref.after_writes[committed].at("sync_cursors"))
          << "cursor after the fault";
      ASSERT_EQ(dump_diff(ref.after_writes[committed], after_fault), "")
          << "state after the fault differs from the clean run after " << committed << " committed writes";

      // The retry, over the same store object (it reconnects by itself), ends where a clean
      // run ends.
      faulty.disarm();
      const core::SyncReport retry = run_generation(faulty, p.paged, generation);
      ASSERT_EQ(retry.status, core::RunStatus::ok) << retry.message;
      const Dump end = target.dump();
      ASSERT_EQ(dump_diff(clean_end, end), "") << "the retry did not reach the clean end state";
      EXPECT_TRUE(duplicate_rows(end).empty());
    }
  }
  std::cout << backend_name(p.backend) << (p.paged ? " paged" : " snapshot") << ": " << scenarios
            << " fault scenarios" << std::endl;
}

// The decisions of a run, as the engine tells them.
class DecisionLog final : public core::SyncEvents {
 public:
  void on_decision(const core::Decision& d) override { decisions.push_back(d); }
  std::vector<core::Decision> decisions;
};

// Generation 1 of `p` run clean on the opened `target`, then, on the emptied target, over the
// store `refusing()` returns, which refuses R10 (code C-1010, name "Company 10": nobody's
// parent, in the middle of its batch): R10 alone is `failed`, saying `refusal`; every other
// record, the rejections and the cursor are as in the clean run; the run is ok.
void expect_only_r10_refused(const Param& p, Target& target, const std::function<core::Store&()>& refusing,
                             const std::string& refusal) {
  const core::SyncReport clean = run_generation(target.store(), p.paged, 1);
  ASSERT_EQ(clean.status, core::RunStatus::ok) << clean.message;
  const Dump clean_end = target.dump();
  target.reset();
  core::Store& store = refusing();

  ScriptedSource source(p.paged, 1);
  core::RunOptions options;
  options.batch_size = kBatch;
  options.instance = "fault-test";
  DecisionLog events;
  const core::SyncReport r = core::run_stream(policy(), source, store, options, events);

  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_TRUE(r.counters.balanced());
  EXPECT_EQ(r.counters.failed, 1);
  EXPECT_EQ(r.counters.created, clean.counters.created - 1);
  EXPECT_EQ(r.counters.rejected, clean.counters.rejected);
  EXPECT_EQ(r.counters.fetched, clean.counters.fetched);
  std::vector<core::Decision> failed;
  std::copy_if(events.decisions.begin(), events.decisions.end(), std::back_inserter(failed),
               [](const core::Decision& d) { return d.outcome == core::Outcome::failed; });
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].remote_id, "R10");
  EXPECT_NE(failed[0].message.find(refusal), std::string::npos) << failed[0].message;

  const Dump end = target.dump();
  EXPECT_EQ(rows_of(end, "accounts"), rows_of(clean_end, "accounts") - 1);
  for (const std::string& row : end.at("accounts")) EXPECT_EQ(row.find("C-1010"), std::string::npos) << row;
  EXPECT_EQ(rows_of(end, "sync_rejections"), rows_of(clean_end, "sync_rejections"));
  EXPECT_EQ(end.at("sync_cursors"), clean_end.at("sync_cursors")) << "the cursor went on past the refused record";
  EXPECT_TRUE(duplicate_rows(end).empty());
}

// A database constraint other than a unique one (a CHECK, a NOT NULL, a value too long for its
// column) refuses one record of a batch: the batch goes on one record at a time, that record
// alone is `failed`, saying what the database said; the rest of its batch, every other batch and
// the cursor commit, and the run is ok.
TEST_P(StoreFaults, ARowTheDatabaseRefusesFailsAloneAndTheRestOfItsBatchCommits) {
  const Param p = GetParam();
  Target target(p.backend);
  std::string skip;
  if (!target.open(skip)) GTEST_SKIP() << skip;
  std::optional<FaultyStore> faulty;
  int refusals = 0;
  expect_only_r10_refused(
      p, target,
      [&]() -> core::Store& {
        faulty.emplace(target.store());
        faulty->refuses = [&](const core::WriteBatch& b) {
          const bool refused = std::any_of(b.accounts.begin(), b.accounts.end(),
                                           [](const core::AccountWrite& a) { return a.external_code == "C-1010"; });
          refusals += refused;
          return refused;
        };
        return *faulty;
      },
      "CHECK constraint");
  EXPECT_EQ(refusals, 2) << "its batch, then the record alone";
}

// The same with the engine's own constraint: a CHECK (a trigger raising on SQLite) that refuses
// R10's row, so that the real store's error for it, its rollback (PostgreSQL's aborted
// transaction included) and the single-record transactions after it are what is tested.
TEST_P(StoreFaults, ARowTheEnginesOwnCheckConstraintRefusesFailsAlone) {
  const Param p = GetParam();
  if (p.backend == Backend::memory) GTEST_SKIP() << "the memory store has no constraints of its own";
  Target target(p.backend);
  std::string skip;
  if (!target.open(skip)) GTEST_SKIP() << skip;
  expect_only_r10_refused(
      p, target,
      [&]() -> core::Store& {
        target.sql(p.backend == Backend::sqlite
                       ? "CREATE TRIGGER refuse_r10 BEFORE INSERT ON accounts WHEN NEW.name = 'Company 10' "
                         "BEGIN SELECT RAISE(ABORT, 'refuse_r10 failed'); END"
                       : "ALTER TABLE accounts ADD CONSTRAINT refuse_r10 CHECK (name <> 'Company 10')");
        return target.store();
      },
      "refuse_r10");
}

// A database that refuses every record (not the data: a broken table, a full disk) fails the
// batch as a whole, as before the one-at-a-time fallback: nothing of it is written, the cursor
// stays, the run is an error.
TEST_P(StoreFaults, ADatabaseThatRefusesEveryRecordFailsTheBatchAndKeepsTheCursor) {
  const Param p = GetParam();
  Target target(p.backend);
  std::string skip;
  if (!target.open(skip)) GTEST_SKIP() << skip;
  FaultyStore faulty(target.store());
  faulty.refuses = [](const core::WriteBatch&) { return true; };
  const core::SyncReport r = run_generation(faulty, p.paged, 1);
  EXPECT_EQ(r.status, core::RunStatus::error);
  EXPECT_NE(r.message.find("CHECK constraint"), std::string::npos) << r.message;
  EXPECT_EQ(r.counters.failed, static_cast<std::int64_t>(kBatch));
  const Dump end = target.dump();
  EXPECT_EQ(rows_of(end, "accounts"), 0u);
  EXPECT_EQ(rows_of(end, "sync_cursors"), 0u);
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return backend_name(info.param.backend) + (info.param.paged ? "_paged" : "_snapshot");
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreFaults,
                         ::testing::Values(Param{Backend::memory, true}, Param{Backend::memory, false},
                                           Param{Backend::sqlite, true}, Param{Backend::sqlite, false},
                                           Param{Backend::postgresql, true}, Param{Backend::postgresql, false},
                                           Param{Backend::mariadb, true}, Param{Backend::mariadb, false}),
                         param_name);

}  // namespace
}  // namespace erpsync::testing
