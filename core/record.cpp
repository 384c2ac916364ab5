#include "core/record.hpp"

namespace erpsync::core {
namespace {
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "remote_id", "external_code", "name", "owner", "member_of", "relationship", "email",
    "phone", "vat", "street", "city", "postcode", "country", "active"};
constexpr std::array<std::string_view, kContactFieldCount> kContactFieldNames = {
    "remote_id", "first_name", "last_name", "email", "phone", "active"};
}  // namespace

std::string_view field_name(Field f) { return kFieldNames[static_cast<std::size_t>(f)]; }

std::optional<Field> field_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kFieldCount; ++i)
    if (kFieldNames[i] == name) return static_cast<Field>(i);
  return std::nullopt;
}

std::string_view contact_field_name(ContactField f) {
  return kContactFieldNames[static_cast<std::size_t>(f)];
}

}  // namespace erpsync::core
