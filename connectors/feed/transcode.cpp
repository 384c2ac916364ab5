#include "connectors/feed/transcode.hpp"

#include <cerrno>
#include <cctype>
#include <memory>
#include <utility>

#include "core/errors.hpp"

namespace erpsync::connectors::feed {

bool is_utf8_encoding(std::string_view name) {
  std::string n;
  for (char c : name)
    if (c != '-' && c != '_') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n == "utf8";
}

Transcoder::Transcoder(std::string encoding) : encoding_(std::move(encoding)) {
  if (is_utf8_encoding(encoding_)) return;
  cd_ = ::iconv_open("UTF-8", encoding_.c_str());
  if (cd_ == reinterpret_cast<iconv_t>(-1))
    throw core::SyncError(core::SyncError::Kind::permanent,
                          "unknown encoding \"" + encoding_ + "\" (`iconv -l` lists the names this system knows)");
  // Each byte alone: one below 0x80 must become itself, one above must become a character (or
  // be undefined: EILSEQ), never wait for more bytes (EINVAL: a multi-byte or stateful start).
  for (int b = 1; b < 256 && splits_at_ascii_; ++b) {
    ::iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    char in = static_cast<char>(b);
    char out[8];
    char* src = &in;
    char* dst = out;
    std::size_t src_left = 1, dst_left = sizeof out;
    const std::size_t r = ::iconv(cd_, &src, &src_left, &dst, &dst_left);
    const std::size_t produced = sizeof out - dst_left;
    if (r == static_cast<std::size_t>(-1))
      splits_at_ascii_ = b >= 0x80 && errno == EILSEQ;
    else if (b < 0x80)
      splits_at_ascii_ = produced == 1 && out[0] == in;
  }
  ::iconv(cd_, nullptr, nullptr, nullptr, nullptr);
}

Transcoder::~Transcoder() {
  if (converts()) ::iconv_close(cd_);
}

std::string Transcoder::to_utf8(std::string_view in) {
  if (!converts()) return std::string(in);
  ::iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // initial shift state
  std::string out;
  // Single-byte code pages grow by at most 3 bytes a byte; a little more for the common case.
  out.resize(in.size() + in.size() / 2 + 16);
  char* src = const_cast<char*>(in.data());
  std::size_t src_left = in.size();
  std::size_t used = 0;
  while (src_left > 0) {
    char* dst = out.data() + used;
    std::size_t dst_left = out.size() - used;
    const std::size_t r = ::iconv(cd_, &src, &src_left, &dst, &dst_left);
    used = out.size() - dst_left;
    if (r != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
    } else {
      // EILSEQ: a byte the encoding does not define; EINVAL: a sequence cut off by the end.
      if (out.size() - used < kUndefinedByteMark.size()) out.resize(out.size() * 2 + kUndefinedByteMark.size());
      out.replace(used, kUndefinedByteMark.size(), kUndefinedByteMark);
      used += kUndefinedByteMark.size();
      ++src;
      --src_left;
    }
  }
  out.resize(used);
  return out;
}

std::string xml_declared_encoding(std::string_view doc) {
  if (doc.substr(0, 5) != "<?xml") return {};
  const auto end = doc.find("?>");
  if (end == std::string_view::npos) return {};
  const std::string_view decl = doc.substr(0, end);
  auto at = decl.find("encoding");
  if (at == std::string_view::npos) return {};
  at = decl.find_first_not_of(" \t\r\n", at + 8);
  if (at == std::string_view::npos || decl[at] != '=') return {};
  at = decl.find_first_not_of(" \t\r\n", at + 1);
  if (at == std::string_view::npos || (decl[at] != '"' && decl[at] != '\'')) return {};
  const auto close = decl.find(decl[at], at + 1);
  if (close == std::string_view::npos) return {};
  return std::string(decl.substr(at + 1, close - at - 1));
}

std::string xml_to_utf8(std::string doc, const std::string& feed_encoding, const std::string& what) {
  const std::string declared = xml_declared_encoding(doc);
  const std::string& from = declared.empty() ? feed_encoding : declared;
  if (is_utf8_encoding(from)) return doc;
  std::unique_ptr<Transcoder> t;
  try {
    t = std::make_unique<Transcoder>(from);
  } catch (const core::SyncError& e) {
    throw core::SyncError(core::SyncError::Kind::permanent,
                          what + ": the XML declaration names " + e.what());
  }
  std::string out = t->to_utf8(doc);
  std::string().swap(doc);
  if (!declared.empty()) {
    // The declaration is ASCII in every encoding iconv converts XML from: found again as is.
    const auto at = out.find(declared, out.find("encoding"));
    if (at != std::string::npos) out.replace(at, declared.size(), "UTF-8");
  }
  return out;
}

}  // namespace erpsync::connectors::feed
