#pragma once
// What the config tests share: a temporary folder for config files, the loader with every
// connector type of this build, and error lookups.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "connectors/registry.hpp"

namespace erpsync::config::testkit {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "erpsync-config-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text, fs::perms perms = fs::perms::owner_read |
                                                                                      fs::perms::owner_write) {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    fs::permissions(p, perms);
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// load_config() with every connector type of this build.
inline LoadResult load_config(const std::string& path) {
  return config::load_config(path, connectors::connector_types());
}

// A config file's text: a database and the connector objects `connector_json` (comma-separated).
inline std::string feed_config(const std::string& connector_json) {
  return R"({ "database": { "connection": "x" }, "connectors": [ )" + connector_json + " ] }";
}

inline std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

inline const ConfigError* find_error(const LoadResult& r, const std::string& key) {
  for (const auto& e : r.errors)
    if (e.key == key) return &e;
  return nullptr;
}

}  // namespace erpsync::config::testkit
