#pragma once
// Helpers shared by the reliability tests: temp folders, a generated company feed with
// hierarchy and records that must be rejected, the seed every randomised test prints, and the
// real erpsyncd binary's path.

#include <cstdint>
#include <filesystem>
#include <string>

namespace erpsync::testing {

// A temporary folder removed on destruction (kept when `keep()` was called, for a failure).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name`; with `old_mtime` the file looks finished a minute ago (a file
  // feed is read only once it is stable_for old).
  std::string write(const std::string& name, const std::string& content, bool old_mtime = true) const;
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

// The value of environment variable `name` as a number, or `fallback` when unset or empty.
std::uint64_t env_number(const char* name, std::uint64_t fallback);

// A random seed unless `env_name` holds one. The caller prints it.
std::uint64_t seed_from_env(const char* env_name);

// Generation `generation` (1, 2, ...) of an ERP export of `count` companies, as XML:
//   <Export><Customer id=".." code=".."><Name/><Owner/><Parent/><Email/><City/></Customer>...
// Parents are named by code; some children come before their parent (pending links), some
// records lack a code (missing_external_code), some have a name over 255 characters
// (invalid_field), and from generation 2 on names change, some salespeople are reassigned in
// the ERP (code_owned_by_other_user until they move back), and a few records drop out of the
// export (missing). Deterministic in (count, generation).
std::string generated_export(int count, int generation);

// The feed connector object (JSON text) that maps generated_export() at `path`.
std::string generated_feed_connector(const std::string& name, const std::string& path);

// <build>/daemon/erpsyncd
std::string erpsyncd_path();

}  // namespace erpsync::testing
