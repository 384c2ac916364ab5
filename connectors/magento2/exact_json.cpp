#include "connectors/magento2/exact_json.hpp"

#include "core/errors.hpp"

namespace erpsync::connectors::magento2 {
namespace {

using nlohmann::json;

// nlohmann's DOM builder, except that floats become their source text and nesting is capped.
class ExactSax {
 public:
  ExactSax(json& root, int max_depth) : dom_(root, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t, const std::string& text) {
    std::string copy = text;
    return dom_.string(copy);
  }
  bool string(std::string& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return deeper() && dom_.start_object(n); }
  bool key(std::string& k) { return dom_.key(k); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return deeper() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    error_ = ex.what();
    error_at_ = position;
    return false;
  }

  bool too_deep = false;
  std::string error_;
  std::size_t error_at_ = 0;

 private:
  bool deeper() {
    if (++depth_ > max_depth_) {
      too_deep = true;
      return false;
    }
    return true;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int max_depth_;
  int depth_ = 0;
};

}  // namespace

json parse_exact_json(std::string_view text, const ParseLimits& limits, const std::string& what) {
  auto fail = [&](std::size_t at, const std::string& why) -> json {
    throw core::SyncError(core::SyncError::Kind::permanent,
                          what + ": invalid JSON at byte " + std::to_string(at) + ": " + why);
  };
  if (text.size() > limits.max_bytes)
    return fail(limits.max_bytes, "the document is larger than " + std::to_string(limits.max_bytes) + " bytes");
  // Ill-formed UTF-8 inside a string rejects that customer or order, not the page (SPEC §10).
  const auto marked = mark_invalid_utf8_in_json_strings(text);
  const std::string_view input = marked ? std::string_view(marked->text) : text;
  json root;
  ExactSax sax(root, limits.max_depth);
  const bool ok = json::sax_parse(input.begin(), input.end(), &sax, nlohmann::detail::input_format_t::json, true);
  if (sax.too_deep) return fail(0, "nested deeper than " + std::to_string(limits.max_depth) + " levels");
  if (!ok)
    return fail(marked ? marked->original_offset(sax.error_at_) : sax.error_at_,
                sax.error_.empty() ? "malformed" : sax.error_);
  return root;
}

std::optional<std::string> number_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  return std::nullopt;
}

}  // namespace erpsync::connectors::magento2
