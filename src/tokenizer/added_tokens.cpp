#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

// Start of the character that ends at `end` (> 0): back over continuation bytes, at most 3.
std::size_t previous_char_start(std::string_view text, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  const Utf8Char ch = decode_utf8(text, start);
  return ch.valid && start + ch.length == end ? start : end - 1;
}

bool white_space_at(std::string_view text, std::size_t pos, std::size_t& length) {
  const Utf8Char ch = decode_utf8(text, pos);
  length = ch.length;
  return ch.valid && classify(ch.code_point) == CharClass::kWhitespace;
}

// Rust regex's \w, which the single_word check uses: Alphabetic, marks, Nd, Pc, Join_Control.
// Alphabetic is approximated by letters, letter numbers and the circled / squared Latin letters
// (the Other_Alphabetic characters that are not marks).
bool word_char_at(std::string_view text, std::size_t pos, std::size_t end) {
  const Utf8Char ch = decode_utf8(text, pos);
  if (!ch.valid || pos + ch.length > end) return false;
  const char32_t c = ch.code_point;
  if (c == 0x200C || c == 0x200D) return true;
  if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
      (c >= 0x1F170 && c <= 0x1F189)) {
    return true;
  }
  return is_rust_word_char(c);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedTokenPattern>& tokens) {
  nodes_.emplace_back();
  for (const AddedTokenPattern& token : tokens) {
    if (token.content.empty()) continue;
    std::int32_t node = 0;
    for (unsigned char byte : token.content) {
      std::int32_t next = child(node, byte);
      if (next < 0) {
        next = static_cast<std::int32_t>(nodes_.size());
        nodes_.emplace_back();
        auto& children = nodes_[node].children;
        auto at = std::lower_bound(children.begin(), children.end(), byte,
                                   [](const auto& entry, unsigned char b) { return entry.first < b; });
        children.insert(at, {byte, next});
      }
      node = next;
    }
    if (nodes_[node].token >= 0) continue;  // the first of two identical patterns wins
    nodes_[node].token = static_cast<std::int32_t>(tokens_.size());
    tokens_.push_back(token);
    only_special_ = only_special_ && token.special;
    starts_token_[static_cast<unsigned char>(token.content[0])] = true;
  }
}

std::int32_t AddedTokenMatcher::child(std::int32_t node, unsigned char byte) const {
  const auto& children = nodes_[node].children;
  auto at = std::lower_bound(children.begin(), children.end(), byte,
                             [](const auto& entry, unsigned char b) { return entry.first < b; });
  return (at != children.end() && at->first == byte) ? at->second : -1;
}

std::optional<AddedTokenMatcher::Match> AddedTokenMatcher::find_longest(std::string_view text,
                                                                        std::size_t from) const {
  for (std::size_t begin = from; begin < text.size(); ++begin) {
    if (!starts_token_[static_cast<unsigned char>(text[begin])]) continue;
    std::int32_t node = 0;
    std::optional<Match> longest;
    for (std::size_t pos = begin; pos < text.size(); ++pos) {
      node = child(node, static_cast<unsigned char>(text[pos]));
      if (node < 0) break;
      if (nodes_[node].token >= 0) longest = Match{begin, pos + 1, nodes_[node].token};
    }
    if (longest) return longest;
  }
  return std::nullopt;
}

std::optional<AddedTokenMatcher::Match> AddedTokenMatcher::accept(std::string_view text, const Match& m,
                                                                  std::size_t emitted, bool allow_special) const {
  const AddedTokenPattern& token = tokens_[static_cast<std::size_t>(m.id)];
  if (token.special && !allow_special) return std::nullopt;
  if (token.single_word) {
    const bool start_ok = m.begin == 0 || !word_char_at(text, previous_char_start(text, m.begin), m.begin);
    const bool end_ok = m.end == text.size() || !word_char_at(text, m.end, text.size());
    if (!start_ok || !end_ok) return std::nullopt;
  }
  Match out{m.begin, m.end, token.id};
  std::size_t length = 0;
  if (token.lstrip) {
    // Back over the whitespace before the match, but never into the previous match.
    while (out.begin > emitted) {
      const std::size_t start = previous_char_start(text, out.begin);
      if (start < emitted || !white_space_at(text, start, length) || start + length != out.begin) break;
      out.begin = start;
    }
  }
  if (token.rstrip) {
    while (out.end < text.size() && white_space_at(text, out.end, length)) out.end += length;
  }
  return out;
}

}  // namespace entroscope::tokenizer
