// libFuzzer target: the bounded parsers (connectors/http/bounded_parse.hpp) that stand between
// every HTTP body and nlohmann/pugixml. Properties: nothing crashes; only SyncError is thrown;
// an accepted JSON document respects the depth limit, so dumping and copying it (recursive in
// nlohmann) is safe; the first input byte picks small limits so that the limit paths are hit.
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/http/bounded_parse.hpp"
#include "core/errors.hpp"

namespace {

int depth_of(const nlohmann::json& j) {
  int d = 0;
  if (j.is_array() || j.is_object())
    for (const auto& x : j) d = std::max(d, depth_of(x));
  return (j.is_array() || j.is_object()) ? d + 1 : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  erpsync::connectors::ParseLimits limits;
  limits.max_depth = 2 + data[0] % 16;
  limits.max_bytes = 64 + static_cast<std::size_t>(data[0]) * 64;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const nlohmann::json j = erpsync::connectors::parse_json_bounded(text, limits, "fuzz");
    if (depth_of(j) > limits.max_depth) __builtin_trap();
    const nlohmann::json copy = j;
    (void)copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const erpsync::core::SyncError&) {
  }
  try {
    pugi::xml_document doc;
    erpsync::connectors::parse_xml_bounded(doc, text, limits, "fuzz");
  } catch (const erpsync::core::SyncError&) {
  }
  return 0;
}
