#pragma once
// Open-addressing hash table from an adjacent token pair (left id, right id) to its merge: the
// merge's rank and the id of the merged token. It is the innermost lookup of BPE, so it is a flat
// array with linear probing instead of std::unordered_map (one cache line per lookup, no nodes).
#include <cstdint>
#include <vector>

namespace entroscope::tokenizer {

struct PairMerge {
  std::int32_t rank;    // position in the merges list: lower merges first
  std::int32_t merged;  // id of the token the pair becomes
};

class PairTable {
 public:
  PairTable() = default;
  explicit PairTable(std::size_t expected_entries) {
    std::size_t capacity = 16;
    while (capacity < expected_entries * 2) capacity *= 2;
    slots_.assign(capacity, Slot{kEmptyKey, {0, 0}});
    mask_ = capacity - 1;
  }

  // Inserts or overwrites (a later duplicate merge replaces an earlier one, as in HF tokenizers
  // and OpenAI's encoder.py, whose rank dictionaries keep the last occurrence).
  void set(std::int32_t left, std::int32_t right, PairMerge merge) {
    const std::uint64_t key = make_key(left, right);
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmptyKey) ++size_;
      if (slots_[i].key == kEmptyKey || slots_[i].key == key) {
        slots_[i] = Slot{key, merge};
        return;
      }
    }
  }

  const PairMerge* find(std::int32_t left, std::int32_t right) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t key = make_key(left, right);
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmptyKey) return nullptr;
    }
  }

  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};
  struct Slot {
    std::uint64_t key;
    PairMerge merge;
  };

  static std::uint64_t make_key(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }
  // Fibonacci hashing: the high bits of key * 2^64/phi are well mixed even for small ids.
  std::size_t slot_of(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace entroscope::tokenizer
