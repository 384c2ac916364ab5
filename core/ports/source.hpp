#pragma once
// The one Source port: what the engine polls for one stream of one connector, whatever the
// record kind. A source hands over typed pages (Page<IncomingAccount> for company records,
// Page<IncomingCustomer> for Magento customers, ...). Adapters translate their protocol's
// failures into SyncError.
//
// Thread-safety: a run uses its source exclusively.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/rules/commerce.hpp"
#include "core/rules/contacts.hpp"
#include "core/record.hpp"
#include "core/ports/store.hpp"

namespace erpsync::core {

struct SourceStart {
  // The source is byte-identical to the last successful run (file feeds): no records follow,
  // the report says source=unchanged.
  bool unchanged = false;
  // Full snapshots: how many records this snapshot holds, known up front (for max_shrink).
  std::optional<std::int64_t> snapshot_size;
  std::string content_hash;  // kept with the cursor when the run succeeds
};

template <class Record>
struct Page {
  std::vector<Record> records;  // in arrival order
  // Ascending indices into `records` of the records whose remote id appears again later in the
  // same document, in this page or a later one (SPEC §3 rule 7 across the slices a source cuts
  // one document into): the engine counts them superseded and syncs only the last one. A source
  // that hands over whole pages leaves it empty: the engine finds duplicates within a page.
  std::vector<std::size_t> superseded;
  // The cursor that covers this page and all before it; committed with the page's last batch.
  // Empty for snapshots without a cursor.
  std::string cursor_after;
};

template <class Record>
class Source {
 public:
  virtual ~Source() = default;
  Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  virtual const std::string& stream() const = 0;
  // A full snapshot (no cursor): absent bound records are `missing`, max_shrink applies.
  virtual bool is_snapshot() const { return false; }
  // Starts reading after `cursor`. Throws SyncError when the source cannot be read.
  virtual SourceStart begin(const CursorState& cursor) = 0;

  // begin(), giving the caller the opening's time: a source that opens on another thread
  // (daemon::ReadAheadSource) calls `meanwhile` on the calling thread while it opens, with a
  // function that turns true once the opening has ended with nothing to sync (the source is
  // unchanged, or failed), so that the caller's work can stop early; then returns what begin()
  // returns (or throws what it throws, once `meanwhile` has returned). An exception from
  // `meanwhile` reaches the caller once the opening has ended. The default opens on the
  // calling thread and never calls `meanwhile`: there is no time to give.
  using Meanwhile = std::function<void(const std::function<bool()>& opening_gave_nothing)>;
  virtual SourceStart begin_while(const CursorState& cursor, const Meanwhile& /*meanwhile*/) { return begin(cursor); }
  // The next page, or nullopt when the source is exhausted. Throws SyncError.
  virtual std::optional<Page<Record>> next_page() = 0;
  // A full snapshot read as one document (a file): its size in bytes, known before it is read
  // (the engine bounds what it holds beside the document in its terms, SPEC §11). nullopt when
  // the source cannot tell.
  virtual std::optional<std::size_t> document_bytes_hint() { return std::nullopt; }
};

// The sources of each record kind.
using AccountSource = Source<IncomingAccount>;    // companies (feed, Odoo companies)
using CustomerSource = Source<IncomingCustomer>;  // Magento customers
using OrderSource = Source<IncomingOrder>;        // Magento orders
using ContactSource = Source<IncomingContactRecord>;  // Odoo contacts
using SourcePage = Page<IncomingAccount>;

}  // namespace erpsync::core
