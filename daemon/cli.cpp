#include "daemon/cli.hpp"

#include <charconv>

namespace erpsync::daemon {

std::string help_text() {
  return R"(erpsyncd - keeps a CRM's accounts in step with ERP systems and Magento stores

Usage:
  erpsyncd --config FILE                         run as a service (foreground, systemd Type=notify)
  erpsyncd --config FILE --once [--connector NAME] [--dry-run]
                                                 one sync of each enabled connector, then exit;
                                                 --dry-run rolls everything back and lists what
                                                 a real run would adopt and reject
  erpsyncd --config FILE --check-config          validate the configuration and exit
  erpsyncd --config FILE report [--last N]       recent runs, open rejections, parked records
  erpsyncd --config FILE resync --connector NAME [--since TIME]
                                                 move a connector's cursors back (to the start)
  erpsyncd --config FILE rejections [list|retry] [--connector NAME]
  erpsyncd --config FILE parked [list|drop] [--connector NAME]
  erpsyncd --config FILE rename-connector OLD NEW
  erpsyncd --config FILE migrate [--print-sql]   apply schema migrations, or print their SQL
  erpsyncd --config FILE merge --account ID --into ID [--dry-run]
                                                 merge the CRM's duplicate Account ID into the one
                                                 that keeps the External Code (same owner only);
                                                 --dry-run lists what would move
  erpsyncd --config FILE tree CODE [--json]      the Member-of group of an Account as a tree
  erpsyncd --version | --help

Options:
  --config FILE     configuration file (default /etc/erpsync/erpsync.json)
  --connector NAME  limit the command to one connector
  --last N          how many runs `report` shows per connector and stream (default 20)
  --since TIME      `resync`: UTC time 'YYYY-MM-DD HH:MM:SS' to move the cursors back to
  --account ID      `merge`: the duplicate Account's id (it ends inactive, never deleted)
  --into ID         `merge`: the Account it is merged into
  --json            `tree`: one JSON object instead of the indented text

Exit codes: 0 all good; 1 a connector failed (see the log and sync_runs), or `merge` refused,
            or `tree` found no account with the code; 2 usage or configuration error.
            Rejected records are not failures.
)";
}

namespace {

template <class Int>
bool parse_int(const std::string& s, Int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && out > 0;
}

}  // namespace

std::variant<CommandLine, CliError> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  bool once = false, check = false;
  std::vector<std::string> words;  // subcommand and its positional arguments
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      (void)flag;
      return args[++i];
    };
    if (a == "--help" || a == "-h") { cl.command = Command::help; return cl; }
    if (a == "--version") { cl.command = Command::version; return cl; }
    if (a == "--config" || a == "--connector" || a == "--last" || a == "--since" || a == "--account" || a == "--into") {
      auto v = value(a.c_str());
      if (!v) return CliError{a + " needs a value"};
      if (a == "--config") cl.config_path = *v;
      else if (a == "--connector") cl.connector = *v;
      else if (a == "--since") cl.since = *v;
      else if (a == "--account" || a == "--into") {
        if (!parse_int(*v, a == "--account" ? cl.merge_from : cl.merge_into))
          return CliError{a + " needs an account id (a positive number), got '" + *v + "'"};
      } else if (!parse_int(*v, cl.last)) return CliError{"--last needs a positive number, got '" + *v + "'"};
    } else if (a == "--once") {
      once = true;
    } else if (a == "--dry-run") {
      cl.dry_run = true;
    } else if (a == "--check-config") {
      check = true;
    } else if (a == "--print-sql") {
      cl.print_sql = true;
    } else if (a == "--json") {
      cl.json = true;
    } else if (a.rfind("-", 0) == 0) {
      return CliError{"unknown option '" + a + "' (see --help)"};
    } else {
      words.push_back(a);
    }
  }

  if (!words.empty()) {
    const std::string& sub = words[0];
    auto arity = [&](std::size_t n) { return words.size() == n; };
    if (sub == "report" && arity(1)) cl.command = Command::report;
    else if (sub == "resync" && arity(1)) cl.command = Command::resync;
    else if (sub == "rejections" && (arity(1) || (arity(2) && words[1] == "list"))) cl.command = Command::rejections_list;
    else if (sub == "rejections" && arity(2) && words[1] == "retry") cl.command = Command::rejections_retry;
    else if (sub == "parked" && (arity(1) || (arity(2) && words[1] == "list"))) cl.command = Command::parked_list;
    else if (sub == "parked" && arity(2) && words[1] == "drop") cl.command = Command::parked_drop;
    else if (sub == "rename-connector" && arity(3)) {
      cl.command = Command::rename_connector;
      cl.old_name = words[1];
      cl.new_name = words[2];
    } else if (sub == "migrate" && arity(1)) cl.command = Command::migrate;
    else if (sub == "merge" && arity(1)) cl.command = Command::merge;
    else if (sub == "tree" && arity(2)) {
      cl.command = Command::tree;
      cl.tree_code = words[1];
    } else return CliError{"unknown command or arguments: '" + sub + (words.size() > 1 ? " " + words[1] : "") + "' (see --help)"};
    if (once || check || (cl.dry_run && cl.command != Command::merge))
      return CliError{"'" + sub + "' cannot be combined with --once, --check-config or --dry-run"};
    if (cl.command == Command::resync && !cl.connector) return CliError{"resync needs --connector NAME"};
    if (cl.command == Command::merge && (cl.merge_from == 0 || cl.merge_into == 0))
      return CliError{"merge needs --account ID (the duplicate) and --into ID (the Account that stays)"};
    if (cl.command != Command::merge && (cl.merge_from != 0 || cl.merge_into != 0))
      return CliError{"--account and --into go with the merge command"};
    if (cl.json && cl.command != Command::tree) return CliError{"--json goes with the tree command"};
    return cl;
  }
  if (check && once) return CliError{"--check-config and --once exclude each other"};
  if (check) cl.command = Command::check_config;
  else if (once) cl.command = Command::once;
  else if (cl.dry_run) return CliError{"--dry-run goes with --once"};
  if (cl.print_sql) return CliError{"--print-sql goes with the migrate command"};
  if (cl.merge_from != 0 || cl.merge_into != 0) return CliError{"--account and --into go with the merge command"};
  if (cl.json) return CliError{"--json goes with the tree command"};
  return cl;
}

}  // namespace erpsync::daemon
