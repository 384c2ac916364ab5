#pragma once
// The write side of OdbcStore::apply: one core::WriteBatch carried out inside a transaction the
// caller opened (see core::Store::apply for the order of its parts). New rows go in bulk
// inserts (Session::insert, the dialect's way); Customers, bindings and rejections are upserts:
// the existing rows of the batch are read with one query per chunk, and only new or changed rows
// are written. Unchanged rejections are bumped with one UPDATE ... WHERE id IN (...) per chunk.
//
// Thread-safety: the Session's (one thread at a time).

#include <string>
#include <unordered_set>

#include "connectors/odbc/session.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::connectors::odbc {

// The remote ids whose bindings the last load_state found absent. apply() inserts the bindings
// (and b2b Customer rows) of those records without looking them up first; should such a row
// exist after all (another writer, a Customer row left without its binding), the unique key
// refuses the insert and apply() carries the batch out again, looking every row up.
struct KnownAbsent {
  std::string connector, stream;
  std::unordered_set<std::string> remote_ids;          // bindings of (connector, stream)
  std::unordered_set<std::string> contact_remote_ids;  // bindings of (connector, "contacts")

  // The keys' remote ids that `st` (read for them) holds no binding of.
  static KnownAbsent of(const core::BatchKeys& keys, const core::StateSnapshot& st);

  bool binding(const std::string& conn, const std::string& strm, const std::string& rid) const {
    if (conn != connector) return false;
    if (strm == stream) return remote_ids.count(rid) > 0;
    if (strm == "contacts") return contact_remote_ids.count(rid) > 0;
    return false;
  }
};

// Writes `batch` through `s` inside the caller's transaction; Magento orders and parked records
// go through commerce_sql in the same transaction. `absent`: rows known not to exist (nullptr:
// look every row up); `skipped` is set when a lookup was left out because of it. Throws
// OdbcError (the caller rolls back).
void write_batch(Session& s, const core::WriteBatch& batch, const KnownAbsent* absent = nullptr,
                 bool* skipped = nullptr);

}  // namespace erpsync::connectors::odbc
