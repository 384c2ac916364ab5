// ReadAheadSource over a scripted inner source: pages in order, the fetch of the next page under
// way before the caller asks for it, the inner exception unchanged at the call that would have
// returned its page, no inner call after nullopt, and begin()/destruction waiting for the page
// in flight. Waits are on condition variables and latches (bounded, so a broken wrapper fails
// instead of hanging), never on sleeps.

#include "daemon/read_ahead_source.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/errors.hpp"

namespace erpsync::daemon {
namespace {

using namespace std::chrono_literals;

// What the scripted source saw; shared so that the test reads it after the source is gone.
struct Script {
  int pages = 3;      // pages 1..pages, then nullopt
  int fail_at = 0;    // the next_page() call that throws instead (0: none)
  int block_at = 0;   // the next_page() call that waits for release() (0: none)

  std::mutex m;
  std::condition_variable cv;
  int begins = 0;
  int calls = 0;               // next_page() calls started
  bool busy = false;           // a call is running
  bool overlap = false;        // a call started while another ran (two threads at once)
  bool destroyed_busy = false; // the source was destroyed while a call ran
  bool released = false;
  // begin(): waits for release() first (bounded), then throws or says unchanged if asked.
  bool begin_blocks = false;
  bool begin_fails = false;
  bool begin_unchanged = false;
  bool begin_timed_out = false;
  bool begin_done = false;
  std::thread::id begin_thread;

  void release() {
    std::lock_guard lock(m);
    released = true;
    cv.notify_all();
  }
  // Waits until `n` next_page() calls have started; false after 10 s.
  bool wait_calls(int n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 10s, [&] { return calls >= n; });
  }
  int calls_now() {
    std::lock_guard lock(m);
    return calls;
  }
};

class ScriptedSource final : public core::AccountSource {
 public:
  explicit ScriptedSource(std::shared_ptr<Script> s) : s_(std::move(s)) {}
  ~ScriptedSource() override {
    std::lock_guard lock(s_->m);
    if (s_->busy) s_->destroyed_busy = true;
  }

  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return true; }

  core::SourceStart begin(const core::CursorState&) override {
    std::unique_lock lock(s_->m);
    if (s_->busy) s_->overlap = true;
    ++s_->begins;
    s_->begin_thread = std::this_thread::get_id();
    s_->cv.notify_all();
    if (s_->begin_blocks) s_->begin_timed_out = !s_->cv.wait_for(lock, 10s, [&] { return s_->released; });
    next_ = 1;
    s_->begin_done = true;
    if (s_->begin_fails) throw core::SyncError(core::SyncError::Kind::permanent, "export.xml: unreadable");
    core::SourceStart start;
    start.unchanged = s_->begin_unchanged;
    return start;
  }

  std::optional<core::SourcePage> next_page() override {
    const std::shared_ptr<Script> s = s_;  // outlives *this if a broken wrapper destroys it now
    int k;
    {
      std::unique_lock lock(s->m);
      if (s->busy) s->overlap = true;
      s->busy = true;
      ++s->calls;
      k = next_++;
      s->cv.notify_all();
      if (s->calls == s->block_at) s->cv.wait(lock, [&] { return s->released; });
    }
    struct Idle {
      Script& s;
      ~Idle() {
        std::lock_guard lock(s.m);
        s.busy = false;
      }
    } idle{*s};
    if (k == s->fail_at) throw core::SyncError(core::SyncError::Kind::auth, "page 3: token refused", 7.5);
    if (k > s->pages) return std::nullopt;
    core::SourcePage page;
    core::IncomingAccount record;
    record.set(core::Field::remote_id, "r" + std::to_string(k));
    page.records.push_back(std::move(record));
    page.cursor_after = "c" + std::to_string(k);
    return page;
  }

 private:
  std::shared_ptr<Script> s_;
  std::string stream_ = "accounts";
  int next_ = 1;
};

std::unique_ptr<ReadAheadSource> wrap(const std::shared_ptr<Script>& s) {
  return std::make_unique<ReadAheadSource>(std::make_unique<ScriptedSource>(s));
}

// Releases a blocked call when the test leaves (also on a failed ASSERT), before the source
// it is declared after is destroyed.
struct ReleaseOnExit {
  Script& s;
  ~ReleaseOnExit() { s.release(); }
};

TEST(ReadAheadSource, ForwardsStreamAndSnapshotAndFetchesNothingBeforeTheFirstPage) {
  auto s = std::make_shared<Script>();
  auto source = wrap(s);
  EXPECT_EQ(source->stream(), "accounts");
  EXPECT_TRUE(source->is_snapshot());
  source->begin({});
  EXPECT_EQ(s->begins, 1);
  EXPECT_EQ(s->calls_now(), 0);
}

TEST(ReadAheadSource, PagesArriveInOrderAndComplete) {
  auto s = std::make_shared<Script>();
  s->pages = 5;
  auto source = wrap(s);
  source->begin({});
  for (int k = 1; k <= 5; ++k) {
    std::optional<core::SourcePage> page = source->next_page();
    ASSERT_TRUE(page) << "page " << k;
    EXPECT_EQ(page->cursor_after, "c" + std::to_string(k));
    ASSERT_EQ(page->records.size(), 1u);
    EXPECT_EQ(page->records[0].get(core::Field::remote_id), "r" + std::to_string(k));
  }
  EXPECT_FALSE(source->next_page());
  source.reset();
  EXPECT_FALSE(s->overlap);
}

TEST(ReadAheadSource, TheNextPageIsFetchedBeforeTheCallerAsksForIt) {
  auto s = std::make_shared<Script>();
  s->block_at = 2;  // the fetch of page 2 stays under way until released
  auto source = wrap(s);
  ReleaseOnExit release{*s};
  source->begin({});

  // Page 1 comes back while the fetch of page 2 is still blocked: that fetch runs on another
  // thread, started by the call that returned page 1.
  std::optional<core::SourcePage> first = source->next_page();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->cursor_after, "c1");
  ASSERT_TRUE(s->wait_calls(2)) << "page 2 was not fetched ahead";

  s->release();
  std::optional<core::SourcePage> second = source->next_page();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->cursor_after, "c2");
  // ... and returning page 2 started page 3, again before anyone asked.
  ASSERT_TRUE(s->wait_calls(3)) << "page 3 was not fetched ahead";
  EXPECT_EQ(s->calls_now(), 3);  // one page in flight, never more
}

TEST(ReadAheadSource, AnExceptionReachesTheCallThatWouldHaveReturnedItsPageUnchanged) {
  auto s = std::make_shared<Script>();
  s->pages = 5;
  s->fail_at = 3;
  auto source = wrap(s);
  source->begin({});
  ASSERT_TRUE(source->next_page());
  ASSERT_TRUE(source->next_page());
  try {
    source->next_page();
    FAIL() << "the third next_page() did not throw";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::auth);
    EXPECT_STREQ(e.what(), "page 3: token refused");
    EXPECT_EQ(e.retry_after_s(), 7.5);
  }
  EXPECT_EQ(s->calls_now(), 3);  // nothing fetched ahead after the failure
}

TEST(ReadAheadSource, NoInnerCallAfterTheInnerSourceIsExhausted) {
  auto s = std::make_shared<Script>();
  s->pages = 2;
  auto source = wrap(s);
  source->begin({});
  ASSERT_TRUE(source->next_page());
  ASSERT_TRUE(source->next_page());
  EXPECT_FALSE(source->next_page());
  EXPECT_FALSE(source->next_page());
  EXPECT_FALSE(source->next_page());
  EXPECT_EQ(s->calls_now(), 3);  // pages 1, 2 and the one nullopt
}

TEST(ReadAheadSource, BeginWaitsForThePageInFlightAndStartsOver) {
  auto s = std::make_shared<Script>();
  s->pages = 2;
  auto source = wrap(s);
  source->begin({});
  ASSERT_TRUE(source->next_page());
  ASSERT_TRUE(source->next_page());
  EXPECT_FALSE(source->next_page());
  // A second run: exhaustion is forgotten, and page 2 of this run is in flight when the third
  // begin() comes; it is waited for and discarded.
  source->begin({});
  std::optional<core::SourcePage> page = source->next_page();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->cursor_after, "c1");
  source->begin({});
  page = source->next_page();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->cursor_after, "c1");
  EXPECT_EQ(s->begins, 3);
  source.reset();
  EXPECT_FALSE(s->overlap);
}

TEST(ReadAheadSource, DestructionWaitsForThePageInFlight) {
  auto s = std::make_shared<Script>();
  s->block_at = 2;
  auto source = wrap(s);
  source->begin({});
  ASSERT_TRUE(source->next_page());
  ASSERT_TRUE(s->wait_calls(2));

  // The fetch of page 2 is blocked; another thread releases it as destruction begins (a
  // blocked call nobody released would hang the destructor, so it is released either way).
  std::latch destroying(1);
  std::thread releaser([&] {
    destroying.wait();
    s->release();
  });
  destroying.count_down();
  source.reset();
  releaser.join();

  EXPECT_FALSE(s->destroyed_busy);  // the inner source outlived its last call
  EXPECT_FALSE(s->overlap);
  EXPECT_EQ(s->calls_now(), 2);
}

TEST(ReadAheadSource, DestructionDiscardsAnExceptionInFlight) {
  auto s = std::make_shared<Script>();
  s->pages = 5;
  s->fail_at = 2;
  auto source = wrap(s);
  source->begin({});
  ASSERT_TRUE(source->next_page());
  ASSERT_TRUE(s->wait_calls(2));
  source.reset();  // page 2's exception is never asked for: dropped, not thrown
  EXPECT_FALSE(s->destroyed_busy);
}

// Calls `gave_nothing` until it turns true; false after 10 s. (No event exists to wait on: the
// flag is the contract.)
bool spin_until(const std::function<bool()>& gave_nothing) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!gave_nothing()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(ReadAheadSource, BeginWhileOpensOnAWorkerWhileTheCallersWorkRuns) {
  auto s = std::make_shared<Script>();
  s->begin_blocks = true;  // the opening waits for the caller's work: both must run at once
  ReleaseOnExit release{*s};
  auto source = wrap(s);
  std::thread::id meanwhile_thread;
  bool gave_nothing_while_opening = true;
  core::SourceStart start = source->begin_while({}, [&](const std::function<bool()>& gave_nothing) {
    meanwhile_thread = std::this_thread::get_id();
    gave_nothing_while_opening = gave_nothing();
    s->release();
  });
  EXPECT_FALSE(s->begin_timed_out);
  EXPECT_EQ(s->begins, 1);
  EXPECT_EQ(meanwhile_thread, std::this_thread::get_id());
  EXPECT_NE(s->begin_thread, std::this_thread::get_id());
  EXPECT_FALSE(gave_nothing_while_opening);
  EXPECT_FALSE(start.unchanged);
  std::optional<core::SourcePage> page = source->next_page();  // pages follow as after begin()
  ASSERT_TRUE(page);
  EXPECT_EQ(page->cursor_after, "c1");
}

TEST(ReadAheadSource, AnUnchangedOpeningTellsTheCallersWorkItGaveNothing) {
  auto s = std::make_shared<Script>();
  s->begin_unchanged = true;
  auto source = wrap(s);
  bool told = false;
  core::SourceStart start =
      source->begin_while({}, [&](const std::function<bool()>& gave_nothing) { told = spin_until(gave_nothing); });
  EXPECT_TRUE(told);
  EXPECT_TRUE(start.unchanged);
}

TEST(ReadAheadSource, AFailedOpeningTellsTheCallersWorkAndThrowsOnceItIsDone) {
  auto s = std::make_shared<Script>();
  s->begin_fails = true;
  auto source = wrap(s);
  bool told = false, work_done = false;
  try {
    source->begin_while({}, [&](const std::function<bool()>& gave_nothing) {
      told = spin_until(gave_nothing);
      work_done = true;
    });
    ADD_FAILURE() << "the opening's error was not thrown";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    EXPECT_STREQ(e.what(), "export.xml: unreadable");
  }
  EXPECT_TRUE(told);
  EXPECT_TRUE(work_done);
}

TEST(ReadAheadSource, AnErrorOfTheCallersWorkWaitsForTheOpening) {
  auto s = std::make_shared<Script>();
  s->begin_blocks = true;
  ReleaseOnExit release{*s};
  auto source = wrap(s);
  std::latch threw(1);
  // Releases the opening only after the caller's work has thrown: begin_while must still wait.
  std::thread releaser([&] {
    threw.wait();
    s->release();
  });
  EXPECT_THROW(source->begin_while({},
                                   [&](const std::function<bool()>&) {
                                     threw.count_down();
                                     throw std::runtime_error("database gone");
                                   }),
               std::runtime_error);
  {
    std::lock_guard lock(s->m);
    EXPECT_TRUE(s->begin_done);
  }
  releaser.join();
  EXPECT_FALSE(s->begin_timed_out);
}

}  // namespace
}  // namespace erpsync::daemon
