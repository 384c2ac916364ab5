#include "connectors/odbc/migrations.hpp"

#include "connectors/odbc/dialect.hpp"

#include <cctype>
#include <map>
#include <set>
#include <string_view>

namespace erpsync::connectors::odbc {
namespace {

// Schema v1, written once with placeholders that each dialect fills in (ddl_placeholders() in
// dialect_*.cpp; {pending_ix} is placeholders() below):
//   {id}      database-generated primary key       {ts}    UTC timestamp with milliseconds
//   {now}     default: UTC now                     {bin}   exact (binary) collation for codes/ids
//   {text}    long text (payloads, messages)       {opts}  table options (MariaDB engine/charset)
//   {name_key} generated, normalised name column   {dec}   exact decimal (SQLite: TEXT, because
//                                                          NUMERIC affinity would store a double
//                                                          and keep only 15 significant digits)
//   {cursor}  the column sync_cursors.cursor, quoted (CURSOR is reserved in MariaDB)
//   {if_not_exists} " IF NOT EXISTS" where ADD COLUMN takes it (not SQLite, whose migrations
//             run in one transaction under its write lock anyway)
//   {pending_ix} the columns (and predicate) of accounts_pending_ix (v4)
// Names: every index and constraint is named after its table, '_' and a name ending in "_ix",
// "_key" or "_pkey", so that database.table_prefix reaches it too (table_names.hpp).
const std::vector<std::string_view> kV1 = {
    R"(CREATE TABLE IF NOT EXISTS accounts (
  id {id},
  external_code VARCHAR(64){bin} NULL,
  name VARCHAR(255) NULL,
  name_key {name_key},
  owner VARCHAR(64){bin} NULL,
  relationship VARCHAR(32) NULL DEFAULT 'customer',
  active SMALLINT NOT NULL DEFAULT 1,
  member_of_id BIGINT NULL,
  member_of_code VARCHAR(64){bin} NULL,
  email VARCHAR(255) NULL,
  phone VARCHAR(64) NULL,
  vat VARCHAR(32) NULL,
  street VARCHAR(255) NULL,
  city VARCHAR(255) NULL,
  postcode VARCHAR(255) NULL,
  country VARCHAR(255) NULL,
  created_at {ts} NOT NULL DEFAULT {now},
  updated_at {ts} NOT NULL DEFAULT {now},
  CONSTRAINT accounts_external_code_key UNIQUE (external_code)
){opts})",
    "CREATE INDEX IF NOT EXISTS accounts_name_key_ix ON accounts (name_key)",
    "CREATE INDEX IF NOT EXISTS accounts_vat_ix ON accounts (vat)",
    "CREATE INDEX IF NOT EXISTS accounts_member_of_id_ix ON accounts (member_of_id)",
    "CREATE INDEX IF NOT EXISTS accounts_member_of_code_ix ON accounts (member_of_code)",
    R"(CREATE TABLE IF NOT EXISTS contacts (
  id {id},
  account_id BIGINT NOT NULL,
  first_name VARCHAR(255) NULL,
  last_name VARCHAR(255) NULL,
  email VARCHAR(255) NULL,
  phone VARCHAR(64) NULL,
  is_default SMALLINT NOT NULL DEFAULT 0,
  active SMALLINT NOT NULL DEFAULT 1,
  created_at {ts} NOT NULL DEFAULT {now},
  updated_at {ts} NOT NULL DEFAULT {now}
){opts})",
    "CREATE INDEX IF NOT EXISTS contacts_account_id_ix ON contacts (account_id)",
    R"(CREATE TABLE IF NOT EXISTS customers (
  id {id},
  account_id BIGINT NOT NULL,
  contact_id BIGINT NULL,
  channel VARCHAR(64){bin} NOT NULL,
  kind VARCHAR(16) NOT NULL,
  remote_id VARCHAR(128){bin} NOT NULL,
  email VARCHAR(255) NULL,
  name VARCHAR(255) NULL,
  created_at {ts} NOT NULL DEFAULT {now},
  updated_at {ts} NOT NULL DEFAULT {now},
  CONSTRAINT customers_channel_remote_id_key UNIQUE (channel, remote_id)
){opts})",
    "CREATE INDEX IF NOT EXISTS customers_account_id_ix ON customers (account_id)",
    R"(CREATE TABLE IF NOT EXISTS orders (
  id {id},
  channel VARCHAR(64){bin} NOT NULL,
  remote_id VARCHAR(128){bin} NOT NULL,
  customer_id BIGINT NULL,
  account_id BIGINT NULL,
  customer_email VARCHAR(255) NULL,
  increment_id VARCHAR(64) NULL,
  status VARCHAR(64) NULL,
  state VARCHAR(64) NULL,
  grand_total {dec} NULL,
  currency VARCHAR(8) NULL,
  ordered_at {ts} NULL,
  updated_at {ts} NULL,
  CONSTRAINT orders_channel_remote_id_key UNIQUE (channel, remote_id)
){opts})",
    "CREATE INDEX IF NOT EXISTS orders_customer_id_ix ON orders (customer_id)",
    "CREATE INDEX IF NOT EXISTS orders_account_id_ix ON orders (account_id)",
    R"(CREATE TABLE IF NOT EXISTS bindings (
  connector VARCHAR(64){bin} NOT NULL,
  stream VARCHAR(64){bin} NOT NULL,
  remote_id VARCHAR(128){bin} NOT NULL,
  entity VARCHAR(16){bin} NOT NULL,
  entity_id BIGINT NOT NULL,
  payload_hash VARCHAR(64) NULL,
  missing_since {ts} NULL,
  updated_at {ts} NOT NULL DEFAULT {now},
  CONSTRAINT bindings_pkey PRIMARY KEY (connector, stream, remote_id)
){opts})",
    "CREATE INDEX IF NOT EXISTS bindings_entity_ix ON bindings (entity, entity_id)",
    R"(CREATE TABLE IF NOT EXISTS sync_cursors (
  connector VARCHAR(64){bin} NOT NULL,
  stream VARCHAR(64){bin} NOT NULL,
  {cursor} {text} NULL,
  snapshot_size BIGINT NULL,
  content_hash VARCHAR(64) NULL,
  updated_at {ts} NOT NULL DEFAULT {now},
  CONSTRAINT sync_cursors_pkey PRIMARY KEY (connector, stream)
){opts})",
    R"(CREATE TABLE IF NOT EXISTS sync_runs (
  id {id},
  connector VARCHAR(64){bin} NOT NULL,
  stream VARCHAR(64){bin} NOT NULL,
  instance VARCHAR(255) NULL,
  started_at {ts} NOT NULL,
  finished_at {ts} NULL,
  status VARCHAR(16) NOT NULL,
  fetched BIGINT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL DEFAULT 0,
  adopted BIGINT NOT NULL DEFAULT 0,
  updated BIGINT NOT NULL DEFAULT 0,
  unchanged BIGINT NOT NULL DEFAULT 0,
  superseded BIGINT NOT NULL DEFAULT 0,
  parked BIGINT NOT NULL DEFAULT 0,
  rejected BIGINT NOT NULL DEFAULT 0,
  failed BIGINT NOT NULL DEFAULT 0,
  warnings BIGINT NOT NULL DEFAULT 0,
  missing BIGINT NOT NULL DEFAULT 0,
  message {text} NULL
){opts})",
    "CREATE INDEX IF NOT EXISTS sync_runs_connector_ix ON sync_runs (connector, stream, started_at)",
    "CREATE INDEX IF NOT EXISTS sync_runs_status_ix ON sync_runs (status)",
    R"(CREATE TABLE IF NOT EXISTS sync_rejections (
  id {id},
  connector VARCHAR(64){bin} NOT NULL,
  stream VARCHAR(64){bin} NOT NULL,
  remote_id VARCHAR(128){bin} NOT NULL,
  external_code VARCHAR(64){bin} NULL,
  reason VARCHAR(32){bin} NOT NULL,
  message {text} NULL,
  existing_owner VARCHAR(64) NULL,
  incoming_owner VARCHAR(64) NULL,
  payload {text} NULL,
  payload_hash VARCHAR(64) NULL,
  first_seen {ts} NOT NULL,
  last_seen {ts} NOT NULL,
  times_seen BIGINT NOT NULL DEFAULT 1,
  resolved_at {ts} NULL,
  CONSTRAINT sync_rejections_key UNIQUE (connector, stream, remote_id, reason)
){opts})",
    "CREATE INDEX IF NOT EXISTS sync_rejections_open_ix ON sync_rejections (connector, stream, resolved_at)",
    R"(CREATE TABLE IF NOT EXISTS sync_parked (
  connector VARCHAR(64){bin} NOT NULL,
  stream VARCHAR(64){bin} NOT NULL,
  remote_id VARCHAR(128){bin} NOT NULL,
  waits_for VARCHAR(64){bin} NULL,
  payload {text} NULL,
  payload_hash VARCHAR(64) NULL,
  parked_at {ts} NOT NULL,
  CONSTRAINT sync_parked_pkey PRIMARY KEY (connector, stream, remote_id)
){opts})",
    "CREATE INDEX IF NOT EXISTS sync_parked_waits_for_ix ON sync_parked (waits_for)",
    R"(CREATE TABLE IF NOT EXISTS sync_leases (
  connector VARCHAR(64){bin} NOT NULL,
  holder VARCHAR(255) NOT NULL,
  fencing_token BIGINT NOT NULL,
  expires_at {ts} NOT NULL,
  CONSTRAINT sync_leases_pkey PRIMARY KEY (connector)
){opts})",
};

struct Migration {
  int version;
  std::string_view description;
  const std::vector<std::string_view>* statements;
};

// v2: retention (SPEC §5) deletes runs by finished_at and resolved rejections by resolved_at;
// without these indexes every purge scans both tables.
const std::vector<std::string_view> kV2 = {
    "CREATE INDEX IF NOT EXISTS sync_runs_finished_ix ON sync_runs (finished_at)",
    "CREATE INDEX IF NOT EXISTS sync_rejections_resolved_ix ON sync_rejections (resolved_at)",
};

// v3: leases (SPEC §10) name the process holding them besides its instance, so that a
// restarted process takes its own instance's lease back at once while a live sibling with the
// same instance_id (an admin's --once beside the service on its host) is waited for instead.
const std::vector<std::string_view> kV3 = {
    "ALTER TABLE sync_leases ADD COLUMN{if_not_exists} process VARCHAR(128) NULL",
};

// v4: "does any account wait for this code as its parent" (rule 6) is asked for every record
// of every batch, and nearly always answered no. An index of just the waiting accounts (empty
// in steady state) answers it without touching the table: partial on SQLite and PostgreSQL;
// MariaDB has no partial indexes, so both columns, which answers it from the index alone.
const std::vector<std::string_view> kV4 = {
    "CREATE INDEX IF NOT EXISTS accounts_pending_ix ON accounts {pending_ix}",
};

// v5: Magento shopping carts (SPEC §4.1 stream `carts`) and their items. A cart names its
// order by reserved_order_id = orders.increment_id of the same channel: both sides of that link
// are looked up by index (carts_reserved_order_ix, orders_increment_id_ix); abandoned carts
// (active, not updated for abandoned_after) by carts_abandoned_ix.
const std::vector<std::string_view> kV5 = {
    R"(CREATE TABLE IF NOT EXISTS carts (
  id {id},
  channel VARCHAR(64){bin} NOT NULL,
  remote_id VARCHAR(128){bin} NOT NULL,
  customer_id BIGINT NULL,
  account_id BIGINT NULL,
  customer_email VARCHAR(255) NULL,
  is_active SMALLINT NOT NULL DEFAULT 1,
  items_count INTEGER NULL,
  items_qty {dec} NULL,
  subtotal {dec} NULL,
  currency VARCHAR(8) NULL,
  reserved_order_id VARCHAR(64){bin} NULL,
  order_id BIGINT NULL,
  created_at {ts} NULL,
  updated_at {ts} NULL,
  converted_at {ts} NULL,
  CONSTRAINT carts_channel_remote_id_key UNIQUE (channel, remote_id)
){opts})",
    "CREATE INDEX IF NOT EXISTS carts_customer_id_ix ON carts (customer_id)",
    "CREATE INDEX IF NOT EXISTS carts_account_id_ix ON carts (account_id)",
    "CREATE INDEX IF NOT EXISTS carts_reserved_order_ix ON carts (channel, reserved_order_id)",
    "CREATE INDEX IF NOT EXISTS carts_abandoned_ix ON carts (channel, is_active, updated_at)",
    R"(CREATE TABLE IF NOT EXISTS cart_items (
  id {id},
  cart_id BIGINT NOT NULL,
  remote_id VARCHAR(128){bin} NULL,
  sku VARCHAR(64) NULL,
  name VARCHAR(255) NULL,
  qty {dec} NULL,
  price {dec} NULL
){opts})",
    "CREATE INDEX IF NOT EXISTS cart_items_cart_id_ix ON cart_items (cart_id)",
    "CREATE INDEX IF NOT EXISTS orders_increment_id_ix ON orders (channel, increment_id)",
};

// v6: `erpsyncd merge` (SPEC §7) records each merge of a duplicate Account: from_id (the
// duplicate, inactive since), into_id, moved (what moved, as JSON counts), at. A merged Account is
// no adoption candidate (rule 9): load_state asks for from_id.
const std::vector<std::string_view> kV6 = {
    R"(CREATE TABLE IF NOT EXISTS sync_merges (
  id {id},
  from_id BIGINT NOT NULL,
  into_id BIGINT NOT NULL,
  moved {text} NULL,
  at {ts} NOT NULL
){opts})",
    "CREATE INDEX IF NOT EXISTS sync_merges_from_ix ON sync_merges (from_id)",
};

// v7: a CRM target (database.crm "suitecrm", SPEC §5 "CRM targets") keeps the Accounts and
// Contacts in the CRM application's own tables; erpsync's accounts and contacts are then its
// index of them (crm_suitecrm.hpp): crm_id is the CRM row's id. NULL on erpsync's own schema.
const std::vector<std::string_view> kV7 = {
    "ALTER TABLE accounts ADD COLUMN{if_not_exists} crm_id VARCHAR(36){bin} NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS accounts_crm_id_key ON accounts (crm_id)",
    "ALTER TABLE contacts ADD COLUMN{if_not_exists} crm_id VARCHAR(36){bin} NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS contacts_crm_id_key ON contacts (crm_id)",
};

const std::vector<Migration> kMigrations = {
    {1, "initial schema: accounts, contacts, customers, orders, bindings, sync tables", &kV1},
    {2, "indexes for retention: sync_runs.finished_at, sync_rejections.resolved_at", &kV2},
    {3, "sync_leases.process: which process of an instance holds a lease", &kV3},
    {4, "index of accounts waiting for their parent: accounts_pending_ix", &kV4},
    {5, "Magento carts: carts, cart_items, orders_increment_id_ix", &kV5},
    {6, "sync_merges: the duplicate Accounts merged by erpsyncd merge", &kV6},
    {7, "accounts.crm_id, contacts.crm_id: ids of the rows of a CRM application (database.crm)", &kV7},
};

// The accounts waiting for a parent (v4); queries asking for them say `member_of_id IS NULL`
// with an equality on member_of_code, which implies this predicate. Without partial indexes
// (MariaDB): both columns, which answers it from the index alone.
constexpr std::string_view kPendingPartial = "(member_of_code) WHERE member_of_id IS NULL AND member_of_code IS NOT NULL";
constexpr std::string_view kPendingBoth = "(member_of_code, member_of_id)";

// The dialect's placeholders (dialect_*.cpp) and the schema's own.
std::map<std::string_view, std::string_view> placeholders(Dialect d) {
  const SqlDialect& sd = sql_dialect(d);
  std::map<std::string_view, std::string_view> ph = sd.ddl_placeholders();
  ph["{pending_ix}"] = sd.has_partial_indexes() ? kPendingPartial : kPendingBoth;
  return ph;
}

std::string render(std::string_view tmpl, Dialect d) {
  auto ph = placeholders(d);
  std::string out;
  for (std::size_t i = 0; i < tmpl.size();) {
    bool replaced = false;
    if (tmpl[i] == '{') {
      for (const auto& [k, v] : ph) {
        if (tmpl.substr(i, k.size()) == k) {
          out += v;
          i += k.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += tmpl[i++];
  }
  return out;
}

std::string schema_version_ddl(Dialect d) {
  return render(
      "CREATE TABLE IF NOT EXISTS schema_version (\n"
      "  version INTEGER NOT NULL PRIMARY KEY,\n"
      "  description VARCHAR(255) NOT NULL,\n"
      "  applied_at {ts} NOT NULL\n"
      "){opts}",
      d);
}

bool table_exists(Connection& conn, const std::string& base) {
  return conn.scalar(std::string(sql_dialect(conn.dialect()).table_exists_sql()), {Param::str(conn.tables()(base))})
      .has_value();
}

// The columns the migrations give each table they create (read from their DDL): a table of that
// name without all of them is another application's.
const std::map<std::string, std::vector<std::string>>& schema_columns() {
  static const std::map<std::string, std::vector<std::string>> m = [] {
    std::map<std::string, std::vector<std::string>> out;
    out["schema_version"] = {"version", "description", "applied_at"};
    constexpr std::string_view kCreate = "CREATE TABLE IF NOT EXISTS ";
    for (const auto& m : kMigrations) for (std::string_view ddl : *m.statements) {
      if (ddl.substr(0, kCreate.size()) != kCreate) continue;
      const std::size_t name_end = ddl.find(' ', kCreate.size());
      auto& cols = out[std::string(ddl.substr(kCreate.size(), name_end - kCreate.size()))];
      for (std::size_t line = ddl.find('\n'); line != std::string_view::npos; line = ddl.find('\n', line + 1)) {
        std::size_t b = ddl.find_first_not_of(' ', line + 1);
        std::size_t e = ddl.find_first_of(" ,\n", b);
        if (b == std::string_view::npos || e == std::string_view::npos) continue;
        std::string_view word = ddl.substr(b, e - b);
        if (word == "CONSTRAINT" || word.front() == ')') continue;
        cols.emplace_back(word == "{cursor}" ? "cursor" : std::string(word));
      }
    }
    return out;
  }();
  return m;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// SPEC §5 "Whose database": before any DDL, every table erpsync would create that exists already
// must be erpsync's (hold the columns the migrations gave it). Throws SchemaError naming the others.
void refuse_foreign_tables(Connection& conn) {
  const SqlDialect& sd = sql_dialect(conn.dialect());
  std::string foreign;
  for (const auto& [base, wanted] : schema_columns()) {
    const std::string name = conn.tables()(base);
    std::set<std::string> have;
    for (const auto& row : conn.query(std::string(sd.columns_sql()), {Param::str(name)}))
      if (!row.empty() && row[0]) have.insert(lower(*row[0]));
    if (have.empty()) continue;  // absent: erpsync creates it
    std::string missing;
    for (const auto& c : wanted)
      if (!have.count(c)) missing += (missing.empty() ? "" : ", ") + c;
    if (!missing.empty())
      foreign += (foreign.empty() ? "" : "; ") + ("\"" + name + "\" (it lacks " + missing + ")");
  }
  if (foreign.empty()) return;
  const std::string example = conn.tables().prefix().empty() ? "erpsync_" : conn.tables().prefix() + "erpsync_";
  throw SchemaError("the database holds tables of another application under the names erpsync's tables take: " +
                    foreign + ". erpsync created nothing; set database.table_prefix (e.g. \"" + example +
                    "\") so that its tables are named apart, e.g. " + example + "accounts");
}

std::string newer_message(int found) {
  return "the database schema is at version " + std::to_string(found) +
         ", newer than this erpsyncd supports (" + std::to_string(kSchemaVersion) +
         "): a newer erpsyncd migrated it; upgrade this one (rolling upgrades never downgrade a schema)";
}

}  // namespace

const std::vector<std::string>& schema_tables() { return table_bases(); }

std::vector<std::string> migration_statements(Dialect dialect, int version) {
  std::vector<std::string> out;
  for (const auto& m : kMigrations)
    if (m.version == version)
      for (auto s : *m.statements) out.push_back(render(s, dialect));
  return out;
}

int schema_version(Connection& conn) {
  if (!table_exists(conn, "schema_version")) return 0;
  auto v = conn.scalar("SELECT MAX(version) FROM schema_version");
  return v ? std::stoi(*v) : 0;
}

MigrateResult migrate(Connection& conn, MigrateMode mode) {
  MigrateResult r;
  if (mode == MigrateMode::off) {
    // A DBA owns the schema; only refuse one we cannot understand.
    r.from = r.to = schema_version(conn);
    if (r.from > kSchemaVersion) throw SchemaError(newer_message(r.from));
    return r;
  }
  r.from = schema_version(conn);
  if (r.from > kSchemaVersion) throw SchemaError(newer_message(r.from));
  if (r.from < kSchemaVersion) refuse_foreign_tables(conn);
  if (mode == MigrateMode::check) {
    if (r.from < kSchemaVersion)
      throw SchemaError("the database schema is at version " + std::to_string(r.from) +
                        ", this erpsyncd needs version " + std::to_string(kSchemaVersion) +
                        " and database.migrate is \"check\": run `erpsyncd migrate` (or apply "
                        "`erpsyncd migrate --print-sql` as a DBA) first");
    r.to = r.from;
    return r;
  }
  r.to = r.from;
  if (r.from == kSchemaVersion) return r;
  // Every pending migration, schema_version's own table included, in one transaction: on
  // PostgreSQL and SQLite, whose DDL is transactional, a failure anywhere leaves the schema as it
  // was. MariaDB commits each DDL statement implicitly: the check above ran before any of them,
  // and every statement is idempotent, so running the migration again completes it.
  conn.set_autocommit(false);
  std::vector<int> applied;
  try {
    conn.exec(schema_version_ddl(conn.dialect()));
    for (const auto& m : kMigrations) {
      if (m.version <= r.from) continue;
      for (auto s : *m.statements) conn.exec(render(s, conn.dialect()));
      conn.exec("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                {Param::i64(m.version), Param::str(std::string(m.description)), Param::ts(utc_timestamp_now())});
      applied.push_back(m.version);
    }
    conn.commit();
    conn.set_autocommit(true);
  } catch (const OdbcError& e) {
    conn.rollback();
    if (!conn.connected()) throw;
    conn.set_autocommit(true);
    // Another process may have applied the same migrations meanwhile.
    if (e.error_class() == ErrorClass::unique_violation || e.error_class() == ErrorClass::other) {
      if (int now = schema_version(conn); now >= kSchemaVersion) {
        r.to = now;
        return r;
      }
    }
    throw;
  }
  r.applied = std::move(applied);
  r.to = kSchemaVersion;
  return r;
}

std::string migration_sql(Dialect dialect, const TableNames& names) {
  std::string out = "-- erpsync schema, dialect " + std::string(to_string(dialect)) + ", version " +
                    std::to_string(kSchemaVersion) + "\n";
  out += schema_version_ddl(dialect) + ";\n\n";
  for (const auto& m : kMigrations) {
    out += "-- migration " + std::to_string(m.version) + ": " + std::string(m.description) + "\n";
    for (auto s : *m.statements) out += render(s, dialect) + ";\n";
    out += "INSERT INTO schema_version (version, description, applied_at) VALUES (" +
           std::to_string(m.version) + ", '" + std::string(m.description) + "', " +
           render("{now}", dialect) + ");\n\n";
  }
  return names.render(out);
}

}  // namespace erpsync::connectors::odbc
