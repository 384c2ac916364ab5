#include "connectors/feed/mapper.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "connectors/feed/json_records.hpp"
#include "connectors/feed/csv_reader.hpp"
#include "connectors/feed/transcode.hpp"
#include "connectors/feed/xml_records.hpp"
#include "connectors/http/xml_entities.hpp"
#include "core/errors.hpp"
#include "core/rules/normalize.hpp"
#include "core/rules/payload.hpp"
#include "core/text.hpp"

namespace erpsync::connectors::feed {
namespace {

using core::ContactField;
using core::Field;
using core::IncomingAccount;
using core::IncomingContact;

constexpr std::array<std::string_view, 7> kRelationships = {"customer", "prospect", "partner", "reseller",
                                                            "distributor", "supplier", "other"};

[[noreturn]] void permanent(const std::string& msg) {
  throw core::SyncError(core::SyncError::Kind::permanent, msg);
}

// Applies a field's value map; sets `invalid` for an unmapped relationship.
std::string translate(const FieldPath& fp, std::string value, bool is_relationship,
                      std::optional<std::string>& invalid) {
  if (fp.map) {
    auto it = fp.map->find(value);
    if (it != fp.map->end()) return it->second;
  }
  if (is_relationship && !value.empty() &&
      std::find(kRelationships.begin(), kRelationships.end(), value) == kRelationships.end() && !invalid) {
    invalid = "relationship \"" + value + "\" at " + fp.path +
              (fp.map ? " is not in the connector's value map" : "") +
              " and is not one of customer, prospect, partner, reseller, distributor, supplier, other";
  }
  return value;
}

// ---- XML ----------------------------------------------------------------------------------

// A path made of child steps of plain ASCII names, optionally ending with an attribute step
// ("Name", "Address/Street", "@id", "Contacts/Contact/@id"), evaluated by walking the tree. Its
// result is the XPath one: the first node in document order (a preorder walk meets the
// candidates in that order), and an element's string value is its descendant text and CDATA
// concatenated (what pugixml's XPath gives). Any other path is evaluated by pugixml's XPath.
struct ChildPath {
  std::vector<std::string> steps;  // element names
  std::string attribute;           // set: the last step is @attribute
};

bool is_plain_ascii_name(std::string_view s) {
  if (s.empty()) return false;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!letter(s[0])) return false;
  for (char c : s)
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
  // XPath operator names, which the lexer could read otherwise: left to pugixml.
  return s != "and" && s != "or" && s != "div" && s != "mod";
}

std::optional<ChildPath> child_path(std::string_view path) {
  ChildPath out;
  while (true) {
    const auto slash = path.find('/');
    const std::string_view step = path.substr(0, slash);
    if (slash == std::string_view::npos && !step.empty() && step[0] == '@') {
      const std::string_view name = step.substr(1);
      // pugixml's XPath does not see namespace declarations as attributes.
      if (!is_plain_ascii_name(name) || name.substr(0, 5) == "xmlns") return std::nullopt;
      out.attribute = std::string(name);
      return out;
    }
    if (!is_plain_ascii_name(step)) return std::nullopt;
    out.steps.emplace_back(step);
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

struct XmlField {
  const FieldPath* spec = nullptr;
  std::optional<pugi::xpath_query> query;
  std::optional<ChildPath> plain;  // set: evaluated without XPath
};

// The first element at steps[depth...] below `node` in document order (preorder), or the first
// such element's attribute `attribute` when set; calls `found` for each match in document order
// until it returns false. Returns false once stopped.
template <typename Found>
bool walk_child_path(const ChildPath& p, const pugi::xml_node& node, std::size_t depth, Found&& found) {
  if (p.steps.empty()) {  // "@name": the node's own attribute
    if (pugi::xml_attribute a = node.attribute(p.attribute.c_str())) return found(pugi::xpath_node(a, node));
    return true;
  }
  const char* name = p.steps[depth].c_str();
  const bool last = depth + 1 == p.steps.size();
  for (pugi::xml_node c = node.child(name); c; c = c.next_sibling(name)) {
    if (!last) {
      if (!walk_child_path(p, c, depth + 1, found)) return false;
    } else if (p.attribute.empty()) {
      if (!found(pugi::xpath_node(c))) return false;
    } else if (pugi::xml_attribute a = c.attribute(p.attribute.c_str())) {
      if (!found(pugi::xpath_node(a, c))) return false;
    }
  }
  return true;
}

// The XPath string value of a node (pugixml's string_value for the node types a child path
// selects): an attribute's value, or an element's text and CDATA descendants concatenated.
void append_string_value(const pugi::xpath_node& n, std::string& out) {
  if (n.attribute()) {
    out += n.attribute().value();
    return;
  }
  const pugi::xml_node root = n.node();
  out += root.value();
  pugi::xml_node cur = root.first_child();
  while (cur && cur != root) {
    const pugi::xml_node_type t = cur.type();
    if (t == pugi::node_pcdata || t == pugi::node_cdata) out += cur.value();
    if (pugi::xml_node child = cur.first_child()) {
      cur = child;
    } else if (pugi::xml_node next = cur.next_sibling()) {
      cur = next;
    } else {
      while (!cur.next_sibling() && cur != root) cur = cur.parent();
      if (cur != root) cur = cur.next_sibling();
    }
  }
}

pugi::xpath_query compile(const std::string& path, const char* what) {
  try {
    return pugi::xpath_query(path.c_str());
  } catch (const pugi::xpath_exception& e) {
    permanent(std::string("feed mapping: bad XPath for ") + what + " \"" + path + "\": " + e.what());
  }
}

// `limits` with the memory budget of a document of `size` bytes (SPEC §11: 32 MB + 3x it).
ParseLimits budgeted(ParseLimits limits, std::size_t size) {
  limits.max_dom_bytes = std::min(limits.max_dom_bytes, dom_budget(size));
  return limits;
}

class XmlMapper final : public DocumentMapper {
 public:
  XmlMapper(const FeedConfig& cfg, const ParseLimits& limits)
      : feed_(cfg), limits_(limits), records_(compile(feed_.records, "records")) {
    const FeedConfig& feed = feed_;
    for (std::size_t i = 0; i < core::kFieldCount; ++i) {
      if (!feed.fields[i]) continue;
      fields_[i].spec = &*feed.fields[i];
      fields_[i].query.emplace(compile(feed.fields[i]->path, "a field"));
      fields_[i].plain = child_path(feed.fields[i]->path);
    }
    if (feed.cursor) cursor_field_.emplace(compile(feed.cursor->field, "cursor.field"));
    record_path_ = plain_records_path(feed.records);
    auto local = [&](const std::optional<FieldPath>& f) { return !f || record_local_xpath(f->path); };
    for (const auto& f : feed.fields)
      if (!local(f)) record_path_.reset();
    if (feed.cursor && !record_local_xpath(feed.cursor->field)) record_path_.reset();
    if (feed.contacts) {
      if (!record_local_xpath(feed.contacts->records)) record_path_.reset();
      for (const auto& f : feed.contacts->fields)
        if (!local(f)) record_path_.reset();
    }
    if (feed.contacts) {
      contact_records_.emplace(compile(feed.contacts->records, "contacts.records"));
      if (auto p = child_path(feed.contacts->records); p && p->attribute.empty()) contact_records_plain_ = std::move(p);
      for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
        if (!feed.contacts->fields[i]) continue;
        contact_fields_[i].spec = &*feed.contacts->fields[i];
        contact_fields_[i].query.emplace(compile(feed.contacts->fields[i]->path, "a contact field"));
        contact_fields_[i].plain = child_path(feed.contacts->fields[i]->path);
      }
    }
  }

  // Record by record where load_in_place would be (over a copy, so the document's tree is
  // never built whole: a large HTTP page stays within its memory budget); otherwise the whole
  // document parsed by copy, whose errors name the exact line.
  std::size_t load(std::string_view text, const std::string& what) override {
    clear();
    doc_limits_ = budgeted(limits_, text.size());
    if (record_path_ && text.size() <= limits_.max_bytes) {
      buffer_.assign(text);
      if (load_records(what)) return ranges_.size();
      clear();
    }
    parse_xml_bounded(doc_, text, doc_limits_, what);
    return select(what);
  }

  // Parses record by record when the scan handles the document and every path stays inside its
  // record (xml_records.hpp); otherwise parses the whole document in place. A document the
  // record-by-record checks refuse is parsed whole too: that parse reports the error (or, should
  // it accept what the checks refused, its reading is the one that counts).
  std::size_t load_in_place(std::string&& text, const std::string& what) override {
    clear();
    buffer_ = std::move(text);
    doc_limits_ = budgeted(limits_, buffer_.size());
    if (record_path_ && buffer_.size() <= limits_.max_bytes && load_records(what)) return ranges_.size();
    ranges_.clear();
    by_record_ = false;
    try {
      parse_xml_bounded_inplace(doc_, buffer_, doc_limits_, what);
    } catch (...) {
      std::string().swap(buffer_);
      throw;
    }
    return select(what);
  }

  std::string remote_id(std::size_t index) const override {
    if (index >= size()) return {};
    return remote_id_of(record(index));
  }

  std::vector<std::uint64_t> remote_id_hashes() override {
    std::vector<std::uint64_t> out;
    if (remote_id_hashes_.size() == size()) out.swap(remote_id_hashes_);
    return out;
  }

  std::vector<IncomingAccount> map(std::size_t first, std::size_t last) const override {
    std::vector<IncomingAccount> out;
    last = std::min(last, size());
    if (last > first) out.reserve(last - first);
    for (std::size_t i = first; i < last; ++i) out.push_back(map_one(record(i)));
    return out;
  }

  std::string cursor_value(std::size_t index) const override {
    if (!cursor_field_ || index >= size()) return {};
    return core::trimmed(cursor_field_->evaluate_string(record(index)));
  }

  std::string document_value(const std::string& path) const override {
    pugi::xpath_query q = compile(path, "a document path");
    if (!by_record_) return core::trimmed(q.evaluate_string(doc_));
    // Not kept: only HTTP pages with next links ask. Within the document's budget like any
    // whole tree (load_records checked its parts, not the whole).
    pugi::xml_document whole;
    parse_xml_bounded(whole, buffer_, doc_limits_, "the document");
    return core::trimmed(q.evaluate_string(whole));
  }

 private:
  // The remote id of record `n` (remote_id()).
  std::string remote_id_of(const pugi::xpath_node& n) const {
    std::optional<std::string> invalid;
    if (const XmlField& f = fields_[static_cast<std::size_t>(Field::remote_id)]; f.spec) {
      std::string id = translate(*f.spec, value(f, n), false, invalid);
      if (!id.empty()) return id;
    }
    if (const XmlField& f = fields_[static_cast<std::size_t>(Field::external_code)]; f.spec) {
      std::string code = core::normalize_code(translate(*f.spec, value(f, n), false, invalid));
      if (!code.empty()) return code;
    }
    return map_one(n).get(Field::remote_id);  // defaulted from the whole record
  }

  void clear() {
    remote_id_hashes_.clear();
    doc_.reset();
    nodes_ = {};
    ranges_.clear();
    by_record_ = false;
    std::string().swap(buffer_);
  }

  std::size_t size() const { return by_record_ ? ranges_.size() : nodes_.size(); }

  // Record `index`: a node of the whole document, or the record parsed on its own (valid until
  // the next call).
  pugi::xpath_node record(std::size_t index) const {
    if (!by_record_) return nodes_[index];
    const ByteRange& r = ranges_[index];
    record_doc_.load_buffer(buffer_.data() + r.begin, r.end - r.begin, pugi::parse_default, pugi::encoding_utf8);
    return pugi::xpath_node(record_doc_.document_element());
  }

  // The record-by-record load: the scan, then the skeleton and every record parsed (by copy, so
  // that buffer_ keeps the original bytes) with the limits the whole document has. False when
  // the scan refuses the document or a parse fails. For a document of more records than
  // hash_remote_ids_above_, each record's remote id is hashed while it is parsed here (for
  // remote_id_hashes(), saving a second parse of every record).
  bool load_records(const std::string& what) {
    std::optional<XmlRecordScan> scan = scan_xml_records(buffer_, *record_path_);
    if (!scan) return false;
    try {
      parse_xml_bounded(doc_, scan->skeleton, doc_limits_, what);
    } catch (const core::SyncError&) {
      doc_.reset();
      return false;
    }
    doc_.reset();
    std::string().swap(scan->skeleton);
    ParseLimits record_limits = doc_limits_;
    record_limits.max_depth -= static_cast<int>(record_path_->size()) - 1;  // the record's own depth
    if (record_limits.max_depth < 1) return false;
    const bool hash_ids = scan->records.size() > hash_remote_ids_above_;
    std::vector<std::uint64_t> hashes;
    if (hash_ids) hashes.reserve(scan->records.size());
    for (const ByteRange& r : scan->records) {
      if (!parse_record(std::string_view(buffer_).substr(r.begin, r.end - r.begin), record_limits)) {
        record_doc_.reset();
        return false;
      }
      if (!record_doc_.document_element() || record_doc_.first_child() != record_doc_.last_child()) return false;
      if (hash_ids) hashes.push_back(std::hash<std::string>{}(remote_id_of(pugi::xpath_node(record_doc_.document_element()))));
    }
    record_doc_.reset();
    ranges_ = std::move(scan->records);
    by_record_ = true;
    if (hash_ids) remote_id_hashes_ = std::move(hashes);
    return true;
  }

  // Parses one record into record_doc_: true where parse_xml_bounded(record_doc_, text, limits)
  // would not throw (the same parse; the same depth rule, whose walk is skipped when the record
  // has too few start tags to nest that deep).
  bool parse_record(std::string_view text, const ParseLimits& limits) {
    if (text.size() > limits.max_bytes) return false;
    if (find_unknown_entity(text)) return false;  // the whole parse names it
    // One tree at a time, but a record of many tiny elements can inflate too. The scan for it is
    // skipped where no record of this size could (no node comes from fewer than 2 bytes).
    if (72 * (text.size() / 2 + 2) > limits.max_dom_bytes && xml_dom_estimate(text) > limits.max_dom_bytes)
      return false;
    if (!record_doc_.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto)) return false;
    // Every element comes from a '<' not followed by '/': fewer of those than max_depth, and no
    // element can be deeper.
    int start_tags = 0;
    for (const char* p = text.data(), *end = p + text.size();
         (p = static_cast<const char*>(std::memchr(p, '<', static_cast<std::size_t>(end - p)))) != nullptr;) {
      ++p;
      if ((p == end || *p != '/') && ++start_tags > limits.max_depth) return !first_too_deep(record_doc_, limits.max_depth);
    }
    return true;
  }

  // Selects the records of the parsed document.
  std::size_t select(const std::string& what) {
    try {
      nodes_ = records_.evaluate_node_set(doc_);
    } catch (const pugi::xpath_exception& e) {
      permanent(what + ": records XPath does not select nodes: " + e.what());
    }
    return nodes_.size();
  }

  static std::string value(const XmlField& f, const pugi::xpath_node& n) {
    if (!f.plain || n.attribute() || n.node().type() != pugi::node_element)
      return core::trimmed(f.query->evaluate_string(n));
    pugi::xpath_node first;
    walk_child_path(*f.plain, n.node(), 0, [&](const pugi::xpath_node& m) {
      first = m;
      return false;
    });
    if (const pugi::xml_attribute a = first.attribute()) return core::trimmed(a.value());
    const pugi::xml_node e = first.node();
    if (!e) return {};
    // The usual element: one text child and nothing else.
    const pugi::xml_node text = e.first_child();
    if (!*e.value() && (!text || (text == e.last_child() && !text.first_child() &&
                                  (text.type() == pugi::node_pcdata || text.type() == pugi::node_cdata))))
      return text ? core::trimmed(text.value()) : std::string();
    std::string whole;
    append_string_value(first, whole);
    return core::trimmed(whole);
  }

  // The contact nodes of a record, in document order.
  std::vector<pugi::xpath_node> contact_nodes(const pugi::xpath_node& n) const {
    std::vector<pugi::xpath_node> out;
    if (contact_records_plain_ && !n.attribute() && n.node().type() == pugi::node_element) {
      walk_child_path(*contact_records_plain_, n.node(), 0, [&](const pugi::xpath_node& m) {
        out.push_back(m);
        return true;
      });
      return out;
    }
    const pugi::xpath_node_set set = contact_records_->evaluate_node_set(n);
    out.assign(set.begin(), set.end());
    return out;
  }

  IncomingAccount map_one(const pugi::xpath_node& n) const {
    IncomingAccount rec;
    for (std::size_t i = 0; i < core::kFieldCount; ++i) {
      const XmlField& f = fields_[i];
      if (!f.spec) continue;
      auto field = static_cast<Field>(i);
      rec.set(field, translate(*f.spec, value(f, n), field == Field::relationship, rec.invalid));
    }
    if (contact_records_) {
      rec.has_contacts_block = true;
      for (const auto& cn : contact_nodes(n)) {
        IncomingContact c;
        for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
          const XmlField& f = contact_fields_[i];
          if (f.spec) c.values[i] = translate(*f.spec, value(f, cn), false, rec.invalid);
        }
        rec.contacts.push_back(std::move(c));
      }
    }
    core::default_remote_id(rec);
    return rec;
  }

  FeedConfig feed_;  // fields_ point into it
  ParseLimits limits_;
  pugi::xpath_query records_;
  std::array<XmlField, core::kFieldCount> fields_;
  std::optional<pugi::xpath_query> contact_records_;
  std::optional<ChildPath> contact_records_plain_;  // set: contact_records_ walked without XPath
  std::array<XmlField, core::kContactFieldCount> contact_fields_;
  std::optional<pugi::xpath_query> cursor_field_;
  // Set when the records path and every field path allow parsing record by record.
  std::optional<std::vector<std::string>> record_path_;
  std::string buffer_;  // the document of load_in_place: doc_'s nodes or ranges_ point into it
  ParseLimits doc_limits_;  // limits_ with the loaded document's memory budget
  pugi::xml_document doc_;
  pugi::xpath_node_set nodes_;
  bool by_record_ = false;            // ranges_ (not doc_ and nodes_) hold the records
  std::vector<ByteRange> ranges_;
  mutable pugi::xml_document record_doc_;  // the record record() parsed last
  std::vector<std::uint64_t> remote_id_hashes_;  // computed by load_records, or empty
};

// ---- JSON -----------------------------------------------------------------------------------

using Json = nlohmann::json;

struct JsonField {
  const FieldPath* spec = nullptr;
  Json::json_pointer pointer;
};

Json::json_pointer pointer(const std::string& path, const char* what) {
  try {
    return Json::json_pointer(path);
  } catch (const Json::exception& e) {
    permanent(std::string("feed mapping: bad JSON Pointer for ") + what + " \"" + path + "\": " + e.what());
  }
}

std::string type_name(const Json& v) { return v.is_object() ? "an object" : "an array"; }

class JsonMapper final : public DocumentMapper {
 public:
  JsonMapper(const FeedConfig& cfg, const ParseLimits& limits)
      : feed_(cfg), limits_(limits), records_path_(cfg.records), records_(pointer(cfg.records, "records")) {
    const FeedConfig& feed = feed_;
    for (std::size_t i = 0; i < core::kFieldCount; ++i) {
      if (!feed.fields[i]) continue;
      fields_[i] = {&*feed.fields[i], pointer(feed.fields[i]->path, "a field")};
    }
    if (feed.cursor) cursor_field_ = pointer(feed.cursor->field, "cursor.field");
    if (feed.contacts) {
      contacts_path_ = feed.contacts->records;
      contact_records_ = pointer(feed.contacts->records, "contacts.records");
      for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
        if (!feed.contacts->fields[i]) continue;
        contact_fields_[i] = {&*feed.contacts->fields[i], pointer(feed.contacts->fields[i]->path, "a contact field")};
      }
    }
  }

  std::size_t load(std::string_view text, const std::string& what) override {
    return load_in_place(std::string(text), what);
  }

  // The document is checked whole (size, depth, well-formed, without building anything), kept,
  // and its records parsed one at a time when asked for (json_records.hpp).
  std::size_t load_in_place(std::string&& text, const std::string& what) override {
    clear();
    if (text.size() >= UINT32_MAX)
      permanent(what + ": a JSON document of 4 GiB or more is not supported (" + std::to_string(text.size()) + " bytes)");
    dom_limits_ = budgeted(limits_, text.size());
    what_ = what;
    if (std::optional<Utf8MarkedJson> marked = check_json_bounded(text, dom_limits_, what)) {
      std::string().swap(text);
      buffer_ = std::move(marked->text);
    } else {
      buffer_ = std::move(text);
    }
    const std::optional<ByteRange> found = json_value_range(buffer_, tokens(records_));
    if (!found)
      permanent(what + ": records path \"" + records_path_ + "\" is not in the document");
    if (buffer_[found->begin] != '[')
      permanent(what + ": records path \"" + records_path_ + "\" leads to " + kind_of(buffer_[found->begin]) +
                ", expected an array");
    starts_ = json_array_elements(buffer_, *found);
    return starts_.size();
  }

  std::string remote_id(std::size_t index) const override {
    if (index >= starts_.size()) return {};
    const Json& r = record(index);
    if (r.is_object()) {
      std::optional<std::string> invalid;
      if (const JsonField& f = fields_[static_cast<std::size_t>(Field::remote_id)]; f.spec) {
        std::string id = translate(*f.spec, scalar(r, f, "remote_id", invalid), false, invalid);
        if (!id.empty()) return id;
      }
      if (const JsonField& f = fields_[static_cast<std::size_t>(Field::external_code)]; f.spec) {
        std::string code = core::normalize_code(translate(*f.spec, scalar(r, f, "external_code", invalid), false, invalid));
        if (!code.empty()) return code;
      }
    }
    return map_one(r, index).get(Field::remote_id);  // defaulted from the whole record
  }

  std::vector<IncomingAccount> map(std::size_t first, std::size_t last) const override {
    std::vector<IncomingAccount> out;
    last = std::min(last, starts_.size());
    if (last > first) out.reserve(last - first);
    for (std::size_t i = first; i < last; ++i) out.push_back(map_one(record(i), i));
    return out;
  }

  std::string cursor_value(std::size_t index) const override {
    if (!cursor_field_ || index >= starts_.size()) return {};
    const Json* v = find(record(index), *cursor_field_);
    if (!v || v->is_null() || v->is_object() || v->is_array()) return {};
    return v->is_string() ? v->get<std::string>() : v->dump();
  }

  std::string document_value(const std::string& path) const override {
    const std::optional<ByteRange> at = json_value_range(buffer_, tokens(pointer(path, "a document path")));
    if (!at) return {};
    const Json v = parse_checked_json(std::string_view(buffer_).substr(at->begin, at->end - at->begin), dom_limits_, what_);
    if (v.is_null()) return {};
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() || v.is_array())
      permanent("the value at \"" + path + "\" is " + type_name(v) + ", expected a string");
    return v.dump();
  }

 private:
  void clear() {
    std::string().swap(buffer_);
    std::vector<std::uint32_t>().swap(starts_);
    cached_index_.reset();
    cached_ = Json();
  }

  // Record `index` parsed on its own (valid until the next call).
  const Json& record(std::size_t index) const {
    if (cached_index_ != index) {
      const std::size_t begin = starts_[index];
      cached_index_.reset();
      cached_ = parse_checked_json(std::string_view(buffer_).substr(begin, json_value_end(buffer_, begin) - begin),
                                   dom_limits_, what_);
      cached_index_ = index;
    }
    return cached_;
  }

  // What a value starting with `c` is, for messages ("an object", "a string", ...).
  static std::string kind_of(char c) {
    switch (c) {
      case '{': return "an object";
      case '"': return "a string";
      case 't':
      case 'f': return "a boolean";
      case 'n': return "a null";
      default: return "a number";
    }
  }

  // The value at `p` below `v`, or nullptr when absent (never throws).
  static const Json* find(const Json& v, const Json::json_pointer& p) {
    const Json* cur = &v;
    for (const auto& token : tokens(p)) {
      if (cur->is_object()) {
        auto it = cur->find(token);
        if (it == cur->end()) return nullptr;
        cur = &*it;
      } else if (cur->is_array()) {
        if (token.empty() || token.size() > 9 || !std::all_of(token.begin(), token.end(), ::isdigit) ||
            (token.size() > 1 && token[0] == '0'))
          return nullptr;
        std::size_t idx = std::stoul(token);
        if (idx >= cur->size()) return nullptr;
        cur = &(*cur)[idx];
      } else {
        return nullptr;
      }
    }
    return cur;
  }

  static std::vector<std::string> tokens(const Json::json_pointer& p) {
    std::vector<std::string> out;
    Json::json_pointer q = p;
    while (!q.empty()) {
      out.push_back(q.back());
      q.pop_back();
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  // The field's value as a string; sets `invalid` for an object or array.
  static std::string scalar(const Json& record, const JsonField& f, const std::string& what,
                            std::optional<std::string>& invalid) {
    const Json* v = find(record, f.pointer);
    if (!v || v->is_null()) return {};
    if (v->is_string()) return v->get<std::string>();
    if (v->is_boolean()) return v->get<bool>() ? "true" : "false";
    if (v->is_number()) return v->dump();
    if (!invalid) invalid = what + " at " + f.spec->path + " is " + type_name(*v) + ", expected a value";
    return {};
  }

  IncomingAccount map_one(const Json& r, std::size_t index) const {
    IncomingAccount rec;
    if (!r.is_object()) {
      rec.invalid = "record " + std::to_string(index + 1) + " is not an object";
      for (std::size_t i = 0; i < core::kFieldCount; ++i)
        if (fields_[i].spec) rec.mapped |= core::bit(static_cast<Field>(i));
      rec.has_contacts_block = contact_records_.has_value();
      core::default_remote_id(rec);
      return rec;
    }
    for (std::size_t i = 0; i < core::kFieldCount; ++i) {
      const JsonField& f = fields_[i];
      if (!f.spec) continue;
      auto field = static_cast<Field>(i);
      std::string raw = scalar(r, f, std::string(core::field_name(field)), rec.invalid);
      rec.set(field, translate(*f.spec, std::move(raw), field == Field::relationship, rec.invalid));
    }
    if (contact_records_) {
      rec.has_contacts_block = true;
      const Json* list = find(r, *contact_records_);
      if (list && list->is_array()) {
        for (const auto& cj : *list) {
          IncomingContact c;
          if (!cj.is_object()) {
            if (!rec.invalid) rec.invalid = "a contact at " + contacts_path_ + " is not an object";
            continue;
          }
          for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
            const JsonField& f = contact_fields_[i];
            if (!f.spec) continue;
            std::string what = "contact " + std::string(core::contact_field_name(static_cast<ContactField>(i)));
            c.values[i] = translate(*f.spec, scalar(cj, f, what, rec.invalid), false, rec.invalid);
          }
          rec.contacts.push_back(std::move(c));
        }
      } else if (list && !list->is_null() && !rec.invalid) {
        rec.invalid = "contacts at " + contacts_path_ + " is not an array";
      }
    }
    core::default_remote_id(rec);
    return rec;
  }

  FeedConfig feed_;  // fields_ point into it
  ParseLimits limits_;
  std::string records_path_;
  Json::json_pointer records_;
  std::array<JsonField, core::kFieldCount> fields_;
  std::string contacts_path_;
  std::optional<Json::json_pointer> contact_records_;
  std::array<JsonField, core::kContactFieldCount> contact_fields_;
  std::optional<Json::json_pointer> cursor_field_;
  ParseLimits dom_limits_;   // limits_ with the loaded document's memory budget
  std::string what_;         // the loaded document, for messages
  std::string buffer_;       // the loaded document (UTF-8-marked when it needed it)
  std::vector<std::uint32_t> starts_;  // where each record begins in buffer_
  mutable std::optional<std::size_t> cached_index_;
  mutable Json cached_;      // record(cached_index_)
};

// ---- CSV ------------------------------------------------------------------------------------

// A row's start in its file: where a CsvReader reads it again.
struct RowStart {
  std::uint64_t offset = 0;
  std::size_t line = 0;
};

// Values of a CSV file as UTF-8 (mapper.hpp): converted one at a time when the file's encoding
// splits at ASCII bytes, left alone when the file is UTF-8 or was converted whole.
class ValueDecoder {
 public:
  explicit ValueDecoder(Transcoder* converts) : transcoder_(converts) {}
  bool converts() const { return transcoder_ != nullptr; }
  std::string operator()(std::string_view raw) const {
    if (!transcoder_ || std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
      return std::string(raw);
    return transcoder_->to_utf8(raw);
  }

 private:
  Transcoder* transcoder_;
};

// The columns of a CSV file: the header's names (or numbers) resolved to 0-based indices.
class CsvColumns {
 public:
  // Reads the header row (when `header`) from `reader`; `what` names the file in errors.
  void start(CsvReader& reader, bool header, const ValueDecoder& decode, const std::string& what) {
    names_.clear();
    count_ = 0;
    header_ = header;
    if (!header) return;
    CsvRow row;
    if (!reader.next(row)) return;  // an empty file: no rows either
    if (row.error) permanent(what + ": the header row (line " + std::to_string(row.line) + "): " + *row.error);
    for (std::size_t i = 0; i < row.fields.size(); ++i) names_.emplace(core::trimmed(decode(row.fields[i])), i);  // first wins
    count_ = row.fields.size();
  }
  // Without a header, the first row's column count is the file's.
  void first_row(const CsvRow& row) {
    if (count_ == 0) count_ = row.fields.size();
  }
  std::size_t count() const { return count_; }
  bool read_header() const { return header_ && count_ > 0; }
  // The index of column `path`; permanent error when the file has no such column.
  std::size_t index(const std::string& path, const std::string& key, const std::string& what) const {
    if (header_) {
      auto it = names_.find(path);
      if (it == names_.end()) {
        std::string have;
        for (const auto& [name, i] : names_) have += (have.empty() ? "" : ", ") + ("\"" + name + "\"");
        permanent(what + ": " + key + " names column \"" + path + "\", which the header does not have (it has " +
                  (have.empty() ? std::string("no columns") : have) +
                  "); check csv.delimiter, csv.skip_lines and the column names");
      }
      return it->second;
    }
    std::size_t n = 0;
    if (path.empty() || path.size() > 6 || !std::all_of(path.begin(), path.end(), ::isdigit) || (n = std::stoul(path)) == 0)
      permanent(what + ": " + key + " is \"" + path +
                "\"; with csv.header false a column is named by its number, \"1\" for the first");
    return n - 1;
  }

 private:
  std::unordered_map<std::string, std::size_t> names_;
  std::size_t count_ = 0;
  bool header_ = true;
};

// Where a company's contact rows are in the contacts file: one entry a row, sorted by the hash
// of its company key (then by offset). Hashes may collide: a row read for a company is checked
// against the company's key.
struct ContactRowEntry {
  std::uint32_t key_hash = 0;
  std::uint32_t line = 0;     // as CsvRow::line (a file of more than 4 billion lines is refused)
  std::uint64_t offset = 0;
};
static_assert(sizeof(ContactRowEntry) == 16);

std::uint32_t key_hash(std::string_view key) {
  const std::uint64_t h = std::hash<std::string_view>{}(key);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

class CsvMapper final : public DocumentMapper {
 public:
  // Every how many rows map() can start reading without reading the rows before.
  static constexpr std::size_t kCheckpointRows = 1024;
  // Bytes read at a time at a contact row's offset (more for a longer row).
  static constexpr std::size_t kContactPiece = 512;

  CsvMapper(const FeedConfig& cfg, const ParseLimits& limits) : feed_(cfg), limits_(limits) {
    dialect_ = {cfg.csv.delimiter, cfg.csv.quote};
    if (!is_utf8_encoding(cfg.encoding)) transcoder_.emplace(cfg.encoding);
  }

  std::size_t load(std::string_view text, const std::string& what) override {
    return load_from(std::make_unique<MemoryBytes>(std::string(text), what), what);
  }

  std::size_t load_in_place(std::string&& text, const std::string& what) override {
    return load_from(std::make_unique<MemoryBytes>(std::move(text), what), what);
  }

  std::size_t load_from(std::unique_ptr<DocumentBytes> doc, const std::string& what) override {
    rows_ = 0;
    checkpoints_.clear();
    superseded_.clear();
    cursor_.reset();
    open(companies_, std::move(doc), what);
    // Pass 1: count the rows, keep every kCheckpointRows-th start and hash each remote id (for
    // rule 7; the columns are resolved as soon as the header is read — should that fail, the
    // rest of the file is still read for the errors that come first, as before).
    std::vector<std::uint64_t> id_hashes;
    std::optional<bool> resolvable;
    scan(companies_, [&](const CsvRow& row) {
      if (!resolvable) resolvable = try_resolve_companies(what);
      if (rows_ % kCheckpointRows == 0) checkpoints_.push_back({row.offset, row.line});
      if (*resolvable) id_hashes.push_back(std::hash<std::string>{}(map_row(row, Mapping::remote_id).get(Field::remote_id)));
      ++rows_;
    });
    // An empty export (no header, no rows) is an empty snapshot, for allow_empty to judge.
    if (rows_ == 0 && !companies_.columns.read_header()) return 0;
    resolve_companies(what);
    if (rows_ > hash_remote_ids_above_) find_superseded(std::move(id_hashes));
    return rows_;
  }

  void load_contacts(std::string&& text, const std::string& what) override {
    load_contacts_from(std::make_unique<MemoryBytes>(std::move(text), what), what);
  }

  void load_contacts_from(std::unique_ptr<DocumentBytes> doc, const std::string& what) override {
    if (!feed_.contacts) return;
    contact_rows_.clear();
    claimed_.clear();
    unkeyed_.clear();
    open(contacts_, std::move(doc), what);
    bool resolved = false;
    auto resolve_contacts = [&] {
      resolve(contact_fields_, feed_.contacts->fields, "contacts.fields.", contacts_.columns, what);
      company_key_ = contacts_.columns.index(feed_.csv.company_key, "contacts.company_key", what);
      resolved = true;
    };
    scan(contacts_, [&](const CsvRow& row) {
      if (!resolved) resolve_contacts();
      if (row.line > std::numeric_limits<std::uint32_t>::max())
        permanent(what + ": more than 4,294,967,295 lines; split the export");
      // A row too short to hold its company's id belongs to no company: no record takes it, and
      // it is handed over with the unclaimed ones (its column count makes it invalid).
      if (company_key_ < row.fields.size())
        contact_rows_.push_back({key_hash(core::trimmed(decode(row.fields[company_key_]))),
                                 static_cast<std::uint32_t>(row.line), row.offset});
      else
        unkeyed_.push_back({row.offset, row.line});
    });
    if (!resolved && contacts_.columns.read_header()) resolve_contacts();
    std::sort(contact_rows_.begin(), contact_rows_.end(), [](const ContactRowEntry& a, const ContactRowEntry& b) {
      return a.key_hash != b.key_hash ? a.key_hash < b.key_hash : a.offset < b.offset;
    });
    contact_rows_.shrink_to_fit();
    claimed_.assign(contact_rows_.size(), false);
  }

  std::optional<std::vector<std::size_t>> superseded_records() const override {
    if (rows_ <= hash_remote_ids_above_) return std::nullopt;
    return superseded_;
  }

  std::string remote_id(std::size_t index) const override {
    if (index >= rows_) return {};
    return map_row(row_at(index), Mapping::remote_id).get(Field::remote_id);
  }

  std::vector<IncomingAccount> map(std::size_t first, std::size_t last) const override {
    std::vector<IncomingAccount> out;
    last = std::min(last, rows_);
    if (last > first) out.reserve(last - first);
    for (std::size_t i = first; i < last; ++i) out.push_back(map_row(row_at(i), Mapping::with_contacts));
    // The end of the file: nothing mapped came from a file written to meanwhile.
    if (last == rows_ && last > first) {
      companies_.bytes->check_unchanged();
      if (contacts_.bytes) contacts_.bytes->check_unchanged();
    }
    return out;
  }

  std::string cursor_value(std::size_t index) const override {
    if (!cursor_column_ || index >= rows_) return {};
    const CsvRow& row = row_at(index);
    return *cursor_column_ < row.fields.size() ? core::trimmed(decode(row.fields[*cursor_column_])) : std::string();
  }

  std::string document_value(const std::string&) const override { return {}; }  // CSV has no next links

  std::vector<core::IncomingContactRecord> unclaimed_contacts() const override {
    std::vector<RowStart> rows;
    for (std::size_t i = 0; i < contact_rows_.size(); ++i)
      if (!claimed_[i]) rows.push_back({contact_rows_[i].offset, contact_rows_[i].line});
    rows.insert(rows.end(), unkeyed_.begin(), unkeyed_.end());
    std::sort(rows.begin(), rows.end(), [](const RowStart& a, const RowStart& b) { return a.offset < b.offset; });
    std::vector<core::IncomingContactRecord> out;
    out.reserve(rows.size());
    CsvRow crow;
    for (const RowStart& at : rows) {
      read_contact(at, crow);
      const std::string company =
          company_key_ < crow.fields.size() ? core::trimmed(decode(crow.fields[company_key_])) : std::string();
      out.push_back(contact_record(company, crow));
    }
    return out;
  }

 private:
  // One CSV file: where its bytes are read from, its name for messages and its columns.
  struct CsvFile {
    std::unique_ptr<DocumentBytes> bytes;
    std::string what;
    CsvColumns columns;
    RowStart first_row;  // after the header
  };
  enum class Mapping { remote_id, without_contacts, with_contacts };

  // Takes `doc` as `file`'s document: converted whole first when its encoding does not split at
  // ASCII bytes (mapper.hpp).
  void open(CsvFile& file, std::unique_ptr<DocumentBytes> doc, const std::string& what) {
    if (doc->size() > limits_.max_bytes)
      permanent(what + ": " + std::to_string(doc->size()) + " bytes, larger than max_size " +
                std::to_string(limits_.max_bytes));
    if (transcoder_ && !transcoder_->splits_at_ascii())
      doc = std::make_unique<MemoryBytes>(transcoder_->to_utf8(read_all(*doc)), doc->location());
    file.bytes = std::move(doc);
    file.what = what;
  }

  ValueDecoder decode_values() const {
    return ValueDecoder(transcoder_ && transcoder_->splits_at_ascii() ? &*transcoder_ : nullptr);
  }
  std::string decode(std::string_view raw) const { return decode_values()(raw); }

  // Reads `file`'s header and calls on_row for every row after it, to the end of the file.
  template <class OnRow>
  void scan(CsvFile& file, OnRow&& on_row) const {
    CsvReader reader(*file.bytes, dialect_, feed_.csv.skip_lines, file.what);
    file.columns.start(reader, feed_.csv.header, decode_values(), file.what);
    CsvRow row;
    bool first = true;
    while (reader.next(row)) {
      if (first) file.first_row = {row.offset, row.line};
      first = false;
      file.columns.first_row(row);
      on_row(row);
    }
  }

  bool try_resolve_companies(const std::string& what) {
    try {
      resolve_companies(what);
      return true;
    } catch (const core::SyncError&) {
      return false;
    }
  }
  void resolve_companies(const std::string& what) {
    resolve(fields_, feed_.fields, "fields.", companies_.columns, what);
    if (feed_.cursor) cursor_column_ = companies_.columns.index(feed_.cursor->field, "cursor.field", what);
  }

  template <std::size_t N>
  static void resolve(std::array<std::optional<std::size_t>, N>& out,
                      const std::array<std::optional<FieldPath>, N>& specs, const std::string& prefix,
                      const CsvColumns& columns, const std::string& what) {
    for (std::size_t i = 0; i < N; ++i) {
      out[i].reset();
      if (!specs[i]) continue;
      const std::string key = prefix + (N == core::kFieldCount ? std::string(core::field_name(static_cast<Field>(i)))
                                                                 : std::string(core::contact_field_name(static_cast<ContactField>(i))));
      out[i] = columns.index(specs[i]->path, key, what);
    }
  }

  // SPEC §3 rule 7 from every row's remote id hash: the rows whose hash comes again are read
  // once more (only when there are such) for their ids, compared as strings.
  void find_superseded(std::vector<std::uint64_t> id_hashes) {
    std::vector<std::uint64_t> sorted = std::move(id_hashes);
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::uint64_t> repeated;
    for (std::size_t i = 1; i < sorted.size(); ++i)
      if (sorted[i] == sorted[i - 1] && (repeated.empty() || repeated.back() != sorted[i])) repeated.push_back(sorted[i]);
    std::vector<std::uint64_t>().swap(sorted);
    if (repeated.empty()) return;
    std::unordered_map<std::string, std::size_t> last_seen;  // one entry per repeated id
    CsvReader reader = CsvReader::resume(*companies_.bytes, dialect_, companies_.what, companies_.first_row.offset,
                                         companies_.first_row.line, CsvReader::kPiece);
    CsvRow row;
    for (std::size_t i = 0; i < rows_ && reader.next(row); ++i) {
      std::string id = map_row(row, Mapping::remote_id).get(Field::remote_id);
      if (!std::binary_search(repeated.begin(), repeated.end(), std::hash<std::string>{}(id))) continue;
      auto [it, fresh] = last_seen.try_emplace(std::move(id), i);
      if (!fresh) {
        superseded_.push_back(it->second);
        it->second = i;
      }
    }
    std::sort(superseded_.begin(), superseded_.end());
  }

  // Row `index` of the companies file: the next one of the reader map() left off with, else read
  // from the checkpoint before it. Valid until the next call.
  const CsvRow& row_at(std::size_t index) const {
    if (!cursor_ || cursor_next_ != index) {
      const std::size_t checkpoint = index / kCheckpointRows;
      const RowStart at = checkpoints_.at(checkpoint);
      cursor_.emplace(
          CsvReader::resume(*companies_.bytes, dialect_, companies_.what, at.offset, at.line, CsvReader::kPiece));
      for (cursor_next_ = checkpoint * kCheckpointRows; cursor_next_ < index; ++cursor_next_)
        if (!cursor_->next(cursor_row_)) break;
    }
    if (!cursor_->next(cursor_row_))
      permanent(companies_.what + ": row " + std::to_string(index + 1) + " is gone (the file changed while read)");
    ++cursor_next_;
    return cursor_row_;
  }

  void read_contact(const RowStart& at, CsvRow& row) const {
    CsvReader r = CsvReader::resume(*contacts_.bytes, dialect_, contacts_.what, at.offset, at.line, kContactPiece);
    if (!r.next(row))
      permanent(contacts_.what + ": the row at line " + std::to_string(at.line) + " is gone (the file changed while read)");
  }

  // The invalid_field text of a row whose column count is not the file's, or that is damaged.
  static std::optional<std::string> row_problem(const CsvRow& row, std::size_t columns, bool header,
                                                const std::string& what) {
    if (!row.error && row.fields.size() == columns) return std::nullopt;
    std::string at = what + " line " + std::to_string(row.line) + ": ";
    if (row.error) return at + *row.error;
    return at + std::to_string(row.fields.size()) + " columns where the " + (header ? "header has " : "first row has ") +
           std::to_string(columns) + " (a delimiter in an unquoted value, or a missing one?)";
  }

  std::string value(const CsvRow& row, std::size_t column) const {
    return column < row.fields.size() ? core::trimmed(decode(row.fields[column])) : std::string();
  }

  // The record of `row`: only as far as its remote id needs (Mapping::remote_id), or whole, with
  // its contact rows (Mapping::with_contacts) or without them.
  IncomingAccount map_row(const CsvRow& row, Mapping mapping) const {
    IncomingAccount rec;
    if (mapping == Mapping::remote_id) {
      // The id fields alone, unless neither gives it (then rule 8 hashes the whole record).
      for (Field f : {Field::remote_id, Field::external_code}) {
        const auto i = static_cast<std::size_t>(f);
        if (fields_[i]) rec.set(f, translate(*feed_.fields[i], value(row, *fields_[i]), false, rec.invalid));
      }
      if (!rec.get(Field::remote_id).empty() || !core::normalize_code(rec.get(Field::external_code)).empty()) {
        core::default_remote_id(rec);
        return rec;
      }
      rec = IncomingAccount{};
    }
    rec.invalid = row_problem(row, companies_.columns.count(), feed_.csv.header, companies_.what);
    for (std::size_t i = 0; i < core::kFieldCount; ++i) {
      if (!fields_[i]) continue;
      const auto field = static_cast<Field>(i);
      rec.set(field, translate(*feed_.fields[i], value(row, *fields_[i]), field == Field::relationship, rec.invalid));
    }
    core::default_remote_id(rec);
    if (feed_.contacts) {
      rec.has_contacts_block = true;
      if (mapping == Mapping::with_contacts) attach_contacts(rec);
    }
    return rec;
  }

  // The contact rows whose company key is `rec`'s remote id, in file order, as its contacts;
  // they are claimed (unclaimed_contacts() leaves them out).
  void attach_contacts(IncomingAccount& rec) const {
    if (contact_rows_.empty()) return;
    const std::string& id = rec.get(Field::remote_id);
    const std::uint32_t h = key_hash(id);
    auto it = std::lower_bound(contact_rows_.begin(), contact_rows_.end(), h,
                               [](const ContactRowEntry& e, std::uint32_t k) { return e.key_hash < k; });
    CsvRow& crow = contact_row_;
    for (; it != contact_rows_.end() && it->key_hash == h; ++it) {
      read_contact({it->offset, it->line}, crow);
      if (value(crow, company_key_) != id) continue;  // another key of the same hash
      claimed_[static_cast<std::size_t>(it - contact_rows_.begin())] = true;
      if (!rec.invalid) rec.invalid = row_problem(crow, contacts_.columns.count(), feed_.csv.header, contacts_.what);
      IncomingContact c;
      for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
        if (!contact_fields_[i]) continue;
        c.values[i] = translate(*feed_.contacts->fields[i], value(crow, *contact_fields_[i]), false, rec.invalid);
      }
      rec.contacts.push_back(std::move(c));
    }
  }

  // A contact row as a record of its own, for the "contacts" stream: `company` is its company
  // key; a damaged row or one whose column count is not the file's is invalid, naming file and
  // line, as is an `active` value that is not one.
  core::IncomingContactRecord contact_record(const std::string& company, const CsvRow& crow) const {
    core::IncomingContactRecord c;
    c.company_remote_id = company;
    c.invalid = row_problem(crow, contacts_.columns.count(), feed_.csv.header, contacts_.what);
    std::array<std::string, core::kContactFieldCount> v;
    for (std::size_t i = 0; i < core::kContactFieldCount; ++i) {
      if (!contact_fields_[i]) continue;
      v[i] = translate(*feed_.contacts->fields[i], value(crow, *contact_fields_[i]), false, c.invalid);
    }
    auto field = [&](ContactField f) -> std::string& { return v[static_cast<std::size_t>(f)]; };
    c.remote_id = std::move(field(ContactField::remote_id));
    c.first_name = std::move(field(ContactField::first_name));
    c.last_name = std::move(field(ContactField::last_name));
    c.email = std::move(field(ContactField::email));
    c.phone = std::move(field(ContactField::phone));
    if (std::optional<bool> active = core::parse_active(field(ContactField::active)))
      c.active = *active;
    else if (!c.invalid)
      c.invalid = contacts_.what + " line " + std::to_string(crow.line) + ": active \"" + field(ContactField::active) +
                  "\" is not one of true/false, 1/0, yes/no, y/n";
    return c;
  }

  FeedConfig feed_;
  ParseLimits limits_;
  CsvDialect dialect_;
  mutable std::optional<Transcoder> transcoder_;  // set: the files are not UTF-8 (iconv keeps state)
  CsvFile companies_;
  std::size_t rows_ = 0;
  std::vector<RowStart> checkpoints_;     // the start of rows 0, kCheckpointRows, 2·kCheckpointRows, ...
  std::vector<std::size_t> superseded_;   // rule 7, when rows_ > hash_remote_ids_above_
  std::array<std::optional<std::size_t>, core::kFieldCount> fields_;  // column of each mapped field
  std::optional<std::size_t> cursor_column_;
  mutable std::optional<CsvReader> cursor_;  // row_at()'s reader, at row cursor_next_
  mutable std::size_t cursor_next_ = 0;
  mutable CsvRow cursor_row_;
  CsvFile contacts_;
  std::array<std::optional<std::size_t>, core::kContactFieldCount> contact_fields_;
  std::size_t company_key_ = 0;
  std::vector<ContactRowEntry> contact_rows_;  // sorted by key hash, then offset
  mutable std::vector<bool> claimed_;          // by contact_rows_ index: went with a mapped record
  std::vector<RowStart> unkeyed_;              // contact rows too short to hold the company key
  mutable CsvRow contact_row_;
};

// ---- encodings --------------------------------------------------------------------------------

// Converts each document to UTF-8 before the format's mapper reads it (transcode.hpp), and
// rejects the records that hold a byte the encoding does not define.
class TranscodingMapper final : public DocumentMapper {
 public:
  TranscodingMapper(const FeedConfig& feed, std::unique_ptr<DocumentMapper> inner)
      : xml_(feed.format == FeedFormat::xml),
        csv_(feed.format == FeedFormat::csv),
        encoding_(feed.encoding),
        inner_(std::move(inner)) {
    if (!xml_) transcoder_.emplace(feed.encoding);
  }

  // CSV decodes its values itself (CsvMapper: a file is never converted whole when its encoding
  // splits at ASCII bytes); this only marks what holds an undefined byte.
  std::size_t load_from(std::unique_ptr<DocumentBytes> doc, const std::string& what) override {
    if (!csv_) return DocumentMapper::load_from(std::move(doc), what);
    inner_->hash_remote_ids_above(hash_remote_ids_above_);
    converted_ = transcoder_->converts();
    from_ = encoding_;
    return inner_->load_from(std::move(doc), what);
  }
  void load_contacts_from(std::unique_ptr<DocumentBytes> doc, const std::string& what) override {
    if (!csv_) return DocumentMapper::load_contacts_from(std::move(doc), what);
    contacts_converted_ = transcoder_->converts();
    inner_->load_contacts_from(std::move(doc), what);
  }
  std::optional<std::vector<std::size_t>> superseded_records() const override { return inner_->superseded_records(); }

  std::size_t load(std::string_view text, const std::string& what) override {
    if (!needs_conversion(text)) {
      converted_ = false;
      return inner_->load(text, what);
    }
    return load_in_place(std::string(text), what);
  }
  std::size_t load_in_place(std::string&& text, const std::string& what) override {
    inner_->hash_remote_ids_above(hash_remote_ids_above_);
    converted_ = needs_conversion(text);
    from_ = xml_ ? (xml_declared_encoding(text).empty() ? encoding_ : xml_declared_encoding(text)) : encoding_;
    return inner_->load_in_place(convert(std::move(text), what), what);
  }
  void load_contacts(std::string&& text, const std::string& what) override {
    contacts_converted_ = needs_conversion(text);
    inner_->load_contacts(convert(std::move(text), what), what);
  }
  std::string remote_id(std::size_t index) const override { return inner_->remote_id(index); }
  std::vector<std::uint64_t> remote_id_hashes() override { return inner_->remote_id_hashes(); }
  std::vector<IncomingAccount> map(std::size_t first, std::size_t last) const override {
    std::vector<IncomingAccount> out = inner_->map(first, last);
    if (converted_ || contacts_converted_)
      for (IncomingAccount& rec : out) mark_undefined(rec);
    return out;
  }
  std::string cursor_value(std::size_t index) const override { return inner_->cursor_value(index); }
  std::string document_value(const std::string& path) const override { return inner_->document_value(path); }
  std::vector<core::IncomingContactRecord> unclaimed_contacts() const override {
    std::vector<core::IncomingContactRecord> out = inner_->unclaimed_contacts();
    if (contacts_converted_)
      for (core::IncomingContactRecord& c : out) mark_undefined(c);
    return out;
  }

 private:
  bool needs_conversion(std::string_view text) const {
    if (!xml_) return transcoder_->converts();
    const std::string declared = xml_declared_encoding(text);
    return !is_utf8_encoding(declared.empty() ? encoding_ : declared);
  }
  std::string convert(std::string&& text, const std::string& what) {
    if (xml_) return xml_to_utf8(std::move(text), encoding_, what);
    if (csv_) return std::move(text);  // CsvMapper decodes it
    if (!transcoder_->converts()) return std::move(text);
    std::string out = transcoder_->to_utf8(text);
    std::string().swap(text);
    return out;
  }
  void mark_undefined(IncomingAccount& rec) const {
    if (rec.invalid) return;
    auto why = [&](const std::string& field) {
      return field + " holds a byte that " + from_ + " does not define (shown as U+FFFD): check the feed's encoding";
    };
    for (std::size_t i = 0; i < core::kFieldCount; ++i)
      if (rec.values[i].find(kUndefinedByteMark) != std::string::npos) {
        rec.invalid = why(std::string(core::field_name(static_cast<Field>(i))));
        return;
      }
    for (const IncomingContact& c : rec.contacts)
      for (std::size_t i = 0; i < core::kContactFieldCount; ++i)
        if (c.values[i].find(kUndefinedByteMark) != std::string::npos) {
          rec.invalid = why("contact " + std::string(core::contact_field_name(static_cast<ContactField>(i))));
          return;
        }
  }

  void mark_undefined(core::IncomingContactRecord& c) const {
    if (c.invalid) return;
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"remote_id", &c.remote_id},
                                      {"company", &c.company_remote_id}, {"first_name", &c.first_name},
                                      {"last_name", &c.last_name}, {"email", &c.email}, {"phone", &c.phone}})
      if (value->find(kUndefinedByteMark) != std::string::npos) {
        c.invalid = std::string(name) + " holds a byte that " + encoding_ +
                    " does not define (shown as U+FFFD): check the feed's encoding";
        return;
      }
  }

  bool xml_;
  bool csv_;
  std::string encoding_;
  std::string from_;
  std::optional<Transcoder> transcoder_;  // not for XML: each document's declaration decides
  std::unique_ptr<DocumentMapper> inner_;
  bool converted_ = false;
  bool contacts_converted_ = false;
};

}  // namespace

std::size_t DocumentMapper::load_from(std::unique_ptr<DocumentBytes> doc, const std::string& what) {
  return load_in_place(read_all(*doc), what);
}

void DocumentMapper::load_contacts_from(std::unique_ptr<DocumentBytes> doc, const std::string& what) {
  load_contacts(read_all(*doc), what);
}

std::unique_ptr<DocumentMapper> make_mapper(const FeedConfig& feed, const ParseLimits& limits) {
  std::unique_ptr<DocumentMapper> inner;
  if (feed.format == FeedFormat::json)
    inner = std::make_unique<JsonMapper>(feed, limits);
  else if (feed.format == FeedFormat::csv)
    inner = std::make_unique<CsvMapper>(feed, limits);
  else
    inner = std::make_unique<XmlMapper>(feed, limits);
  if (feed.format != FeedFormat::xml && is_utf8_encoding(feed.encoding)) return inner;
  return std::make_unique<TranscodingMapper>(feed, std::move(inner));
}

std::vector<core::IncomingAccount> map_document(const FeedConfig& feed, std::string_view text,
                                                const std::string& what, const ParseLimits& limits) {
  auto m = make_mapper(feed, limits);
  std::size_t n = m->load(text, what);
  return m->map(0, n);
}

}  // namespace erpsync::connectors::feed
