#pragma once
// The command line of SPEC §7, parsed into a value. No I/O except what --help prints.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace erpsync::daemon {

enum class Command {
  serve,            // erpsyncd --config FILE
  once,             // --once [--connector NAME] [--dry-run]
  check_config,     // --check-config
  report,           // report [--last N]
  resync,           // resync --connector NAME [--since TIME]
  rejections_list,  // rejections [list] [--connector NAME]
  rejections_retry, // rejections retry [--connector NAME]
  parked_list,      // parked [list] [--connector NAME]
  parked_drop,      // parked drop [--connector NAME]
  rename_connector, // rename-connector OLD NEW
  migrate,          // migrate [--print-sql]
  merge,            // merge --account ID --into ID [--dry-run]
  tree,             // tree CODE [--json]
  version,
  help,
};

struct CommandLine {
  Command command = Command::serve;
  std::string config_path = "/etc/erpsync/erpsync.json";
  std::optional<std::string> connector;
  bool dry_run = false;
  bool print_sql = false;
  int last = 20;
  std::optional<std::string> since;
  std::string old_name, new_name;
  std::int64_t merge_from = 0, merge_into = 0;  // merge: --account, --into (> 0)
  std::string tree_code;                        // tree: the Account's External Code
  bool json = false;                            // tree --json
};

struct CliError {
  std::string message;
};

// Parses argv. Returns the command line, or a CliError (exit code 2) naming the bad argument.
std::variant<CommandLine, CliError> parse_command_line(const std::vector<std::string>& args);

// The text of --help.
std::string help_text();

}  // namespace erpsync::daemon
