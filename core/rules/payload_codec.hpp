#pragma once
// The payload codec of a record kind, driven by one field table: the stored payload (a JSON
// object that round-trips the record exactly, kept with rejections and parked rows) and the
// payload hash (SHA-256 hex over a version tag and the hashed fields, each as
// US name US value RS, in table order). The table is the one place a kind's fields are listed.
//
// The hash is what earlier versions stored: changing a table's hashed fields, their order or
// the tag rewrites every bound record of that kind once (tests/unit/core/payload_codec_test.cpp
// pins it).
//
// Thread-safety: stateless.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/rules/payload.hpp"

namespace erpsync::core {

template <class Record>
struct PayloadField {
  enum class Kind {
    text,      // a std::string member; JSON string; absent reads as ""
    optional,  // a std::optional<std::string> member; JSON key only when set; hashed as its value or ""
    flag,      // a bool member; JSON boolean (absent or not a boolean reads as true); hashed "true"/"false"
    derived,   // hashed only: `derive(record)`
  };
  std::string_view name;
  Kind kind;
  std::string Record::*text = nullptr;
  std::optional<std::string> Record::*optional = nullptr;
  bool Record::*flag = nullptr;
  std::string (*derive)(const Record&) = nullptr;
  bool hashed = true;

  static constexpr PayloadField text_field(std::string_view n, std::string Record::*m, bool hashed = true) {
    return {n, Kind::text, m, nullptr, nullptr, nullptr, hashed};
  }
  static constexpr PayloadField optional_field(std::string_view n, std::optional<std::string> Record::*m,
                                               bool hashed = true) {
    return {n, Kind::optional, nullptr, m, nullptr, nullptr, hashed};
  }
  static constexpr PayloadField flag_field(std::string_view n, bool Record::*m) {
    return {n, Kind::flag, nullptr, nullptr, m, nullptr, true};
  }
  static constexpr PayloadField derived_field(std::string_view n, std::string (*d)(const Record&)) {
    return {n, Kind::derived, nullptr, nullptr, nullptr, d, true};
  }
};

template <class Record>
struct PayloadCodec {
  std::string_view hash_tag;  // e.g. "magento-order-v1"
  std::span<const PayloadField<Record>> fields;

  std::string to_payload(const Record& r) const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& f : fields) {
      using K = typename PayloadField<Record>::Kind;
      switch (f.kind) {
        case K::text: j[std::string(f.name)] = r.*f.text; break;
        case K::optional:
          if (r.*f.optional) j[std::string(f.name)] = *(r.*f.optional);
          break;
        case K::flag: j[std::string(f.name)] = r.*f.flag; break;
        case K::derived: break;
      }
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  // nullopt when `json` is not an object with a remote_id.
  std::optional<Record> from_payload(const std::string& json) const {
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (!j.is_object() || !j.contains("remote_id")) return std::nullopt;
    Record r;
    for (const auto& f : fields) {
      using K = typename PayloadField<Record>::Kind;
      const auto it = j.find(std::string(f.name));
      const std::string text = it != j.end() && it->is_string() ? it->template get<std::string>() : std::string();
      switch (f.kind) {
        case K::text: r.*f.text = text; break;
        case K::optional:
          if (it != j.end()) r.*f.optional = text;
          break;
        case K::flag: r.*f.flag = it == j.end() || !it->is_boolean() || it->template get<bool>(); break;
        case K::derived: break;
      }
    }
    return r;
  }

  std::string hash(const Record& r) const {
    std::string in(hash_tag);
    for (const auto& f : fields) {
      if (!f.hashed) continue;
      using K = typename PayloadField<Record>::Kind;
      switch (f.kind) {
        case K::text: append_hash_field(in, f.name, r.*f.text); break;
        case K::optional: append_hash_field(in, f.name, (r.*f.optional).value_or("")); break;
        case K::flag: append_hash_field(in, f.name, r.*f.flag ? "true" : "false"); break;
        case K::derived: append_hash_field(in, f.name, f.derive(r)); break;
      }
    }
    return sha256_hex(in);
  }
};

}  // namespace erpsync::core
