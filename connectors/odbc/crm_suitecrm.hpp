#pragma once
// SuiteCRM 7 as the CRM target (database.crm "suitecrm", SPEC §5 "CRM targets",
// docs/crm-suitecrm.md): the Accounts and Contacts are SuiteCRM's own rows — `accounts` (+
// `accounts_cstm` for the External Code), `contacts` + `accounts_contacts`, e-mails in
// `email_addresses` + `email_addr_bean_rel` — in the same MariaDB/MySQL database as erpsync's
// own (prefixed) tables. Facts of SuiteCRM's schema: /reference/suitecrm.md.
//
// How the rules meet SuiteCRM's rows: erpsync's own `accounts` and `contacts` tables become its
// index of SuiteCRM's rows (`crm_id` = SuiteCRM's id). The index holds what the rules decide
// over — the integer id bindings and customers name, the code, the owner's login, the parent,
// the pending parent code (rule 6), the name and its key (rule 9) — and the engine's reader and
// writer work on it unchanged. This file keeps it and SuiteCRM in step:
//   - refresh() (at the start of every run, before rejections are replayed): SuiteCRM is the
//     truth. Accounts and Contacts deleted there (deleted <> 0) leave the index (their
//     bindings dangle, SPEC §5); Accounts typed there join it (so that rule 9 can adopt them and
//     rules 4/5 find their codes); each indexed Account takes SuiteCRM's code, owner
//     (users.user_name of assigned_user_id: rule 5 reads a reassignment made in SuiteCRM),
//     name and parent. A deleted Account holds no code: its code is cleared.
//   - project() (inside apply's transaction, after the index was written): what the batch wrote
//     goes to SuiteCRM — new rows get SuiteCRM ids and rows, updates set exactly the columns
//     the batch set, code changes go in two phases like the index's. A run that writes nothing
//     touches nothing.
//   - limits(): SuiteCRM's users, utf8mb3 and its column lengths (read from the database), for
//     the rules (core::CrmLimits): what SuiteCRM cannot hold is that record's rejection.
//   - check() and create_index(): at start-up, the engine (MariaDB/MySQL), SuiteCRM's tables, the code field and
//     the sync user are checked; the unique index of the External Code is created (or refused
//     listing duplicates).
//
// Thread-safety: one store's (one thread at a time).

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/odbc/migrations.hpp"
#include "connectors/odbc/session.hpp"
#include "core/rules/crm_limits.hpp"
#include "core/write_batch.hpp"

namespace erpsync::connectors::odbc {

struct SuiteCrmOptions {
  std::string code_field = "external_code_c";  // accounts_cstm column of the External Code
  std::string sync_user;                       // users.user_name erpsync writes as
  std::map<std::string, std::string> account_type_map;  // overrides of default_account_type_map()
  std::string inactive;  // account_type of inactive Accounts; "": SuiteCRM shows no difference
  std::string vat_field;  // accounts_cstm column of the VAT number; "": SuiteCRM keeps none
};

// relationship → accounts.account_type (account_type_dom keys): customer→Customer,
// prospect→Prospect, partner→Partner, reseller→Reseller, distributor→Reseller,
// supplier→Other, other→Other.
const std::map<std::string, std::string>& default_account_type_map();

class SuiteCrm {
 public:
  // `tables`: erpsync's names (database.table_prefix), which also name the unique index.
  SuiteCrm(SuiteCrmOptions options, TableNames tables);

  // Start-up, before erpsync's migrations (so that nothing is created in a database this target
  // cannot use): refuses (SchemaError) another engine than MariaDB/MySQL, a database without
  // SuiteCRM's tables or the code field, a sync user who is no active user, and — while the
  // unique index of the External Code is still to be created (auto_apply) — live Accounts that
  // share a code (listing them; never "fixed"). In check mode a missing index is refused as a
  // pending migration.
  void check(Connection& c, MigrateMode mode);
  // After erpsync's migrations (auto_apply): creates the unique index of the External Code
  // unless it exists; the codes of deleted Accounts are cleared first (they hold none).
  void create_index(Connection& c, MigrateMode mode);

  // The DDL of the unique index (for `migrate --print-sql`), statements ending with ';'.
  std::string index_sql() const;

  // Brings erpsync's index in step with SuiteCRM (see above), and reads SuiteCRM's users.
  void refresh(Session& s);

  // Per batch (load_state): the owners of the snapshot's accounts as SuiteCRM has them now, so
  // that a reassignment made in SuiteCRM during a long run is judged by rule 5 (and never
  // overwritten by an update decided on the owner read at the run's start).
  void read_current_owners(Session& s, core::StateSnapshot& st);

  // The rules' view of SuiteCRM (users as of the last refresh() or check()).
  std::shared_ptr<const core::CrmLimits> limits() const { return limits_; }

  // Writes into SuiteCRM what `batch` wrote into the index (see above). Throws OdbcError.
  void project(Session& s, const core::WriteBatch& batch);

 private:
  void read_users(Session& s);
  void read_lengths(Connection& c);
  std::string user_id(const std::string& login) const;  // throws when none
  std::string account_type(const std::string& relationship, bool active) const;
  // Clearing the codes of deleted Accounts, then the generated column and its unique index.
  std::vector<std::string> index_statements() const;
  std::string code_key_column() const { return tables_("code_key"); }
  std::string code_key_index() const { return tables_("code_key_ix"); }
  std::string duplicates_message(Connection& c) const;

  SuiteCrmOptions options_;
  TableNames tables_;
  std::map<std::string, std::string> type_map_;  // defaults with the options' overrides
  std::unordered_map<std::string, std::string> users_;  // active user_name → users.id
  std::string sync_user_id_;
  std::shared_ptr<core::CrmLimits> base_limits_;  // lengths and charset, without the users
  std::shared_ptr<const core::CrmLimits> limits_;
};

}  // namespace erpsync::connectors::odbc
