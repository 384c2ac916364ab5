#include "core/rules/crm_limits.hpp"

#include "core/rules/value_check.hpp"

namespace erpsync::core {
namespace {

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::optional<std::string> problem(const CrmLimits& crm, std::string_view what, std::string_view value,
                                   std::size_t max) {
  if (crm.bmp_only && has_non_bmp(value))
    return std::string(what) + " " + shown(value) + " holds a character outside the Basic Multilingual Plane (an "
           "emoji, a rare CJK character ...), which " + crm.name + "'s utf8mb3 tables cannot store";
  if (max > 0 && code_points(value) > max)
    return std::string(what) + " " + shown(value) + " is longer than the " + std::to_string(max) +
           " characters " + crm.name + "'s column holds";
  return std::nullopt;
}

}  // namespace

bool has_non_bmp(std::string_view value) {
  for (unsigned char c : value)
    if (c >= 0xF0) return true;  // the lead byte of a 4-byte sequence: U+10000 and above
  return false;
}

std::optional<std::string> crm_account_problem(const CrmLimits& crm, Field f, std::string_view value) {
  return problem(crm, field_name(f), value, crm.account_max[static_cast<std::size_t>(f)]);
}

std::optional<std::string> crm_contact_problem(const CrmLimits& crm, ContactField f, std::string_view value) {
  return problem(crm, contact_field_name(f), value, crm.contact_max[static_cast<std::size_t>(f)]);
}

std::optional<std::string> crm_record_problem(const CrmLimits& crm, const IncomingAccount& rec) {
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    if (f == Field::remote_id || f == Field::owner || !rec.maps(f)) continue;  // remote ids stay erpsync's
    if (auto e = crm_account_problem(crm, f, rec.get(f))) return e;
  }
  for (std::size_t k = 0; k < rec.contacts.size(); ++k)
    for (std::size_t i = 0; i < kContactFieldCount; ++i) {
      const auto f = static_cast<ContactField>(i);
      if (f == ContactField::remote_id) continue;
      if (auto e = crm_contact_problem(crm, f, rec.contacts[k].values[i]))
        return "contact " + std::to_string(k + 1) + " " + *e;
    }
  return std::nullopt;
}

std::optional<std::string> crm_owner_problem(const CrmLimits& crm, const std::string& login) {
  if (crm.users.count(login)) return std::nullopt;
  return "owner '" + login + "' is no active " + crm.name + " user (users.user_name)";
}

}  // namespace erpsync::core
