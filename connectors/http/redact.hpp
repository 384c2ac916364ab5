#pragma once
// Redaction of credentials from every text the HTTP layer produces (errors, log lines, curl
// trace). SPEC §8: secrets never reach a log line.
//
// Thread-safety: configure (add_*) before sharing; the const methods are safe to call from any
// thread afterwards.

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace erpsync::connectors::http {

class Redactor {
 public:
  static constexpr std::string_view kMask = "***";

  Redactor();

  // A literal secret (token, password, client secret) to mask wherever it appears, also in its
  // percent-encoded form. Strings shorter than 4 bytes are ignored (they would mask ordinary
  // text and protect nothing).
  void add_secret(std::string secret);
  // A header whose value is a credential, in addition to the defaults (Authorization,
  // Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, X-Auth-Token). Case-insensitive.
  void add_secret_header(std::string name);

  bool is_secret_header(std::string_view name) const;
  // "Bearer abc" -> "Bearer ***"; other secret headers -> "***"; others: redact_text(value).
  std::string header_value(std::string_view name, std::string_view value) const;
  // user:pass@ -> ***@, token-like query parameters (token, access_token, api_key, password,
  // secret, signature, oauth_*, ...) -> name=***, and every registered secret.
  std::string url(std::string_view url) const;
  // Free text (error messages, body excerpts, trace lines): registered secrets, userinfo in URLs,
  // token-like query parameters, "Bearer/Basic <credential>" and "Authorization: ..." lines.
  std::string text(std::string_view text) const;
  // Longest registered secret (excerpt code keeps this much slack so no secret is cut in half).
  std::size_t longest_secret() const { return longest_; }

 private:
  std::vector<std::string> secrets_;  // literal and percent-encoded forms
  std::vector<std::string> secret_headers_;  // lower case
  std::size_t longest_ = 0;
};

// True for query parameter names that carry credentials (case-insensitive).
bool is_secret_param(std::string_view name);

// The process's secrets, for the text that leaves it: the daemon's log sink and the run
// message it stores redact with this book (SPEC §8), so call sites never redact by hand. It
// holds what the configuration declares (added at start and at every reload; an old value of
// a rotated secret stays masked) and what connectors learn while running (a Magento admin
// token), of which the latest kMaxLearned are kept (older tokens have long expired).
//
// Thread-safety: every method may be called from any thread at any time.
class SecretBook {
 public:
  static constexpr std::size_t kMaxLearned = 32;

  void add_configured(const std::vector<std::string>& secrets);
  void add_learned(std::string secret);
  // Redactor::text() with every secret of the book.
  std::string text(std::string_view text) const;

 private:
  void rebuild_locked();

  mutable std::mutex mutex_;
  std::vector<std::string> configured_;
  std::deque<std::string> learned_;
  std::shared_ptr<const Redactor> redactor_ = std::make_shared<const Redactor>();
};

// The one book of this process.
SecretBook& process_secrets();

}  // namespace erpsync::connectors::http
