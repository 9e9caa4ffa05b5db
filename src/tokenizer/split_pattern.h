#pragma once
// Where a split pattern matches: the patterns of Split pre-tokenizers and Replace steps
// (tokenizer.json writes them in Oniguruma's syntax, as Hugging Face tokenizers runs them).
//
// Three engines, one interface:
//   - hand-written scanners for the patterns real tokenizers use (GPT-2's, and the cl100k-style
//     pattern of Llama 3, Qwen2/3 and OLMo-2 with \p{N} or \p{N}{1,3}): the hot path;
//   - PCRE2 for any other regex, with \p{L}, \p{N}, \s, \d, \w (and their negations) rewritten
//     into explicit code point sets from char_class.h, so that every engine uses the same pinned
//     Unicode tables rather than PCRE2's own;
//   - plain substring search for String patterns.
// A test runs the scanners and PCRE2 side by side on random text.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

struct Span {
  std::size_t begin;
  std::size_t end;
};

class SplitPattern {
 public:
  virtual ~SplitPattern() = default;
  // Appends the pattern's matches in `text` (non-overlapping, left to right) to `matches`,
  // empty ones included, exactly as Oniguruma's find_iter reports them.
  virtual void find_matches(std::string_view text, std::vector<Span>& matches) const = 0;
  // For patterns whose matches cover every text without gaps (the scanners): the end of the match
  // that starts at `start` (< text.size()). Others return 0, and find_matches must be used.
  virtual std::size_t covering_match_end(std::string_view /*text*/, std::size_t /*start*/) const { return 0; }
  bool covers_everything() const { return covers_everything_; }

 protected:
  explicit SplitPattern(bool covers_everything) : covers_everything_(covers_everything) {}

 private:
  bool covers_everything_;
};

// Compiles `pattern`; a regex PCRE2 cannot compile is an Error naming `where` (e.g. the file and
// "pre_tokenizer.pretokenizers[0].pattern").
std::unique_ptr<const SplitPattern> compile_split_pattern(const TextPattern& pattern, const std::string& where);

// The same regex run by PCRE2 even when a scanner exists (tests compare the two).
std::unique_ptr<const SplitPattern> compile_with_pcre2(const std::string& oniguruma_regex, const std::string& where);

// PCRE2 source for an Oniguruma pattern: the class escapes replaced by explicit code point sets.
std::string translate_oniguruma_regex(const std::string& oniguruma_regex, const std::string& where);

// GPT-2's split pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// End (exclusive) of the piece that starts at `start` (< text.size()). Bytes that are not valid
// UTF-8 count as one [^\s\p{L}\p{N}] character each.
std::size_t gpt2_piece_end(std::string_view text, std::size_t start);
// Appends the pieces of `text` (views into it, covering it exactly, in order).
void split_gpt2_pieces(std::string_view text, std::vector<std::string_view>& pieces);

// The cl100k-style pattern (Llama 3 and OLMo-2 with max_digits 3; Qwen2 and Qwen3 with 1):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
std::size_t cl100k_piece_end(std::string_view text, std::size_t start, int max_digits);

// The exact pattern strings the scanners implement.
extern const char* const kGpt2SplitRegex;
std::string cl100k_split_regex(int max_digits);

}  // namespace entroscope::tokenizer
