#pragma once
// What a tokenizer file says, before it is checked and turned into lookup tables: the common
// result of reading vocab.json + merges.txt or a tokenizer.json (see vocab_files.h,
// tokenizer_json.h). Token strings are in the byte-level alphabet, as in the files.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace entroscope::tokenizer {

// Ids above this are rejected as malformed: the id -> token table is sized by the largest id.
inline constexpr std::int64_t kMaxTokenId = (std::int64_t{1} << 24) - 1;

struct AddedTokenSpec {
  std::int32_t id;
  std::string content;  // literal text to find in the input (not in the byte-level alphabet)
  bool special;         // plain text unless special tokens are allowed
  bool normalized;      // matched after normalization (else on the raw text, first)
};

struct MergeSpec {
  std::string left;
  std::string right;
  std::uint32_t position;  // line number in merges.txt, or index in tokenizer.json's model.merges
};

struct TokenizerSpec {
  std::string origin;         // the file named in error messages about the vocabulary and options
  std::string merges_origin;  // the file named in error messages about merges
  std::vector<std::pair<std::string, std::int32_t>> vocab;
  std::vector<MergeSpec> merges;  // in rank order
  bool merges_from_json = false;  // how MergeSpec::position reads: model.merges[i] or line i
  std::vector<AddedTokenSpec> added_tokens;
  bool nfc = false;
  bool add_prefix_space = false;
  bool use_regex = true;
  bool ignore_merges = false;
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  std::vector<std::filesystem::path> source_files;
};

}  // namespace entroscope::tokenizer
