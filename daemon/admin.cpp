#include "daemon/admin.hpp"

#include <algorithm>
#include <iostream>

#include "connectors/odbc/admin_queries.hpp"
#include "connectors/odbc/migrations.hpp"
#include "core/text_escape.hpp"
#include "daemon/app.hpp"
#include "daemon/logging.hpp"
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
