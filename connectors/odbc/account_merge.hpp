#pragma once
// `erpsyncd merge --account ID --into ID [--dry-run]` (SPEC §7) on erpsync's own tables: the
// CRM's duplicate Account (typed in by hand, say, and named by an `ambiguous_match`) merged into
// the Account that keeps the External Code.
//
// What moves from the duplicate to the target, in one transaction (kMergeMoves in the .cpp, one
// line per table): its Contacts, Customers, orders, carts (where the table exists), the bindings
// whose entity is the duplicate Account, and its Member-of children. The duplicate is then marked
// inactive — never deleted — and a sync_merges row (from_id, into_id, moved, at) records the
// merge, `moved` holding the counts as a JSON object. A moved Contact keeps its default flag only
// when the target has no default contact. A merged duplicate is no adoption candidate any more
// (rule 9), so the next sync neither adopts it nor counts it in an `ambiguous_match`.
//
// Refused, changing nothing (MergeResult::refusal):
//   - either Account does not exist, or both are the same one;
//   - the two have different owners — the seed CRM's words, naming both owners;
//   - both have an External Code; or only the duplicate has one (the Account that keeps the code
//     is the target: the arguments are the wrong way round);
//   - the duplicate was merged already (into the Account sync_merges names), or the target was
//     (merge into the Account it went into);
//   - the duplicate is bound to an authoritative connector's record (a binding with that
//     connector's b2b Customer): an ERP company whose code was removed in the CRM, whose record
//     would change the target's code (rule 8) if it followed;
//   - the target is a Member-of descendant of the duplicate (its children would make a cycle).
//
// A CRM target with its own tables (SuiteCRM) brings its own merge behind
// AdminQueries::merge_accounts.
//
// Thread-safety: the connection's (one thread at a time).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connectors/odbc/odbc.hpp"

namespace erpsync::connectors::odbc {

struct MergeAccount {
  std::int64_t id = 0;
  std::string code;  // "" when the Account has none
  std::string name;
  std::optional<std::string> owner;
  bool active = true;
};

// One kind of row that moves, and how many rows of it.
struct MergeMove {
  std::string what;  // "contacts", "customers", "orders", "carts", "bindings", "member-of children"
  std::int64_t rows = 0;
};

struct MergeResult {
  std::optional<std::string> refusal;  // set when refused: why, for the admin
  MergeAccount from, into;
  std::vector<MergeMove> moves;  // in kMergeMoves' order; counted, and moved unless a dry run
  std::int64_t merge_id = 0;     // the sync_merges row's id (0: dry run or refused)
};

// Merges Account `from` into Account `into` (or, with `dry_run`, counts what would move and
// changes nothing). Throws OdbcError on a database failure, after rolling back.
MergeResult merge_accounts(Connection& c, std::int64_t from, std::int64_t into, bool dry_run);

// The `moved` column's text for `moves`: {"contacts":2,"customers":1,...}.
std::string moved_json(const std::vector<MergeMove>& moves);

}  // namespace erpsync::connectors::odbc
