#pragma once
// What a tokenizer file says, before it is checked and compiled into lookup tables: the common
// result of reading vocab.json + merges.txt or a tokenizer.json (see vocab_files.h,
// tokenizer_json.h). The pipeline is data here, in the order Hugging Face tokenizers runs it:
//   added tokens on the raw text -> normalizer -> added tokens on the normalized text ->
//   pre-tokenizer -> BPE model -> (add_special_tokens) post-processor;
//   ids -> tokens -> decoder -> text.
// Token strings are as in the files (byte-level alphabet for byte-level vocabularies).
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
  bool lstrip = false;  // the match takes the whitespace before it
  bool rstrip = false;  // the match takes the whitespace after it
  bool single_word = false;  // matches only where it is not inside a word
};

struct MergeSpec {
  std::string left;
  std::string right;
  std::uint32_t position;  // line number in merges.txt, or index in tokenizer.json's model.merges
};

// A pattern of a Split pre-tokenizer or a Replace step: a literal string or a regular expression
// (Oniguruma syntax, as in tokenizer.json).
struct TextPattern {
  bool is_regex = false;
  std::string text;
};

enum class NormalizerKind { kNfc, kNfd, kNfkc, kNfkd, kLowercase, kPrepend, kReplace, kStrip };
struct NormalizerStep {
  NormalizerKind kind;
  std::string content;  // kPrepend: the prefix; kReplace: the replacement
  TextPattern pattern;  // kReplace
  bool strip_left = false, strip_right = false;  // kStrip
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class PrependScheme { kAlways, kFirst, kNever };

enum class PreTokenizerKind { kByteLevel, kSplit, kMetaspace, kDigits, kWhitespace, kWhitespaceSplit };
struct PreTokenizerStep {
  PreTokenizerKind kind;
  bool add_prefix_space = false;  // kByteLevel
  bool use_regex = true;          // kByteLevel: split with GPT-2's pattern first
  TextPattern pattern;            // kSplit
  SplitBehavior behavior = SplitBehavior::kIsolated;  // kSplit
  bool invert = false;                                // kSplit
  std::string replacement;                            // kMetaspace (UTF-8 of one character)
  PrependScheme prepend_scheme = PrependScheme::kAlways;  // kMetaspace
  bool split = true;                                      // kMetaspace
  bool individual_digits = false;                         // kDigits
};

struct BpeModelSpec {
  std::vector<std::pair<std::string, std::int32_t>> vocab;
  std::vector<MergeSpec> merges;  // in rank order
  bool merges_from_json = false;  // how MergeSpec::position reads: model.merges[i] or line i
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  bool byte_fallback = false;  // a character without a token becomes its bytes as <0xXX> tokens
  bool ignore_merges = false;  // a word that is itself in the vocabulary is that token
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

// TemplateProcessing's "single" template, resolved: literal ids and the place of the text.
struct TemplatePiece {
  bool is_text = false;           // $A
  std::vector<std::int32_t> ids;  // a special token's ids
};

enum class DecoderKind { kByteLevel, kMetaspace, kByteFallback, kFuse, kStrip, kReplace };
struct DecoderStep {
  DecoderKind kind;
  TextPattern pattern;      // kReplace
  std::string content;      // kReplace: replacement; kStrip: the character stripped; kMetaspace: replacement
  std::size_t start = 0;    // kStrip: how many leading `content` characters to remove (per token)
  std::size_t stop = 0;     // kStrip: how many trailing ones
  PrependScheme prepend_scheme = PrependScheme::kAlways;  // kMetaspace
};

struct TokenizerSpec {
  std::string origin;         // the file named in error messages about the vocabulary and options
  std::string merges_origin;  // the file named in error messages about merges
  BpeModelSpec model;
  std::vector<AddedTokenSpec> added_tokens;
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  // The post-processor's template for one sequence; nullopt when it adds nothing (ByteLevel, none).
  std::optional<std::vector<TemplatePiece>> template_single;
  std::vector<DecoderStep> decoder;
  bool has_decoder = true;  // tokenizer.json "decoder": null: HF joins the tokens with spaces
  std::vector<std::filesystem::path> source_files;
};

}  // namespace entroscope::tokenizer
