#include "daemon/admin.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "connectors/odbc/admin_queries.hpp"
#include "connectors/odbc/migrations.hpp"
#include "connectors/registry.hpp"
#include "core/text.hpp"
#include "core/text_escape.hpp"
#include "daemon/app.hpp"
#include "daemon/logging.hpp"
#include "daemon/tree_view.hpp"
#include "daemon/wiring.hpp"

namespace erpsync::daemon {
namespace {

namespace odbc = connectors::odbc;

// Prints a table with aligned columns. Cells hold remote data: control characters are escaped
// (a CR or ESC cannot redraw the terminal, a newline cannot forge a row) and long cells are cut
// at 60 characters.
void print_table(const std::string& title, const odbc::Table& t) {
  std::cout << title << " (" << t.rows.size() << ")\n";
  if (t.rows.empty()) {
    std::cout << "  (none)\n\n";
    return;
  }
  auto cell = [](const std::optional<std::string>& v) {
    return core::shorten(core::escape_controls(v.value_or("-")), 60);
  };
  std::vector<std::size_t> width(t.columns.size());
  for (std::size_t c = 0; c < t.columns.size(); ++c) width[c] = t.columns[c].size();
  for (const auto& row : t.rows)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], cell(row[c]).size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::cout << " ";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::cout << " " << cells[c];
      if (c + 1 < cells.size()) std::cout << std::string(width[c] - cells[c].size(), ' ');
    }
    std::cout << "\n";
  };
  line(t.columns);
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(cell(v));
    line(cells);
  }
  std::cout << "\n";
}

int migrate_command(const config::Config& cfg, const CommandLine& cl) {
  if (cl.print_sql) {
    // DBAs who withhold DDL rights: the dialect from the driver name when it says, else ask the server.
    std::cout << odbc::migration_sql(odbc::detect_dialect(cfg.database.connection),
                                   odbc::TableNames(cfg.database.table_prefix));
    if (cfg.database.crm == config::CrmTarget::suitecrm)
      std::cout << "\n" << odbc::SuiteCrm(suitecrm_options(cfg.database), odbc::TableNames(cfg.database.table_prefix))
                                .index_sql();
    return kExitOk;
  }
  auto store = open_store(cfg, StoreMode::normal);  // applies per database.migrate
  const int version = store->admin().schema_version();
  std::cout << "schema version " << version << " (this binary: " << odbc::kSchemaVersion << ")\n";
  return version == odbc::kSchemaVersion ? kExitOk : kExitFailed;
}

std::string account_text(const odbc::MergeAccount& a) {
  std::string s = "account " + std::to_string(a.id);
  if (!a.code.empty()) s += " " + core::escape_controls(a.code);
  return s + " \"" + core::shorten(core::escape_controls(a.name), 60) + "\" (owner " +
         core::escape_controls(a.owner.value_or("-")) + ")";
}

// `merge`: exit 0 merged (or listed, with --dry-run), 1 refused (nothing changed).
int merge_command(odbc::AdminQueries& admin, const CommandLine& cl) {
  const odbc::MergeResult r = admin.merge_accounts(cl.merge_from, cl.merge_into, cl.dry_run);
  if (r.refusal) {
    std::cerr << "erpsyncd: merge refused: " << core::escape_controls(*r.refusal) << "\n";
    return kExitFailed;
  }
  if (cl.dry_run)
    std::cout << "merge (dry run): " << account_text(r.from) << " into " << account_text(r.into) << " would move:\n";
  else
    std::cout << "merged " << account_text(r.from) << " into " << account_text(r.into) << " (sync_merges id "
              << r.merge_id << "), moved:\n";
  for (const auto& m : r.moves) std::cout << "  " << m.what << " " << m.rows << "\n";
  if (cl.dry_run)
    std::cout << "nothing was changed; without --dry-run account " << r.from.id << " ends inactive\n";
  else
    std::cout << "account " << r.from.id << " is inactive now (kept, never deleted)\n";
  return kExitOk;
}

// `tree`: exit 0 shown, 1 no Account has the code.
int tree_command(odbc::AdminQueries& admin, const CommandLine& cl) {
  const auto group = admin.account_group(cl.tree_code);
  if (!group) {
    std::cerr << "erpsyncd: tree: no account has code " << core::escape_controls(cl.tree_code) << "\n";
    return kExitFailed;
  }
  std::cout << (cl.json ? tree_json(*group, cl.tree_code) : tree_text(*group, cl.tree_code));
  return kExitOk;
}

// SPEC §4.1: the abandoned carts of each Magento connector that syncs carts, per Account. Admin
// commands read only the configuration's database part (they must work when a connector's
// secrets cannot be resolved here); abandoned_after comes from the whole configuration when it
// loads, else every channel with carts is listed with the default of 24 h, and the report says so.
void print_abandoned_carts(const config::Config& cfg, const CommandLine& cl, odbc::AdminQueries& admin) {
  const auto now = std::chrono::system_clock::now();
  config::LoadResult full = config::load_config(cfg.path, connectors::connector_types());
  if (full.ok()) {
    for (const config::ConnectorConfig& conn : full.config->connectors) {
      if (cl.connector && conn.name != *cl.connector) continue;
      const auto cutoff = abandoned_cutoff(conn, now);
      if (!cutoff) continue;
      print_table("Abandoned carts of " + conn.name + " (active, with items, last updated before " +
                      cutoff->substr(0, 19) + " UTC), per Account",
                  admin.abandoned_carts(conn.name, *cutoff));
    }
    return;
  }
  const std::string cutoff = core::utc_text(now - std::chrono::hours(24)) + ".000";
  for (const std::string& channel : admin.cart_channels()) {
    if (cl.connector && channel != *cl.connector) continue;
    print_table("Abandoned carts of " + channel + " (active, with items, last updated before " + cutoff.substr(0, 19) +
                    " UTC: the default abandoned_after of 24h, since the connectors' configuration cannot be read "
                    "here), per Account",
                admin.abandoned_carts(channel, cutoff));
  }
}

}  // namespace

int run_admin(const config::Config& cfg, const CommandLine& cl) {
  try {
    if (cl.command == Command::migrate) return migrate_command(cfg, cl);
    config::Config admin_cfg = cfg;
    // Admin commands never migrate behind the operator's back.
    if (admin_cfg.database.migrate == config::Migrate::auto_) admin_cfg.database.migrate = config::Migrate::check;
    auto store = open_store(admin_cfg, StoreMode::normal);
    odbc::AdminQueries admin = store->admin();
    switch (cl.command) {
      case Command::report:
        print_table("Recent runs (newest first, at most " + std::to_string(cl.last) + " per connector and stream)",
                    admin.recent_runs(cl.last, cl.connector));
        print_table("Open rejections", admin.open_rejections(cl.connector));
        print_table("Parked records", admin.parked_records(cl.connector));
        print_abandoned_carts(cfg, cl, admin);
        print_table("Leases (who syncs which connector)", admin.connector_leases(cl.connector));
        return kExitOk;
      case Command::rejections_list:
        print_table("Open rejections", admin.open_rejections(cl.connector));
        return kExitOk;
      case Command::parked_list:
        print_table("Parked records", admin.parked_records(cl.connector));
        return kExitOk;
      case Command::parked_drop: {
        const auto n = admin.drop_parked(cl.connector);
        std::cout << "dropped " << n << " parked record(s)\n";
        return kExitOk;
      }
      case Command::resync: {
        const auto n = admin.resync_cursors(*cl.connector, cl.since);
        std::cout << "moved " << n << " cursor(s) of connector " << *cl.connector << " back to "
                  << (cl.since ? *cl.since : std::string("the start")) << "; the next run re-reads the source\n";
        return kExitOk;
      }
      case Command::rename_connector: {
        std::string why;
        if (!admin.rename_connector(cl.old_name, cl.new_name, why)) {
          std::cerr << "erpsyncd: rename-connector refused: " << why << "\n";
          return kExitUsage;
        }
        std::cout << "connector " << cl.old_name << " is now " << cl.new_name
                  << " in the database; rename it in the configuration too before the next run\n";
        return kExitOk;
      }
      case Command::merge:
        if (cfg.database.crm == config::CrmTarget::suitecrm) {
          // erpsync's accounts are only SuiteCRM's index there: moving them would not move
          // SuiteCRM's own rows (accounts_contacts, its merged-record marks).
          std::cerr << "erpsyncd: merge refused: with database.crm \"suitecrm\" the Accounts are SuiteCRM's own rows; "
                       "merge the duplicate in SuiteCRM (its Merge action on the Accounts list), and the next run "
                       "follows\n";
          return kExitFailed;
        }
        return merge_command(admin, cl);
      case Command::tree:
        return tree_command(admin, cl);
      default:
        std::cerr << "erpsyncd: unexpected command\n";
        return kExitUsage;
    }
  } catch (const StoreOpenRefused& e) {
    std::cerr << "erpsyncd: " << cfg.redact(e.what()) << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "erpsyncd: " << cfg.redact(e.what()) << "\n";
    return kExitFailed;
  }
}

}  // namespace erpsync::daemon
