// libFuzzer target: the XML-RPC codec (connectors/odoo/xmlrpc.hpp) on untrusted bodies.
// Properties: decoding never crashes, throws only SyncError (XmlRpcFault included), and every
// value it returns encodes again (encode_response) to a body that decodes to an equal value.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "connectors/odoo/xmlrpc.hpp"

using erpsync::connectors::ParseLimits;
namespace odoo = erpsync::connectors::odoo;

namespace {

bool has_nan(const odoo::Value& v) {
  switch (v.type()) {
    case odoo::Value::Type::double_: return std::isnan(v.as_double());
    case odoo::Value::Type::array:
      for (const auto& x : v.as_array())
        if (has_nan(x)) return true;
      return false;
    case odoo::Value::Type::structure:
      for (const auto& m : v.as_struct())
        if (has_nan(m.second)) return true;
      return false;
    default: return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ParseLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_depth = 64;
  try {
    const odoo::Value v = odoo::decode_response(body, limits, "fuzz");
    (void)v.debug_string();
    std::string again;
    try {
      again = odoo::encode_response(v);
    } catch (const erpsync::core::SyncError&) {
      return 0;  // a value XML cannot carry (control characters): refused, not mis-encoded
    }
    ParseLimits roomy = limits;
    roomy.max_bytes = again.size() + 1024;
    roomy.max_depth = 1000;
    const odoo::Value back = odoo::decode_response(again, roomy, "fuzz round trip");
    if (!has_nan(v) && !(back == v)) std::abort();
  } catch (const erpsync::core::SyncError&) {
  }
  try {
    const odoo::MethodCall call = odoo::decode_call(body, limits, "fuzz");
    (void)call.method.size();
  } catch (const erpsync::core::SyncError&) {
  }
  return 0;
}
