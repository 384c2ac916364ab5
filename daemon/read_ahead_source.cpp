#include "daemon/read_ahead_source.hpp"

#include <atomic>
#include <utility>

namespace erpsync::daemon {

ReadAheadSource::ReadAheadSource(std::unique_ptr<core::AccountSource> inner)
    : inner_(std::move(inner)), stream_(inner_->stream()), snapshot_(inner_->is_snapshot()) {}

ReadAheadSource::~ReadAheadSource() { settle(); }

void ReadAheadSource::settle() {
  // wait() rather than get(): a page or exception nobody will ask for is dropped unread.
  if (ahead_.valid()) ahead_.wait();
  ahead_ = {};
}

void ReadAheadSource::fetch_ahead() {
  // std::launch::async: a thread of its own now, never deferred to the get() that would make
  // the fetch synchronous again. The future carries the page or the exception, unchanged.
  ahead_ = std::async(std::launch::async, [inner = inner_.get()] { return inner->next_page(); });
}

core::SourceStart ReadAheadSource::begin(const core::CursorState& cursor) {
  settle();
  exhausted_ = false;
  return inner_->begin(cursor);
}

core::SourceStart ReadAheadSource::begin_while(const core::CursorState& cursor, const Meanwhile& meanwhile) {
  settle();
  exhausted_ = false;
  std::atomic<bool> gave_nothing{false};
  std::future<core::SourceStart> opening =
      std::async(std::launch::async, [this, &cursor, &gave_nothing]() -> core::SourceStart {
        try {
          core::SourceStart start = inner_->begin(cursor);
          if (start.unchanged) gave_nothing = true;
          return start;
        } catch (...) {
          gave_nothing = true;
          throw;
        }
      });
  try {
    meanwhile([&gave_nothing] { return gave_nothing.load(); });
  } catch (...) {
    opening.wait();  // the inner source and `cursor` stay in use until then
    throw;
  }
  return opening.get();
}

std::optional<core::SourcePage> ReadAheadSource::next_page() {
  if (exhausted_) return std::nullopt;
  if (!ahead_.valid()) fetch_ahead();
  // get() leaves the future invalid, also when it rethrows: after an exception nothing is in
  // flight and nothing more is fetched ahead.
  std::optional<core::SourcePage> page = ahead_.get();
  if (!page) {
    exhausted_ = true;
    return std::nullopt;
  }
  fetch_ahead();
  return page;
}

std::optional<std::size_t> ReadAheadSource::document_bytes_hint() {
  settle();
  return inner_->document_bytes_hint();
}

}  // namespace erpsync::daemon
