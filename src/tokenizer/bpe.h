#pragma once
// Byte-pair encoding of one pre-tokenized piece, as Hugging Face tokenizers' BPE model does it:
// start from one symbol per byte (byte-level vocabularies: GPT-2, NeoX, Qwen, Llama 3) or per
// character (SentencePiece-style vocabularies: Mistral, Llama 2; a character without a token falls
// back to its bytes as <0xXX> tokens, or to unk), then repeatedly merge the adjacent pair with the
// lowest merge rank (the leftmost one on ties) until no adjacent pair has a merge.
//
// Speed: short pieces use a simple array loop; long ones are first cut where no merge can ever
// join the two sides (see Segmenter below: a SentencePiece text without pre-tokenizer is one
// piece of a million characters), and what is still long goes to a heap over a linked list, so a
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
  // Token used for a symbol that has no token of its own. Byte-level: without one such a byte is
  // an error (it cannot come from valid UTF-8 in any real vocabulary). Character-level: without
  // one the character is dropped, as Hugging Face tokenizers does.
  std::optional<std::int32_t> unk_id;
  bool fuse_unk = false;  // consecutive unknown symbols become a single unk
  // tokenizer.json's ignore_merges: a piece that is itself in the vocabulary is that token.
  bool ignore_merges = false;
  // Character-level only:
  bool byte_fallback = false;             // unknown characters become their bytes' <0xXX> tokens
  std::string continuing_subword_prefix;  // glued before every character but the first
  std::string end_of_word_suffix;         // glued after the last character
};

// Where a long piece may be cut without changing its encoding: between two symbols whose token
// strings end in a and start in b, when no merge rule joins a token ending in a to one starting
// in b (such a boundary survives every merge, and BPE of the two sides is independent).
struct Segmenter {
  std::vector<char32_t> first_char;  // by id: first character of the token string
  std::vector<char32_t> last_char;   // by id: last character
  PairTable joinable;                // (last char of left, first char of right) of every merge
  bool enabled = false;
};

class BytePairEncoder {
 public:
  BytePairEncoder() = default;
  // Byte-level. byte_tokens[b]: id of the single-byte token for byte b, or -1 when the vocabulary
  // has none. whole_tokens (bytes -> id) is only needed for options.ignore_merges.
  BytePairEncoder(const std::array<std::int32_t, 256>& byte_tokens, const std::vector<MergeRule>& merges_by_rank,
                  BpeOptions options, std::unordered_map<std::string, std::int32_t> whole_tokens = {});
  // Character-level: `vocab` maps the token strings of the file (UTF-8) to ids.
  static BytePairEncoder for_characters(std::unordered_map<std::string, std::int32_t> vocab,
                                        const std::vector<MergeRule>& merges_by_rank, BpeOptions options);

  void set_segmenter(Segmenter segmenter) { segmenter_ = std::move(segmenter); }

  // Appends the ids of `piece` (raw bytes) to `out`. Short pieces go through a per-thread cache
  // of recent pieces (words repeat), which changes nothing but the time.
  void encode(std::string_view piece, std::vector<std::int32_t>& out) const;
  // The same without the cache (tests compare the two).
  void encode_uncached(std::string_view piece, std::vector<std::int32_t>& out) const;

  // The two merge loops, without segmenting, exposed so tests can check they agree on any input.
  void encode_with_array_loop(std::string_view piece, std::vector<std::int32_t>& out) const;
  void encode_with_heap(std::string_view piece, std::vector<std::int32_t>& out) const;

 private:
  void initial_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const;
  void initial_byte_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const;
  void initial_char_symbols(std::string_view piece, std::vector<std::int32_t>& symbols) const;
  std::optional<std::int32_t> char_token(std::string_view character, bool first, bool last) const;

  // Merge loops over symbols[begin, end), appending the result to `out`.
  void merge_with_array_loop(std::int32_t* ids, std::size_t count, std::vector<std::int32_t>& out) const;
  void merge_with_heap(const std::vector<std::int32_t>& symbols, std::size_t begin, std::size_t end,
                       std::vector<std::int32_t>& out) const;
  void merge_range(std::vector<std::int32_t>& symbols, std::size_t begin, std::size_t end,
                   std::vector<std::int32_t>& out) const;

  std::uint64_t cache_owner_ = 0;  // identifies this vocabulary in the per-thread piece cache; 0: no cache
  bool byte_level_ = true;
  std::array<std::int32_t, 256> byte_tokens_{};
  PairTable pairs_;
  BpeOptions options_;
  std::unordered_map<std::string, std::int32_t> whole_tokens_;  // ignore_merges; char-level: the vocabulary
  // Character-level lookups: ASCII directly, other characters through a map (both only when there
  // is no prefix or suffix to glue on), and the <0xXX> tokens for byte fallback.
  std::array<std::int32_t, 128> ascii_tokens_{};
  std::unordered_map<char32_t, std::int32_t> char_tokens_;
  std::array<std::int32_t, 256> fallback_byte_tokens_{};
  Segmenter segmenter_;
};

}  // namespace entroscope::tokenizer
