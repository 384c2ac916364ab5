// Unknown entity references: see xml_entities.hpp.

#include "connectors/http/xml_entities.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/errors.hpp"

namespace erpsync::connectors {
namespace {

constexpr std::size_t kLongestName = 64;  // longer: not taken for a reference

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '-' ||
         u == '.' || u == ':' || u >= 0x80;
}

// The name of the reference "&name;" at `amp`, or "" when none begins there.
std::string_view reference_name(std::string_view xml, std::size_t amp) {
  std::size_t end = amp + 1;
  while (end < xml.size() && end - amp <= kLongestName && is_name_char(xml[end])) ++end;
  if (end == amp + 1 || end >= xml.size() || xml[end] != ';') return {};
  return xml.substr(amp + 1, end - amp - 1);
}

bool predefined(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kNames = {"lt", "gt", "amp", "apos", "quot"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

// Position after the markup starting at the '<' at `lt` when it is a comment, CDATA section,
// processing instruction or DOCTYPE (their '&' are not references); `lt` + 1 for a tag, whose
// attribute values are scanned like text.
std::size_t skip_markup(std::string_view xml, std::size_t lt) {
  auto past = [&](std::string_view terminator) {
    const auto at = xml.find(terminator, lt + 1);
    return at == std::string_view::npos ? xml.size() : at + terminator.size();
  };
  const std::string_view rest = xml.substr(lt);
  if (rest.starts_with("<!--")) return past("-->");
  if (rest.starts_with("<![CDATA[")) return past("]]>");
  if (rest.starts_with("<?")) return past("?>");
  if (rest.starts_with("<!")) {
    // A DOCTYPE: its internal subset ([...]) holds entity declarations, '>' included.
    const auto bracket = xml.find_first_of("[>", lt);
    if (bracket != std::string_view::npos && xml[bracket] == '[') {
      const auto close = xml.find("]", bracket);
      if (close == std::string_view::npos) return xml.size();
      const auto gt = xml.find('>', close);
      return gt == std::string_view::npos ? xml.size() : gt + 1;
    }
    return bracket == std::string_view::npos ? xml.size() : bracket + 1;
  }
  return lt + 1;
}

}  // namespace

std::optional<std::size_t> find_unknown_entity(std::string_view xml) {
  auto next = [&](char c, std::size_t from) {
    if (from >= xml.size()) return xml.size();
    const void* p = std::memchr(xml.data() + from, c, xml.size() - from);
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - xml.data()) : xml.size();
  };
  // Markup is walked only up to a suspect reference, and only once: `outside` is a position the
  // walk has reached outside any comment, CDATA section, PI or DOCTYPE. A document whose every
  // '&' begins a predefined or character reference costs one memchr pass.
  std::size_t outside = 0;
  for (std::size_t amp = next('&', 0); amp < xml.size(); amp = next('&', amp + 1)) {
    const std::string_view name = reference_name(xml, amp);
    if (name.empty() || predefined(name)) continue;
    for (std::size_t lt = next('<', outside); lt < amp; lt = next('<', outside)) outside = skip_markup(xml, lt);
    if (outside <= amp) return amp;
    amp = outside - 1;  // it was inside markup that holds no references: go on after it
  }
  return std::nullopt;
}

void refuse_unknown_entities(std::string_view xml, const std::string& what) {
  const auto at = find_unknown_entity(xml);
  if (!at) return;
  const auto line = 1 + std::count(xml.begin(), xml.begin() + static_cast<std::ptrdiff_t>(*at), '\n');
  throw core::SyncError(core::SyncError::Kind::permanent,
                        what + ": invalid XML at byte " + std::to_string(*at) + ": undefined entity &" +
                            std::string(reference_name(xml, *at)) + "; (line " + std::to_string(line) +
                            "): XML defines only &lt; &gt; &amp; &apos; &quot; and character references such as "
                            "&#160;; the export must write a literal '&' as &amp;");
}

}  // namespace erpsync::connectors
