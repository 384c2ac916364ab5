#pragma once
// Builders shared by the commerce (Magento) core tests.

#include <string>
#include <vector>

#include "core/rules/commerce.hpp"
#include "core/engine.hpp"
#include "reference_store/memory_store.hpp"

namespace erpsync::core::testing {

inline MatchPolicy shop_policy(std::string stream = "customers") {
  MatchPolicy p;
  p.connector = "shop";
  p.stream = std::move(stream);
  p.default_owner = "ecommerce";
  return p;
}

inline IncomingCustomer customer(std::string id, std::string code, std::string first = "Anna",
                                 std::string last = "Berger", std::string company = "") {
  IncomingCustomer c;
  c.remote_id = std::move(id);
  c.external_code = std::move(code);
  c.first_name = std::move(first);
  c.last_name = std::move(last);
  c.email = c.first_name + "@example.com";
  c.company = std::move(company);
  c.updated_at = "2024-05-01 08:00:00";
  return c;
}

inline IncomingOrder order(std::string id, std::optional<std::string> customer_id, std::string total = "10.5") {
  IncomingOrder o;
  o.remote_id = std::move(id);
  o.customer_remote_id = std::move(customer_id);
  o.customer_email = "buyer@example.com";
  o.increment_id = "00000" + o.remote_id;
  o.status = "pending";
  o.state = "new";
  o.grand_total = std::move(total);
  o.currency = "EUR";
  o.created_at = "2024-05-01 09:00:00";
  o.updated_at = "2024-05-01 09:00:01";
  return o;
}

inline WriteBatch sync_customers(MemoryStore& store, const std::vector<IncomingCustomer>& records,
                                 const MatchPolicy& policy = shop_policy()) {
  std::vector<CustomerInput> in;
  for (const auto& r : records) in.push_back({r, Arrival::source, false});
  const CommerceState state = store.load_commerce_state(customer_keys(policy, in));
  WriteBatch b = decide_customers(policy, in, state);
  if (!b.writes_nothing()) store.apply(b);
  return b;
}

inline WriteBatch sync_orders(MemoryStore& store, const std::vector<IncomingOrder>& records,
                              const MatchPolicy& policy = shop_policy("orders")) {
  std::vector<OrderInput> in;
  for (const auto& r : records) in.push_back({r, Arrival::source, false});
  const CommerceState state = store.load_commerce_state(order_keys(policy, in));
  WriteBatch b = decide_orders(policy, in, state);
  if (!b.writes_nothing()) store.apply(b);
  return b;
}

// A scripted CommerceSource: one page per vector entry, cursor "p<n>".
// A source of `Record`s whose pages the test sets up front.
template <class Record>
class ScriptedSource final : public Source<Record> {
 public:
  explicit ScriptedSource(std::string stream) : stream_(std::move(stream)) {}
  std::vector<Page<Record>> pages;
  bool snapshot = false;  // a full snapshot rather than a cursor-read source
  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return snapshot; }
  SourceStart begin(const CursorState&) override {
    next_ = 0;
    return {};
  }
  std::optional<Page<Record>> next_page() override {
    if (next_ >= pages.size()) return std::nullopt;
    return pages[next_++];
  }

 private:
  std::string stream_;
  std::size_t next_ = 0;
};

}  // namespace erpsync::core::testing
