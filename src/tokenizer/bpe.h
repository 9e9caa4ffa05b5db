#pragma once
// Byte-pair encoding of one pre-tokenized piece: start from one token per byte, then repeatedly
// merge the adjacent pair with the lowest merge rank (the leftmost one on ties) until no adjacent
// pair has a merge. Short pieces use a simple array loop; long ones a heap over a linked list, so a
// 10k-character word costs O(n log n), not O(n^2).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pair_table.h"

namespace entroscope::tokenizer {

// One merge rule in id form; a rule's rank is its index in the list given to BytePairEncoder.
struct MergeRule {
  std::int32_t left;
  std::int32_t right;
  std::int32_t merged;
};

struct BpeOptions {
  // Token used for a byte that has no token of its own; without one such a byte is an error.
  std::optional<std::int32_t> unk_id;
  bool fuse_unk = false;  // consecutive unknown bytes become a single unk
  // tokenizer.json's ignore_merges: a piece that is itself in the vocabulary is that token.
  bool ignore_merges = false;
};

class BytePairEncoder {
 public:
  BytePairEncoder() = default;
  // byte_tokens[b]: id of the single-byte token for byte b, or -1 when the vocabulary has none.
  // whole_tokens (bytes -> id) is only needed for options.ignore_merges.
  BytePairEncoder(const std::array<std::int32_t, 256>& byte_tokens, const std::vector<MergeRule>& merges_by_rank,
                  BpeOptions options, std::unordered_map<std::string, std::int32_t> whole_tokens = {});

  // Appends the ids of `piece` (raw bytes) to `out`.
  void encode(std::string_view piece, std::vector<std::int32_t>& out) const;

  // The two merge loops, exposed so tests can check they agree on any input.
  void encode_with_array_loop(std::string_view piece, std::vector<std::int32_t>& out) const;
  void encode_with_heap(std::string_view piece, std::vector<std::int32_t>& out) const;

 private:
  // Initial symbols: one per byte, unknown bytes mapped to unk (and fused) or rejected.
  void initial_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const;

  std::array<std::int32_t, 256> byte_tokens_{};
  PairTable pairs_;
  BpeOptions options_;
  std::unordered_map<std::string, std::int32_t> whole_tokens_;
};

}  // namespace entroscope::tokenizer
