#pragma once
// FakeMagento: a Magento 2.4 REST store on FakeHttpServer, built from Magento's wire format
// as the fixtures in tests/fixtures/magento/ record it (their README says where each rule
// comes from):
//   GET  /rest/V1/customers/search, GET /rest/V1/orders, GET /rest/V1/carts/search
//        (searchCriteria filters, AND across
//        groups and OR within, sortOrders with DESC when no direction, pageSize (all rows when
//        absent), currentPage; envelope {items, search_criteria, total_count});
//   POST /rest/V1/integration/admin/token (JSON string token; 401 bad credentials; 400 2FA).
// Bodies are PHP json_encode-like: `\/` escapes, non-ASCII as \uXXXX, nulls omitted (the
// records are stored as given), amounts as numbers with or without fraction (a string
// "#num:<text>" in a record is written as the bare number <text>, so exact decimals beyond
// double precision can be served).
// Every data request must authenticate: an OAuth 1.0a HMAC-SHA256 signature checked by this
// file's own verifier (not the connector's signer), an allowed bearer integration token, or an
// admin token this fake issued; anything else gets the real 401 body.
//
// Threading: handlers run on server threads; every public method locks.
//
// Cost: besides the records (by id), each collection keeps an index ordered by
// (updated_at, entity_id, id), maintained on put/remove. The queries a keyset-paged sync sends
// (updated_at gt/gteq V sorted updated_at ASC, entity_id ASC; updated_at eq V AND entity_id
// gt/gteq X sorted entity_id ASC (or updated_at, entity_id ASC); with pageSize) select a
// contiguous range of that index in the order the general path would produce, so they are
// answered by binary search + advance (O(page_size + log N), total_count exact); every other
// query takes the general path (filter every record, sort).

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/fake_http_server.hpp"

namespace erpsync::testing {

// One line of a cart: qty and price as JSON number text ("2", "19.99"), written bare.
struct FakeCartItem {
  long long item_id = 0;
  std::string sku, name, qty, price;
};

// A CartInterface object as Magento 2.4 serialises it (tests/fixtures/magento/carts-search-page1.json):
// `customer` is the registered customer's CustomerInterface object with `customer_is_guest`
// false, or nullopt for a guest cart: `customer_is_guest` true and a customer object whose
// getters declare strings but hold null (`{"email": null, "firstname": null, "lastname": null}`),
// the guest's e-mail only in billing_address.email. No totals (CartInterface has none);
// `reserved_order_id` and `converted_at` only when set (null optional fields are left out).
nlohmann::json cart_json(long long id, const std::string& updated_at, const std::optional<nlohmann::json>& customer,
                         const std::string& email, const std::vector<FakeCartItem>& items, bool active = true,
                         const std::string& reserved_order_id = "", const std::string& converted_at = "");

class FakeMagento {
 public:
  struct Options {
    bool legacy_paging = false;  // 2.3: a page past the end repeats the last page
    std::string consumer_key = "ck-test", consumer_secret = "cs-test", access_token = "at-test",
                access_token_secret = "ats-test";
    std::string integration_token = "it-test";
    bool bearer_integration_allowed = false;
    std::string admin_user = "sync", admin_password = "pw-test";
    bool twofa_enforced = false;
  };

  explicit FakeMagento(Options options);
  FakeMagento() : FakeMagento(Options{}) {}

  std::string base_url() const { return server_.url(""); }
  FakeHttpServer& server() { return server_; }
  const Options& options() const { return options_; }

  // Records, keyed by "id" (customers, carts) / "entity_id" (orders); put replaces. A cart is a
  // CartInterface object (its `id` is the quote's entity_id, which searchCriteria names
  // "entity_id"; cart_json() in tests builds one).
  void put_customer(nlohmann::json customer);
  void put_order(nlohmann::json order);
  void put_cart(nlohmann::json cart);
  void remove_customer(long long id);

  // Called before a data request is answered, with the 0-based index of that data request:
  // tests edit records "between page requests" here.
  void on_data_request(std::function<void(FakeMagento&, int)> hook);
  // The next data requests get these replies instead (faults), in order.
  void inject(std::vector<FakeReply> replies);
  // Admin tokens issued so far stop being valid (a 60-minute JWT expired).
  void expire_admin_tokens();

  int data_requests() const;
  int token_requests() const;
  int rejected_signatures() const;  // requests whose OAuth signature or timestamp/nonce failed
  std::vector<std::string> failures() const;  // why each rejected request was rejected

  // The PHP-like serialisation the fake uses (exposed for tests of the client's parser).
  static std::string php_json(const nlohmann::json& value);

 private:
  // The collections; customers and carts are keyed by "id", which searchCriteria calls entity_id.
  enum class Kind { customers, orders, carts };
  FakeReply data(const RecordedRequest& r, Kind kind);
  FakeReply token(const RecordedRequest& r);
  bool authorised(const RecordedRequest& r, std::string& why);
  bool verify_oauth(const RecordedRequest& r, const std::string& header, std::string& why);

  // One collection (customers, orders or carts): records by id, and the (updated_at, entity_id, id)
  // index of the fast path. A record whose entity_id the general path could not compare
  // (std::stoll throws) is left out of the index and listed in `unindexed`; while any is, the
  // collection is served by the general path only.
  struct IndexEntry {
    std::string updated_at;
    long long entity_id = 0;
    long long id = 0;
  };
  struct Collection {
    std::map<long long, nlohmann::json> records;
    std::vector<IndexEntry> index;  // sorted by (updated_at, entity_id, id)
    std::map<long long, bool> unindexed;
  };
  static void put_record(Collection& c, long long id, nlohmann::json record, bool id_keyed);
  static void erase_record(Collection& c, long long id, bool id_keyed);

  Options options_;
  mutable std::mutex mutex_;
  Collection customers_, orders_, carts_;
  std::function<void(FakeMagento&, int)> hook_;
  std::vector<FakeReply> injected_;
  std::vector<std::string> admin_tokens_;
  std::map<std::string, bool> nonces_;
  std::vector<std::string> failures_;
  int data_requests_ = 0, token_requests_ = 0, rejected_signatures_ = 0, issued_ = 0;
  FakeHttpServer server_;  // last: stopped first, while the state above is alive
};

}  // namespace erpsync::testing
