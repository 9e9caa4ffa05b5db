#pragma once
// The checked, ready-to-use tables behind a Tokenizer, built from a TokenizerSpec: every merge
// resolved to ids, the pipeline's stages compiled, added tokens checked against the vocabulary,
// the id -> string tables for decoding.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/string_index.h"
#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

// Many strings indexed by id, stored back to back.
struct StringTable {
  std::string bytes;
  std::vector<std::uint32_t> offsets;  // size count + 1
  std::string_view at(std::size_t i) const { return std::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]); }
};

struct TokenStringOf {
  const StringTable* table;
  std::string_view operator()(std::int32_t id) const { return table->at(static_cast<std::size_t>(id)); }
};

// Built in place and never moved: token_ids points into token_strings.
struct TokenizerModel {
  TokenizerModel() = default;
  TokenizerModel(const TokenizerModel&) = delete;
  TokenizerModel& operator=(const TokenizerModel&) = delete;

  BytePairEncoder bpe;
  AddedTokenMatcher raw_tokens;         // added tokens matched on the raw text (normalized: false)
  AddedTokenMatcher normalized_tokens;  // added tokens matched after normalization
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  std::optional<std::vector<TemplatePiece>> template_single;  // the post-processor, when it adds tokens
  Decoder decoder;
  bool byte_level_decoder = false;  // the decoder is ByteLevel alone: decode is token_bytes joined

  StringTable token_strings;  // id -> the token as in the files (added tokens: their content)
  StringIndex<TokenStringOf> token_ids{0, TokenStringOf{nullptr}};  // token_strings -> id
  StringTable token_bytes;    // id -> the bytes it stands for in running text (Decoder::token_bytes)
  std::vector<bool> id_known;             // ids that name a token
  std::vector<bool> skipped_as_special;   // ids whose string is a special token's (decode's skip_special)
  std::vector<std::int32_t> special_ids;  // ids of the special added tokens, ascending
  std::vector<std::int32_t> lstrip_ids;   // ids of the added tokens with lstrip, ascending
  std::size_t model_vocab_entries = 0;    // entries of the model's vocabulary (no added tokens)
  std::vector<std::filesystem::path> source_files;

  std::size_t vocab_size() const { return id_known.size(); }
};

// Throws entroscope::Error naming spec.origin / spec.merges_origin on any inconsistency.
std::unique_ptr<TokenizerModel> build_tokenizer_model(const TokenizerSpec& spec);

}  // namespace entroscope::tokenizer
