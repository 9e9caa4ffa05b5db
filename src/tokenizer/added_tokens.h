#pragma once
// Added tokens (special tokens such as "<|endoftext|>" and non-special ones such as GPT-NeoX's
// space runs) are found in the text before pre-tokenization, as Hugging Face tokenizers finds
// them: leftmost match first, the longest token among those starting there, matches never
// overlapping (Aho-Corasick LeftmostLongest). A match that is then refused (a special token when
// special tokens are plain text, a single_word token inside a word) still uses up its text: the
// search goes on after it. lstrip / rstrip widen a match over the whitespace before / after it,
// which becomes part of the token. The text between matches is encoded normally.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace entroscope::tokenizer {

struct AddedTokenPattern {
  std::string content;  // non-empty
  std::int32_t id;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

class AddedTokenMatcher {
 public:
  struct Match {
    std::size_t begin;
    std::size_t end;
    std::int32_t id;
  };

  AddedTokenMatcher() = default;
  // A repeated content keeps the first token given (the reference's automaton reports the
  // pattern inserted first).
  explicit AddedTokenMatcher(const std::vector<AddedTokenPattern>& tokens);

  bool empty() const { return nodes_.size() <= 1; }

  // Calls on_text(piece, offset) for the (non-empty) text between accepted matches and
  // on_token(id) for each accepted match, in order. With allow_special false, special tokens are
  // refused (tiktoken's encode_ordinary, HF's split_special_tokens).
  template <typename OnText, typename OnToken>
  void split(std::string_view text, bool allow_special, OnText&& on_text, OnToken&& on_token) const {
    if (empty() || (!allow_special && only_special_)) {
      if (!text.empty()) on_text(text, std::size_t{0});
      return;
    }
    std::size_t emitted = 0;  // text[0, emitted) has been handed out
    std::size_t from = 0;     // where the search goes on
    while (from < text.size()) {
      std::optional<Match> m = find_longest(text, from);
      if (!m) break;
      from = m->end;
      std::optional<Match> accepted = accept(text, *m, emitted, allow_special);
      if (!accepted) continue;
      if (accepted->begin > emitted) on_text(text.substr(emitted, accepted->begin - emitted), emitted);
      on_token(accepted->id);
      emitted = accepted->end;
      from = std::max(from, emitted);
    }
    if (emitted < text.size()) on_text(text.substr(emitted), emitted);
  }

 private:
  // A byte trie; node 0 is the root.
  struct Node {
    std::int32_t token = -1;                                       // index into tokens_; -1: none ends here
    std::vector<std::pair<unsigned char, std::int32_t>> children;  // sorted by byte
  };
  std::int32_t child(std::int32_t node, unsigned char byte) const;
  // The leftmost-longest match that starts at or after `from` (token = index into tokens_).
  std::optional<Match> find_longest(std::string_view text, std::size_t from) const;
  // The match as emitted (widened by lstrip / rstrip, with the token's id), or nullopt if refused.
  std::optional<Match> accept(std::string_view text, const Match& m, std::size_t emitted, bool allow_special) const;

  std::vector<Node> nodes_;
  std::vector<AddedTokenPattern> tokens_;
  std::array<bool, 256> starts_token_{};
  bool only_special_ = true;  // every token is special: nothing can match when they are refused  // first bytes of any token: other positions are skipped fast
};

}  // namespace entroscope::tokenizer
