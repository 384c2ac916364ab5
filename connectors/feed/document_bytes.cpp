#include "connectors/feed/document_bytes.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace erpsync::connectors::feed {

std::size_t MemoryBytes::read_at(std::uint64_t offset, char* into, std::size_t n) const {
  if (offset >= view_.size()) return 0;
  const std::size_t got = std::min<std::uint64_t>(n, view_.size() - offset);
  std::memcpy(into, view_.data() + offset, got);
  return got;
}

std::string read_all(const DocumentBytes& doc) {
  if (const std::optional<std::string_view> whole = doc.in_memory()) return std::string(*whole);
  std::string out(static_cast<std::size_t>(doc.size()), '\0');
  std::size_t filled = 0;
  while (filled < out.size()) {
    const std::size_t got = doc.read_at(filled, out.data() + filled, out.size() - filled);
    if (got == 0) break;
    filled += got;
  }
  out.resize(filled);
  doc.check_unchanged();
  return out;
}

std::string sha256_hex(const DocumentBytes& doc) {
  // Pieces of 1 MiB: large enough that the reads cost nothing beside the digest.
  constexpr std::size_t kPiece = std::size_t{1} << 20;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  // As core::sha256_hex: these only fail on allocation failure, and an empty digest then makes
  // every comparison unequal (a changed document), never a wrong "unchanged".
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return {};
  bool ok = true;
  for_each_piece(doc, kPiece, [&](std::string_view piece) {
    ok = ok && EVP_DigestUpdate(ctx.get(), piece.data(), piece.size()) == 1;
  });
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace erpsync::connectors::feed
