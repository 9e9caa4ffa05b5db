#pragma once
// Word-level surprisal and entropy, as tests/data/words/README.md specifies (normative): words are
// maximal runs of non-White_Space characters; a word's unit is its tokens plus the whitespace-only
// tokens before it; the beginning-of-word correction multiplies a word's probability by
// P(boundary | after it) and divides by P(boundary | before it) (P(non-boundary) for a first word
// that starts the text), with the boundary set B = tokens whose bytes begin with whitespace, plus
// EOS. Two compatibility columns apply wordsprobability's and minicons' rules to the same words.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace entroscope::experiment {

// The token classes whose mass each row needs (bits of a metrics token-class mask).
enum WordClass : int {
  kBoundary = 0,          // B: bytes begin with whitespace, or EOS
  kNonBoundary = 1,       // N: every other token (not other special tokens, not rows without a token)
  kSpaceInitial = 2,      // wordsprobability's boundary: the token string begins with Ġ (or SentencePiece's
                          // ▁), ids below the tokenizer's vocab_size (its added tokens are out of both sets)
  kNotSpaceInitial = 3,   // wordsprobability's first-word set: the rest below vocab_size, EOS included
  kEndOfText = 4,         // EOS alone
  kMiniconsBoundary = 5,  // minicons' boundary: Ġ/▁-initial token strings, plus added tokens with lstrip
  kWordClassCount = 6,
};

struct WordTokenClasses {
  std::vector<std::uint8_t> masks;  // one per logit row of the model
  std::int32_t eos_id = -1;
  bool in(std::int32_t id, WordClass c) const {
    return id >= 0 && static_cast<std::size_t>(id) < masks.size() && (masks[static_cast<std::size_t>(id)] >> c & 1u);
  }
};

// Classes of every token of `tok` (rows >= the tokenizer's ids, up to model_vocab_size, are in
// none). eos_id < 0: no EOS.
WordTokenClasses word_token_classes(const tokenizer::Tokenizer& tok, int model_vocab_size, std::int32_t eos_id);

// Per-row inputs, row j = the distribution after BOS + ids[:j], j = 0..n.
struct RowScores {
  std::vector<double> entropy_bits;     // [n + 1]
  std::vector<double> surprisal_bits;   // [n]: token i under row i
  std::vector<double> log2_class_mass;  // [(n + 1) * kWordClassCount]
  double log2_mass(std::size_t row, WordClass c) const { return log2_class_mass[row * kWordClassCount + c]; }
};

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

struct WordMeasures {
  std::string word;
  Span char_span, byte_span, token_span, unit_span;
  double surprisal_bits = 0;          // uncorrected: sum over the unit
  double surprisal_bow_bits = 0;      // corrected
  double surprisal_bow_wordsprobability_bits = 0;
  double surprisal_bow_minicons_bits = 0;
  double first_subword_entropy_bits = 0;  // H(row token_span.begin)
  double unit_entropy_bits = 0;           // H(row unit_span.begin): before the unit's first token
  double log2_p_bow_after = 0;
  double log2_denominator = 0;
  // A token holds this word's end and the whitespace after it (cl100k-style regexes), so the
  // correction is not exact for it and the next word.
  bool boundary_inside_token = false;
};

struct TextWords {
  std::vector<WordMeasures> words;
  Span unassigned_token_span;  // trailing whitespace tokens
};

// The bytes each token covers in `text`: the tokens' bytes must concatenate to the text (byte-level
// tokenizers without a normalizer that changes it), or to a space + the text (SentencePiece's dummy
// prefix, which covers no byte of the text); otherwise an Error says so.
std::vector<Span> token_byte_spans(const tokenizer::Tokenizer& tok, std::string_view text,
                                   const std::vector<std::int32_t>& ids);

// Words of `text` with their measures. `rows` as above; ids are the text's tokens (no BOS).
TextWords measure_words(std::string_view text, const std::vector<std::int32_t>& ids,
                        const std::vector<Span>& byte_spans, const WordTokenClasses& classes, const RowScores& rows);

}  // namespace entroscope::experiment
