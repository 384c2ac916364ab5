// libFuzzer target: the configuration loader (JSON with comments, includes, ${...} references,
// the option table's validation). Property: load_config never crashes or throws for any file
// content; it returns either a Config or errors, and a Config's redact() removes every secret.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "connectors/registry.hpp"

namespace {

const std::string& config_path() {
  static const std::string path = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "erpsync-fuzz-config-XXXXXX").string();
    const char* dir = ::mkdtemp(tmpl.data());
    if (!dir) std::abort();
    return std::string(dir) + "/erpsync.json";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(config_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const erpsync::config::LoadResult r =
      erpsync::config::load_config(config_path(), erpsync::connectors::connector_types());
  if (r.ok() == !r.errors.empty()) std::abort();  // exactly one of a config or errors
  for (const auto& e : r.errors) (void)e.to_string();
  if (r.config) {
    for (const std::string& secret : r.config->secret_values) {
      if (secret.size() < 4) continue;
      if (r.config->redact("x " + secret + " y").find(secret) != std::string::npos) std::abort();
    }
  }
  return 0;
}
