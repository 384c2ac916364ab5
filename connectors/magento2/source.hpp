#pragma once
// Magento2Source: one stream (`customers`, `orders` or `carts`) of a Magento 2 store as a
// core::Source, keyset-paged with AND-only filters (SPEC §4.1):
//   phase 1: updated_at eq W AND entity_id gt I, sorted by entity_id ASC;
//   phase 2: updated_at gt W, sorted by updated_at ASC, entity_id ASC;
// always currentPage=1 and an explicit pageSize and direction. Each page advances the position
// (W, I) to its last row; a page shorter than pageSize ends a phase (phase 2's end ends the
// read). A row edited while pages are read moves behind the position and is read once, later;
// thousands of rows stamped in one second are walked by entity id in phase 1 and cannot loop;
// past-the-end page behaviour (2.3 repeats, 2.4 empty) never matters since no offset is used.
//
// Cursor text: "W#I", or "W#I|full=F" where F is when the last full re-read started (UTC).
//   - Each run starts `cursor_overlap` before W (from (W - overlap, 0)) to catch rows the store
//     committed late; re-read rows are unchanged by hash. The cursor it reports never goes
//     below the stored position.
//   - No cursor: from start_date (rows updated at or after it), else from the beginning.
//   - When full_resync_interval has passed since F (or F is unknown), the run re-reads the
//     whole stream from the start (address-only edits do not bump updated_at) and F := now.
// Rows whose (updated_at, id) is not after the current position are dropped (a server that
// ignores a filter cannot make the read loop or repeat).
//
// Thread-safety: one run at a time.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "connectors/magento2/client.hpp"
#include "connectors/magento2/mapper.hpp"
#include "core/ports/source.hpp"

namespace erpsync::connectors::magento2 {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct KeysetCursor {
  std::string updated_at;  // W; empty: from the beginning
  long long id = 0;        // I
  std::string full_at;     // F; empty: unknown
};
std::optional<KeysetCursor> parse_cursor(const std::string& text);  // nullopt: malformed
std::string format_cursor(const KeysetCursor& c);
// 'YYYY-MM-DD HH:MM:SS' ± seconds.
std::string shift_utc(const std::string& datetime, long long seconds);
std::string format_utc(std::chrono::system_clock::time_point t);

// The keyset paging of one stream (see above), whatever its record kind.
class KeysetPager {
 public:
  // stream: "customers", "orders" or "carts". `clock` (tests) defaults to the system clock.
  KeysetPager(std::string stream, std::shared_ptr<Magento2Client> client, WallClock clock = {});

  const std::string& stream() const { return stream_; }
  const Magento2Settings& settings() const { return client_->settings(); }
  void begin(const core::CursorState& cursor);
  // Hands each new item of the next page that has one to `take`, and returns the cursor that
  // covers it; nullopt once the stream is read to its end.
  std::optional<std::string> next(const std::function<void(const nlohmann::json& item)>& take);
  // True when the current read is a full re-read (for the report and tests).
  bool full_resync() const { return full_; }

 private:
  enum class Phase { same_second, later, done };
  QueryParams query() const;

  std::string stream_;
  std::shared_ptr<Magento2Client> client_;
  WallClock clock_;
  std::string route_;
  const char* id_key_;
  KeysetCursor stored_;  // position as stored (the reported cursor never goes below it)
  KeysetCursor pos_;
  Phase phase_ = Phase::done;
  bool full_ = false;
};

// One stream of a Magento 2 store as the engine's Source: Record is core::IncomingCustomer
// (stream "customers"), core::IncomingOrder (stream "orders") or core::IncomingCart (stream
// "carts").
template <class Record>
class Magento2Source final : public core::Source<Record> {
 public:
  explicit Magento2Source(std::shared_ptr<Magento2Client> client, WallClock clock = {});

  const std::string& stream() const override { return pager_.stream(); }
  core::SourceStart begin(const core::CursorState& cursor) override {
    pager_.begin(cursor);
    return {};
  }
  std::optional<core::Page<Record>> next_page() override;
  bool full_resync() const { return pager_.full_resync(); }

 private:
  KeysetPager pager_;
};

using CustomersSource = Magento2Source<core::IncomingCustomer>;
using OrdersSource = Magento2Source<core::IncomingOrder>;
using CartsSource = Magento2Source<core::IncomingCart>;

}  // namespace erpsync::connectors::magento2
