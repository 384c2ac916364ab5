#pragma once
// Magento's JSON with money kept exact: every number with a fraction or an exponent is stored
// in the returned value as a *string* holding the number's original text ("1249.5"), never
// through a double, so a DECIMAL(20,4) column gets exactly what Magento sent. Integers stay
// integers. Bounded like connectors/http/bounded_parse.hpp (size, depth) in the same single
// pass.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "connectors/http/bounded_parse.hpp"

namespace erpsync::connectors::magento2 {

// Throws core::SyncError{permanent} naming `what`, the byte offset and the reason.
nlohmann::json parse_exact_json(std::string_view text, const ParseLimits& limits, const std::string& what);

// The exact text of a number read by parse_exact_json: a string (fraction/exponent) or an
// integer. nullopt for other types.
std::optional<std::string> number_text(const nlohmann::json& v);

}  // namespace erpsync::connectors::magento2
