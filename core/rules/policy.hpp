#pragma once
// The per-connector settings the matching rules depend on (SPEC §3, §4). Built by the
// daemon from the config; plain values.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/record.hpp"

namespace erpsync::core {

enum class OwnerAuthority { crm, source };

struct MatchPolicy {
  std::string connector;  // also the `channel` of the Customers it creates
  std::string stream;     // e.g. "accounts" (feed), "companies" (odoo)
  // The stream whose bindings name the companies this connector's contacts attach to (its
  // stream of kind companies: "companies" for Odoo, "accounts" for a feed). Read by the
  // contacts rules only.
  std::string company_stream = "companies";
  std::string default_owner;
  // Source owner value → CRM login. nullopt: no table, the value is the login itself.
  std::optional<std::map<std::string, std::string>> owners;
  std::vector<Field> adopt_by;  // rule 9; empty: no adoption
  OwnerAuthority owner_authority = OwnerAuthority::crm;
};

// Owner of an incoming record (SPEC §3 "Owner of an incoming record"). Returns the CRM login,
// or nullopt for `unknown_owner`.
std::optional<std::string> resolve_owner(const MatchPolicy& policy, const std::string& raw_owner);

}  // namespace erpsync::core
