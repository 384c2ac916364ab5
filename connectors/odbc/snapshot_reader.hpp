#pragma once
// The read side of OdbcStore::load_state: the rows of a core::StateSnapshot, read with
// set-based queries over IN lists of at most sql::kInChunk keys (bound the dialect's way:
// SqlDialect::key_list) and ancestors level by level, a bounded number of statements per batch.
//
// Thread-safety: the Session's (one thread at a time).

#include <set>
#include <string>
#include <vector>

#include "connectors/odbc/session.hpp"
#include "connectors/odbc/sql_text.hpp"
#include "core/state.hpp"

namespace erpsync::connectors::odbc {

// Reads rows of a snapshot `st` through `s` (load_state, load_quiet_state).
class SnapshotReader {
 public:
  static constexpr int kMaxAncestorDepth = 64;  // member_of levels loaded for cycle checks

  // The account columns, in the order add_account reads them.
  static inline const std::string kAccounts =
      "SELECT id, external_code, owner, member_of_id, member_of_code, name, vat FROM accounts WHERE ";
  static inline const std::string kBindings =
      "SELECT remote_id, entity, entity_id, payload_hash, missing_since FROM bindings "
      "WHERE connector = ? AND stream = ? AND remote_id IN ";

  SnapshotReader(Session& s, core::StateSnapshot& st) : s_(s), st_(st) {}

  // A binding from the columns of kBindings.
  static core::BindingState binding(const Row& r);

  // Adds the account of kAccounts' columns starting at `at` (once) and returns its id.
  core::EntityId add_account(const Row& r, std::size_t at = 0);

  // Runs `sql_head` (ending in "IN ") with `fixed` params and each chunk of `keys` (integers when
  // `as_int`), calling on_row for every row.
  template <class Keys, class OnRow>
  void each_chunk(const std::string& sql_head, const std::vector<Param>& fixed, const Keys& keys, OnRow&& on_row,
                  bool as_int = false);

  void load_accounts_by_code(const std::set<std::string>& codes);

  // The ancestors of every loaded account, level by level, for cycle checks (rule 6).
  void load_ancestors();

 private:
  Session& s_;
  core::StateSnapshot& st_;
};

// Rule 12: notes in st.contacts_by_email the Contacts of `accounts` (ids, as text) whose e-mail,
// normalised (normalize_email), is one of `emails`. The database narrows the rows by
// lower(trim(email)) within each account (contacts_account_id_ix), so an Account with thousands
// of Contacts costs the matching rows only; normalize_email makes the exact test.
void load_contact_emails(Session& s, const std::set<std::string>& accounts, const std::set<std::string>& emails,
                         core::StateSnapshot& st);

// Streams of the batch's connector that the store knows hold no binding (OdbcStore: none at the
// run's start, in its first sync): read_snapshot leaves their bindings unread.
struct UnboundStreams {
  bool records = false;   // keys.stream
  bool contacts = false;  // "contacts", of keys.contact_remote_ids
};

// load_state's snapshot of `keys`: bindings, open rejections, accounts by code and by bound id,
// pending children, adoption candidates, ancestors, bound remote ids by account, default
// contacts. Throws OdbcError.
core::StateSnapshot read_snapshot(Session& s, const core::BatchKeys& keys, UnboundStreams unbound = {});

template <class Keys, class OnRow>
void SnapshotReader::each_chunk(const std::string& sql_head, const std::vector<Param>& fixed, const Keys& keys,
                                OnRow&& on_row, bool as_int) {
  for (const auto& chunk : sql::chunks(keys, sql::kInChunk)) {
    std::vector<Param> p = fixed;
    for (const auto& k : chunk) p.push_back(as_int ? Param::i64(std::stoll(k)) : Param::str(k));
    const std::string sql = s_.dialect().key_list(sql_head, p, fixed.size(), as_int);
    for (const auto& row : s_.query(sql, p)) on_row(row);
  }
}

}  // namespace erpsync::connectors::odbc
