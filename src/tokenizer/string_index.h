#pragma once
// Token string -> id lookups over strings stored elsewhere (the vocabulary list, a StringTable):
// a flat open-addressing table of (hash, id), so building and probing a 150k-entry vocabulary
// costs no node allocation and about one cache miss per lookup. Loading a tokenizer does
// several hundred thousand of these (every merge names three tokens).
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace entroscope::tokenizer {

inline std::uint64_t hash_token(std::string_view s) {
  // FNV-1a over 8-byte words, then a final mix: token strings are short.
  std::uint64_t h = 0xcbf29ce484222325ull ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    h = (h ^ word) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ull;
  h ^= h >> 32;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

// KeyOf: callable id -> std::string_view (the string stored for that id).
template <typename KeyOf>
class StringIndex {
 public:
  StringIndex(std::size_t expected, KeyOf key_of) : key_of_(key_of) {
    std::size_t capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    slots_.assign(capacity, Slot{0, -1});
    mask_ = capacity - 1;
  }

  // Adds `id` under its string; returns the id already there for an equal string (and keeps it).
  std::int32_t insert(std::int32_t id) {
    const std::string_view key = key_of_(id);
    const std::uint64_t h = hash_token(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{h, id};
        return id;
      }
      if (s.hash == h && key_of_(s.id) == key) return s.id;
    }
  }

  std::optional<std::int32_t> find(std::string_view key) const {
    const std::uint64_t h = hash_token(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return std::nullopt;
      if (s.hash == h && key_of_(s.id) == key) return s.id;
    }
  }

 private:
  struct Slot {
    std::uint64_t hash;
    std::int32_t id;  // -1: empty
  };
  KeyOf key_of_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace entroscope::tokenizer
