#include "reliability_support.hpp"

#include <stdlib.h>
#include <utime.h>

#include <fstream>
#include <random>

namespace erpsync::testing {

ScratchDir::ScratchDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  path_ = ::mkdtemp(tmpl.data());
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!keep_) std::filesystem::remove_all(path_, ec);
}

std::string ScratchDir::write(const std::string& name, const std::string& content, bool old_mtime) const {
  const auto p = path_ / name;
  std::filesystem::create_directories(p.parent_path());
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
  }
  if (old_mtime) {
    const time_t t = time(nullptr) - 60;
    utimbuf times{t, t};
    utime(p.c_str(), &times);
  }
  return p.string();
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

std::uint64_t seed_from_env(const char* env_name) {
  const char* v = std::getenv(env_name);
  if (v && *v) return std::strtoull(v, nullptr, 10);
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string generated_export(int count, int generation) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Export generation=\"" +
                    std::to_string(generation) + "\">\n";
  auto record = [&](int i) {
    // A few records leave the export in later generations (and come back in the next one).
    if (generation >= 2 && i % 41 == generation % 41) return;
    const std::string id = std::to_string(i);
    std::string code = "C-" + std::to_string(100000 + i);
    if (i % 97 == 13) code = "";  // missing_external_code
    std::string name = "Company " + id;
    if (generation >= 2 && (i * 7 + generation) % 5 == 0) name += " (rev " + std::to_string(generation) + ")";
    if (i % 211 == 17) name = std::string(300, 'N');  // over 255: invalid_field
    std::string owner = "user" + std::to_string(i % 7);
    // Reassigned in the ERP for one generation: rejected, then resolved when it moves back.
    if (generation >= 2 && i % 53 == generation % 53) owner = "user-other";
    // Groups of ten under a head company; every 100th group names a parent that comes later
    // in the document (a pending link resolved in the same run or the next batch).
    std::string parent;
    if (i % 10 != 0) parent = "C-" + std::to_string(100000 + (i / 10) * 10);
    if (i % 100 == 5) parent = "C-" + std::to_string(100000 + (i + 500) % count / 10 * 10);
    if (generation >= 3 && i % 89 == generation % 89) parent = "";  // leaves its group
    out += "  <Customer id=\"" + id + "\" code=\"" + code + "\"><Name>" + xml_escape(name) + "</Name><Owner>" +
           owner + "</Owner><Parent>" + parent + "</Parent><Email>c" + id + "@example.com</Email><City>City " +
           std::to_string(i % 23) + "</City></Customer>\n";
  };
  for (int i = 0; i < count; ++i) record(i);
  return out + "</Export>\n";
}

std::string generated_feed_connector(const std::string& name, const std::string& path) {
  return R"({ "name": ")" + name + R"(", "type": "feed", "format": "xml", "url": "file://)" + path +
         R"(", "records": "/Export/Customer", "poll_interval": "5m", "default_owner": "sales",
           "fields": { "remote_id": "@id", "external_code": "@code", "name": "Name", "owner": "Owner",
                       "member_of": "Parent", "email": "Email", "city": "City" } })";
}

std::string erpsyncd_path() { return std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd"; }

}  // namespace erpsync::testing
