// Added-token matching: leftmost first, longest there; NeoX's space runs before BPE.
#include <gtest/gtest.h>

#include "tokenizer/added_tokens.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

std::vector<std::string> split_to_strings(const AddedTokenMatcher& matcher, std::string_view text,
                                          bool allow_special = true) {
  std::vector<std::string> out;
  matcher.split(
      text, allow_special,
      [&](std::string_view piece, std::size_t offset) {
        EXPECT_EQ(text.substr(offset, piece.size()), piece);
        out.push_back("text:" + std::string(piece));
      },
      [&](std::int32_t id) { out.push_back("id:" + std::to_string(id)); });
  return out;
}

AddedTokenPattern pattern(std::string content, std::int32_t id) { return AddedTokenPattern{std::move(content), id}; }

TEST(AddedTokenMatcher, FindsLeftmostThenLongest) {
  const AddedTokenMatcher matcher({pattern("ab", 1), pattern("abc", 2), pattern("bcd", 3), pattern("d", 4)});
  EXPECT_EQ(split_to_strings(matcher, "xabcdy"), (std::vector<std::string>{"text:x", "id:2", "id:4", "text:y"}));
  EXPECT_EQ(split_to_strings(matcher, "abx"), (std::vector<std::string>{"id:1", "text:x"}));
  EXPECT_EQ(split_to_strings(matcher, "xbcd"), (std::vector<std::string>{"text:x", "id:3"}));
  EXPECT_EQ(split_to_strings(matcher, "none"), (std::vector<std::string>{"text:none"}));
  EXPECT_EQ(split_to_strings(matcher, ""), (std::vector<std::string>{}));
}

// A refused match still uses up its text: the search goes on after it (as the reference's
// Aho-Corasick iteration does), so a shorter token inside it is not found.
TEST(AddedTokenMatcher, RefusedMatchesStillConsumeTheirText) {
  AddedTokenPattern special = pattern("<s>", 1);
  special.special = true;
  const AddedTokenMatcher matcher({special, pattern("s>", 2)});
  EXPECT_EQ(split_to_strings(matcher, "a<s>b", true), (std::vector<std::string>{"text:a", "id:1", "text:b"}));
  EXPECT_EQ(split_to_strings(matcher, "a<s>b", false), (std::vector<std::string>{"text:a<s>b"}));

  AddedTokenPattern word = pattern("ab", 3);
  word.single_word = true;
  const AddedTokenMatcher words({word, pattern("bq", 4)});
  EXPECT_EQ(split_to_strings(words, "xabq"), (std::vector<std::string>{"text:xabq"}));
  EXPECT_EQ(split_to_strings(words, "x ab q"), (std::vector<std::string>{"text:x ", "id:3", "text: q"}));
  EXPECT_EQ(split_to_strings(words, "<ab>"), (std::vector<std::string>{"text:<", "id:3", "text:>"}));
  EXPECT_EQ(split_to_strings(words, "ab"), (std::vector<std::string>{"id:3"}));
  EXPECT_EQ(split_to_strings(words, "éab"), (std::vector<std::string>{"text:éab"}));  // é is a word character
}

TEST(AddedTokenMatcher, LstripAndRstripTakeTheWhitespaceIntoTheToken) {
  AddedTokenPattern mask = pattern("<mask>", 5);
  mask.lstrip = true;
  mask.rstrip = true;
  const AddedTokenMatcher matcher({mask, pattern("X", 6)});
  EXPECT_EQ(split_to_strings(matcher, "a  <mask> \t b"), (std::vector<std::string>{"text:a", "id:5", "text:b"}));
  EXPECT_EQ(split_to_strings(matcher, "X <mask>"), (std::vector<std::string>{"id:6", "id:5"}));
  // lstrip never reaches back into the previous match.
  AddedTokenPattern left = pattern("<l>", 7);
  left.lstrip = true;
  AddedTokenPattern right = pattern("<r>", 8);
  right.rstrip = true;
  const AddedTokenMatcher pair({left, right});
  EXPECT_EQ(split_to_strings(pair, "<r>  <l>"), (std::vector<std::string>{"id:8", "id:7"}));
  EXPECT_EQ(split_to_strings(pair, "x\u00A0\u3000<l>"), (std::vector<std::string>{"text:x", "id:7"}));
}

TEST(AddedTokenMatcher, EmptyMatcherPassesTextThrough) {
  const AddedTokenMatcher matcher;
  EXPECT_TRUE(matcher.empty());
  EXPECT_EQ(split_to_strings(matcher, "<|endoftext|>"), (std::vector<std::string>{"text:<|endoftext|>"}));
}

TEST(AddedTokens, NeoxSpaceRunsTakeTheSpaceAWordWouldCarry) {
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  const std::int32_t x = *neox.token_to_id("x");
  const std::int32_t y = *neox.token_to_id("y");
  const std::int32_t space_y = *neox.token_to_id("\xC4\xA0y");
  EXPECT_EQ(neox.encode("x  y"), (std::vector<std::int32_t>{x, 50276, y}));
  EXPECT_EQ(neox.encode("x" + std::string(24, ' ') + "y"), (std::vector<std::int32_t>{x, 50254, y}));
  EXPECT_EQ(neox.encode("x" + std::string(25, ' ') + "y"), (std::vector<std::int32_t>{x, 50254, space_y}));
  EXPECT_EQ(neox.encode("x" + std::string(49, ' ') + "y"), (std::vector<std::int32_t>{x, 50254, 50254, space_y}));
  // Non-special added tokens match even when special tokens are plain text.
  EXPECT_EQ(neox.encode("x  y", false), neox.encode("x  y", true));
}

TEST(AddedTokens, SpecialTokensCutTheTextIntoSeparatelyEncodedPieces) {
  const Tokenizer& gpt2 = test::gpt2_from_vocab();
  EXPECT_EQ(gpt2.encode("Hello <|endoftext|> World", true), (std::vector<std::int32_t>{15496, 220, 50256, 2159}));
  EXPECT_EQ(gpt2.encode("<|endoftext|>", false), (std::vector<std::int32_t>{27, 91, 437, 1659, 5239, 91, 29}));
  EXPECT_EQ(gpt2.encode("<|endoftext|><|endoftext|>", true), (std::vector<std::int32_t>{50256, 50256}));
  EXPECT_EQ(test::fixture_tokenizer_json("neox20b").encode("a<|padding|>b", true).at(1), 1);
}

}  // namespace
}  // namespace entroscope::tokenizer
