#pragma once
// Added tokens (special tokens such as "<|endoftext|>" and non-special ones such as GPT-NeoX's
// space runs) are found in the text before pre-tokenization: leftmost match first, and the longest
// token among those starting there (HF tokenizers' Aho-Corasick LeftmostLongest). The text
// between matches is encoded normally.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace entroscope::tokenizer {

class AddedTokenMatcher {
 public:
  struct Match {
    std::size_t begin;
    std::size_t end;
    std::int32_t id;
  };

  AddedTokenMatcher() = default;
  // tokens: (content, id); contents must be non-empty. A repeated content keeps the last id.
  explicit AddedTokenMatcher(const std::vector<std::pair<std::string, std::int32_t>>& tokens);

  bool empty() const { return nodes_.size() <= 1; }

  // The leftmost-longest match that starts at or after `from`.
  std::optional<Match> find(std::string_view text, std::size_t from) const;

  // Calls on_text(piece) for the (non-empty) text between matches and on_token(id) for each match,
  // in order.
  template <typename OnText, typename OnToken>
  void split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    if (empty()) {
      if (!text.empty()) on_text(text);
      return;
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::optional<Match> m = find(text, pos);
      if (!m) break;
      if (m->begin > pos) on_text(text.substr(pos, m->begin - pos));
      on_token(m->id);
      pos = m->end;
    }
    if (pos < text.size()) on_text(text.substr(pos));
  }

 private:
  // A byte trie; node 0 is the root.
  struct Node {
    std::int32_t token_id = -1;                                    // -1: no token ends here
    std::vector<std::pair<unsigned char, std::int32_t>> children;  // sorted by byte
  };
  std::int32_t child(std::int32_t node, unsigned char byte) const;

  std::vector<Node> nodes_;
  std::array<bool, 256> starts_token_{};  // first bytes of any token: other positions are skipped fast
};

}  // namespace entroscope::tokenizer
