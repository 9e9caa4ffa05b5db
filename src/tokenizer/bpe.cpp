#include "tokenizer/bpe.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <limits>
#include <queue>

#include "common/error.h"
#include "tokenizer/string_index.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

constexpr std::int32_t kNoMerge = std::numeric_limits<std::int32_t>::max();

// Up to this many initial symbols the O(n^2) array loop beats the heap (no allocation,
// everything in L1); real words are almost always far shorter.
constexpr std::size_t kArrayLoopMaxSymbols = 48;

// A direct-mapped cache of short pieces' ids, one per thread, shared by all encoders (each slot
// names the encoder it belongs to). No allocation after the first use; a collision just evicts.
struct PieceCache {
  static constexpr std::size_t kSlots = std::size_t{1} << 14;
  static constexpr std::size_t kMaxBytes = 22;
  static constexpr std::size_t kMaxIds = 8;
  struct Slot {
    std::uint64_t owner = 0;
    std::uint64_t hash = 0;
    std::uint8_t length = 0;
    std::uint8_t count = 0;
    char bytes[kMaxBytes];
    std::int32_t ids[kMaxIds];
  };
  std::vector<Slot> slots = std::vector<Slot>(kSlots);
};

std::uint64_t next_cache_owner() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

PairTable merge_table(const std::vector<MergeRule>& merges_by_rank) {
  PairTable pairs(merges_by_rank.size());
  for (std::size_t rank = 0; rank < merges_by_rank.size(); ++rank) {
    const MergeRule& m = merges_by_rank[rank];
    pairs.set(m.left, m.right, PairMerge{static_cast<std::int32_t>(rank), m.merged});
  }
  return pairs;
}

}  // namespace

BytePairEncoder::BytePairEncoder(const std::array<std::int32_t, 256>& byte_tokens,
                                 const std::vector<MergeRule>& merges_by_rank, BpeOptions options,
                                 std::unordered_map<std::string, std::int32_t> whole_tokens)
    : cache_owner_(next_cache_owner()),
      byte_level_(true),
      byte_tokens_(byte_tokens),
      pairs_(merge_table(merges_by_rank)),
      options_(std::move(options)),
      whole_tokens_(std::move(whole_tokens)) {}

BytePairEncoder BytePairEncoder::for_characters(std::unordered_map<std::string, std::int32_t> vocab,
                                                const std::vector<MergeRule>& merges_by_rank, BpeOptions options) {
  BytePairEncoder bpe;
  bpe.cache_owner_ = next_cache_owner();
  bpe.byte_level_ = false;
  bpe.pairs_ = merge_table(merges_by_rank);
  bpe.options_ = std::move(options);
  bpe.ascii_tokens_.fill(-1);
  bpe.fallback_byte_tokens_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    auto it = vocab.find(fmt::format("<0x{:02X}>", b));
    if (it != vocab.end()) bpe.fallback_byte_tokens_[b] = it->second;
  }
  for (const auto& [token, id] : vocab) {
    if (token.empty()) continue;
    const Utf8Char ch = decode_utf8(token, 0);
    if (!ch.valid || ch.length != token.size()) continue;
    if (ch.code_point < 128) {
      bpe.ascii_tokens_[ch.code_point] = id;
    } else {
      bpe.char_tokens_.emplace(ch.code_point, id);
    }
  }
  bpe.whole_tokens_ = std::move(vocab);
  return bpe;
}

void BytePairEncoder::initial_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const {
  symbols.clear();
  symbols.reserve(piece.size());
  if (byte_level_) {
    initial_byte_symbols(piece, symbols);
  } else {
    initial_char_symbols(piece, symbols);
  }
}

void BytePairEncoder::initial_byte_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const {
  bool previous_was_unk = false;
  for (unsigned char b : piece) {
    const std::int32_t id = byte_tokens_[b];
    if (id >= 0) {
      symbols.push_back(id);
      previous_was_unk = false;
      continue;
    }
    if (!options_.unk_id) {
      fail("the text contains the byte 0x{:02X}, which has no token in this vocabulary (and it has no unk_token)", b);
    }
    if (!(options_.fuse_unk && previous_was_unk)) symbols.push_back(*options_.unk_id);
    previous_was_unk = true;
  }
}

std::optional<std::int32_t> BytePairEncoder::char_token(std::string_view character, bool first, bool last) const {
  const bool glued = (!first && !options_.continuing_subword_prefix.empty()) ||
                     (last && !options_.end_of_word_suffix.empty());
  if (!glued) {
    const Utf8Char ch = decode_utf8(character, 0);
    if (ch.valid && ch.length == character.size()) {
      if (ch.code_point < 128) {
        const std::int32_t id = ascii_tokens_[ch.code_point];
        return id >= 0 ? std::optional<std::int32_t>(id) : std::nullopt;
      }
      auto it = char_tokens_.find(ch.code_point);
      return it != char_tokens_.end() ? std::optional<std::int32_t>(it->second) : std::nullopt;
    }
  }
  std::string key;
  if (!first) key += options_.continuing_subword_prefix;
  key += character;
  if (last) key += options_.end_of_word_suffix;
  auto it = whole_tokens_.find(key);
  return it != whole_tokens_.end() ? std::optional<std::int32_t>(it->second) : std::nullopt;
}

// Hugging Face's merge_word: each character is looked up (with the prefix / suffix glued on); an
// unknown one becomes its bytes' <0xXX> tokens when all exist (byte_fallback), else unk, where
// consecutive unks are fused when fuse_unk. A pending unk is written only when a known character
// or the end comes, so it lands after byte-fallback tokens that follow it, as there.
void BytePairEncoder::initial_char_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const {
  bool unk_pending = false;
  for (std::size_t pos = 0; pos < piece.size();) {
    // A byte that is not valid UTF-8 is a character of its own here.
    const std::size_t length = decode_utf8(piece, pos).length;
    const std::string_view character = piece.substr(pos, length);
    const bool first = pos == 0;
    pos += length;
    const bool last = pos == piece.size();
    if (std::optional<std::int32_t> id = char_token(character, first, last)) {
      if (unk_pending) symbols.push_back(*options_.unk_id);
      unk_pending = false;
      symbols.push_back(*id);
      continue;
    }
    if (options_.byte_fallback) {
      std::string glued;
      std::string_view bytes = character;
      if ((!first && !options_.continuing_subword_prefix.empty()) || (last && !options_.end_of_word_suffix.empty())) {
        glued = std::string(first ? "" : options_.continuing_subword_prefix) + std::string(character) +
                std::string(last ? options_.end_of_word_suffix : "");
        bytes = glued;
      }
      const bool all_known = std::all_of(bytes.begin(), bytes.end(), [&](char b) {
        return fallback_byte_tokens_[static_cast<unsigned char>(b)] >= 0;
      });
      if (all_known) {
        for (char b : bytes) symbols.push_back(fallback_byte_tokens_[static_cast<unsigned char>(b)]);
        continue;
      }
    }
    if (options_.unk_id) {
      if (unk_pending && !options_.fuse_unk) symbols.push_back(*options_.unk_id);
      unk_pending = true;
    }
  }
  if (unk_pending) symbols.push_back(*options_.unk_id);
}

void BytePairEncoder::encode(std::string_view piece, std::vector<std::int32_t>& out) const {
  if (piece.empty()) return;
  if (cache_owner_ == 0 || piece.size() > PieceCache::kMaxBytes || piece.size() < 2) {
    encode_uncached(piece, out);
    return;
  }
  thread_local PieceCache cache;
  const std::uint64_t hash = hash_token(piece);
  PieceCache::Slot& slot = cache.slots[hash & (PieceCache::kSlots - 1)];
  if (slot.owner == cache_owner_ && slot.hash == hash && slot.length == piece.size() &&
      std::memcmp(slot.bytes, piece.data(), piece.size()) == 0) {
    out.insert(out.end(), slot.ids, slot.ids + slot.count);
    return;
  }
  const std::size_t first = out.size();
  encode_uncached(piece, out);
  const std::size_t count = out.size() - first;
  if (count > PieceCache::kMaxIds) return;
  slot.owner = cache_owner_;
  slot.hash = hash;
  slot.length = static_cast<std::uint8_t>(piece.size());
  slot.count = static_cast<std::uint8_t>(count);
  std::memcpy(slot.bytes, piece.data(), piece.size());
  std::copy(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), slot.ids);
}

void BytePairEncoder::encode_uncached(std::string_view piece, std::vector<std::int32_t>& out) const {
  if (piece.empty()) return;
  if (byte_level_ && piece.size() == 1 && byte_tokens_[static_cast<unsigned char>(piece[0])] >= 0) {
    out.push_back(byte_tokens_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  if (options_.ignore_merges) {
    auto it = whole_tokens_.find(std::string(piece));
    if (it != whole_tokens_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // The common case, a short piece of a byte-level vocabulary: symbols on the stack.
  if (byte_level_ && piece.size() <= kArrayLoopMaxSymbols) {
    std::int32_t ids[kArrayLoopMaxSymbols];
    bool all_known = true;
    for (std::size_t i = 0; i < piece.size(); ++i) {
      ids[i] = byte_tokens_[static_cast<unsigned char>(piece[i])];
      all_known = all_known && ids[i] >= 0;
    }
    if (all_known) {
      merge_with_array_loop(ids, piece.size(), out);
      return;
    }
  }
  thread_local std::vector<std::int32_t> symbols;
  initial_symbols(piece, symbols);
  const std::size_t count = symbols.size();
  if (count <= kArrayLoopMaxSymbols || !segmenter_.enabled) {
    merge_range(symbols, 0, count, out);
    return;
  }
  // Cut at every boundary no merge can cross; each segment is encoded on its own.
  const Segmenter& s = segmenter_;
  std::size_t begin = 0;
  for (std::size_t i = 1; i < count; ++i) {
    const std::int32_t left = symbols[i - 1];
    const std::int32_t right = symbols[i];
    const bool cut = !s.joinable.find(static_cast<std::int32_t>(s.last_char[left]),
                                      static_cast<std::int32_t>(s.first_char[right]));
    if (cut) {
      merge_range(symbols, begin, i, out);
      begin = i;
    }
  }
  merge_range(symbols, begin, count, out);
}

void BytePairEncoder::merge_range(std::vector<std::int32_t>& symbols, std::size_t begin, std::size_t end,
                                  std::vector<std::int32_t>& out) const {
  if (end - begin == 1) {
    out.push_back(symbols[begin]);
  } else if (end - begin <= kArrayLoopMaxSymbols) {
    merge_with_array_loop(symbols.data() + begin, end - begin, out);
  } else {
    merge_with_heap(symbols, begin, end, out);
  }
}

void BytePairEncoder::encode_with_array_loop(std::string_view piece, std::vector<std::int32_t>& out) const {
  std::vector<std::int32_t> symbols;
  initial_symbols(piece, symbols);
  merge_with_array_loop(symbols.data(), symbols.size(), out);
}

void BytePairEncoder::encode_with_heap(std::string_view piece, std::vector<std::int32_t>& out) const {
  std::vector<std::int32_t> symbols;
  initial_symbols(piece, symbols);
  merge_with_heap(symbols, 0, symbols.size(), out);
}

// In place on ids[0, count): the pair ranks sit beside the symbols, and a merge closes the
// gap by shifting the tail left (cheap for the short pieces this loop is used for).
void BytePairEncoder::merge_with_array_loop(std::int32_t* ids, std::size_t count, std::vector<std::int32_t>& out) const {
  constexpr std::size_t kStackSymbols = 64;
  PairMerge stack_merges[kStackSymbols];
  std::vector<PairMerge> heap_merges;
  PairMerge* merges = stack_merges;  // merges[i]: merge of (ids[i], ids[i+1])
  if (count > kStackSymbols) {
    heap_merges.resize(count);
    merges = heap_merges.data();
  }
  auto merge_at = [&](std::size_t i) {
    const PairMerge* m = pairs_.find(ids[i], ids[i + 1]);
    return m ? *m : PairMerge{kNoMerge, -1};
  };
  for (std::size_t i = 0; i + 1 < count; ++i) merges[i] = merge_at(i);

  while (count > 1) {
    std::size_t best = 0;
    for (std::size_t i = 1; i + 1 < count; ++i) {
      if (merges[i].rank < merges[best].rank) best = i;  // strict: the leftmost wins ties
    }
    if (merges[best].rank == kNoMerge) break;
    ids[best] = merges[best].merged;
    // Remove symbol best+1 and the pair that started at best+1 (it is now gone).
    std::copy(ids + best + 2, ids + count, ids + best + 1);
    std::copy(merges + best + 2, merges + count, merges + best + 1);
    --count;
    if (best > 0) merges[best - 1] = merge_at(best - 1);
    if (best + 1 < count) merges[best] = merge_at(best);
  }
  out.insert(out.end(), ids, ids + count);
}

void BytePairEncoder::merge_with_heap(const std::vector<std::int32_t>& initial, std::size_t begin, std::size_t end,
                                      std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;  // -1: none
    std::int32_t next;  // -1: none
  };
  const auto count = static_cast<std::int32_t>(end - begin);
  std::vector<Symbol> symbols(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count; ++i) {
    symbols[i] = Symbol{initial[begin + static_cast<std::size_t>(i)], i - 1, i + 1 < count ? i + 1 : -1};
  }

  // Candidate merges keyed (rank << 32 | left position): popping the smallest key gives the
  // lowest rank and, among equal ranks, the leftmost pair. Entries made stale by earlier merges
  // are skipped when popped instead of being removed.
  std::vector<std::uint64_t> storage;
  storage.reserve(static_cast<std::size_t>(count));
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> queue(std::greater<>{},
                                                                                       std::move(storage));
  auto push_pair = [&](std::int32_t left) {
    const std::int32_t right = symbols[left].next;
    if (right < 0) return;
    if (const PairMerge* m = pairs_.find(symbols[left].id, symbols[right].id)) {
      queue.push((static_cast<std::uint64_t>(m->rank) << 32) | static_cast<std::uint32_t>(left));
    }
  };
  for (std::int32_t i = 0; i + 1 < count; ++i) push_pair(i);

  constexpr std::int32_t kDead = -1;
  while (!queue.empty()) {
    const std::uint64_t top = queue.top();
    queue.pop();
    const auto rank = static_cast<std::int32_t>(top >> 32);
    const auto left = static_cast<std::int32_t>(top & 0xFFFFFFFFu);
    if (symbols[left].id == kDead) continue;
    const std::int32_t right = symbols[left].next;
    if (right < 0) continue;
    // Still the same pair? A rank names exactly one (left id, right id) pair.
    const PairMerge* m = pairs_.find(symbols[left].id, symbols[right].id);
    if (!m || m->rank != rank) continue;
    symbols[left].id = m->merged;
    symbols[left].next = symbols[right].next;
    if (symbols[right].next >= 0) symbols[symbols[right].next].prev = left;
    symbols[right].id = kDead;
    if (symbols[left].prev >= 0) push_pair(symbols[left].prev);
    push_pair(left);
  }
  for (std::int32_t i = 0; i >= 0 && i < count; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace entroscope::tokenizer
