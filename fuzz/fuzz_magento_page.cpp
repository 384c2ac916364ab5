// libFuzzer target: a Magento 2 REST search page (SPEC §4.1) as the connector reads it: the
// exact-decimal bounded parser (connectors/magento2/exact_json), then every item through the
// keyset key and the customer and order mappers. Properties besides "no crash, no sanitizer
// report": only core::SyncError escapes; an accepted page is valid UTF-8 throughout (ill-formed
// bytes inside strings were marked, so a strict dump() never throws) and respects the depth
// limit; every mapped customer and order survives its payload round trip (what a parked or
// rejected record is stored as); a grand_total the order mapper accepts is exact decimal text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "connectors/magento2/exact_json.hpp"
#include "connectors/magento2/mapper.hpp"
#include "core/rules/commerce.hpp"
#include "core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace erpsync;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  connectors::ParseLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_depth = 16;
  nlohmann::json page;
  try {
    page = connectors::magento2::parse_exact_json(text, limits, "fuzz page");
  } catch (const core::SyncError&) {
    return 0;
  }
  // Strict dump: throws type_error.316 on invalid UTF-8 (which must have been marked).
  (void)page.dump();
  if (!page.is_object()) return 0;
  auto items = page.find("items");
  if (items == page.end() || !items->is_array()) return 0;
  for (const auto& item : *items) {
    if (!item.is_object()) continue;
    try {
      (void)connectors::magento2::keyset_key(item, "id", "fuzz page");
    } catch (const core::SyncError&) {
    }
    // What a run stores for a parked or rejected record reads back.
    const core::IncomingCustomer c = connectors::magento2::map_customer(item, "erp_account_code");
    if (!core::customer_from_payload(core::to_customer_payload(c))) std::abort();
    const core::IncomingOrder o = connectors::magento2::map_order(item);
    if (!core::order_from_payload(core::to_order_payload(o))) std::abort();
    // An accepted total is already exact decimal text (DECIMAL(20,4) gets what Magento sent).
    if (!o.invalid && !o.grand_total.empty() && core::exact_decimal(o.grand_total) != o.grand_total) std::abort();
  }
  return 0;
}
