#pragma once
// The SQL of the commerce parts of core::Store (Magento orders and carts, parked records; SPEC §4.1,
// §3 rule 10), kept apart from the batch writer and the snapshot reader. OdbcStore calls these
// inside its own transaction / connection; they never begin, commit or roll back.
//
// Every value is bound as a parameter. Orders and carts name only existing customer and account ids
// (> 0: customers are written by earlier batches of the customers stream), so no ref → id map
// is needed here.
//
// Thread-safety: the caller's connection, one thread at a time.

#include <chrono>
#include <string>
#include <vector>

#include "connectors/odbc/odbc.hpp"
#include "core/state.hpp"
#include "core/ports/store.hpp"
#include "core/write_batch.hpp"

namespace erpsync::connectors::odbc::commerce_sql {

// batch.orders (orders upserted by (channel, remote_id) and their bindings; carts reserved for
// them linked), batch.carts (carts upserted by (channel, remote_id), their cart_items replaced,
// their bindings, then linked to the order whose increment_id is their reserved_order_id),
// batch.parks (sync_parked upserted; parked_at kept on existing rows) and batch.unparks
// (deleted), in that order. `now`: the transaction's 'YYYY-MM-DD HH:MM:SS.mmm' UTC. Throws OdbcError.
void write_commerce(Connection& c, const core::WriteBatch& batch, const std::string& now);

// Fills state.own_accounts, state.customers and state.parked for `keys` (IN lists in chunks of
// `chunk`); state.base is the caller's (OdbcStore::load_state(keys.base)).
void load_commerce_extras(Connection& c, const core::CommerceKeys& keys, core::CommerceState& state,
                          std::size_t chunk = 500);

// sync_parked rows of (connector, stream), oldest first; `expired` when parked_at <= now - ttl.
std::vector<core::StoredParked> parked_records(Connection& c, const std::string& connector, const std::string& stream,
                                               std::chrono::seconds park_ttl);

}  // namespace erpsync::connectors::odbc::commerce_sql
