#pragma once
// ReadAheadSource: an AccountSource that fetches the inner source's next page on a worker
// thread while the engine decides and writes the page it was just given, so that mapping page
// k+1 (a feed's XML slice into IncomingAccounts) overlaps the engine's work on page k.
//
// Contracts:
// - begin() runs the inner begin() on the caller's thread, after waiting for (and discarding)
//   any page still in flight from an earlier run. begin_while() runs it on a worker thread
//   instead, and the caller's `meanwhile` on the caller's thread at the same time; it returns
//   (or rethrows the inner begin()'s exception) once both have ended, and rethrows an exception
//   of `meanwhile` only once the inner begin() has ended too. No page is fetched before the first
//   next_page() after begin(): that call starts the fetch of page 1 (unless one is already under
//   way) and waits for it; every next_page() that returns a page starts the fetch of the page
//   after it before returning.
// - At most one page is in flight, so at most two pages exist because of this wrapper: the one
//   returned (once the caller drops its predecessor before asking again) and the one being
//   fetched.
// - An exception the inner next_page() throws (core::SyncError or any other) reaches the caller
//   unchanged (same type, kind and message) from the next_page() call that would have returned
//   that page. Nothing is fetched ahead after it; a further next_page() call asks the inner
//   source again on the same terms as the first one.
// - Once the inner next_page() has returned nullopt, no further inner call is made (next_page()
//   returns nullopt) until the next begin().
// - The inner source is never used by two threads at once: the worker runs only the inner
//   next_page() (and begin() for begin_while()); begin(), begin_while() and the destructor
//   wait for it first. stream() and is_snapshot() are
//   read from the inner source once, at construction, so they must not change over its life
//   (they are configuration for every source this wraps).
//
// Thread-safety: like any AccountSource, one caller at a time.

#include <future>
#include <memory>
#include <optional>
#include <string>

#include "core/ports/source.hpp"

namespace erpsync::daemon {

class ReadAheadSource final : public core::AccountSource {
 public:
  explicit ReadAheadSource(std::unique_ptr<core::AccountSource> inner);
  // Waits for the page in flight, if any, and discards it (and any exception it ended in).
  ~ReadAheadSource() override;

  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return snapshot_; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  core::SourceStart begin_while(const core::CursorState& cursor, const Meanwhile& meanwhile) override;
  std::optional<core::SourcePage> next_page() override;
  std::optional<std::size_t> document_bytes_hint() override;  // the inner source's, once settled

 private:
  void settle();  // waits for and discards the page in flight
  void fetch_ahead();

  std::unique_ptr<core::AccountSource> inner_;
  std::string stream_;
  bool snapshot_;
  bool exhausted_ = false;  // the inner next_page() returned nullopt since the last begin()
  std::future<std::optional<core::SourcePage>> ahead_;  // valid while a page is in flight
};

}  // namespace erpsync::daemon
