#pragma once
// One run of one commerce stream (Magento `customers` or `orders`, SPEC §4.1; Odoo `contacts`,
// SPEC §4.2, decided by contact_matcher.hpp), the same
// journey as run_stream() for company records: replay open rejections and retry parked
// records (rule 10) before the source is read, each committing on its own; then read the
// source page by page, decide each batch (decide_customers / decide_orders), apply it with its
// cursor, and report. Pure orchestration over the Store and CommerceSource ports.
//
// Thread-safety: a run uses its store and source exclusively.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/commerce.hpp"
#include "core/contact_matcher.hpp"
#include "core/errors.hpp"
#include "core/policy.hpp"
#include "core/store.hpp"
#include "core/sync_engine.hpp"
#include "core/sync_report.hpp"

namespace erpsync::core {

struct CommercePage {
  // A customers source fills `customers`, an orders source `orders`, a contacts source
  // `contacts`; in arrival order.
  std::vector<IncomingCustomer> customers;
  std::vector<IncomingOrder> orders;
  std::vector<IncomingContactRecord> contacts;
  // The cursor that covers this page and all before it; committed with the page's last batch.
  std::string cursor_after;
};

// The port a commerce connector implements for one stream.
class CommerceSource {
 public:
  virtual ~CommerceSource() = default;
  CommerceSource() = default;
  CommerceSource(const CommerceSource&) = delete;
  CommerceSource& operator=(const CommerceSource&) = delete;

  virtual const std::string& stream() const = 0;  // "customers" | "orders" | "contacts"
  // Starts reading after `cursor`. Throws SyncError when the source cannot be read.
  virtual void begin(const CursorState& cursor) = 0;
  // The next page, or nullopt when the source is exhausted. Throws SyncError.
  virtual std::optional<CommercePage> next_page() = 0;
};

struct CommerceRunOptions {
  StreamRunOptions stream;                               // batch_size, instance, max_redecides
  std::chrono::seconds park_ttl{std::chrono::hours(24 * 7)};  // rule 10
};

// Runs one commerce stream once; policy.stream must equal source.stream(). The stream names
// the record kind: "customers", "orders", or "contacts" (decide_contacts). Never throws for
// source or database failures: the report says status=error with the message and `failed`
// counting the records of the batch that could not be committed (see run_stream()).
SyncReport run_commerce_stream(const MatchPolicy& policy, CommerceSource& source, Store& store,
                               const CommerceRunOptions& options, SyncEvents& events,
                               SyncError::Kind* error_kind = nullptr);

// What run_commerce_stream() does before the source is read: re-evaluates the open replayable
// rejections of (connector, stream) from their payloads, then retries the parked records
// (expired ones become account_not_found rejections). Each batch commits on its own. A
// replay or retry that ends as before writes and counts nothing; one that now syncs is counted
// as fetched and in its outcome. Returns those counters.
Counters retry_waiting(const MatchPolicy& policy, Store& store, const CommerceRunOptions& options,
                       SyncEvents& events);

}  // namespace erpsync::core
