#pragma once
// The checked, ready-to-use tables behind a Tokenizer, built from a TokenizerSpec: every merge
// resolved to ids, added tokens checked against the vocabulary, the id -> bytes table for decoding.
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

struct TokenizerModel {
  BytePairEncoder bpe;
  // Added tokens matched on the raw text (non-normalized ones) and after normalization, each with
  // the special tokens included or left out.
  AddedTokenMatcher raw_with_special, raw_without_special;
  AddedTokenMatcher normalized_with_special, normalized_without_special;
  bool nfc = false;
  bool add_prefix_space = false;
  bool use_regex = true;

  std::unordered_map<std::string, std::int32_t> token_ids;  // vocabulary strings and added tokens
  std::string decoded_bytes;                                // bytes of every id, concatenated
  std::vector<std::uint32_t> decoded_offsets;               // id -> start in decoded_bytes; size vocab_size + 1
  std::vector<bool> id_known;                               // ids that name a token
  std::vector<std::int32_t> special_ids;
  std::vector<std::filesystem::path> source_files;

  std::size_t vocab_size() const { return id_known.size(); }
};

// Throws entroscope::Error naming spec.origin / spec.merges_origin on any inconsistency.
TokenizerModel build_tokenizer_model(const TokenizerSpec& spec);

}  // namespace entroscope::tokenizer
