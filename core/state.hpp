#pragma once
// What the matcher needs to know of the database for one batch (SPEC §3: "the core decides
// over the database's state plus the batch's own earlier decisions"). The store fills a
// StateSnapshot with a few set-based queries per batch (see Store::load_state); the matcher
// copies what it changes into its own working view and never asks the database again.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/outcome.hpp"
#include "core/rules/crm_limits.hpp"

namespace erpsync::core {

struct StoreNote;  // write_batch.hpp

using EntityId = std::int64_t;  // database id (> 0)

struct AccountState {
  EntityId id = 0;
  std::string external_code;  // empty: the account has no code
  std::string owner;
  std::optional<EntityId> member_of_id;
  std::string member_of_code;  // the parent's code as the source named it (pending when member_of_id is empty)
  std::string name;            // for adoption (rule 9)
  std::string vat;
  bool has_default_contact = false;
};

struct BindingState {
  std::string entity;  // "account", "contact", "customer"
  EntityId entity_id = 0;
  std::string payload_hash;  // empty: bound without a hash (adopted), the next sighting updates
  bool missing = false;      // missing_since is set
};

struct OpenRejection {
  RejectReason reason;
  std::string payload_hash;
};

// The keys of one batch: what Store::load_state must look up.
struct BatchKeys {
  std::string connector;
  std::string stream;
  std::set<std::string> remote_ids;      // bindings and open rejections of (connector, stream, remote id)
  std::set<std::string> contact_remote_ids;  // bindings of (connector, "contacts", remote id)
  std::set<std::string> codes;           // external codes and member_of codes (normalised)
  // Adoption (rule 9): uncoded accounts whose normalised name / vat equal one of these.
  std::set<std::string> adopt_names;     // normalised with normalize_name()
  std::set<std::string> adopt_vats;
  // Rule 12: the e-mails (normalize_email) of the batch's persons: the Contacts of the loaded
  // accounts that have one of them are loaded into StateSnapshot::contacts_by_email.
  std::set<std::string> contact_emails;
};

struct StateSnapshot {
  // Every account the batch can touch: those holding one of the codes, those bound to one of
  // the remote ids, the ancestors of all of them (member_of_id chains, for cycle checks),
  // accounts waiting for one of the codes as parent, and adoption candidates.
  std::unordered_map<EntityId, AccountState> accounts;
  // code → account id, for every account of `accounts` that has a code.
  std::unordered_map<std::string, EntityId> account_by_code;
  // remote id → binding of (connector, stream, remote id).
  std::unordered_map<std::string, BindingState> bindings;
  // remote id → binding of (connector, "contacts", remote id).
  std::unordered_map<std::string, BindingState> contact_bindings;
  // account id → remote ids of (connector, stream) bound to it (rule 8 `code_in_use`), for
  // the accounts in `accounts`.
  std::unordered_map<EntityId, std::vector<std::string>> remote_ids_by_account;
  // parent code → accounts with that member_of_code and no member_of_id yet (rule 6).
  std::unordered_map<std::string, std::vector<EntityId>> pending_children;
  // Accounts without a code, by normalised name and by vat (rule 9).
  std::unordered_map<std::string, std::vector<EntityId>> uncoded_by_name;
  std::unordered_map<std::string, std::vector<EntityId>> uncoded_by_vat;
  // remote id → its open (unresolved) rejections in (connector, stream).
  std::unordered_map<std::string, std::vector<OpenRejection>> open_rejections;
  // Rule 12: account id → normalised e-mail → the ids of that account's Contacts with it, for the
  // accounts of `accounts` (and, on the Odoo contacts stream, of CommerceState::companies) and the
  // e-mails of BatchKeys::contact_emails (core/rules/persons.hpp reads it).
  std::unordered_map<EntityId, std::unordered_map<std::string, std::vector<EntityId>>> contacts_by_email;
  // When the Accounts and Contacts are a CRM application's rows (database.crm): what it can
  // hold, its users. Null on erpsync's own schema.
  std::shared_ptr<const CrmLimits> crm;
  // What the store noted while reading this, for the apply of the batch decided over it (see
  // StoreNote, write_batch.hpp); null when it noted nothing.
  std::shared_ptr<const StoreNote> store_note;
};

// --- Commerce streams (Magento customers and orders, SPEC §4.1, rule 10, rule 11) ---

// A Customer row of channel = the connector.
struct CustomerState {
  EntityId id = 0;
  EntityId account_id = 0;
  std::optional<EntityId> contact_id;
};

// A parked record of (connector, stream).
struct ParkedState {
  std::string waits_for;
  std::string payload_hash;
};

// --- Odoo contacts (SPEC §4.2: contacts of their company's Account; rule 10) ---

// The Account a company partner is bound to: binding (connector, company stream, remote id) →
// entity "account", when that account still exists.
struct CompanyAccountState {
  EntityId account_id = 0;
  bool has_default_contact = false;  // some contact of that account has is_default
};

// The contact row a contact binding (connector, "contacts", remote id) → entity "contact"
// names, when that row still exists.
struct ContactRowState {
  EntityId id = 0;
  EntityId account_id = 0;
  bool is_default = false;
};

struct CommerceKeys {
  // connector, stream, remote_ids (bindings, open rejections and parked records of the
  // stream), contact_remote_ids (bindings of (connector, "contacts", id)), codes.
  BatchKeys base;
  // Customer remote ids: the Customer rows of channel = connector (orders name their customer),
  // and the own-account bindings (connector, "accounts", id) of customers without a code.
  std::set<std::string> customer_remote_ids;
  // Odoo contacts: company partner ids (→ CommerceState::companies) and contact partner ids
  // (→ CommerceState::contact_rows). Empty for the Magento streams.
  std::set<std::string> company_remote_ids;
  std::set<std::string> contact_row_remote_ids;
  // The stream whose bindings (connector, company_stream, id) → "account" name those companies
  // (MatchPolicy::company_stream: Odoo "companies", a feed "accounts").
  std::string company_stream = "companies";
};

struct CommerceState {
  StateSnapshot base;  // exactly what Store::load_state(keys.base) returns
  // customer remote id → the account bound as that customer's own account (rule 11: created
  // once for a customer without a code), only when that account still exists.
  std::unordered_map<std::string, EntityId> own_accounts;
  // The customer remote ids of own_accounts whose account has an External Code: an admin merged
  // the customer's own account into a coded Account (`erpsyncd merge`), which the customer now
  // attaches to without writing its fields.
  std::unordered_set<std::string> own_accounts_coded;
  // customer remote id → its Customer row (channel = connector).
  std::unordered_map<std::string, CustomerState> customers;
  // remote id → parked record of (connector, stream).
  std::unordered_map<std::string, ParkedState> parked;
  // company remote id → its Account, for keys.company_remote_ids (absent: not bound, or the
  // bound account no longer exists).
  std::unordered_map<std::string, CompanyAccountState> companies;
  // contact remote id → its contact row, for keys.contact_row_remote_ids (absent: not bound,
  // or the bound row no longer exists).
  std::unordered_map<std::string, ContactRowState> contact_rows;
};

}  // namespace erpsync::core
