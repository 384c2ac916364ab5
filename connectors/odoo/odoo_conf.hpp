#pragma once
// The odoo connector's configuration (SPEC §4.2), owned here and nowhere else: the options of
// "connectors[odoo]" (declared in odoo_conf.cpp, in the rows config/ joins into its option
// table), the check the table cannot express (the credential each protocol needs), the typed
// settings (OdooConfig) parsed from a validated connector object, and the streams an Odoo
// connector offers ("companies", then "contacts", which attach to them).
//
// Thread-safety: plain data and an immutable type descriptor.

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace erpsync::connectors::odoo {

struct OdooConfig final : config::ConnectorSettings {
  std::string url, db, user;
  config::Secret password;
  enum class Protocol { xmlrpc, json2 };
  Protocol protocol = Protocol::xmlrpc;
  config::Secret api_key;
  int page_size = 500;
  std::vector<std::string> stream_names{"companies", "contacts"};  // as listed in "streams"
  config::Duration timeout = std::chrono::seconds(60);
  std::int64_t max_response_size = std::int64_t{256} << 20;
  config::TlsConfig tls;
  // SPEC §4.2: persons without a parent (B2C customers) as Accounts of their own, their
  // children of type contact as their Contacts; false: neither is read.
  bool individuals = false;
  // How a contact's one Odoo `name` becomes first and last name (split_person_name).
  enum class NameSplit { last_space, first_space, none };
  NameSplit name_split = NameSplit::last_space;

  // Those of "companies" (core::StreamKind::companies) and "contacts" (contacts) that
  // stream_names lists, companies first.
  std::vector<config::StreamPlan> streams() const override;
};

// The "odoo" connector type.
const config::ConnectorType& connector_type();

}  // namespace erpsync::connectors::odoo
