#pragma once
// What a CRM application's own tables can hold, when the Accounts and Contacts are that
// application's rows (SPEC §5 "CRM targets", database.crm): its users (an owner who is none of
// them is `unknown_owner`), its character set (SuiteCRM's tables are utf8mb3: no character
// outside the Basic Multilingual Plane) and its column lengths (shorter than erpsync's own).
// A value it cannot hold is that record's `invalid_field` rejection, never a failed batch.
// The store describes its target (core::StateSnapshot::crm); null on erpsync's own schema.
// Pure; no I/O.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/record.hpp"

namespace erpsync::core {

struct CrmLimits {
  std::string name;                        // the application, for messages ("SuiteCRM")
  std::unordered_set<std::string> users;   // logins of its active users
  bool bmp_only = false;                   // utf8mb3 columns
  std::array<std::size_t, kFieldCount> account_max{};         // by Field; 0: erpsync's own limit holds
  std::array<std::size_t, kContactFieldCount> contact_max{};  // by ContactField; 0: erpsync's own
};

// True when `value` (valid UTF-8) holds a character outside the Basic Multilingual Plane.
bool has_non_bmp(std::string_view value);

// Why the CRM cannot hold account field `f` = `value`, naming the field and the CRM; nullopt
// when it can.
std::optional<std::string> crm_account_problem(const CrmLimits& crm, Field f, std::string_view value);
// The same for a contact's field.
std::optional<std::string> crm_contact_problem(const CrmLimits& crm, ContactField f, std::string_view value);

// Why the CRM cannot hold the record's mapped fields (code, name, owner, parent code, address,
// e-mail, phone, its contacts), or nullopt. Values are the record's as the rules store them.
std::optional<std::string> crm_record_problem(const CrmLimits& crm, const IncomingAccount& rec);

// Why `login` cannot own a record in the CRM (it is none of its active users), or nullopt.
std::optional<std::string> crm_owner_problem(const CrmLimits& crm, const std::string& login);

}  // namespace erpsync::core
