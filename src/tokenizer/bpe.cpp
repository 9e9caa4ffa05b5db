#include "tokenizer/bpe.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>

#include "common/error.h"

namespace entroscope::tokenizer {
namespace {

constexpr std::int32_t kNoMerge = std::numeric_limits<std::int32_t>::max();

// Up to this many bytes (= initial symbols) the O(n^2) array loop beats the heap (no allocation,
// everything in L1); real words are almost always far shorter.
constexpr std::size_t kArrayLoopMaxBytes = 48;

}  // namespace

BytePairEncoder::BytePairEncoder(const std::array<std::int32_t, 256>& byte_tokens,
                                 const std::vector<MergeRule>& merges_by_rank, BpeOptions options,
                                 std::unordered_map<std::string, std::int32_t> whole_tokens)
    : byte_tokens_(byte_tokens),
      pairs_(merges_by_rank.size()),
      options_(options),
      whole_tokens_(std::move(whole_tokens)) {
  for (std::size_t rank = 0; rank < merges_by_rank.size(); ++rank) {
    const MergeRule& m = merges_by_rank[rank];
    pairs_.set(m.left, m.right, PairMerge{static_cast<std::int32_t>(rank), m.merged});
  }
}

void BytePairEncoder::initial_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const {
  symbols.clear();
  symbols.reserve(piece.size());
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

void BytePairEncoder::encode(std::string_view piece, std::vector<std::int32_t>& out) const {
  if (piece.empty()) return;
  if (piece.size() == 1 && byte_tokens_[static_cast<unsigned char>(piece[0])] >= 0) {
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
  if (piece.size() <= kArrayLoopMaxBytes) {
    encode_with_array_loop(piece, out);
  } else {
    encode_with_heap(piece, out);
  }
}

void BytePairEncoder::encode_with_array_loop(std::string_view piece, std::vector<std::int32_t>& out) const {
  thread_local std::vector<std::int32_t> ids;
  thread_local std::vector<PairMerge> merges;  // merges[i]: merge of (ids[i], ids[i+1])
  initial_symbols(piece, ids);
  std::size_t count = ids.size();
  merges.resize(count);
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
    std::copy(ids.begin() + static_cast<std::ptrdiff_t>(best) + 2, ids.begin() + static_cast<std::ptrdiff_t>(count),
              ids.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    std::copy(merges.begin() + static_cast<std::ptrdiff_t>(best) + 2,
              merges.begin() + static_cast<std::ptrdiff_t>(count),
              merges.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    --count;
    if (best > 0) merges[best - 1] = merge_at(best - 1);
    if (best + 1 < count) merges[best] = merge_at(best);
  }
  out.insert(out.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(count));
}

void BytePairEncoder::encode_with_heap(std::string_view piece, std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;  // -1: none
    std::int32_t next;  // -1: none
  };
  thread_local std::vector<std::int32_t> ids;
  initial_symbols(piece, ids);
  const auto count = static_cast<std::int32_t>(ids.size());
  std::vector<Symbol> symbols(ids.size());
  for (std::int32_t i = 0; i < count; ++i) symbols[i] = Symbol{ids[i], i - 1, i + 1 < count ? i + 1 : -1};

  // Candidate merges keyed (rank << 32 | left position): popping the smallest key gives the
  // lowest rank and, among equal ranks, the leftmost pair. Entries made stale by earlier merges
  // are skipped when popped instead of being removed.
  std::vector<std::uint64_t> storage;
  storage.reserve(ids.size());
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
