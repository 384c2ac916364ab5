#include "core/rules/payload.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "core/rules/normalize.hpp"

namespace erpsync::core {
namespace {

constexpr char kUnitSep = '\x1F';
constexpr char kRecordSep = '\x1E';
constexpr int kPayloadVersion = 1;

std::string hash_input(const IncomingAccount& rec, const std::string& owner) {
  std::string in = "v1";
  in.reserve(512);
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    if (f == Field::owner) {
      append_hash_field(in, field_name(f), owner);
    } else if (rec.maps(f)) {
      append_hash_field(in, field_name(f), rec.get(f));
    }
  }
  if (rec.has_contacts_block) {
    for (const auto& c : rec.contacts) {
      in.append("contact");
      for (std::size_t i = 0; i < kContactFieldCount; ++i)
        append_hash_field(in, contact_field_name(static_cast<ContactField>(i)), c.values[i]);
    }
  }
  return in;
}

// OpenSSL 3 looks EVP_sha256() up in its provider tables on every EVP_Digest (an implicit
// fetch: locks and a table search, as much CPU as hashing a record's few hundred bytes). The
// method is fetched once and each thread keeps its digest context.
const EVP_MD* sha256_method() {
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return fetched ? fetched : EVP_sha256();
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

void append_hash_field(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(kUnitSep);
  out.append(name);
  out.push_back(kUnitSep);
  out.append(value);
  out.push_back(kRecordSep);
}

std::string sha256_hex(std::string_view bytes) {
  thread_local DigestContext context;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // These only fail on allocation failure; an empty digest then makes every hash compare
  // unequal, which costs a write, never a wrong `unchanged`.
  EVP_MD_CTX* ctx = context.ctx;
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, sha256_method(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) != 1 || EVP_DigestFinal_ex(ctx, md, &len) != 1)
    return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0x0F]);
  }
  return out;
}

std::string payload_hash(const IncomingAccount& rec, const std::string& resolved_owner) {
  return sha256_hex(hash_input(rec, resolved_owner));
}

std::string to_payload(const IncomingAccount& rec) {
  nlohmann::json fields = nlohmann::json::object();
  for (std::size_t i = 0; i < kFieldCount; ++i)
    if (!rec.values[i].empty()) fields[std::string(field_name(static_cast<Field>(i)))] = rec.values[i];
  nlohmann::json mapped = nlohmann::json::array();
  for (std::size_t i = 0; i < kFieldCount; ++i)
    if (rec.maps(static_cast<Field>(i))) mapped.push_back(field_name(static_cast<Field>(i)));
  nlohmann::json contacts = nlohmann::json::array();
  for (const auto& c : rec.contacts) {
    nlohmann::json o = nlohmann::json::object();
    for (std::size_t i = 0; i < kContactFieldCount; ++i)
      if (!c.values[i].empty()) o[std::string(contact_field_name(static_cast<ContactField>(i)))] = c.values[i];
    contacts.push_back(std::move(o));
  }
  nlohmann::json j = {{"v", kPayloadVersion},
                      {"fields", std::move(fields)},
                      {"mapped", std::move(mapped)},
                      {"has_contacts_block", rec.has_contacts_block},
                      {"contacts", std::move(contacts)}};
  if (rec.invalid) j["invalid"] = *rec.invalid;
  // Records rejected for invalid UTF-8 are stored too: replace bad bytes instead of throwing
  // (invalid_field is not replayed, so the exact bytes are not needed back).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<IncomingAccount> from_payload(const std::string& json) {
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int>() != kPayloadVersion) return std::nullopt;
  IncomingAccount rec;
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_object()) return std::nullopt;
  for (const auto& [key, value] : fields->items()) {
    auto f = field_from_name(key);
    if (!f || !value.is_string()) return std::nullopt;
    rec.at(*f) = value.get<std::string>();
  }
  auto mapped = j.find("mapped");
  if (mapped == j.end() || !mapped->is_array()) return std::nullopt;
  for (const auto& name : *mapped) {
    if (!name.is_string()) return std::nullopt;
    auto f = field_from_name(name.get<std::string>());
    if (!f) return std::nullopt;
    rec.mapped |= bit(*f);
  }
  auto hcb = j.find("has_contacts_block");
  if (hcb == j.end() || !hcb->is_boolean()) return std::nullopt;
  rec.has_contacts_block = hcb->get<bool>();
  auto contacts = j.find("contacts");
  if (contacts == j.end() || !contacts->is_array()) return std::nullopt;
  for (const auto& c : *contacts) {
    if (!c.is_object()) return std::nullopt;
    IncomingContact ic;
    for (const auto& [key, value] : c.items()) {
      if (!value.is_string()) return std::nullopt;
      bool known = false;
      for (std::size_t i = 0; i < kContactFieldCount; ++i) {
        if (contact_field_name(static_cast<ContactField>(i)) == key) {
          ic.values[i] = value.get<std::string>();
          known = true;
        }
      }
      if (!known) return std::nullopt;
    }
    rec.contacts.push_back(std::move(ic));
  }
  if (auto inv = j.find("invalid"); inv != j.end()) {
    if (!inv->is_string()) return std::nullopt;
    rec.invalid = inv->get<std::string>();
  }
  return rec;
}

void default_remote_id(IncomingAccount& rec) {
  if (rec.get(Field::remote_id).empty()) {
    std::string code = normalize_code(rec.get(Field::external_code));
    if (!code.empty()) {
      rec.at(Field::remote_id) = std::move(code);
    } else {
      rec.at(Field::remote_id) = "sha256:" + payload_hash(rec, normalize_code(rec.get(Field::owner)));
    }
  }
  for (auto& c : rec.contacts) {
    if (!c.get(ContactField::remote_id).empty()) continue;
    std::string in = rec.get(Field::remote_id);
    for (std::size_t i = 0; i < kContactFieldCount; ++i) {
      in.push_back(kUnitSep);
      in.append(c.values[i]);
    }
    c.at(ContactField::remote_id) = "sha256:" + sha256_hex(in);
  }
}

}  // namespace erpsync::core
