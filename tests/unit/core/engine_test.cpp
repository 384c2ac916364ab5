// The one engine (core/engine.hpp) over the reference store: what a failed run reports.

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

// A source whose pages come from the test, then fail with `failure`.
class FailingAfterPages final : public Source<IncomingCustomer> {
 public:
  FailingAfterPages(std::vector<Page<IncomingCustomer>> pages, SyncError failure)
      : pages_(std::move(pages)), failure_(std::move(failure)) {}
  const std::string& stream() const override { return stream_; }
  SourceStart begin(const CursorState&) override { return {}; }
  std::optional<Page<IncomingCustomer>> next_page() override {
    if (next_ < pages_.size()) return pages_[next_++];
    throw failure_;
  }

 private:
  std::string stream_ = "customers";
  std::vector<Page<IncomingCustomer>> pages_;
  SyncError failure_;
  std::size_t next_ = 0;
};

TEST(Engine, AFailedRunReportsTheCursorItCommittedAndTheFailuresKind) {
  MemoryStore store;
  Page<IncomingCustomer> first;
  first.records = {customer("1", ""), customer("2", "")};
  first.cursor_after = "2026-05-01 08:00:00#2";
  FailingAfterPages source({first}, SyncError(SyncError::Kind::transient, "HTTP 503", 7.0));
  SyncEvents events;
  RunOptions options;
  const SyncReport r = run_stream(shop_policy(), source, store, options, events);
  EXPECT_EQ(r.status, RunStatus::error);
  EXPECT_EQ(r.error_kind, SyncError::Kind::transient);
  EXPECT_EQ(r.retry_after_s, 7.0);
  EXPECT_EQ(r.message, "HTTP 503");
  // The first page is committed with its cursor, and the report says so.
  EXPECT_EQ(r.cursor, "2026-05-01 08:00:00#2");
  EXPECT_EQ(store.cursors().at({"shop", "customers"}).cursor, "2026-05-01 08:00:00#2");
  EXPECT_EQ(r.counters.created, 2);
  EXPECT_EQ(store.runs().at(r.run_id).status, "error");
}

TEST(Engine, AnUnclassifiedExceptionIsAPermanentFailureNotACrash) {
  MemoryStore store;
  ScriptedSource<IncomingOrder> source("orders");
  SyncEvents events;
  RunOptions options;
  // A policy for another stream than the source's is a wiring bug: reported, not thrown.
  const SyncReport r = run_stream(shop_policy("customers"), source, store, options, events);
  EXPECT_EQ(r.status, RunStatus::error);
  EXPECT_EQ(r.error_kind, SyncError::Kind::permanent);
  EXPECT_NE(r.message.find("source stream orders"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace erpsync::core::testing
