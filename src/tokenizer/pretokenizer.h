#pragma once
// GPT-2's pre-tokenizer: splits text into the pieces BPE works on, exactly as the pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// does (leftmost match, first alternative that matches wins, greedy runs), but as a hand-written
// scanner: std::regex cannot express the classes or the look-ahead, and a scanner is faster.
#include <string_view>
#include <vector>

namespace entroscope::tokenizer {

// End (exclusive) of the piece that starts at `start` (< text.size()).
std::size_t gpt2_piece_end(std::string_view text, std::size_t start);

// Appends the pieces of `text` to `pieces` (views into `text`, covering it exactly, in order).
// Bytes that are not valid UTF-8 count as one [^\s\p{L}\p{N}] character each.
void split_gpt2_pieces(std::string_view text, std::vector<std::string_view>& pieces);

}  // namespace entroscope::tokenizer
