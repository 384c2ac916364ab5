#include "core/key_set.hpp"

#include <cstring>
#include <functional>
#include <stdexcept>

namespace erpsync::core {

namespace {
std::size_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }
}  // namespace

KeySet::KeySet(std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) insert(k);
}

std::string_view KeySet::key_at(std::uint32_t position) const {
  const char* at = blocks_[position >> kBlockBits].get() + (position & (kBlock - 1));
  std::uint16_t len = 0;
  std::memcpy(&len, at, sizeof len);
  return {at + sizeof len, len};
}

std::size_t KeySet::find_slot(std::string_view key, std::size_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask)  // linear probing; never full (load ≤ 0.7)
    if (slots_[i] == 0 || key_at(slots_[i] - 1) == key) return i;
}

bool KeySet::contains(std::string_view key) const {
  if (key.size() > kLongKey) return long_keys_.count(std::string(key)) != 0;
  return !slots_.empty() && slots_[find_slot(key, hash_of(key))] != 0;
}

bool KeySet::insert(std::string_view key) {
  if (key.size() > kLongKey) {
    const bool added = long_keys_.emplace(key).second;
    size_ += added ? 1 : 0;
    return added;
  }
  if ((size_ + 1) * 10 > slots_.size() * 7) grow();
  const std::size_t slot = find_slot(key, hash_of(key));
  if (slots_[slot] != 0) return false;
  const std::size_t need = sizeof(std::uint16_t) + key.size();
  if (used_in_last_ + need > kBlock) {
    if (blocks_.size() == (std::size_t{1} << (32 - kBlockBits)) - 1)  // position + 1 fits 32 bits
      throw std::length_error("KeySet: more than 4 GiB of keys");
    blocks_.push_back(std::unique_ptr<char[]>(new char[kBlock]));  // untouched pages stay unmapped
    used_in_last_ = 0;
  }
  const auto len = static_cast<std::uint16_t>(key.size());
  char* at = blocks_.back().get() + used_in_last_;
  std::memcpy(at, &len, sizeof len);
  std::memcpy(at + sizeof len, key.data(), key.size());
  const std::size_t position = ((blocks_.size() - 1) << kBlockBits) | used_in_last_;
  slots_[slot] = static_cast<std::uint32_t>(position) + 1;
  used_in_last_ += need;
  ++size_;
  return true;
}

void KeySet::grow() {
  std::vector<std::uint32_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
  for (std::uint32_t v : old)
    if (v != 0) slots_[find_slot(key_at(v - 1), hash_of(key_at(v - 1)))] = v;
}

}  // namespace erpsync::core
