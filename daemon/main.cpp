// erpsyncd: the entry point. Parses the command line and hands over to the app; the exit code
// contract of SPEC §7 (0 ok, 1 a connector failed, 2 usage or configuration error) is kept here
// and in app.cpp.

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/app.hpp"
#include "daemon/cli.hpp"
#include "version.hpp"

int main(int argc, char** argv) {
  using namespace erpsync::daemon;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_command_line(args);
  if (auto* err = std::get_if<CliError>(&parsed)) {
    std::cerr << "erpsyncd: " << err->message << "\n";
    return kExitUsage;
  }
  const CommandLine& cl = std::get<CommandLine>(parsed);
  if (cl.command == Command::help) {
    std::cout << help_text();
    return kExitOk;
  }
  if (cl.command == Command::version) {
    std::cout << "erpsyncd " << erpsync::kVersion << "\n";
    return kExitOk;
  }
  try {
    return run_command(cl);
  } catch (const std::exception& e) {
    // A bug or an unexpected failure outside any run: say so and let systemd restart us.
    std::cerr << "erpsyncd: fatal: " << e.what() << "\n";
    return kExitFailed;
  }
}
