#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace entroscope::tokenizer {

AddedTokenMatcher::AddedTokenMatcher(const std::vector<std::pair<std::string, std::int32_t>>& tokens) {
  nodes_.emplace_back();
  for (const auto& [content, id] : tokens) {
    if (content.empty()) continue;
    std::int32_t node = 0;
    for (unsigned char byte : content) {
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
    nodes_[node].token_id = id;
    starts_token_[static_cast<unsigned char>(content[0])] = true;
  }
}

std::int32_t AddedTokenMatcher::child(std::int32_t node, unsigned char byte) const {
  const auto& children = nodes_[node].children;
  auto at = std::lower_bound(children.begin(), children.end(), byte,
                             [](const auto& entry, unsigned char b) { return entry.first < b; });
  return (at != children.end() && at->first == byte) ? at->second : -1;
}

std::optional<AddedTokenMatcher::Match> AddedTokenMatcher::find(std::string_view text, std::size_t from) const {
  if (empty()) return std::nullopt;
  for (std::size_t begin = from; begin < text.size(); ++begin) {
    if (!starts_token_[static_cast<unsigned char>(text[begin])]) continue;
    std::int32_t node = 0;
    std::optional<Match> longest;
    for (std::size_t pos = begin; pos < text.size(); ++pos) {
      node = child(node, static_cast<unsigned char>(text[pos]));
      if (node < 0) break;
      if (nodes_[node].token_id >= 0) longest = Match{begin, pos + 1, nodes_[node].token_id};
    }
    if (longest) return longest;
  }
  return std::nullopt;
}

}  // namespace entroscope::tokenizer
