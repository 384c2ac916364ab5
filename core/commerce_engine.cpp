#include "core/commerce_engine.hpp"

#include <chrono>
#include <map>
#include <span>
#include <unordered_map>

#include "core/batch_commit.hpp"

namespace erpsync::core {
namespace {

using Clock = std::chrono::steady_clock;

struct StopRequested {};

// The per-stream parts: which record type, how to decide it and read it back.
struct CustomerKind {
  using Input = CustomerInput;
  using Record = IncomingCustomer;
  static CommerceKeys keys(const MatchPolicy& p, std::span<const Input> r) { return customer_keys(p, r); }
  static WriteBatch decide(const MatchPolicy& p, std::span<const Input> r, const CommerceState& s) {
    return decide_customers(p, r, s);
  }
  static std::optional<Record> from_payload(const std::string& j) { return customer_from_payload(j); }
  static std::vector<Record>& of(CommercePage& page) { return page.customers; }
  static std::string code(const Record& r) { return r.external_code; }
};

struct OrderKind {
  using Input = OrderInput;
  using Record = IncomingOrder;
  static CommerceKeys keys(const MatchPolicy& p, std::span<const Input> r) { return order_keys(p, r); }
  static WriteBatch decide(const MatchPolicy& p, std::span<const Input> r, const CommerceState& s) {
    return decide_orders(p, r, s);
  }
  static std::optional<Record> from_payload(const std::string& j) { return order_from_payload(j); }
  static std::vector<Record>& of(CommercePage& page) { return page.orders; }
  static std::string code(const Record&) { return {}; }
};

struct ContactKind {
  using Input = ContactInput;
  using Record = IncomingContactRecord;
  static CommerceKeys keys(const MatchPolicy& p, std::span<const Input> r) { return contact_keys(p, r); }
  static WriteBatch decide(const MatchPolicy& p, std::span<const Input> r, const CommerceState& s) {
    return decide_contacts(p, r, s);
  }
  static std::optional<Record> from_payload(const std::string& j) { return contact_from_payload(j); }
  static std::vector<Record>& of(CommercePage& page) { return page.contacts; }
  static std::string code(const Record&) { return {}; }
};

template <class Kind>
class Runner {
 public:
  using Input = typename Kind::Input;

  Runner(const MatchPolicy& policy, Store& store, const CommerceRunOptions& options, SyncEvents& events)
      : policy_(policy), store_(store), options_(options), events_(events) {}

  // Decides and applies `records` with `cursor` (may be empty); returns the committed counters
  // (see decide_and_commit).
  Counters run(std::span<const Input> records, const std::optional<CursorWrite>& cursor) {
    auto decide_batch = [&](std::span<const Input> rs) {
      WriteBatch batch = Kind::decide(policy_, rs, store_.load_commerce_state(Kind::keys(policy_, rs)));
      batch.connector = policy_.connector;
      return batch;
    };
    return decide_and_commit(records, cursor, store_, events_, options_.stream.max_redecides, decide_batch);
  }

  // Batches of options.batch_size; the cursor goes with the last one.
  Counters run_all(std::span<const Input> all, const std::optional<CursorWrite>& cursor, Counters* so_far,
                   std::size_t* in_flight) {
    Counters total;
    if (all.empty()) {
      if (cursor) run(all, cursor);
      return total;
    }
    for (std::size_t at = 0; at < all.size(); at += options_.stream.batch_size) {
      if (so_far && events_.stop_requested()) throw StopRequested{};
      const std::size_t n = std::min(options_.stream.batch_size, all.size() - at);
      if (in_flight) *in_flight = n;
      const Counters c = run(all.subspan(at, n), at + n == all.size() ? cursor : std::nullopt);
      if (in_flight) *in_flight = 0;
      total += c;
      if (so_far) {
        *so_far += c;
        events_.on_progress(*so_far);
      }
    }
    return total;
  }

 private:
  const MatchPolicy& policy_;
  Store& store_;
  const CommerceRunOptions& options_;
  SyncEvents& events_;
};

template <class Kind>
Counters retry_waiting_of(const MatchPolicy& policy, Store& store, const CommerceRunOptions& options,
                          SyncEvents& events) {
  using Input = typename Kind::Input;
  Runner<Kind> runner(policy, store, options, events);
  Counters total;
  // Rejections first (the latest payload per remote id), then parked records.
  std::vector<StoredRejection> stored = store.replayable_rejections(policy.connector, policy.stream);
  std::map<std::string, std::size_t> latest;
  for (std::size_t i = 0; i < stored.size(); ++i) latest[stored[i].remote_id] = i;
  std::vector<Input> replays;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (latest[stored[i].remote_id] != i) continue;
    if (auto rec = Kind::from_payload(stored[i].payload)) replays.push_back({std::move(*rec), Arrival::rejection_replay, false});
  }
  total += runner.run_all(replays, std::nullopt, nullptr, nullptr);

  std::vector<Input> retries;
  for (StoredParked& p : store.parked_records(policy.connector, policy.stream, options.park_ttl)) {
    if (auto rec = Kind::from_payload(p.payload)) retries.push_back({std::move(*rec), Arrival::parked_retry, p.expired});
  }
  total += runner.run_all(retries, std::nullopt, nullptr, nullptr);
  return total;
}

// Rule 7 across a whole fetched page: only the last record of each remote id is kept.
template <class Kind>
std::vector<typename Kind::Input> page_inputs(std::vector<typename Kind::Record> page, Counters& counters,
                                              SyncEvents& events) {
  std::unordered_map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < page.size(); ++i) last[page[i].remote_id] = i;
  std::vector<typename Kind::Input> out;
  out.reserve(last.size());
  for (std::size_t i = 0; i < page.size(); ++i) {
    if (last[page[i].remote_id] != i) {
      counters.count(Outcome::superseded);
      events.on_decision(Decision{page[i].remote_id, Kind::code(page[i]), Outcome::superseded, std::nullopt,
                                  "remote id " + page[i].remote_id +
                                      " appears again later in the same page; the last one is the record"});
      continue;
    }
    out.push_back({std::move(page[i]), Arrival::source, false});
  }
  return out;
}

template <class Kind>
SyncReport run_of(const MatchPolicy& policy, CommerceSource& source, Store& store, const CommerceRunOptions& options,
                  SyncEvents& events, SyncError::Kind* error_kind) {
  const auto started = Clock::now();
  SyncReport report;
  report.connector = policy.connector;
  report.stream = policy.stream;
  Counters& counters = report.counters;
  std::size_t in_flight = 0;

  try {
    if (source.stream() != policy.stream)
      throw std::logic_error("source stream " + source.stream() + " run with policy stream " + policy.stream);
    report.run_id = store.begin_run(policy.connector, policy.stream, options.stream.instance);
    counters += retry_waiting_of<Kind>(policy, store, options, events);

    const CursorState cursor = store.load_cursor(policy.connector, policy.stream);
    report.cursor = cursor.cursor;
    source.begin(cursor);
    Runner<Kind> runner(policy, store, options, events);
    std::string last_cursor = cursor.cursor;
    while (auto page = source.next_page()) {
      std::vector<typename Kind::Input> inputs = page_inputs<Kind>(std::move(Kind::of(*page)), counters, events);
      std::optional<CursorWrite> cw;
      if (!page->cursor_after.empty() && page->cursor_after != last_cursor)
        cw = CursorWrite{policy.stream, page->cursor_after, std::nullopt, std::nullopt};
      if (inputs.empty() && !cw) continue;
      runner.run_all(inputs, cw, &counters, &in_flight);
      if (!page->cursor_after.empty()) last_cursor = page->cursor_after;
    }
    report.cursor = last_cursor;
    report.status = "ok";
  } catch (const StopRequested&) {
    report.status = "stopped";
    report.message = "stopped by request before the source was read to the end; the next run goes on from the cursor";
  } catch (const SyncError& e) {
    report.status = "error";
    report.message = std::string(e.what());
    if (error_kind) *error_kind = e.kind();
    for (std::size_t i = 0; i < in_flight; ++i) counters.count(Outcome::failed);
  } catch (const std::exception& e) {
    report.status = "error";
    report.message = std::string(e.what());
    if (error_kind) *error_kind = SyncError::Kind::permanent;
    for (std::size_t i = 0; i < in_flight; ++i) counters.count(Outcome::failed);
  }

  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  record_run_end(store, report, error_kind);
  return report;
}

bool is_customers(const MatchPolicy& policy) { return policy.stream == kCustomersStream; }
bool is_contacts(const MatchPolicy& policy) { return policy.stream == kContactsStream; }

}  // namespace

Counters retry_waiting(const MatchPolicy& policy, Store& store, const CommerceRunOptions& options,
                       SyncEvents& events) {
  if (is_contacts(policy)) return retry_waiting_of<ContactKind>(policy, store, options, events);
  return is_customers(policy) ? retry_waiting_of<CustomerKind>(policy, store, options, events)
                              : retry_waiting_of<OrderKind>(policy, store, options, events);
}

SyncReport run_commerce_stream(const MatchPolicy& policy, CommerceSource& source, Store& store,
                               const CommerceRunOptions& options, SyncEvents& events, SyncError::Kind* error_kind) {
  if (is_contacts(policy)) return run_of<ContactKind>(policy, source, store, options, events, error_kind);
  return is_customers(policy) ? run_of<CustomerKind>(policy, source, store, options, events, error_kind)
                              : run_of<OrderKind>(policy, source, store, options, events, error_kind);
}

}  // namespace erpsync::core
