// erpsync-config-schema: prints the JSON Schema of erpsync.json, generated from the declared
// option table (config::json_schema()), or writes it to FILE. docs/erpsync.schema.json is its
// output; a test keeps the two equal.
//
//   erpsync-config-schema [FILE]

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "config/options.hpp"
#include "connectors/registry.hpp"

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h"))) {
    std::cerr << "usage: erpsync-config-schema [FILE]   (prints the config file's JSON Schema, or writes FILE)\n";
    return argc > 2 ? 2 : 0;
  }
  const std::string text = erpsync::config::json_schema(erpsync::connectors::connector_types()).dump(2) + "\n";
  if (argc == 1) {
    std::cout << text;
    return std::cout ? 0 : 1;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "erpsync-config-schema: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
