// Redaction: see redact.hpp. Hand-written scanners rather than std::regex: they run on every
// error and trace line, and must stay linear on hostile input.

#include "connectors/http/redact.hpp"

#include "connectors/http/url_encode.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace erpsync::connectors::http {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool istarts_with(std::string_view s, std::size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[pos + i]) != lower(prefix[i])) return false;
  }
  return true;
}

void replace_all(std::string& s, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  std::size_t pos = 0;
  while ((pos = s.find(needle, pos)) != std::string::npos) {
    s.replace(pos, needle.size(), with);
    pos += with.size();
  }
}

bool is_value_end(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '&' || c == '"' || c == '\'' ||
         c == '#' || c == '<' || c == '>' || c == ';' || c == ',';
}

// scheme://user:pass@host -> scheme://***@host
void mask_userinfo(std::string& s) {
  std::size_t pos = 0;
  while ((pos = s.find("://", pos)) != std::string::npos) {
    const std::size_t start = pos + 3;
    std::size_t end = start;
    std::size_t at = std::string::npos;
    while (end < s.size()) {
      const char c = s[end];
      if (c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' ||
          std::isspace(static_cast<unsigned char>(c))) {
        break;
      }
      if (c == '@') at = end;
      ++end;
    }
    if (at != std::string::npos) {
      s.replace(start, at - start, Redactor::kMask);
      pos = start + Redactor::kMask.size() + 1;
    } else {
      pos = end;
    }
  }
}

// ?token=abc&x=1 -> ?token=***&x=1
void mask_query_params(std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '?' && s[i] != '&') continue;
    std::size_t name_end = i + 1;
    while (name_end < s.size() && s[name_end] != '=' && !is_value_end(s[name_end]) &&
           s[name_end] != '?') {
      ++name_end;
    }
    if (name_end >= s.size() || s[name_end] != '=') continue;
    if (!is_secret_param(std::string_view(s).substr(i + 1, name_end - i - 1))) continue;
    std::size_t value_end = name_end + 1;
    while (value_end < s.size() && !is_value_end(s[value_end])) ++value_end;
    if (value_end == name_end + 1) continue;
    s.replace(name_end + 1, value_end - name_end - 1, Redactor::kMask);
    i = name_end + Redactor::kMask.size();
  }
}

// At least 8 bytes with a digit, mixed case or token punctuation: tokens, base64, JWTs.
bool looks_like_credential(std::string_view w) {
  if (w.size() < 8 || w == Redactor::kMask) return false;
  bool digit = false, upper = false, lower_case = false, punct = false;
  for (char c : w) {
    const auto u = static_cast<unsigned char>(c);
    digit |= std::isdigit(u) != 0;
    upper |= std::isupper(u) != 0;
    lower_case |= std::islower(u) != 0;
    punct |= c == '+' || c == '/' || c == '=' || c == '.' || c == '_' || c == '-' || c == '~';
  }
  return digit || punct || (upper && lower_case);
}

// "Bearer abc", "Basic abc" (any case) -> "Bearer ***"
void mask_auth_schemes(std::string& s) {
  static constexpr std::array<std::string_view, 2> kSchemes = {"bearer ", "basic "};
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && std::isalnum(static_cast<unsigned char>(s[i - 1]))) continue;
    for (auto scheme : kSchemes) {
      if (!istarts_with(s, i, scheme)) continue;
      std::size_t start = i + scheme.size();
      while (start < s.size() && s[start] == ' ') ++start;
      std::size_t end = start;
      while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end])) &&
             s[end] != '"' && s[end] != '\'' && s[end] != '<') {
        ++end;
      }
      // Only credential-looking words: prose such as "basic authentication failed" stays.
      if (looks_like_credential(std::string_view(s).substr(start, end - start))) {
        s.replace(start, end - start, Redactor::kMask);
        end = start + Redactor::kMask.size();
      }
      i = end;
      break;
    }
  }
}

}  // namespace

bool is_secret_param(std::string_view name) {
  const std::string n = to_lower(name);
  static constexpr std::array<std::string_view, 14> kExact = {
      "key",  "pwd", "pass", "auth", "authorization", "sig", "passwd",
      "jwt",  "sid", "session", "sessionid", "credential", "credentials", "private_key"};
  if (std::find(kExact.begin(), kExact.end(), n) != kExact.end()) return true;
  static constexpr std::array<std::string_view, 8> kContains = {
      "token", "secret", "passw", "apikey", "api_key", "api-key", "signature", "oauth_"};
  return std::any_of(kContains.begin(), kContains.end(),
                     [&](std::string_view part) { return n.find(part) != std::string::npos; });
}

Redactor::Redactor()
    : secret_headers_{"authorization", "proxy-authorization", "cookie", "set-cookie",
                      "x-api-key",     "x-auth-token",        "api-key"} {}

void Redactor::add_secret(std::string secret) {
  if (secret.size() < 4) return;
  for (std::string form : {secret, percent_encode(secret)}) {
    if (std::find(secrets_.begin(), secrets_.end(), form) == secrets_.end()) {
      longest_ = std::max(longest_, form.size());
      secrets_.push_back(std::move(form));
    }
  }
  // Longest first, so a secret containing another is masked whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Redactor::add_secret_header(std::string name) {
  name = to_lower(name);
  if (std::find(secret_headers_.begin(), secret_headers_.end(), name) == secret_headers_.end()) {
    secret_headers_.push_back(std::move(name));
  }
}

bool Redactor::is_secret_header(std::string_view name) const {
  const std::string n = to_lower(name);
  return std::find(secret_headers_.begin(), secret_headers_.end(), n) != secret_headers_.end();
}

std::string Redactor::header_value(std::string_view name, std::string_view value) const {
  if (!is_secret_header(name)) return text(value);
  // Keep the scheme ("Bearer ***"): it tells an operator which auth mode was used.
  const auto space = value.find(' ');
  if (space != std::string_view::npos && space > 0 && space < 16) {
    const auto scheme = value.substr(0, space);
    if (std::all_of(scheme.begin(), scheme.end(),
                    [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
      return std::string(scheme) + " " + std::string(kMask);
    }
  }
  return std::string(kMask);
}

std::string Redactor::url(std::string_view url) const { return text(url); }

std::string Redactor::text(std::string_view input) const {
  std::string s(input);
  for (const auto& secret : secrets_) replace_all(s, secret, kMask);
  mask_userinfo(s);
  mask_query_params(s);
  mask_auth_schemes(s);
  // "Authorization: xyz" and other secret headers inside free text (curl trace, echoed headers).
  for (const auto& header : secret_headers_) {
    std::size_t pos = 0;
    const std::string lowered = to_lower(s);
    std::string out;
    std::size_t copied = 0;
    while ((pos = lowered.find(header + ":", pos)) != std::string::npos) {
      const bool word_start = pos == 0 || !(std::isalnum(static_cast<unsigned char>(lowered[pos - 1])) ||
                                            lowered[pos - 1] == '-');
      std::size_t value = pos + header.size() + 1;
      if (!word_start) {
        pos = value;
        continue;
      }
      while (value < s.size() && s[value] == ' ') ++value;
      std::size_t end = value;
      while (end < s.size() && s[end] != '\r' && s[end] != '\n') ++end;
      out.append(s, copied, value - copied);
      out += header_value(header, std::string_view(s).substr(value, end - value));
      copied = end;
      pos = end;
    }
    if (copied > 0) {
      out.append(s, copied, std::string::npos);
      s = std::move(out);
    }
  }
  return s;
}

void SecretBook::add_configured(const std::vector<std::string>& secrets) {
  std::lock_guard lock(mutex_);
  for (const auto& s : secrets)
    if (std::find(configured_.begin(), configured_.end(), s) == configured_.end()) configured_.push_back(s);
  rebuild_locked();
}

void SecretBook::add_learned(std::string secret) {
  std::lock_guard lock(mutex_);
  if (std::find(learned_.begin(), learned_.end(), secret) != learned_.end()) return;
  learned_.push_back(std::move(secret));
  if (learned_.size() > kMaxLearned) learned_.pop_front();
  rebuild_locked();
}

// A new Redactor each time (secrets are added rarely, lines are redacted often): readers take
// the current one and redact without holding the lock.
void SecretBook::rebuild_locked() {
  auto next = std::make_shared<Redactor>();
  for (const auto& s : configured_) next->add_secret(s);
  for (const auto& s : learned_) next->add_secret(s);
  redactor_ = std::move(next);
}

std::string SecretBook::text(std::string_view text) const {
  std::shared_ptr<const Redactor> r;
  {
    std::lock_guard lock(mutex_);
    r = redactor_;
  }
  return r->text(text);
}

SecretBook& process_secrets() {
  static SecretBook book;
  return book;
}

}  // namespace erpsync::connectors::http
