#pragma once
// A set of keys (remote ids) held compactly, for what a run must remember about every record
// it read: a full snapshot's remote ids, up to millions of them (SPEC §4.3 needs them all for
// `missing`; SPEC §11 bounds a document's memory at 32 MB + 3x its size). The keys live in
// 1 MiB blocks (never moved, so growing never holds two copies) and an open-addressing table
// holds their positions: about the key's length + 10 bytes per key, where a
// std::unordered_set<std::string> node takes about 60.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace erpsync::core {

class KeySet {
 public:
  KeySet() = default;
  KeySet(std::initializer_list<std::string_view> keys);

  // True when `key` was not in the set yet.
  bool insert(std::string_view key);
  bool contains(std::string_view key) const;
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  static constexpr std::size_t kBlockBits = 20;  // 1 MiB blocks, 4096 of them at most
  static constexpr std::size_t kBlock = std::size_t{1} << kBlockBits;
  static constexpr std::size_t kLongKey = 4096;  // longer keys (never a valid remote id) go aside

  std::string_view key_at(std::uint32_t position) const;
  std::size_t find_slot(std::string_view key, std::size_t hash) const;  // its slot, or the empty one
  void grow();

  std::vector<std::unique_ptr<char[]>> blocks_;  // each key as a 2-byte length and its bytes
  std::size_t used_in_last_ = kBlock;            // bytes used in blocks_.back()
  std::vector<std::uint32_t> slots_;             // position + 1 of a key (block << 20 | offset); 0 = empty
  std::unordered_set<std::string> long_keys_;
  std::size_t size_ = 0;
};

}  // namespace erpsync::core
